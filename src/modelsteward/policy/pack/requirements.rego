# Evidence requirements of the release gate: one `problem` per thing that is missing.
#
# Each problem names its requirement id, says in plain words what is missing (with the
# specifics from the input) and names the Steward command that produces the evidence.
# Whether a requirement applies to this tier and stage is decided in gate.rego.
package steward.gate

import rego.v1

import data.steward.lib.join
import data.steward.lib.joined
import data.steward.lib.say

evidence := input.evidence

# provenance ---------------------------------------------------------------------------

prov := evidence.provenance

source_known if {
	prov.source != null
	prov.revision != null
}

source_known if prov.training_runs >= 1

gaps_text(gaps) := "" if count(gaps) == 0

gaps_text(gaps) := say(" (%s)", [join("; ", gaps)]) if count(gaps) > 0

provenance_acceptable if tier in cfg.acceptances["provenance-gaps"].tiers

problem contains issue("provenance", "source", msg) if {
	not source_known
	not provenance_acceptable
	msg := say(
		"no upstream source and revision, and no recorded training run produced the model%s; a %s model cannot have provenance gaps accepted",
		[gaps_text(prov.gaps), tier],
	)
}

problem contains p if {
	not source_known
	provenance_acceptable
	not accepted("provenance-gaps")
	msg := say(
		"no upstream source and revision, and no recorded training run produced the model%s; record them, or a security sign-off may accept these gaps",
		[gaps_text(prov.gaps)],
	)
	cmds := [command("provenance", "source"), command("provenance", "accept")]
	p := {"id": "provenance", "message": msg, "commands": cmds}
}

problem contains issue("provenance", "source", "the provenance record has no model digest") if {
	prov.digest == null
}

problem contains p if {
	not prov.signature.verified == true
	msg := "the model's signature has not been verified against its registered files"
	cmds := [command("provenance", "sign"), command("provenance", "verify")]
	p := {"id": "provenance", "message": msg, "commands": cmds}
}

# scan -------------------------------------------------------------------------------

problem contains issue("scan", "scan", msg) if {
	evidence.scan.status != "registered"
	msg := say("the model's scan status is %v, not registered", [evidence.scan.status])
}

problem contains issue("scan", "scan", msg) if {
	count(evidence.scan.blocking) > 0
	msg := say(
		"the scan found %d blocking file(s): %s",
		[count(evidence.scan.blocking), joined(evidence.scan.blocking)],
	)
}

# licence ----------------------------------------------------------------------------

lic := evidence.licence

approval_text := "approved in the legal register but not allowed" if lic.approved == true

approval_text := "not approved in the legal register" if not lic.approved == true

reasons_text := "" if count(lic.reasons) == 0

reasons_text := say(" (%s)", [join("; ", lic.reasons)]) if count(lic.reasons) > 0

problem contains p if {
	not lic.allowed == true
	msg := say(
		"the licence review for %v use, %v distribution is %v and %s%s",
		[lic.use, lic.distribution, lic.verdict, approval_text, reasons_text],
	)
	cmds := [command("licence", "review"), command("licence", "approve")]
	p := {"id": "licence", "message": msg, "commands": cmds}
}

# datasets ---------------------------------------------------------------------------

problem contains issue("datasets", "declare", msg) if {
	count(evidence.datasets) == 0
	tier in cfg.training_data_required
	msg := say(
		"no training data declared: a %s model must name the datasets it was trained on (in its model card or a recorded run)",
		[tier],
	)
}

problem contains issue("datasets", "register", msg) if {
	some d in evidence.datasets
	not d.registered == true
	msg := say("dataset %v (declared by the %v) is not in the dataset register", [d.name, d.declared_by])
}

problem contains issue("datasets", "register", msg) if {
	some d in evidence.datasets
	d.registered == true
	some field in ["license", "consent", "expires_on"]
	d[field] == null
	msg := say("dataset %v has no %s recorded", [d.name, dataset_fields[field]])
}

dataset_fields := {"license": "licence", "consent": "consent basis", "expires_on": "expiry date"}

problem contains issue("datasets", "expiring", msg) if {
	some d in evidence.datasets
	d.registered == true
	d.expires_on != null
	d.expires_on <= input.request.date
	msg := say(
		"dataset %v expired on %v (the request is dated %v)",
		[d.name, d.expires_on, input.request.date],
	)
}

# reproduction -----------------------------------------------------------------------

problem contains issue("reproduction", "reproduce", msg) if {
	not evidence.reproduction.verified == true
	msg := say(
		"no verified reproduction: %d training run(s) recorded, reproduction outcomes: %s",
		[evidence.reproduction.runs, outcomes_text],
	)
}

outcomes_text := "none" if count(evidence.reproduction.outcomes) == 0

outcomes_text := joined(evidence.reproduction.outcomes) if count(evidence.reproduction.outcomes) > 0

