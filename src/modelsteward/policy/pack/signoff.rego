# Sign-off refusals: may this person give this sign-off at all?
#
# Steward asks before it records a sign-off, with the input
#   {"candidate": <sign-off>, "submitter": "<who registered the model>",
#    "signoffs": [<sign-offs already given for this model, stage, evidence and policy>],
#    "tier": "<risk tier>"}
# and records it only when data.steward.signoff.refusals is empty. Each refusal is a plain
# reason. Written as a function of the document, like the gate, so tests call refuse(doc).
package steward.signoff

import rego.v1

import data.steward.lib.join
import data.steward.lib.say

cfg := data.gates

refusals := refuse(input)

refuse(doc) := reasons if {
	d := doc
	groups := [person_refusals(d), role_refusals(d), verdict_refusals(d.candidate), acceptance_refusals(d)]
	reasons := {r | some group in groups; some r in group}
}

person_refusals(doc) := reasons if {
	who := doc.candidate.person
	role := doc.candidate.role
	earlier := doc.signoffs
	reasons := {msg |
		who == doc.submitter
		msg := say("%v submitted the model: the submitter cannot sign it", [who])
	} | {msg |
		some e in earlier
		e.person == who
		e.role != role
		msg := say("%v already signed this decision as %v: one person, one role", [who, e.role])
	}
}

role_refusals(doc) := reasons if {
	cand := doc.candidate
	reasons := {msg |
		not cand.role in cfg.roles
		msg := say("unknown role %v (one of: %s)", [cand.role, join(", ", cfg.roles)])
	} | {msg |
		cand.role in cfg.roles
		not cand.role in cand.roles_held
		msg := say("%v does not hold the %v role", [cand.person, cand.role])
	}
}

verdict_refusals(candidate) := reasons if {
	cand := candidate
	reasons := {msg |
		not cand.verdict in {"approve", "reject"}
		msg := say("unknown verdict %v: approve or reject", [cand.verdict])
	} | {msg |
		cand.verdict == "reject"
		not has_text(cand.comment)
		msg := "a rejection must say why (a comment)"
	} | {msg |
		cand.verdict != "approve"
		count(cand.accepts) > 0
		msg := "only an approval can accept a gap"
	}
}

has_text(text) if {
	is_string(text)
	trim_space(text) != ""
}

acceptance_refusals(doc) := reasons if {
	cand := doc.candidate
	tier := doc.tier
	known := sort(object.keys(cfg.acceptances))
	reasons := {msg |
		some key
		cand.accepts[key]
		not cfg.acceptances[key]
		msg := say("unknown acceptance %v (one of: %s)", [key, join(", ", known)])
	} | {msg |
		some key
		cand.accepts[key]
		rule := cfg.acceptances[key]
		cand.role != rule.role
		msg := say("only a %v sign-off may accept %v", [rule.role, key])
	} | {msg |
		some key
		cand.accepts[key]
		rule := cfg.acceptances[key]
		not tier in rule.tiers
		msg := say("%v cannot be accepted for a %v model", [key, tier])
	}
}
