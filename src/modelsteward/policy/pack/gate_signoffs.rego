# Which sign-offs count for this decision, and the `signoffs` requirement.
#
# A sign-off counts only when its signature verified, it binds this model, this evidence and
# this policy, it is for the stage requested, the signer holds the role, the signer did not
# submit the model, and the signer has no other role in this decision (one person, one role:
# a person who signed two roles counts for neither). A person's later sign-off for the same
# role supersedes the earlier one. Every sign-off that does not count is listed as void, with
# the reason.
package steward.gate

import rego.v1

import data.steward.lib.join
import data.steward.lib.say

# Counted and void sign-offs, and what the counted ones approve.
signoff_facts(ctx) := facts if {
	c := ctx
	so := c.doc.signoffs
	unbound := {pair | some i; s := so[i]; some reason in unbound_reasons(s, c); pair := [i, reason]}
	unbound_ids := {i | some pair in unbound; i := pair[0]}
	bound := {i | some i; so[i]; not i in unbound_ids}
	superseded := {i |
		some i in bound
		some j in bound
		so[j].person == so[i].person
		so[j].role == so[i].role
		so[j].signed_at > so[i].signed_at
	}
	current := bound - superseded
	dual := {i | some i in current; some j in current; so[j].person == so[i].person; so[j].role != so[i].role}
	counted := current - dual
	void := [entry |
		some i
		s := so[i]
		not i in counted
		reason := void_reason(i, so, unbound, superseded, current)
		entry := {"person": s.person, "role": s.role, "reason": reason}
	]
	facts := {
		"signoffs": so,
		"counted": counted,
		"counted_list": [entry | some i in sort(counted); entry := {"person": so[i].person, "role": so[i].role}],
		"void_list": void,
		"approved_roles": {role | some i in counted; so[i].verdict == "approve"; role := so[i].role},
		"approvers": {person | some i in counted; so[i].verdict == "approve"; person := so[i].person},
		"rejections": {i | some i in counted; so[i].verdict == "reject"},
	}
}

# Why sign-off `s` does not bind this decision (empty when it does). A sign-off missing a
# field makes the checks undefined: it is void, never counted.
unbound_reasons(s, ctx) := reasons if {
	checks := unbound_checks(s, ctx)
	reasons := {r | some check in checks; check[0] == true; r := check[1]}
} else := {"the sign-off is malformed (a field is missing)"}

unbound_checks(s, ctx) := [
	[not_true(s.signature_verified), "the signature does not verify"],
	[s.model_digest != ctx.doc.digests.model, say("signed a different model (%v)", [s.model_digest])],
	[
		s.evidence_digest != ctx.doc.digests.evidence,
		say("signed different evidence: the evidence changed since (signed %v)", [s.evidence_digest]),
	],
	[
		s.policy_digest != ctx.doc.digests.policy,
		say("signed under a different policy (%v): sign again under the current one", [s.policy_digest]),
	],
	[s.stage != ctx.to, say("signed for stage %v, not %v", [s.stage, ctx.to])],
	[not_member(s.role, s.roles_held), say("%v does not hold the %v role", [s.person, s.role])],
	[s.person == ctx.ev.model.submitter, say("%v submitted the model: the submitter cannot sign", [s.person])],
	[not_member(s.verdict, ["approve", "reject"]), say("unknown verdict %v", [s.verdict])],
]

not_true(value) := false if value == true
else := true

not_member(x, items) := false if x in items
else := true

void_reason(i, so, unbound, superseded, current) := join("; ", sort(reasons)) if {
	index := i
	pairs := unbound
	reasons := {r | some pair in pairs; pair[0] == index; r := pair[1]}
	count(reasons) > 0
} else := "superseded by the same person's later sign-off for this role" if {
	i in superseded
} else := reason if {
	person := so[i].person
	signoffs := so
	live := current
	roles := {role | some j in live; signoffs[j].person == person; role := signoffs[j].role}
	reason := say("%v signed as %s in this decision: one person, one role, so none counts", [person, join(" and ", sort(roles))])
}

# A gap is accepted by a counted approval from the role the data names, bound to the digest
# of that evidence item as it is now.
is_accepted(key, ctx, facts) := true if {
	rule := cfg.acceptances[key]
	ctx.tier in rule.tiers
	item := ctx.doc.digests.items[rule.item]
	some i in facts.counted
	s := facts.signoffs[i]
	s.verdict == "approve"
	s.role == rule.role
	object.get(s, ["accepts", key], null) == item
} else := false

# The signoffs requirement -----------------------------------------------------------------

needed_roles(ctx) := roles if {
	listed := needed_list(ctx)
	roles := {r | some r in listed}
}

needed_list(ctx) := cfg.retirement.roles if ctx.retiring
else := object.get(cfg.signoff_roles, [ctx.tier, ctx.to], [])

min_signers(ctx) := cfg.retirement.min_signers if ctx.retiring
else := object.get(cfg.min_signers, ctx.tier, 1)

sign_command(role, ctx) := strings.replace_n({"ROLE": role}, command("signoffs", "sign", ctx))

signoff_problems(ctx, facts) := problems if {
	c := ctx
	f := facts
	needed := needed_roles(c)
	missing := needed - f.approved_roles
	least := min_signers(c)
	problems := {p |
		not c.retiring
		count(missing) > 0
		p := missing_problem(missing, c, f)
	} | {p |
		c.retiring
		count(needed & f.approved_roles) == 0
		msg := say("retiring needs a counted approval from %s", [join(" or ", sort(needed))])
		commands := [text | some r in sort(needed); text := sign_command(r, c)]
		p := {"id": "signoffs", "message": msg, "commands": commands}
	} | {p |
		count(f.approvers) < least
		msg := say(
			"%d distinct approver(s) counted; a %v model needs at least %d for %v",
			[count(f.approvers), c.tier, least, c.to],
		)
		p := issue("signoffs", ["sign"], msg, c)
	} | {p |
		some i in f.rejections
		s := f.signoffs[i]
		msg := say("%v (%v) rejected: %s", [s.person, s.role, comment_text(s.comment)])
		p := {"id": "signoffs", "message": msg, "commands": [sign_command(s.role, c)]}
	}
}

missing_problem(missing, ctx, facts) := problem if {
	roles := missing
	c := ctx
	void := facts.void_list
	notes := {note |
		some v in void
		v.role in roles
		note := say("%v's %v sign-off does not count (%s)", [v.person, v.role, v.reason])
	}
	first := say("no counted approval for %v from %s", [c.to, join(", ", sort(roles))])
	commands := [text | some r in sort(roles); text := sign_command(r, c)]
	problem := {"id": "signoffs", "message": say("%s%s", [first, tail(notes)]), "commands": commands}
}

# "; a; b" to append notes to a message (rego-cpp: array.concat of a sort() result is
# undefined, so the pieces are joined this way).
tail(notes) := "" if count(notes) == 0
else := say("; %s", [join("; ", sort(notes))])

comment_text(c) := "no comment given" if not is_string(c)
else := "no comment given" if c == ""
else := c
