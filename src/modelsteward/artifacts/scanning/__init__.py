"""Unsafe-serialization scanning: a fail-closed verdict on every file of a model.

Each file is identified by its magic bytes (then its name) and read by a scanner that never runs
it: pickles (raw, inside PyTorch zips, joblib) are analysed statically with fickling against an
explicit allow-list of importable globals; safetensors headers, ONNX graphs and GGUF metadata are
parsed strictly; JSON and text must be what they claim. A file is *safe* only when a scanner
understood all of it. *Unsafe* always blocks; *unscanned* (Python source, custom ONNX operators,
formats without a scanner) blocks until a person accepts that path.

    >>> import pickle, tempfile
    >>> from pathlib import Path
    >>> from modelsteward.artifacts.scanning import Verdict, scan_model
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "weights.pkl").write_bytes(pickle.dumps({"w": [0.1, 0.2]}))
    >>> _ = (folder / "modeling.py").write_text("print('hi')\\n")
    >>> report = scan_model(folder)
    >>> [(f.path, f.verdict.value) for f in report.files]
    [('modeling.py', 'unscanned'), ('weights.pkl', 'safe')]
    >>> report.blocking(accepted={"modeling.py"})
    ()
"""

from modelsteward.artifacts.scanning._allowlist import PICKLE_ALLOW_LIST, is_allowed_global
from modelsteward.artifacts.scanning._scan import scan_file, scan_model
from modelsteward.artifacts.scanning._verdict import FileVerdict, ScanReport, Verdict

__all__ = [
    "PICKLE_ALLOW_LIST",
    "FileVerdict",
    "ScanReport",
    "Verdict",
    "is_allowed_global",
    "scan_file",
    "scan_model",
]
