# Text helpers shared by the steward-default packages, and the house rules for rego-cpp.
#
# rego-cpp 1.5.2 (the engine Steward embeds) has bugs this pack is written around; follow the
# same rules in your own pack (docs/policies.md):
# - Some strings keep their JSON quotes inside (a literal passed as a function argument, the
#   result of concat, replace, upper, format_int ...) and sprintf prints them with the quotes:
#   build messages with say() and join() below, never sprintf() or concat() directly.
# - In a function, copy every parameter to a local before a comprehension uses it, and make
#   every comprehension head a plain variable bound in its body ({x | ...; x := f(y)}):
#   parameters, refs and calls in a head, or a parameter used as an index, go wrong silently.
# - Bind a variable (s := xs[i]) before using it under `not`; never write `some k, v in x`
#   inside a comprehension; do not array.concat the result of sort().
package steward.lib

import rego.v1

plain(x) := strings.replace_n({}, x) if is_string(x)

plain(x) := x if not is_string(x)

# sprintf, with the template and every argument made plain first.
say(template, args) := text if {
	form := plain(template)
	values := args
	plain_values := [v | some a in values; v := plain(a)]
	text := sprintf(form, plain_values)
}

# concat, with a plain result.
join(separator, items) := text if {
	text := strings.replace_n({}, concat(plain(separator), items))
}

# "a, b, c" for any list or set of values.
joined(items) := text if {
	values := items
	texts := [t | some x in values; t := say("%v", [x])]
	text := join(", ", texts)
}
