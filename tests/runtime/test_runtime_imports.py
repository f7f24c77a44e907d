"""The runtime gate embeds in a vehicle process: it loads the standard library, numpy and
cryptography, and nothing else (import-linter checks our own imports; this checks the truth)."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
before = set(sys.modules)
import modelsteward.runtime, modelsteward.runtime.signed, modelsteward.runtime.replay
import modelsteward.runtime.rss, modelsteward.runtime.killswitch
loaded = {name.split(".")[0] for name in set(sys.modules) - before}
third_party = sorted(n for n in loaded if n not in sys.stdlib_module_names and n[0] != "_")
print(json.dumps(third_party))
"""


def test_runtime_loads_only_numpy_and_cryptography() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True
    ).stdout
    assert set(json.loads(out)) <= {"modelsteward", "numpy", "cryptography"}
