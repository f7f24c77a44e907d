"""The globals a pickle may import and still be called safe: Steward's explicit allow-list.

A pickle runs code only through the callables it imports (``GLOBAL``, ``STACK_GLOBAL``, ``INST``,
``EXT*``), so a pickle whose every import is listed here cannot execute anything but these
constructors. Everything else, including whole modules that are usually harmless, is unsafe: the
list is exact ``(module, qualified name)`` pairs, never prefixes or wildcards.

Every entry builds data from data and calls nothing it is handed, except callables that must
themselves have come from this list. The list guards against code execution, not against memory
exhaustion (``bytearray(10**12)`` is allowed and fails with MemoryError at load time).

    >>> from modelsteward.artifacts.scanning import is_allowed_global
    >>> is_allowed_global("torch._utils", "_rebuild_tensor_v2")
    True
    >>> is_allowed_global("posix", "system")
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["PICKLE_ALLOW_LIST", "is_allowed_global"]

# Plain value constructors. Python 3 pickles name them ``builtins``; protocols 0-2 write the
# Python 2 name ``__builtin__`` (``pickle.dumps({1}, 2)`` imports ``__builtin__.set``). They build
# containers and numbers from the values they are given and only call dunder methods of those
# values, which were themselves built from this list. ``getattr``, ``eval``, ``exec``, ``open``,
# ``__import__``, ``type`` and ``object`` are deliberately absent: each reaches arbitrary code.
_BUILTINS = frozenset(
    {
        "bool", "bytearray", "bytes", "complex", "dict", "float", "frozenset", "int", "list",
        "set", "slice", "str", "tuple",
    }
)  # fmt: skip

# ``torch.dtype`` objects are pickled by name (``torch.float32``); they are plain constants and
# calling one raises TypeError.
_TORCH_DTYPES = frozenset(
    {
        "bfloat16", "bool", "cdouble", "cfloat", "chalf", "complex128", "complex32", "complex64",
        "double", "float", "float16", "float32", "float64", "float8_e4m3fn", "float8_e4m3fnuz",
        "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "half", "int", "int16", "int32",
        "int64", "int8", "long", "qint32", "qint8", "quint2x4", "quint4x2", "quint8", "short",
        "uint16", "uint32", "uint64", "uint8",
    }
)  # fmt: skip

# Storage classes appear inside the persistent ids of ``torch.save`` archives as type tags for
# ``torch.load``'s own ``persistent_load``; constructing one allocates an empty buffer.
_TORCH_STORAGES = frozenset(
    {
        "BFloat16Storage", "BoolStorage", "ByteStorage", "CharStorage", "ComplexDoubleStorage",
        "ComplexFloatStorage", "DoubleStorage", "FloatStorage", "HalfStorage", "IntStorage",
        "LongStorage", "QInt32Storage", "QInt8Storage", "QUInt2x4Storage", "QUInt4x2Storage",
        "QUInt8Storage", "ShortStorage", "UntypedStorage",
    }
)  # fmt: skip

# Tensor layouts and quantisation schemes: constants passed to the rebuild functions below.
_TORCH_CONSTANTS = frozenset(
    {
        "_mkldnn", "sparse_bsc", "sparse_bsr", "sparse_coo", "sparse_csc", "sparse_csr",
        "strided", "per_channel_affine", "per_channel_affine_float_qparams",
        "per_channel_symmetric", "per_tensor_affine", "per_tensor_symmetric",
    }
)  # fmt: skip

_ALLOWED: dict[str, frozenset[str]] = {
    "builtins": _BUILTINS,
    "__builtin__": _BUILTINS,
    # OrderedDict(items) stores the items; state dicts are OrderedDicts.
    "collections": frozenset({"OrderedDict"}),
    # Protocol-2 pickles (torch.save's default) encode bytes as _codecs.encode(text, "latin1"):
    # a pure text-to-bytes transform from the standard codec registry.
    "_codecs": frozenset({"encode"}),
    # torch.Size is a tuple; torch.device parses a device string; torch.Tensor builds a tensor
    # from data. None of them calls anything it is given.
    "torch": frozenset({"Size", "Tensor", "device"})
    | _TORCH_DTYPES
    | _TORCH_STORAGES
    | _TORCH_CONSTANTS,
    # The rebuild functions torch.save emits for tensors and parameters. They wrap a storage
    # (resolved by torch.load's persistent_load, never by the pickle) in a tensor, or build
    # sparse, quantised, meta or numpy-backed tensors from plain values. Backward hooks and
    # states they accept are values from this same list. These mirror the entries of PyTorch's
    # own ``weights_only`` unpickler.
    "torch._utils": frozenset(
        {
            "_rebuild_device_tensor_from_numpy",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
            "_rebuild_qtensor",
            "_rebuild_sparse_tensor",
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
            "_rebuild_tensor_v3",
        }
    ),
    # _rebuild_from_type_v2(func, new_type, args, state) calls ``func`` and casts to
    # ``new_type``; both are imports of the pickle, so both must be on this list too.
    "torch._tensor": frozenset({"_rebuild_from_type_v2"}),
    # Parameter(data, requires_grad) wraps a tensor.
    "torch.nn.parameter": frozenset({"Parameter"}),
    # Looks a layout up by name in a fixed table.
    "torch.serialization": frozenset({"_get_layout"}),
    # numpy arrays and scalars: ndarray.__new__ with a shape and dtype, then __setstate__ with
    # raw bytes (or, for object arrays, values the pickle itself built). ``numpy._core`` is the
    # numpy 2 spelling of ``numpy.core``.
    "numpy": frozenset({"dtype", "ndarray"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.multiarray": frozenset({"_reconstruct", "scalar"}),
}

PICKLE_ALLOW_LIST: Mapping[str, frozenset[str]] = MappingProxyType(_ALLOWED)
"""Module → names a pickle may import; anything else makes the pickle unsafe."""


def is_allowed_global(module: str, name: str) -> bool:
    """True when a pickle may import ``name`` from ``module`` (exact match, no prefixes)."""
    return name in PICKLE_ALLOW_LIST.get(module, frozenset())
