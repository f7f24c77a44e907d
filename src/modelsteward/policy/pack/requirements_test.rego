# Tests of the evidence requirements (fixtures in gate_test.rego, same package).
package steward.gate_test

import rego.v1

import data.steward.gate.decide

# Evidence requirements --------------------------------------------------------------------

test_an_unverified_signature_is_unmet_and_names_sign_and_verify if {
	doc := with_item(complete("controlled-pilot", "offline-validated"), "provenance", "signature", {"verified": false, "key_id": null, "verified_at": null})
	d := decide(doc)
	unmet_ids(d) == {"provenance"}
	message(d, "provenance") == "the model's signature has not been verified against its registered files"
	contains(command(d, "provenance"), "steward model sign {ref} --key KEY --out SIG")
	contains(command(d, "provenance"), "steward model verify {ref} PATH --signature SIG --public-key KEY.pub")
}

unsourced(tier, to) := with_evidence(complete(tier, to), "provenance", {
	"source": null, "revision": null, "digest": digests.model, "training_runs": 0,
	"gaps": ["no --source: upstream unknown"],
	"signature": {"verified": true, "key_id": "key", "verified_at": "x"},
})

test_provenance_gaps_are_unmet_and_say_security_may_accept_them if {
	d := decide(unsourced("controlled-pilot", "offline-validated"))
	unmet_ids(d) == {"provenance"}
	contains(message(d, "provenance"), "(no --source: upstream unknown)")
	contains(message(d, "provenance"), "a security sign-off may accept these gaps")
	contains(command(d, "provenance"), "--role security --approve --accept provenance-gaps")
}

test_a_security_signoff_accepts_provenance_gaps_up_to_controlled_pilot if {
	decide(accepting(unsourced("controlled-pilot", "offline-validated"), "provenance-gaps", "security")).allow == true
}

test_provenance_gaps_cannot_be_accepted_from_limited_production if {
	d := decide(accepting(unsourced("limited-production", "offline-validated"), "provenance-gaps", "security"))
	d.allow == false
	contains(message(d, "provenance"), "a limited-production model cannot have provenance gaps accepted")
}

test_an_acceptance_of_other_provenance_does_not_count if {
	doc := unsourced("controlled-pilot", "offline-validated")
	s := object.union(signoff("sid", "security", "offline-validated"), {"accepts": {"provenance-gaps": "sha256:older"}})
	d := decide(replace_role(doc, "security", [s]))
	"provenance" in unmet_ids(d)
}

test_a_recorded_training_run_stands_for_source_and_revision if {
	doc := with_item(unsourced("limited-production", "offline-validated"), "provenance", "training_runs", 1)
	decide(doc).allow == true
}

test_a_blocking_scan_names_the_files if {
	doc := with_evidence(complete("controlled-pilot", "offline-validated"), "scan", {"status": "blocked", "blocking": ["model.pkl", "extra.bin"], "accepted": []})
	d := decide(doc)
	"scan" in unmet_ids(d)
	contains(message(d, "scan"), "the scan found 2 blocking file(s): model.pkl, extra.bin")
}

test_a_licence_not_allowed_names_the_verdict_and_reasons if {
	doc := complete("controlled-pilot", "offline-validated")
	lic := object.union(doc.evidence.licence, {"verdict": "incompatible", "passed": false, "allowed": false, "reasons": ["CC-BY-NC-4.0 forbids commercial use"]})
	d := decide(with_evidence(doc, "licence", lic))
	message(d, "licence") == "the licence review for commercial use, product distribution is incompatible and not approved in the legal register (CC-BY-NC-4.0 forbids commercial use)"
	contains(command(d, "licence"), "steward license review {ref} --use commercial --distribution product")
}

test_an_expired_dataset_is_named_with_its_date if {
	doc := complete("controlled-pilot", "offline-validated")
	expired := object.union(doc.evidence.datasets[0], {"expires_on": "2026-11-22"})
	d := decide(with_evidence(doc, "datasets", [expired]))
	message(d, "datasets") == "dataset highway-demos expired on 2026-11-22 (the request is dated 2026-11-22)"
}

test_an_unregistered_dataset_is_named if {
	doc := complete("exploratory", "shadow")
	loose := {"name": "dashcam-2024", "declared_by": "card", "registered": false, "digest": null, "license": null, "consent": null, "expires_on": null}
	d := decide(with_evidence(doc, "datasets", [loose]))
	message(d, "datasets") == "dataset dashcam-2024 (declared by the card) is not in the dataset register"
}

test_no_training_data_is_unmet_from_controlled_pilot if {
	d := decide(with_evidence(complete("controlled-pilot", "offline-validated"), "datasets", []))
	contains(message(d, "datasets"), "no training data declared")
	decide(with_evidence(complete("internal-decision-support", "offline-validated"), "datasets", [])).allow == true
}

