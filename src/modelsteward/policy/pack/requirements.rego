# Evidence requirements of the release gate: each function returns the problems it finds.
#
# A problem names its requirement id, says in plain words what is missing (with the
# specifics from the input) and names the Steward commands that produce the evidence.
# Whether a requirement applies to this tier and stage is decided in gate.rego. Each
# function copies its parameters to locals first (lib.rego explains why).
package steward.gate

import rego.v1

import data.steward.lib.join
import data.steward.lib.joined
import data.steward.lib.say

# provenance ---------------------------------------------------------------------------

provenance_problems(ctx, facts) := problems if {
	c := ctx
	prov := c.ev.provenance
	gaps := gaps_text(prov.gaps)
	known := source_known(prov)
	acceptable := tier_may_accept("provenance-gaps", c)
	waived := is_accepted("provenance-gaps", c, facts)
	problems := {p |
		not known
		not acceptable
		msg := say(
			"no upstream source and revision, and no recorded training run produced the model%s; a %v model cannot have provenance gaps accepted",
			[gaps, c.tier],
		)
		p := issue("provenance", ["source"], msg, c)
	} | {p |
		not known
		acceptable
		not waived
		msg := say(
			"no upstream source and revision, and no recorded training run produced the model%s; record them, or a security sign-off may accept these gaps",
			[gaps],
		)
		p := issue("provenance", ["source", "accept"], msg, c)
	} | {p |
		prov.digest == null
		p := issue("provenance", ["source"], "the provenance record has no model digest", c)
	} | {p |
		not prov.signature.verified == true
		msg := "the model's signature has not been verified against its registered files"
		p := issue("provenance", ["sign", "verify"], msg, c)
	}
}

source_known(prov) := true if {
	prov.source != null
	prov.revision != null
} else := true if {
	prov.training_runs >= 1
} else := false

gaps_text(gaps) := "" if count(gaps) == 0
else := say(" (%s)", [join("; ", gaps)])

tier_may_accept(key, ctx) := true if {
	ctx.tier in cfg.acceptances[key].tiers
} else := false

# scan -------------------------------------------------------------------------------

scan_problems(ctx) := problems if {
	c := ctx
	scan := c.ev.scan
	problems := {p |
		scan.status != "registered"
		msg := say("the model's scan status is %v, not registered", [scan.status])
		p := issue("scan", ["scan"], msg, c)
	} | {p |
		count(scan.blocking) > 0
		msg := say("the scan found %d blocking file(s): %s", [count(scan.blocking), joined(scan.blocking)])
		p := issue("scan", ["scan"], msg, c)
	}
}

# licence ----------------------------------------------------------------------------

licence_problems(ctx) := problems if {
	c := ctx
	lic := c.ev.licence
	problems := {p |
		not lic.allowed == true
		msg := say(
			"the licence review for %v use, %v distribution is %v and %s%s",
			[lic.use, lic.distribution, lic.verdict, approval_text(lic), list_text(lic.reasons)],
		)
		p := issue("licence", ["review", "approve"], msg, c)
	}
}

approval_text(lic) := "approved in the legal register but not allowed" if lic.approved == true
else := "not approved in the legal register"

list_text(items) := "" if count(items) == 0
else := say(" (%s)", [join("; ", items)])

# datasets ---------------------------------------------------------------------------

dataset_problems(ctx) := problems if {
	c := ctx
	datasets := c.ev.datasets
	date := c.doc.request.date
	problems := {p |
		count(datasets) == 0
		c.tier in cfg.training_data_required
		msg := say(
			"no training data declared: a %v model must name the datasets it was trained on (in its model card or a recorded run)",
			[c.tier],
		)
		p := issue("datasets", ["declare"], msg, c)
	} | {p |
		some d in datasets
		not d.registered == true
		msg := say("dataset %v (declared by the %v) is not in the dataset register", [d.name, d.declared_by])
		p := issue("datasets", ["register"], msg, c)
	} | {p |
		some d in datasets
		d.registered == true
		some field in ["license", "consent", "expires_on"]
		d[field] == null
		msg := say("dataset %v has no %s recorded", [d.name, dataset_fields[field]])
		p := issue("datasets", ["register"], msg, c)
	} | {p |
		some d in datasets
		d.registered == true
		d.expires_on != null
		d.expires_on <= date
		msg := say("dataset %v expired on %v (the request is dated %v)", [d.name, d.expires_on, date])
		p := issue("datasets", ["expiring"], msg, c)
	}
}

dataset_fields := {"license": "licence", "consent": "consent basis", "expires_on": "expiry date"}

# reproduction -----------------------------------------------------------------------

reproduction_problems(ctx) := problems if {
	c := ctx
	repro := c.ev.reproduction
	problems := {p |
		not repro.verified == true
		msg := say(
			"no verified reproduction: %d training run(s) recorded, reproduction outcomes: %s",
			[repro.runs, none_or(repro.outcomes)],
		)
		p := issue("reproduction", ["reproduce"], msg, c)
	}
}

none_or(items) := "none" if count(items) == 0
else := joined(items)

# evaluation -------------------------------------------------------------------------

