# Which sign-offs count for this decision, and the `signoffs` requirement.
#
# A sign-off counts only when its signature verified, it binds this model, this evidence and
# this policy, it is for the stage requested, the signer holds the role, the signer did not
# submit the model, and the signer holds no other counted role in this decision (one person,
# one role). A person's later sign-off for the same role supersedes the earlier one. Every
# sign-off that does not count is listed as void with the reason.
package steward.gate

import rego.v1

import data.steward.lib.join
import data.steward.lib.joined
import data.steward.lib.say

so := input.signoffs

submitter := input.evidence.model.submitter

# [index, reason] for every sign-off that does not bind this decision. (rego-cpp: bind the
# index with `s := so[i]` before any `not`; an unbound variable under `not` yields nothing.)
unbound contains [i, "the signature does not verify"] if {
	some i
	s := so[i]
	not s.signature_verified == true
}

unbound contains [i, say("signed a different model (%v)", [s.model_digest])] if {
	some i
	s := so[i]
	s.model_digest != input.digests.model
}

unbound contains [i, msg] if {
	some i
	s := so[i]
	s.evidence_digest != input.digests.evidence
	msg := say("signed different evidence: the evidence changed since (signed %v)", [s.evidence_digest])
}

unbound contains [i, msg] if {
	some i
	s := so[i]
	s.policy_digest != input.digests.policy
	msg := say("signed under a different policy (%v): sign again under the current one", [s.policy_digest])
}

unbound contains [i, say("signed for stage %v, not %v", [s.stage, to])] if {
	some i
	s := so[i]
	s.stage != to
}

unbound contains [i, say("%v does not hold the %v role", [s.person, s.role])] if {
	some i
	s := so[i]
	not s.role in s.roles_held
}

unbound contains [i, say("%v submitted the model: the submitter cannot sign", [s.person])] if {
	some i
	s := so[i]
	s.person == submitter
}

unbound contains [i, say("unknown verdict %v", [s.verdict])] if {
	some i
	s := so[i]
	not s.verdict in {"approve", "reject"}
}

unbound_ids := {pair[0] | some pair in unbound}

bound_ids := {i | some i; so[i]; not i in unbound_ids}

superseded_ids := {i |
	some i in bound_ids
	some j in bound_ids
	so[j].person == so[i].person
	so[j].role == so[i].role
	so[j].signed_at > so[i].signed_at
}

current_ids := bound_ids - superseded_ids

roles_of(person) := {so[i].role | some i in current_ids; so[i].person == person}

dual_ids := {i | some i in current_ids; count(roles_of(so[i].person)) > 1}

counted_ids := current_ids - dual_ids

void_reason(i) := join("; ", sort({pair[1] | some pair in unbound; pair[0] == i})) if i in unbound_ids

void_reason(i) := "superseded by the same person's later sign-off for this role" if i in superseded_ids

void_reason(i) := say("%v signed as %s in this decision: one person, one role, so none counts", [
	so[i].person,
	join(" and ", sort(roles_of(so[i].person))),
]) if i in dual_ids

counted_list := [{"person": so[i].person, "role": so[i].role} | some i in sort(counted_ids)]

void_list := [{"person": s.person, "role": s.role, "reason": void_reason(i)} |
	some i
	s := so[i]
	not i in counted_ids
]

approved_roles := {so[i].role | some i in counted_ids; so[i].verdict == "approve"}

approvers := {so[i].person | some i in counted_ids; so[i].verdict == "approve"}

# A gap is accepted by a counted approval from the role the data names, bound to the digest
# of the evidence item as it is now.
accepted(key) if {
	rule := cfg.acceptances[key]
	tier in rule.tiers
	some i in counted_ids
	so[i].verdict == "approve"
	so[i].role == rule.role
	object.get(so[i], ["accepts", key], null) == input.digests.items[rule.item]
}

# The signoffs requirement -----------------------------------------------------------------

needed_roles := {r | some r in cfg.retirement.roles} if retiring

needed_roles := {r | some r in object.get(cfg.signoff_roles, [tier, to], [])} if not retiring

min_signers := cfg.retirement.min_signers if retiring

min_signers := object.get(cfg.min_signers, tier, 1) if not retiring

missing_roles := needed_roles - approved_roles

sign_command(role) := strings.replace_n({"ROLE": role}, command("signoffs", "sign"))

void_notes(role) := {note |
	some i
	s := so[i]
	s.role == role
	not i in counted_ids
	note := say("%v's %v sign-off does not count (%s)", [s.person, role, void_reason(i)])
}

# "; a; b" for notes to append to a message (rego-cpp: array.concat of a sort() result is
# undefined, so the pieces are joined this way).
tail(notes) := "" if count(notes) == 0

tail(notes) := say("; %s", [join("; ", sort(notes))]) if count(notes) > 0

problem contains p if {
	not retiring
	count(missing_roles) > 0
	notes := {note | some role in missing_roles; some note in void_notes(role)}
	first := say("no counted approval for %s from %s", [to, join(", ", sort(missing_roles))])
	p := {
		"id": "signoffs",
		"message": say("%s%s", [first, tail(notes)]),
		"commands": [sign_command(missing) | some missing in sort(missing_roles)],
	}
}

problem contains p if {
	retiring
	count(approved_roles & needed_roles) == 0
	msg := say("retiring needs a counted approval from %s", [join(" or ", sort(needed_roles))])
	p := {"id": "signoffs", "message": msg, "commands": [sign_command(r) | some r in sort(needed_roles)]}
}

problem contains issue("signoffs", "sign", msg) if {
	count(approvers) < min_signers
	msg := say(
		"%d distinct approver(s) counted; a %v model needs at least %d for %s",
		[count(approvers), tier, min_signers, to],
	)
}

problem contains p if {
	some i in counted_ids
	so[i].verdict == "reject"
	msg := say("%v (%v) rejected: %s", [so[i].person, so[i].role, comment_text(so[i].comment)])
	p := {"id": "signoffs", "message": msg, "commands": [sign_command(so[i].role)]}
}

comment_text(c) := "no comment given" if {
	not is_string(c)
} else := "no comment given" if {
	c == ""
} else := c
