# Tests of the release gate (`steward policy test`; Steward's own test suite runs them too).
#
# Each test builds a complete input with complete(tier, to), changes one thing and asks
# data.steward.gate.decide(doc) for the decision: calling the function with a document
# replaces mocking `input` with `with`, which rego-cpp cannot afford on a policy this size.
# Helpers follow the rego-cpp rules in lib.rego.
package steward.gate_test

import rego.v1

import data.steward.gate.decide

tiers := data.gates.tiers

stages := ["offline-validated", "shadow", "canary", "production", "retired"]

digests := {
	"model": "sha256:model",
	"evidence": "sha256:evidence",
	"policy": "sha256:policy",
	"items": {"odd": "sha256:odd-item", "provenance": "sha256:provenance-item"},
}

people := {"legal": "lena", "operations": "olga", "product": "pat", "safety": "sam", "security": "sid"}

previous := {
	"offline-validated": "registered",
	"shadow": "offline-validated",
	"canary": "shadow",
	"production": "canary",
	"retired": "production",
}

deployable := {"shadow", "canary", "production"}

# A complete input: every piece of evidence present, every role signed by its own person.
complete(tier, to) := doc if {
	stage := to
	signoffs := [s | some role in data.gates.roles; s := signoff(people[role], role, stage)]
	doc := {
		"schema": "steward.gate-input/v1",
		"request": {"from": previous[stage], "to": stage, "date": "2026-11-22", "deployment": deployment_name(stage)},
		"digests": digests,
		"evidence": evidence(tier, stage),
		"signoffs": signoffs,
	}
}

deployment_name(to) := "pilot-fleet" if to in deployable
else := null

signoff(person, role, to) := {
	"person": person,
	"role": role,
	"roles_held": [role],
	"verdict": "approve",
	"stage": to,
	"model_digest": digests.model,
	"evidence_digest": digests.evidence,
	"policy_digest": digests.policy,
	"accepts": {},
	"comment": "",
	"signed_at": "2026-11-22T10:00:00.000000Z",
	"signature_verified": true,
}

evidence(tier, to) := {
	"model": {
		"ref": "reference/competent-policy@1", "name": "reference/competent-policy", "version": 1,
		"digest": digests.model, "tier": tier, "status": "registered", "stage": previous[to],
		"submitter": "dana", "intended_use": "highway pilot", "prohibited_use": null,
	},
	"provenance": {
		"source": "https://example.org/model", "revision": "4f2a9c1", "digest": digests.model,
		"training_runs": 1, "gaps": [],
		"signature": {"verified": true, "key_id": "key", "verified_at": "2026-11-20T09:00:00.000000Z"},
	},
	"scan": {"status": "registered", "blocking": [], "accepted": []},
	"licence": {
		"use": "commercial", "distribution": "product", "verdict": "compatible", "passed": true,
		"approved": false, "allowed": true, "review_digest": "sha256:review", "reasons": [],
	},
	"datasets": [{
		"name": "highway-demos", "declared_by": "run", "registered": true, "digest": "sha256:data",
		"license": "Apache-2.0", "consent": "not-personal-data", "expires_on": "2036-11-20",
	}],
	"reproduction": {"runs": 1, "verified": true, "outcomes": ["bit-exact"]},
	"evaluation": {
		"report": "sha256:report", "suite_digest": "sha256:suite", "baseline": "highway-pilot",
		"locked_as": [], "critical_regressions": [], "at": "2026-11-21T08:00:00.000000Z",
	},
	"odd": {"coverage": "sha256:coverage", "odd_digest": "sha256:odd", "gaps": 0, "top": []},
	"envelope": {"digest": "sha256:envelope", "statement": "sha256:statement", "key_id": "key", "signed_at": "x"},
	"deployment": deployment(to),
	"observations": {"shadow": observed(tier, "shadow", to), "canary": observed(tier, "canary", to)},
}

