# Tests of the sign-off refusals (`steward policy test`; Steward's own test suite runs them).
#
# Each test asks data.steward.signoff.refuse(doc) about one candidate sign-off.
package steward.signoff_test

import rego.v1

import data.steward.signoff.refuse

candidate := {
	"person": "sam",
	"role": "safety",
	"roles_held": ["safety"],
	"verdict": "approve",
	"stage": "offline-validated",
	"model_digest": "sha256:model",
	"evidence_digest": "sha256:evidence",
	"policy_digest": "sha256:policy",
	"accepts": {},
	"comment": "",
	"signed_at": "2026-11-22T10:00:00.000000Z",
	"signature_verified": true,
}

# A request to sign: `changes` applied to the candidate, with earlier sign-offs and a tier.
ask(changes, earlier, tier) := {
	"candidate": object.union(candidate, changes),
	"submitter": "dana",
	"signoffs": earlier,
	"tier": tier,
}

test_a_clean_signoff_has_no_refusals if {
	refuse(ask({}, [], "controlled-pilot")) == set()
}

test_the_submitter_is_refused if {
	refuse(ask({"person": "dana"}, [], "controlled-pilot")) == {"dana submitted the model: the submitter cannot sign it"}
}

test_a_second_role_for_the_same_person_is_refused if {
	earlier := [object.union(candidate, {"role": "legal", "roles_held": ["legal", "safety"]})]
	refuse(ask({}, earlier, "controlled-pilot")) == {"sam already signed this decision as legal: one person, one role"}
}

test_signing_the_same_role_again_is_allowed if {
	refuse(ask({"verdict": "reject", "comment": "on reflection, no"}, [candidate], "controlled-pilot")) == set()
}

test_a_role_not_held_is_refused if {
	refuse(ask({"role": "legal"}, [], "controlled-pilot")) == {"sam does not hold the legal role"}
}

test_an_unknown_role_is_refused if {
	reasons := refuse(ask({"role": "janitor", "roles_held": ["janitor"]}, [], "controlled-pilot"))
	reasons == {"unknown role janitor (one of: legal, operations, product, safety, security)"}
}

test_a_rejection_must_say_why if {
	refuse(ask({"verdict": "reject", "comment": "  "}, [], "controlled-pilot")) == {"a rejection must say why (a comment)"}
}

test_an_unknown_verdict_is_refused if {
	refuse(ask({"verdict": "maybe"}, [], "controlled-pilot")) == {"unknown verdict maybe: approve or reject"}
}

test_only_an_approval_can_accept_a_gap if {
	reasons := refuse(ask({"verdict": "reject", "comment": "no", "accepts": {"odd-gaps": "sha256:odd"}}, [], "controlled-pilot"))
	reasons == {"only an approval can accept a gap"}
}

test_safety_may_accept_odd_gaps if {
	refuse(ask({"accepts": {"odd-gaps": "sha256:odd"}}, [], "safety-critical-production")) == set()
}

test_an_acceptance_by_the_wrong_role_is_refused if {
	changes := {"role": "legal", "roles_held": ["legal"], "accepts": {"odd-gaps": "sha256:odd"}}
	refuse(ask(changes, [], "controlled-pilot")) == {"only a safety sign-off may accept odd-gaps"}
}

test_provenance_gaps_may_be_accepted_only_up_to_controlled_pilot if {
	changes := {"person": "sid", "role": "security", "roles_held": ["security"], "accepts": {"provenance-gaps": "sha256:p"}}
	refuse(ask(changes, [], "controlled-pilot")) == set()
	refuse(ask(changes, [], "limited-production")) == {"provenance-gaps cannot be accepted for a limited-production model"}
}

test_an_unknown_acceptance_is_refused if {
	reasons := refuse(ask({"accepts": {"all-gaps": "sha256:x"}}, [], "controlled-pilot"))
	reasons == {"unknown acceptance all-gaps (one of: odd-gaps, provenance-gaps)"}
}