# evaluation -------------------------------------------------------------------------

ev := evidence.evaluation

problem contains issue("evaluation", "run", "the model has not been evaluated") if ev == null

problem contains issue("evaluation", "run", msg) if {
	ev != null
	count(ev.critical_regressions) > 0
	msg := say(
		"the evaluation has %d critical regression(s)%s: %s",
		[count(ev.critical_regressions), baseline_text, joined(ev.critical_regressions)],
	)
}

problem contains p if {
	ev != null
	ev.baseline == null
	count(ev.locked_as) == 0
	msg := "the evaluation was not compared with a locked baseline, and is not locked as one"
	p := {"id": "evaluation", "message": msg, "commands": [command("evaluation", "run"), command("evaluation", "lock")]}
}

baseline_text := say(" against baseline %v", [ev.baseline]) if ev.baseline != null

baseline_text := "" if ev.baseline == null

# odd --------------------------------------------------------------------------------

odd := evidence.odd

problem contains issue("odd", "coverage", "no ODD coverage recorded for this model") if odd == null

odd_acceptable if tier in cfg.acceptances["odd-gaps"].tiers

top_text := "" if count(odd.top) == 0

top_text := say(" (top: %s)", [joined(odd.top)]) if count(odd.top) > 0

problem contains p if {
	odd != null
	odd.gaps > 0
	odd_acceptable
	not accepted("odd-gaps")
	msg := say(
		"the ODD coverage has %d gap(s)%s: close them, or a safety sign-off may accept them",
		[odd.gaps, top_text],
	)
	p := {"id": "odd", "message": msg, "commands": [command("odd", "coverage"), command("odd", "accept")]}
}

problem contains issue("odd", "coverage", msg) if {
	odd != null
	odd.gaps > 0
	not odd_acceptable
	msg := say("the ODD coverage has %d gap(s)%s; a %s model cannot have them accepted", [odd.gaps, top_text, tier])
}

# envelope ---------------------------------------------------------------------------

problem contains issue("envelope", "sign", "no signed runtime envelope is bound to this model") if {
	evidence.envelope == null
}

# deployment, runbook, rollback ------------------------------------------------------

dep := evidence.deployment

problem contains issue("deployment", "name", msg) if {
	input.request.deployment == null
	msg := say("a promotion to %s must name the deployment it goes to", [to])
}

problem contains issue("deployment", "add", msg) if {
	input.request.deployment != null
	dep == null
	msg := say("deployment %v is not registered", [input.request.deployment])
}

problem contains issue("deployment", "add", msg) if {
	dep != null
	dep.name != input.request.deployment
	msg := say("the evidence describes deployment %v, not %v", [dep.name, input.request.deployment])
}

problem contains issue("runbook", "add", "no deployment, so no runbook") if dep == null

problem contains issue("runbook", "add", msg) if {
	dep != null
	dep.runbook == null
	msg := say("deployment %v has no runbook", [dep.name])
}

problem contains issue("rollback", "add", "no deployment, so no rollback target") if dep == null

problem contains issue("rollback", "add", msg) if {
	dep != null
	dep.rollback_target == null
	msg := say("deployment %v names no rollback target", [dep.name])
}

problem contains issue("rollback", "add", msg) if {
	dep != null
	dep.rollback_target == "none"
	tier in cfg.rollback_none_forbidden
	msg := say(
		"deployment %v declares no rollback target (none); a %s model must be able to roll back to an approved release",
		[dep.name, tier],
	)
}

# shadow and canary results ----------------------------------------------------------

problem contains issue(phase, "observe", msg) if {
	some phase in ["shadow", "canary"]
	evidence.observations[phase] == null
	msg := say("no %s observations recorded for this model", [phase])
}

problem contains issue(phase, "observe", msg) if {
	some phase in ["shadow", "canary"]
	not cfg.thresholds[tier][phase]
	msg := say("the policy data has no %s thresholds for tier %v", [phase, tier])
}

problem contains issue(phase, "observe", msg) if {
	some phase in ["shadow", "canary"]
	seen := evidence.observations[phase]
	limit := cfg.thresholds[tier][phase]
	some text in field_problems(phase, seen, limit)
	msg := text
}

field_problems(phase, seen, limit) := {text |
	seen.cycles < limit.min_cycles
	text := say("%s ran %d cycle(s); a %s model needs at least %d", [phase, seen.cycles, tier, limit.min_cycles])
} | {text |
	seen.disagreement > limit.max_disagreement
	text := say("%s disagreement %v exceeds the %s limit of %v", [phase, seen.disagreement, tier, limit.max_disagreement])
} | {text |
	seen.fail_closed > 0
	text := say("%d fail-closed cycle(s) in %s", [seen.fail_closed, phase])
} | {text |
	phase == "canary"
	seen.dropped > 0
	text := say("%d dropped cycle(s) in canary", [seen.dropped])
}
