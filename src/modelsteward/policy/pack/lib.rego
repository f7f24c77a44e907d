# Text helpers shared by the steward-default packages.
#
# rego-cpp 1.5.2 keeps some strings with their JSON quotes inside (a literal passed as a
# function argument, the result of concat, replace, upper, format_int …) and sprintf prints
# them with the quotes. strings.replace_n({}, s) returns the plain form, so every message is
# built with say() and join(), never sprintf() or concat() directly.
package steward.lib

import rego.v1

plain(x) := strings.replace_n({}, x) if is_string(x)

plain(x) := x if not is_string(x)

# sprintf, with the template and every argument made plain first.
say(template, args) := sprintf(plain(template), [plain(a) | some a in args])

# concat, with a plain result.
join(separator, items) := strings.replace_n({}, concat(plain(separator), items))

# "a, b, c" for any list or set of values.
joined(items) := join(", ", [say("%v", [x]) | some x in items])
