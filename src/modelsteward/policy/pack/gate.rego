# Release gate of the steward-default pack: the decision for one promotion request.
#
# Steward evaluates data.steward.gate.decision with the gate input (schema
# steward.gate-input/v1, docs/policies.md). The facts come from Python; every judgement is
# here. Requirement checks live in requirements.rego and sign-off counting in signoffs.rego
# (same package); the tier x stage matrix, roles and thresholds are in data.json.
#
# rego-cpp notes: never write `some k, v in x` inside a comprehension (use `some k; v := x[k]`),
# and query the composite `decision`, not a defaulted boolean rule directly.
package steward.gate

import rego.v1

import data.steward.lib.join
import data.steward.lib.joined
import data.steward.lib.say

cfg := data.gates

tier := input.evidence.model.tier

to := input.request.to

from := input.request.from

retiring if to == "retired"

# The decision ------------------------------------------------------------------------------

decision := {
	"allow": allow,
	"unmet": unmet,
	"required": sort([id | some id in required_ids]),
	"rubric": rubric,
	"signoffs": {"counted": counted_list, "void": void_list},
}

default allow := false

allow if {
	count(required_ids) > 0
	count(unmet_ids) == 0
}

# The transition itself is always checked; the rest comes from the tier x stage matrix.
required_ids := {"stage"} | {id | some id in stage_requirements}

stage_requirements := cfg.retirement.requirements if retiring

stage_requirements := object.get(cfg.matrix, [tier, to], []) if not retiring

failing := {p.id | some p in problem}

unmet_ids := required_ids & failing

unmet := [unmet_item(id) | some id in sort([i | some i in unmet_ids])]

unmet_item(id) := {
	"id": id,
	"category": object.get(cfg.requirements, [id, "category"], null),
	"title": object.get(cfg.requirements, [id, "title"], id),
	"message": join("; ", sort({p.message | some p in problem; p.id == id})),
	"command": join("; ", sort({c | some p in problem; p.id == id; some c in p.commands; c != ""})),
}

# Every checklist item the tier meets at any stage, per category, met or not at this one.
checklist_ids := {id |
	stages := object.get(cfg.matrix, tier, {})
	some stage
	some id in stages[stage]
}

rubric[category] := {"met": count(items - failing), "total": count(items)} if {
	some category in cfg.categories
	items := {id | some id in checklist_ids; object.get(cfg.requirements, [id, "category"], null) == category}
}

# Problems: {id, message, commands}; a requirement is unmet when it has at least one -------

issue(id, key, message) := {"id": id, "message": message, "commands": [command(id, key)]}

command(id, key) := fill(object.get(cfg.requirements, [id, "commands", key], ""))

# Placeholders the policy fills; {ref} is left for Steward to substitute.
fill(text) := strings.replace_n(
	{
		"{to}": to,
		"{from}": from,
		"{next}": next_text,
		"{deployment}": deployment_text,
		"{use}": say("%v", [input.evidence.licence.use]),
		"{distribution}": say("%v", [input.evidence.licence.distribution]),
		"{role}": "ROLE",
	},
	text,
)

next_stage := cfg.ladder[i + 1] if {
	some i
	cfg.ladder[i] == from
}

next_text := next_stage

next_text := "STAGE" if not next_stage

deployment_text := input.request.deployment if input.request.deployment != null

deployment_text := "DEPLOYMENT" if input.request.deployment == null


# The transition -------------------------------------------------------------------------

stage_issue(message) := issue("stage", "promote", message)

problem contains stage_issue(msg) if {
	input.schema != cfg.schema
	msg := say("the gate input is %v; this policy reads %s", [input.schema, cfg.schema])
}

problem contains stage_issue(msg) if {
	not tier in cfg.tiers
	msg := say("unknown risk tier %v (one of: %s)", [tier, joined(cfg.tiers)])
}

problem contains stage_issue(msg) if {
	from != input.evidence.model.stage
	msg := say("the request starts from %v but the model is at %v", [from, input.evidence.model.stage])
}

problem contains stage_issue(msg) if {
	from in cfg.final
	msg := say("the release is %s; it cannot move again", [from])
}

problem contains stage_issue(msg) if {
	to == "rolled-back"
	msg := "a release reaches rolled-back only through `steward rollback DEPLOYMENT`"
}

problem contains stage_issue(msg) if {
	not to in cfg.ladder
	not to in cfg.final
	msg := say("unknown stage %v (one of: %s)", [to, joined(array.concat(cfg.ladder, cfg.final))])
}

problem contains stage_issue(msg) if {
	to in cfg.ladder
	not to == next_stage
	msg := say("cannot go from %v to %s: stages cannot be skipped (%s)", [from, to, next_hint])
}

next_hint := say("the next stage is %s", [next_stage])

next_hint := "nothing follows production" if from == "production"

next_hint := say("%v is not a stage on the ladder", [from]) if {
	not from in cfg.ladder
}

problem contains stage_issue(msg) if {
	not retiring
	input.evidence.model.status == "blocked"
	msg := "the model is blocked (its scan found unsafe files): a blocked model can never be promoted"
}
