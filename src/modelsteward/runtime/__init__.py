"""Runtime safety gate: the model proposes, the gate disposes.

An embeddable library — it imports only the standard library, numpy and ``cryptography`` — that
sits between a model and the actuators. Load a signed envelope bound to the model's digest
(:meth:`SafetyGate.load` attests the model files on disk and fails closed), then call
:meth:`SafetyGate.decide` every cycle with the perceived world and the model's proposal. The
gate runs nine rules (input integrity, plausibility, confidence, ODD, speed cap, kinematics,
RSS, time to collision, watchdog), falls back down a ladder when one vetoes, moves between
bounded-autonomy modes, honours a kill switch, and queues a record of every decision without
ever blocking the loop.

    >>> from modelsteward.runtime import Envelope, Proposal, SafetyGate, WorldState
    >>> from modelsteward.runtime.envelope import example_envelope
    >>> from modelsteward.runtime.world import example_proposal, example_world
    >>> gate = SafetyGate.unsafe_unattested(Envelope.from_dict(example_envelope()))
    >>> decision = gate.decide(WorldState.from_dict(example_world()),
    ...                        Proposal.from_dict(example_proposal()), now=10.0)
    >>> decision.verdict, decision.mode.name
    ('accept', 'NORMAL')
"""

from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.gate import Decision, SafetyGate
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.records import DecisionRecorder, DecisionSink, MemorySink
from modelsteward.runtime.rss import RssParameters
from modelsteward.runtime.rules import RuleResult
from modelsteward.runtime.world import Context, Ego, Objects, Proposal, Trajectory, WorldState

__all__ = [
    "Context",
    "Decision",
    "DecisionRecorder",
    "DecisionSink",
    "Ego",
    "Envelope",
    "KillSwitch",
    "MemorySink",
    "Mode",
    "Objects",
    "Proposal",
    "RssParameters",
    "RuleResult",
    "SafetyGate",
    "Trajectory",
    "WorldState",
]
