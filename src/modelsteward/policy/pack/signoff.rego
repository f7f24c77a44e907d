# Sign-off refusals: may this person give this sign-off at all?
#
# Steward asks before it records a sign-off, with input
#   {"candidate": <sign-off>, "submitter": "<who registered the model>",
#    "signoffs": [<sign-offs already given for this model, stage, evidence and policy>],
#    "tier": "<risk tier>"}
# and records it only when data.steward.signoff.refusals is empty. Each refusal is a
# plain-words reason.
package steward.signoff

import rego.v1

import data.steward.lib.join
import data.steward.lib.joined
import data.steward.lib.say

cfg := data.gates

candidate := input.candidate


refusals contains msg if {
	candidate.person == input.submitter
	msg := say("%v submitted the model: the submitter cannot sign it", [candidate.person])
}

refusals contains msg if {
	some earlier in input.signoffs
	earlier.person == candidate.person
	earlier.role != candidate.role
	msg := say(
		"%v already signed this decision as %v: one person, one role",
		[candidate.person, earlier.role],
	)
}

refusals contains msg if {
	not candidate.role in cfg.roles
	msg := say("unknown role %v (one of: %s)", [candidate.role, join(", ", cfg.roles)])
}

refusals contains msg if {
	candidate.role in cfg.roles
	not candidate.role in candidate.roles_held
	msg := say("%v does not hold the %v role", [candidate.person, candidate.role])
}

refusals contains msg if {
	not candidate.verdict in {"approve", "reject"}
	msg := say("unknown verdict %v: approve or reject", [candidate.verdict])
}

refusals contains "a rejection must say why (a comment)" if {
	candidate.verdict == "reject"
	not non_empty(candidate.comment)
}

non_empty(text) if {
	is_string(text)
	trim_space(text) != ""
}

refusals contains "only an approval can accept a gap" if {
	candidate.verdict != "approve"
	count(candidate.accepts) > 0
}

refusals contains msg if {
	some key
	candidate.accepts[key]
	not cfg.acceptances[key]
	msg := say("unknown acceptance %v (one of: %s)", [key, join(", ", sort(object.keys(cfg.acceptances)))])
}

refusals contains msg if {
	some key
	candidate.accepts[key]
	rule := cfg.acceptances[key]
	candidate.role != rule.role
	msg := say("only a %v sign-off may accept %v", [rule.role, key])
}

refusals contains msg if {
	some key
	candidate.accepts[key]
	rule := cfg.acceptances[key]
	not input.tier in rule.tiers
	msg := say("%v cannot be accepted for a %v model", [key, input.tier])
}