evaluation_problems(ctx) := problems if {
	c := ctx
	ev := c.ev.evaluation
	problems := {p |
		ev == null
		p := issue("evaluation", ["run"], "the model has not been evaluated", c)
	} | {p |
		ev != null
		count(ev.critical_regressions) > 0
		msg := say(
			"the evaluation has %d critical regression(s)%s: %s",
			[count(ev.critical_regressions), baseline_text(ev.baseline), joined(ev.critical_regressions)],
		)
		p := issue("evaluation", ["run"], msg, c)
	} | {p |
		ev != null
		ev.baseline == null
		count(ev.locked_as) == 0
		msg := "the evaluation was not compared with a locked baseline, and is not locked as one"
		p := issue("evaluation", ["run", "lock"], msg, c)
	}
}

baseline_text(name) := "" if name == null
else := say(" against baseline %v", [name])

# odd --------------------------------------------------------------------------------

odd_problems(ctx, facts) := problems if {
	c := ctx
	odd := c.ev.odd
	acceptable := tier_may_accept("odd-gaps", c)
	waived := is_accepted("odd-gaps", c, facts)
	problems := {p |
		odd == null
		p := issue("odd", ["coverage"], "no ODD coverage recorded for this model", c)
	} | {p |
		odd != null
		odd.gaps > 0
		acceptable
		not waived
		msg := say(
			"the ODD coverage has %d gap(s)%s: close them, or a safety sign-off may accept them",
			[odd.gaps, top_text(odd.top)],
		)
		p := issue("odd", ["coverage", "accept"], msg, c)
	} | {p |
		odd != null
		odd.gaps > 0
		not acceptable
		msg := say("the ODD coverage has %d gap(s)%s; a %v model cannot have them accepted", [odd.gaps, top_text(odd.top), c.tier])
		p := issue("odd", ["coverage"], msg, c)
	}
}

top_text(top) := "" if count(top) == 0
else := say(" (top: %s)", [joined(top)])

# envelope ---------------------------------------------------------------------------

envelope_problems(ctx) := problems if {
	c := ctx
	problems := {p |
		c.ev.envelope == null
		p := issue("envelope", ["sign"], "no signed runtime envelope is bound to this model", c)
	}
}

# deployment, runbook, rollback ------------------------------------------------------

deployment_problems(ctx) := problems if {
	c := ctx
	named := c.deployment
	dep := c.ev.deployment
	problems := {p |
		named == null
		msg := say("a promotion to %v must name the deployment it goes to", [c.to])
		p := issue("deployment", ["name"], msg, c)
	} | {p |
		named != null
		dep == null
		p := issue("deployment", ["add"], say("deployment %v is not registered", [named]), c)
	} | {p |
		dep != null
		named != null
		dep.name != named
		msg := say("the evidence describes deployment %v, not %v", [dep.name, named])
		p := issue("deployment", ["add"], msg, c)
	} | {p |
		dep == null
		some id in ["runbook", "rollback"]
		p := issue(id, ["add"], say("no deployment, so no %s", [missing_part[id]]), c)
	} | {p |
		dep != null
		dep.runbook == null
		p := issue("runbook", ["add"], say("deployment %v has no runbook", [dep.name]), c)
	} | {p |
		dep != null
		dep.rollback_target == null
		p := issue("rollback", ["add"], say("deployment %v names no rollback target", [dep.name]), c)
	} | {p |
		dep != null
		dep.rollback_target == "none"
		c.tier in cfg.rollback_none_forbidden
		msg := say(
			"deployment %v declares no rollback target (none); a %v model must be able to roll back to an approved release",
			[dep.name, c.tier],
		)
		p := issue("rollback", ["add"], msg, c)
	}
}

missing_part := {"runbook": "runbook", "rollback": "rollback target"}

# shadow and canary results ----------------------------------------------------------

observation_problems(ctx) := problems if {
	c := ctx
	problems := {p |
		some phase in ["shadow", "canary"]
		some msg in phase_messages(phase, c)
		p := issue(phase, ["observe"], msg, c)
	}
}

phase_messages(phase, ctx) := messages if {
	name := phase
	tier := ctx.tier
	seen := ctx.ev.observations[name]
	limit := object.get(cfg.thresholds, [tier, name], null)
	messages := {m |
		seen == null
		m := say("no %s observations recorded for this model", [name])
	} | {m |
		limit == null
		m := say("the policy data has no %s thresholds for tier %v", [name, tier])
	} | {m |
		seen != null
		limit != null
		some m in limit_messages(name, seen, limit, tier)
	}
}

limit_messages(phase, seen, limit, tier) := messages if {
	name := phase
	s := seen
	l := limit
	t := tier
	messages := {m |
		s.cycles < l.min_cycles
		m := say("%s ran %d cycle(s); a %v model needs at least %d", [name, s.cycles, t, l.min_cycles])
	} | {m |
		s.disagreement > l.max_disagreement
		m := say("%s disagreement %v exceeds the %v limit of %v", [name, s.disagreement, t, l.max_disagreement])
	} | {m |
		s.fail_closed > 0
		m := say("%d fail-closed cycle(s) in %s", [s.fail_closed, name])
	} | {m |
		name == "canary"
		s.dropped > 0
		m := say("%d dropped cycle(s) in canary", [s.dropped])
	}
}
