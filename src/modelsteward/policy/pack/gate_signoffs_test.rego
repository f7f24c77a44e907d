# Tests of sign-off counting (fixtures in gate_test.rego, same package).
package steward.gate_test

import rego.v1

import data.steward.gate.decide

# Sign-offs --------------------------------------------------------------------------------

test_a_missing_role_is_named_with_its_command if {
	d := decide(replace_role(complete("controlled-pilot", "offline-validated"), "legal", []))
	unmet_ids(d) == {"signoffs"}
	message(d, "signoffs") == "no counted approval for offline-validated from legal"
	command(d, "signoffs") == "steward signoff {ref} --to offline-validated --role legal --approve --key KEY --comment TEXT"
}

test_signoff_by_submitter_is_not_counted if {
	doc := complete("controlled-pilot", "offline-validated")
	d := decide(replace_role(doc, "legal", [signoff("dana", "legal", "offline-validated")]))
	d.allow == false
	d.signoffs.void == [{"person": "dana", "role": "legal", "reason": "dana submitted the model: the submitter cannot sign"}]
	contains(message(d, "signoffs"), "dana's legal sign-off does not count (dana submitted the model: the submitter cannot sign)")
}

test_signoff_for_other_evidence_is_void if {
	doc := complete("controlled-pilot", "offline-validated")
	stale := object.union(signoff("lena", "legal", "offline-validated"), {"evidence_digest": "sha256:older"})
	d := decide(replace_role(doc, "legal", [stale]))
	d.signoffs.void[0].reason == "signed different evidence: the evidence changed since (signed sha256:older)"
}

test_signoff_for_another_stage_policy_or_model_is_void if {
	doc := complete("controlled-pilot", "offline-validated")
	odd := object.union(signoff("lena", "legal", "shadow"), {"policy_digest": "sha256:old-policy", "model_digest": "sha256:other"})
	d := decide(replace_role(doc, "legal", [odd]))
	reason := d.signoffs.void[0].reason
	contains(reason, "signed for stage shadow, not offline-validated")
	contains(reason, "signed under a different policy (sha256:old-policy)")
	contains(reason, "signed a different model (sha256:other)")
}

test_signoff_with_unverified_signature_or_unheld_role_is_void if {
	doc := complete("controlled-pilot", "offline-validated")
	forged := object.union(signoff("lena", "legal", "offline-validated"), {"signature_verified": false, "roles_held": ["product"]})
	d := decide(replace_role(doc, "legal", [forged]))
	contains(d.signoffs.void[0].reason, "the signature does not verify")
	contains(d.signoffs.void[0].reason, "lena does not hold the legal role")
}

test_one_person_signing_two_roles_counts_for_neither if {
	doc := complete("controlled-pilot", "offline-validated")
	twice := object.union(signoff("sam", "legal", "offline-validated"), {"roles_held": ["legal", "safety"]})
	d := decide(replace_role(doc, "legal", [twice]))
	d.allow == false
	voided := {[v.person, v.role] | some v in d.signoffs.void}
	voided == {["sam", "legal"], ["sam", "safety"]}
	contains(message(d, "signoffs"), "sam signed as legal and safety in this decision: one person, one role")
}

test_a_counted_rejection_denies_with_its_comment if {
	doc := complete("controlled-pilot", "offline-validated")
	no := object.union(signoff("lena", "legal", "offline-validated"), {"verdict": "reject", "comment": "the \"NC\" clause forbids this use"})
	d := decide(replace_role(doc, "legal", [no]))
	d.allow == false
	contains(message(d, "signoffs"), "lena (legal) rejected: the \"NC\" clause forbids this use")
}

test_a_later_signoff_supersedes_the_same_persons_earlier_one if {
	doc := complete("controlled-pilot", "offline-validated")
	no := object.union(signoff("lena", "legal", "offline-validated"), {"verdict": "reject", "comment": "wait", "signed_at": "2026-11-21T10:00:00.000000Z"})
	yes := signoff("lena", "legal", "offline-validated")
	d := decide(replace_role(doc, "legal", [no, yes]))
	d.allow == true
	d.signoffs.void[0].reason == "superseded by the same person's later sign-off for this role"
}

test_distinct_approvers_must_reach_the_tier_minimum if {
	doc := complete("safety-critical-production", "shadow")
	needed := {r | some r in data.gates.signoff_roles["safety-critical-production"].shadow}
	only := [s | some s in doc.signoffs; s.role in needed]
	d := decide(with_signoffs(doc, only))
	message(d, "signoffs") == "3 distinct approver(s) counted; a safety-critical-production model needs at least 4 for shadow"
}

test_retirement_needs_an_operations_or_product_approval if {
	doc := complete("controlled-pilot", "retired")
	keep := [s | some s in doc.signoffs; s.role == "product"]
	decide(with_signoffs(doc, keep)).allow == true
	d := decide(with_signoffs(doc, []))
	message(d, "signoffs") == "0 distinct approver(s) counted; a controlled-pilot model needs at least 1 for retired; retiring needs a counted approval from operations or product"
}
