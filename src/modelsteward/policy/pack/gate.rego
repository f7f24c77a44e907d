# Release gate of the steward-default pack: the decision for one promotion request.
#
# Steward evaluates data.steward.gate.decision with the gate input (schema
# steward.gate-input/v1, docs/policies.md). Python reports facts; every judgement is here.
# The tier x stage matrix, roles, thresholds and command texts are in data.json.
#
# The gate is written as functions of the input document, decide(doc), so tests call it with
# their own documents: rego-cpp expands `with input... as` rule by rule, at a cost that grows
# exponentially with the policy. Requirement checks are in requirements.rego, sign-off
# counting in gate_signoffs.rego; lib.rego lists the rego-cpp rules this code follows.
package steward.gate

import rego.v1

import data.steward.lib.join
import data.steward.lib.joined
import data.steward.lib.say

cfg := data.gates

decision := decide(input)

# The decision for the gate input `doc`.
decide(doc) := result if {
	ctx := context(doc)
	facts := signoff_facts(ctx)
	problems := all_problems(ctx, facts)
	failing := {id | some p in problems; id := p.id}
	required := required_ids(ctx)
	unmet_ids := required & failing
	unmet := [item | some id in sort(unmet_ids); item := unmet_item(id, problems)]
	result := {
		"allow": allowed(required, unmet_ids),
		"unmet": unmet,
		"required": sort(required),
		"rubric": rubric(ctx.tier, failing),
		"signoffs": {"counted": facts.counted_list, "void": facts.void_list},
	}
}

# What every check reads: the document and the request's key facts.
context(doc) := {
	"doc": doc,
	"ev": doc.evidence,
	"tier": doc.evidence.model.tier,
	"to": doc.request.to,
	"from": doc.request.from,
	"retiring": doc.request.to == "retired",
	"next": next_stage(doc.request.from),
	"deployment": doc.request.deployment,
}

next_stage(stage) := cfg.ladder[i + 1] if {
	some i
	cfg.ladder[i] == stage
} else := null

all_problems(ctx, facts) := problems if {
	groups := [
		stage_problems(ctx),
		provenance_problems(ctx, facts),
		scan_problems(ctx),
		licence_problems(ctx),
		dataset_problems(ctx),
		reproduction_problems(ctx),
		evaluation_problems(ctx),
		odd_problems(ctx, facts),
		envelope_problems(ctx),
		deployment_problems(ctx),
		observation_problems(ctx),
		signoff_problems(ctx, facts),
	]
	problems := {p | some group in groups; some p in group}
}

# Fail closed: an empty requirement list never allows.
allowed(required, unmet_ids) := true if {
	count(required) > 0
	count(unmet_ids) == 0
} else := false

# The transition is always checked; the rest comes from the tier x stage matrix.
required_ids(ctx) := ids if {
	listed := stage_requirements(ctx)
	ids := {"stage"} | {id | some id in listed}
}

stage_requirements(ctx) := cfg.retirement.requirements if ctx.retiring
else := object.get(cfg.matrix, [ctx.tier, ctx.to], [])

unmet_item(id, problems) := item if {
	wanted := id
	pool := problems
	mine := [p | some p in pool; p.id == wanted]
	messages := {m | some p in mine; m := p.message}
	commands := {c | some p in mine; some c in p.commands; c != ""}
	item := {
		"id": wanted,
		"category": object.get(cfg.requirements, [wanted, "category"], null),
		"title": object.get(cfg.requirements, [wanted, "title"], wanted),
		"message": join("; ", sort(messages)),
		"command": join("; ", sort(commands)),
	}
}

# Per category: the tier's checklist items (every stage) that are met now, of how many.
rubric(tier, failing) := scores if {
	items := checklist(tier)
	unmet := failing
	scores := {category: score |
		some category in cfg.categories
		mine := {id | some id in items; object.get(cfg.requirements, [id, "category"], null) == category}
		score := {"met": count(mine - unmet), "total": count(mine)}
	}
}