test_an_unverified_reproduction_is_unmet_for_safety_critical_production if {
	doc := with_evidence(complete("safety-critical-production", "offline-validated"), "reproduction", {"runs": 1, "verified": false, "outcomes": ["diverged"]})
	d := decide(doc)
	unmet_ids(d) == {"reproduction"}
	message(d, "reproduction") == "no verified reproduction: 1 training run(s) recorded, reproduction outcomes: diverged"
}

test_a_critical_regression_denies if {
	doc := complete("controlled-pilot", "offline-validated")
	evaluation := object.union(doc.evidence.evaluation, {"critical_regressions": ["cut-in-03"]})
	d := decide(with_evidence(doc, "evaluation", evaluation))
	message(d, "evaluation") == "the evaluation has 1 critical regression(s) against baseline highway-pilot: cut-in-03"
}

test_an_evaluation_must_meet_a_baseline_or_be_one if {
	doc := complete("controlled-pilot", "offline-validated")
	alone := object.union(doc.evidence.evaluation, {"baseline": null})
	d := decide(with_evidence(doc, "evaluation", alone))
	contains(message(d, "evaluation"), "not compared with a locked baseline")
	locked := object.union(alone, {"locked_as": ["highway-pilot"]})
	decide(with_evidence(doc, "evaluation", locked)).allow == true
}

test_a_missing_evaluation_is_unmet if {
	d := decide(with_evidence(complete("controlled-pilot", "offline-validated"), "evaluation", null))
	message(d, "evaluation") == "the model has not been evaluated"
}

test_odd_gaps_are_counted_in_the_message if {
	d := decide(odd_gaps("controlled-pilot", "offline-validated"))
	unmet_ids(d) == {"odd"}
	message(d, "odd") == "the ODD coverage has 12 gap(s) (top: rain x night, fog): close them, or a safety sign-off may accept them"
}

test_a_safety_signoff_bound_to_the_coverage_accepts_odd_gaps if {
	decide(accepting(odd_gaps("controlled-pilot", "offline-validated"), "odd-gaps", "safety")).allow == true
}

test_an_odd_acceptance_by_another_role_does_not_count if {
	d := decide(accepting(odd_gaps("controlled-pilot", "offline-validated"), "odd-gaps", "legal"))
	"odd" in unmet_ids(d)
}

test_a_missing_envelope_is_unmet_from_shadow if {
	d := decide(with_evidence(complete("controlled-pilot", "shadow"), "envelope", null))
	message(d, "envelope") == "no signed runtime envelope is bound to this model"
	not "envelope" in decide(with_evidence(complete("controlled-pilot", "offline-validated"), "envelope", null)).required
}

test_a_deployable_stage_needs_a_named_registered_deployment if {
	doc := complete("controlled-pilot", "shadow")
	unnamed := decide(with_request(doc, "deployment", null))
	message(unnamed, "deployment") == "a promotion to shadow must name the deployment it goes to"
	unknown := decide(with_evidence(doc, "deployment", null))
	message(unknown, "deployment") == "deployment pilot-fleet is not registered"
	message(unknown, "runbook") == "no deployment, so no runbook"
}

test_rollback_to_none_is_refused_from_limited_production if {
	doc := complete("limited-production", "canary")
	none := object.union(doc.evidence.deployment, {"rollback_target": "none"})
	d := decide(with_evidence(doc, "deployment", none))
	contains(message(d, "rollback"), "declares no rollback target (none); a limited-production model")
	pilot := complete("controlled-pilot", "canary")
	fine := object.union(pilot.evidence.deployment, {"rollback_target": "none"})
	decide(with_evidence(pilot, "deployment", fine)).allow == true
}

test_shadow_results_must_meet_the_tier_thresholds if {
	doc := complete("controlled-pilot", "canary")
	poor := {"cycles": 120, "disagreement": 0.35, "fail_closed": 2, "dropped": 0}
	d := decide(with_evidence(doc, "observations", {"shadow": poor, "canary": null}))
	unmet_ids(d) == {"shadow"}
	msg := message(d, "shadow")
	contains(msg, "shadow ran 120 cycle(s); a controlled-pilot model needs at least 500")
	contains(msg, "shadow disagreement 0.35 exceeds the controlled-pilot limit of 0.2")
	contains(msg, "2 fail-closed cycle(s) in shadow")
}

test_canary_results_must_have_no_dropped_cycles if {
	doc := complete("controlled-pilot", "production")
	canary := object.union(doc.evidence.observations.canary, {"dropped": 3})
	observations := {"shadow": doc.evidence.observations.shadow, "canary": canary}
	d := decide(with_evidence(doc, "observations", observations))
	message(d, "canary") == "3 dropped cycle(s) in canary"
}

test_missing_observations_are_unmet if {
	doc := complete("controlled-pilot", "canary")
	d := decide(with_evidence(doc, "observations", {"shadow": null, "canary": null}))
	message(d, "shadow") == "no shadow observations recorded for this model"
}