deployment(to) := {
	"name": "pilot-fleet", "ring": "eu-pilot", "canary_share": 0.05, "runbook": "sha256:runbook",
	"rollback_target": "sha256:previous", "release": null, "stage": null,
} if to in deployable
else := null

observed_after := {"shadow": {"canary", "production"}, "canary": {"production"}}

observed(tier, phase, to) := {
	"cycles": data.gates.thresholds[tier][phase].min_cycles,
	"disagreement": data.gates.thresholds[tier][phase].max_disagreement,
	"fail_closed": 0,
	"dropped": 0,
} if to in observed_after[phase]
else := null

# One change to a complete input (rego-cpp's object.union is shallow: give whole values).
with_evidence(doc, key, value) := object.union(doc, {"evidence": object.union(doc.evidence, {key: value})})

with_item(doc, key, field, value) := with_evidence(doc, key, object.union(doc.evidence[key], {field: value}))

with_request(doc, field, value) := object.union(doc, {"request": object.union(doc.request, {field: value})})

with_model(doc, field, value) := with_item(doc, "model", field, value)

with_signoffs(doc, signoffs) := object.union(doc, {"signoffs": signoffs})

# The sign-offs of `doc` without `role`, plus `extra`.
replace_role(doc, role, extra) := result if {
	gone := role
	kept := [s | some s in doc.signoffs; s.role != gone]
	result := with_signoffs(doc, array.concat(kept, extra))
}

# `doc` with `role`'s sign-off accepting the current evidence item behind `key`.
accepting(doc, key, role) := result if {
	item := {"odd-gaps": "odd", "provenance-gaps": "provenance"}[key]
	s := object.union(signoff(people[role], role, doc.request.to), {"accepts": {key: digests.items[item]}})
	result := replace_role(doc, role, [s])
}

# Twelve ODD gaps.
odd_gaps(tier, to) := with_evidence(complete(tier, to), "odd", {"coverage": "sha256:coverage", "odd_digest": "sha256:odd", "gaps": 12, "top": ["rain x night", "fog"]})

unmet_ids(d) := ids if {
	unmet := d.unmet
	ids := {id | some u in unmet; id := u.id}
}

message(d, id) := m if {
	wanted := id
	some u in d.unmet
	u.id == wanted
	m := u.message
}

command(d, id) := c if {
	wanted := id
	some u in d.unmet
	u.id == wanted
	c := u.command
}

# Complete evidence ----------------------------------------------------------------------

test_complete_evidence_is_allowed_for_every_tier_and_stage if {
	denied := [[tier, to] |
		some tier in tiers
		some to in stages
		not decide(complete(tier, to)).allow
	]
	denied == []
}

test_complete_evidence_leaves_nothing_unmet_and_counts_every_signer if {
	d := decide(complete("controlled-pilot", "shadow"))
	d.allow == true
	d.unmet == []
	count(d.signoffs.counted) == 5
	d.signoffs.void == []
}

test_required_is_the_stage_check_and_the_matrix if {
	d := decide(complete("controlled-pilot", "offline-validated"))
	listed := data.gates.matrix["controlled-pilot"]["offline-validated"]
	d.required == sort({"stage"} | {id | some id in listed})
}

test_requirements_accumulate_by_stage if {
	shrinking := [[tier, i] |
		some tier in tiers
		some i in [0, 1, 2]
		lower := {id | some id in data.gates.matrix[tier][stages[i]]}
		higher := {id | some id in data.gates.matrix[tier][stages[i + 1]]}
		count(lower - higher) > 0
	]
	shrinking == []
}

test_every_requirement_has_a_title_and_commands if {
	incomplete := {id |
		some tier in tiers
		some stage in ["offline-validated", "shadow", "canary", "production"]
		some id in data.gates.matrix[tier][stage]
		not data.gates.requirements[id].commands
	}
	incomplete == set()
}

test_more_signers_are_needed_as_the_tier_rises if {
	counts := [n | some tier in tiers; n := data.gates.min_signers[tier]]
	counts == sort(counts)
	counts[0] < counts[4]
}

