"""Release workflow domain: stages, people and roles, digest-bound sign-offs, deployments.

Pure rules and records; the services layer stores them and writes the ledger.

>>> from modelsteward.release import Stage
>>> [s.value for s in LADDER]
['registered', 'offline-validated', 'shadow', 'canary', 'production']
"""

from modelsteward.release.deployment import DeploymentSpec, check_deployment_name
from modelsteward.release.people import (
    PERMISSIONS,
    Person,
    Role,
    check_person_name,
    may,
    parse_roles,
    require,
)
from modelsteward.release.signoff import SignedSignOff, SignOffStatement, Verdict
from modelsteward.release.stages import (
    DEPLOYABLE,
    LADDER,
    Stage,
    check_transition,
    parse_stage,
)

__all__ = [
    "DEPLOYABLE",
    "LADDER",
    "PERMISSIONS",
    "DeploymentSpec",
    "Person",
    "Role",
    "SignOffStatement",
    "SignedSignOff",
    "Stage",
    "Verdict",
    "check_deployment_name",
    "check_person_name",
    "check_transition",
    "may",
    "parse_roles",
    "parse_stage",
    "require",
]
