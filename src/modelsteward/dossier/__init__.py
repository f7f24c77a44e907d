"""The approval dossier: EU AI Act Annex IV technical documentation for one model version.

Pure domain code: the application layer collects :class:`DossierFacts` (registry records, ledger
entries with their inclusion proofs, the licence review…), :func:`build_document` turns them into
a JSON document whose every claim cites the digest or ledger entry it rests on (missing evidence
is listed, never dropped), :func:`dossier_digest` names it, and :func:`render_html` prints it.

    >>> from modelsteward.dossier import SECTION_IDS
    >>> SECTION_IDS[:3]
    ('general', 'development', 'validation')
"""

from modelsteward.dossier._evidence import names_digest
from modelsteward.dossier.document import (
    SCHEMA,
    SECTION_IDS,
    build_document,
    canonical_bytes,
    deployments_running,
    dossier_digest,
)
from modelsteward.dossier.facts import (
    BlobSource,
    CheckpointFacts,
    DatasetFacts,
    DossierFacts,
    EnvelopeFacts,
    MemoryBlobs,
)
from modelsteward.dossier.html import render_html
from modelsteward.dossier.signoffs import (
    SignoffCheck,
    check_signoff,
)

__all__ = [
    "SCHEMA",
    "SECTION_IDS",
    "BlobSource",
    "CheckpointFacts",
    "DatasetFacts",
    "DossierFacts",
    "EnvelopeFacts",
    "MemoryBlobs",
    "SignoffCheck",
    "build_document",
    "canonical_bytes",
    "check_signoff",
    "deployments_running",
    "dossier_digest",
    "names_digest",
    "render_html",
]
