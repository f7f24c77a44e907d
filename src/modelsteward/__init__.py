"""Steward: governance control plane for open-source AI models in physical systems.

The top-level package stays import-light on purpose: the offline ledger verifier and the
runtime safety gate import it, and they must not pull in the server stack.

    >>> import modelsteward
    >>> modelsteward.__version__
    '0.1.0'
"""

from modelsteward.errors import StewardError

__all__ = ["StewardError", "__version__"]

__version__ = "0.1.0"
