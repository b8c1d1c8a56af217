"""torch's storage and dtype names, and the NumPy dtype each stands for.

A tensor in a torch file names its element type twice over: by a legacy storage class
(``torch FloatStorage``) or, for the newer dtypes, by ``torch UntypedStorage`` plus a dtype
global (``torch uint16``). NumPy has no bfloat16: such tensors load widened to float32,
which is exact. torch dtypes NumPy cannot hold at all (float8, complex32, quantised) are
refused with a clear error.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BFLOAT16",
    "STORAGE_DTYPES",
    "TORCH_DTYPES",
    "UNSUPPORTED_DTYPES",
    "storage_name",
    "torch_dtype_name",
]

BFLOAT16 = "bfloat16"  # a marker: no NumPy dtype, widened to float32 when loaded

# legacy storage class -> element type, as torch.save writes them
STORAGE_DTYPES: dict[str, np.dtype | str] = {
    "FloatStorage": np.dtype(np.float32),
    "DoubleStorage": np.dtype(np.float64),
    "HalfStorage": np.dtype(np.float16),
    "BFloat16Storage": BFLOAT16,
    "LongStorage": np.dtype(np.int64),
    "IntStorage": np.dtype(np.int32),
    "ShortStorage": np.dtype(np.int16),
    "CharStorage": np.dtype(np.int8),
    "ByteStorage": np.dtype(np.uint8),
    "BoolStorage": np.dtype(np.bool_),
    "ComplexFloatStorage": np.dtype(np.complex64),
    "ComplexDoubleStorage": np.dtype(np.complex128),
}

# torch dtype name (the global ``torch <name>``) -> element type
TORCH_DTYPES: dict[str, np.dtype | str] = {
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    "float16": np.dtype(np.float16),
    "bfloat16": BFLOAT16,
    "int64": np.dtype(np.int64),
    "int32": np.dtype(np.int32),
    "int16": np.dtype(np.int16),
    "int8": np.dtype(np.int8),
    "uint8": np.dtype(np.uint8),
    "uint16": np.dtype(np.uint16),
    "uint32": np.dtype(np.uint32),
    "uint64": np.dtype(np.uint64),
    "bool": np.dtype(np.bool_),
    "complex64": np.dtype(np.complex64),
    "complex128": np.dtype(np.complex128),
}

# torch dtypes and storages that torch's weights-only loader accepts but NumPy cannot represent
UNSUPPORTED_DTYPES = {
    "complex32",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "float4_e2m1fn_x2",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "bits1x8",
    "bits2x4",
    "bits4x2",
    "bits8",
    "bits16",
    *(f"int{n}" for n in range(1, 8)),
    *(f"uint{n}" for n in range(1, 8)),
    "ComplexHalfStorage",
    "QInt8Storage",
    "QUInt8Storage",
    "QInt32Storage",
    "QUInt4x2Storage",
    "QUInt2x4Storage",
}

_STORAGE_OF = {v: k for k, v in STORAGE_DTYPES.items() if isinstance(v, np.dtype)}
_NAME_OF = {v: k for k, v in TORCH_DTYPES.items() if isinstance(v, np.dtype)}


def storage_name(dtype: np.dtype) -> str | None:
    """The legacy storage class torch uses for ``dtype`` ('FloatStorage'), or None for the newer dtypes."""
    return _STORAGE_OF.get(np.dtype(dtype))


def torch_dtype_name(dtype: np.dtype) -> str | None:
    """torch's name of ``dtype`` ('float32'), or None if torch has no such dtype."""
    return _NAME_OF.get(np.dtype(dtype))