checklist(tier) := ids if {
	stages := object.get(cfg.matrix, tier, {})
	ids := {id | some stage; some id in stages[stage]}
}

# A problem: {id, message, commands}. A requirement is unmet when it has at least one.
issue(id, keys, message, ctx) := problem if {
	name := id
	wanted := keys
	c := ctx
	commands := [text | some k in wanted; text := command(name, k, c)]
	problem := {"id": name, "message": message, "commands": commands}
}

command(id, key, ctx) := fill(object.get(cfg.requirements, [id, "commands", key], ""), ctx)

# Placeholders the policy fills; {ref} is left for Steward to substitute.
fill(text, ctx) := strings.replace_n(
	{
		"{to}": text_or(ctx.to, "STAGE"),
		"{from}": text_or(ctx.from, "STAGE"),
		"{next}": text_or(ctx.next, "STAGE"),
		"{deployment}": text_or(ctx.deployment, "DEPLOYMENT"),
		"{use}": text_or(ctx.ev.licence.use, "USE"),
		"{distribution}": text_or(ctx.ev.licence.distribution, "DISTRIBUTION"),
		"{role}": "ROLE",
		"{deployment_option}": deployment_option(ctx),
	},
	text,
)

# " --deployment NAME" where the stage runs somewhere (sign-offs for it must name it).
deployment_option(ctx) := say(" --deployment %s", [text_or(ctx.deployment, "DEPLOYMENT")]) if {
	ctx.to in cfg.deployable
} else := ""

text_or(value, fallback) := fallback if value == null
else := say("%v", [value])

# The transition --------------------------------------------------------------------------

stage_problems(ctx) := problems if {
	c := ctx
	groups := [input_messages(c), ladder_messages(c), final_messages(c), blocked_messages(c)]
	problems := {p | some group in groups; some m in group; p := issue("stage", ["promote"], m, c)}
}

input_messages(ctx) := messages if {
	c := ctx
	doc := c.doc
	messages := {m |
		some path in cfg.input_fields
		object.get(doc, path, "<missing>") == "<missing>"
		m := say("the gate input has no %s: it is not a complete %s document", [join(".", path), cfg.schema])
	} | {m |
		some d in c.ev.datasets
		some field in cfg.dataset_fields
		object.get(d, field, "<missing>") == "<missing>"
		m := say("the gate input's dataset %v has no %v field", [object.get(d, "name", "?"), field])
	} | {m |
		doc.schema != cfg.schema
		m := say("the gate input is %v; this policy reads %s", [doc.schema, cfg.schema])
	} | {m |
		tier := c.tier
		not tier in cfg.tiers
		m := say("unknown risk tier %v (one of: %s)", [tier, joined(cfg.tiers)])
	} | {m |
		stage := c.ev.model.stage
		c.from != stage
		m := say("the request starts from %v but the model is at %v", [c.from, stage])
	}
}

ladder_messages(ctx) := messages if {
	c := ctx
	to := c.to
	messages := {m |
		not to in cfg.ladder
		not to in cfg.final
		m := say("unknown stage %v (one of: %s, %s)", [to, joined(cfg.ladder), joined(cfg.final)])
	} | {m |
		to in cfg.ladder
		to != c.next
		m := say("cannot go from %v to %v: stages cannot be skipped (%s)", [c.from, to, next_hint(c)])
	}
}

next_hint(ctx) := "nothing follows production" if ctx.from == "production"
else := say("%v is not a stage on the ladder", [ctx.from]) if ctx.next == null
else := say("the next stage is %v", [ctx.next])

final_messages(ctx) := messages if {
	c := ctx
	messages := {m |
		c.from in cfg.final
		m := say("the release is %v; it cannot move again", [c.from])
	} | {m |
		c.to == "rolled-back"
		m := "a release reaches rolled-back only through `steward rollback DEPLOYMENT`"
	}
}

blocked_messages(ctx) := messages if {
	c := ctx
	messages := {m |
		not c.retiring
		c.ev.model.status == "blocked"
		m := "the model is blocked (its scan found unsafe files): a blocked model can never be promoted"
	}
}