test_reproduction_is_required_only_for_safety_critical_production if {
	"reproduction" in decide(complete("safety-critical-production", "offline-validated")).required
	not "reproduction" in decide(complete("limited-production", "offline-validated")).required
}

# The transition -------------------------------------------------------------------------

test_skipping_a_stage_is_denied if {
	doc := with_model(with_request(complete("controlled-pilot", "shadow"), "from", "registered"), "stage", "registered")
	d := decide(doc)
	d.allow == false
	unmet_ids(d) == {"stage"}
	message(d, "stage") == "cannot go from registered to shadow: stages cannot be skipped (the next stage is offline-validated)"
	command(d, "stage") == "steward promote {ref} --to offline-validated"
}

test_going_backwards_is_denied if {
	doc := with_model(with_request(complete("controlled-pilot", "shadow"), "from", "canary"), "stage", "canary")
	contains(message(decide(doc), "stage"), "cannot go from canary to shadow")
}

test_the_request_must_start_where_the_model_is if {
	d := decide(with_model(complete("controlled-pilot", "shadow"), "stage", "registered"))
	contains(message(d, "stage"), "the request starts from offline-validated but the model is at registered")
}

test_a_blocked_model_can_never_be_promoted if {
	d := decide(with_model(complete("exploratory", "offline-validated"), "status", "blocked"))
	d.allow == false
	contains(message(d, "stage"), "a blocked model can never be promoted")
}

test_a_blocked_model_can_be_retired if {
	decide(with_model(complete("controlled-pilot", "retired"), "status", "blocked")).allow == true
}

test_a_retired_model_cannot_move_again if {
	doc := with_model(with_request(complete("controlled-pilot", "retired"), "from", "retired"), "stage", "retired")
	contains(message(decide(doc), "stage"), "the release is retired; it cannot move again")
}

test_rolled_back_is_reached_only_through_rollback if {
	d := decide(with_request(complete("controlled-pilot", "production"), "to", "rolled-back"))
	contains(message(d, "stage"), "only through `steward rollback DEPLOYMENT`")
}

test_an_unknown_tier_is_denied if {
	d := decide(with_model(complete("controlled-pilot", "offline-validated"), "tier", "moonshot"))
	d.allow == false
	contains(message(d, "stage"), "unknown risk tier moonshot")
}

test_an_input_of_another_schema_is_denied if {
	d := decide(object.union(complete("controlled-pilot", "offline-validated"), {"schema": "other/v9"}))
	contains(message(d, "stage"), "the gate input is other/v9")
}

test_an_input_missing_a_field_is_denied if {
	doc := complete("controlled-pilot", "offline-validated")
	scan := {"blocking": [], "accepted": []}
	d := decide(with_evidence(doc, "scan", scan))
	d.allow == false
	contains(message(d, "stage"), "the gate input has no evidence.scan.status")
}

test_the_stage_check_has_no_category if {
	doc := with_model(with_request(complete("controlled-pilot", "shadow"), "from", "registered"), "stage", "registered")
	some u in decide(doc).unmet
	u.id == "stage"
	u.category == null
}

# Rubric -----------------------------------------------------------------------------------

test_the_rubric_counts_the_tiers_checklist_met_and_total if {
	d := decide(complete("controlled-pilot", "offline-validated"))
	d.rubric.operations == {"met": 1, "total": 6}
	d.rubric.performance == {"met": 2, "total": 2}
	d.rubric.provenance == {"met": 1, "total": 1}
	d.rubric.licensing == {"met": 2, "total": 2}
	d.rubric.hardening == {"met": 2, "total": 2}
}

test_the_rubric_counts_unmet_items_as_not_met if {
	doc := with_evidence(odd_gaps("safety-critical-production", "offline-validated"), "envelope", null)
	d := decide(doc)
	d.rubric.performance == {"met": 1, "total": 2}
	d.rubric.hardening == {"met": 1, "total": 2}
	d.rubric.provenance == {"met": 2, "total": 2}
}
