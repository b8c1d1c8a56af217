"""deeprnn.save -> torch.load(weights_only=True) of real torch 2.13: values, dtypes, strides, sharing, layout."""

from __future__ import annotations

import io
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from _files import as_numpy, records, saved_by_deeprnn, saved_by_torch, torch_loads

import deeprnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared oracle
from oracle import assert_close  # noqa: E402

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_,
          np.complex64, np.complex128, np.uint16, np.uint32, np.uint64]  # fmt: skip


def _values(dtype, shape=(2, 3)):
    rng = np.random.default_rng(0)
    if np.dtype(dtype) == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(0, 100, shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_dtype_loads_in_torch_bit_exact(dtype):
    arr = _values(dtype)
    out = torch_loads(saved_by_deeprnn(deeprnn.tensor(arr)))
    assert isinstance(out, torch.Tensor) and out.dtype == getattr(torch, np.dtype(dtype).name)
    np.testing.assert_array_equal(out.numpy(), arr)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t[:, 1],
        lambda t: t.T,
        lambda t: t[1:, ::2],
        lambda t: t.permute(2, 0, 1),
        lambda t: t[0, 0, 0],
        lambda t: t[:, :0],
        lambda t: t.expand(2, 2, 3, 4),
    ],
    ids=["column", "transpose", "step-slice", "permute", "0-d-element", "empty", "broadcast-stride-0"],
)
def test_views_keep_shape_strides_and_values(make):
    base = deeprnn.tensor(np.arange(24.0).reshape(2, 3, 4))
    view = make(base)
    out = torch_loads(saved_by_deeprnn(view))
    np.testing.assert_array_equal(out.numpy(), view.detach().numpy())
    assert tuple(out.shape) == tuple(view.shape)
    if view.numel() > 1:
        expect = tuple(
            s // 8 if n > 1 else out.stride()[i] for i, (n, s) in enumerate(zip(view.shape, view.numpy().strides))
        )
        assert out.stride() == expect


def test_two_views_of_one_array_share_one_storage_in_torch():
    base = deeprnn.tensor(np.arange(12.0).reshape(3, 4))
    out = torch_loads(saved_by_deeprnn({"base": base, "row": base[1], "col": base[:, 2], "again": base}))
    assert out["base"] is out["again"]
    assert out["row"].untyped_storage().data_ptr() == out["base"].untyped_storage().data_ptr()
    out["base"][1, 2] = -1.0  # writes through the shared storage, as in torch
    assert out["row"][2].item() == -1.0 and out["col"][1].item() == -1.0


def test_only_the_saved_span_of_a_large_array_is_written():
    big = deeprnn.tensor(np.arange(100_000.0))
    data = saved_by_deeprnn(big[10:20])
    assert len(records(data)["data/0"]) == 10 * 8
    np.testing.assert_array_equal(torch_loads(data).numpy(), np.arange(10.0, 20.0))


def test_negative_strides_are_saved_as_a_copy():
    arr = np.arange(6.0)[::-1]
    out = torch_loads(saved_by_deeprnn(deeprnn.from_numpy(arr)))
    np.testing.assert_array_equal(out.numpy(), arr)


def test_non_native_byte_order_is_converted():
    arr = np.arange(4.0).astype(">f8")
    out = torch_loads(saved_by_deeprnn(deeprnn.from_numpy(arr)))
    assert out.dtype == torch.float64 and out.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_views_of_one_array_as_different_dtypes_are_refused_as_torch():
    base = np.zeros(4, dtype=np.float32)
    with pytest.raises(
        RuntimeError, match="Cannot save multiple tensors or storages that view the same data as different types"
    ):
        saved_by_deeprnn([deeprnn.from_numpy(base), deeprnn.from_numpy(base.view(np.int32))])
    t = torch.zeros(4)
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        saved_by_torch([t, t.view(torch.int32)])


def test_parameters_requires_grad_and_containers():
    p = deeprnn.nn.Parameter(np.ones((2, 2)))
    frozen = deeprnn.nn.Parameter(np.zeros(2), requires_grad=False)
    leaf = deeprnn.ones(3, requires_grad=True)
    obj = {
        "p": p,
        "frozen": frozen,
        "leaf": leaf,
        "od": OrderedDict(b=1, a=[2.5, "s", None, True]),
        "tuple": (1, (2, 3)),
        "bytes": b"\x00\xff",
        "set": {1, 2},
        "complex": 1 + 2j,
        "big": 2**70,
        "size": deeprnn.Size([2, 3]),
        "dtype": deeprnn.float64,
        "np_scalar": np.float32(1.5),
        "np_array": np.arange(3, dtype=np.int32),
        "device": deeprnn.device("cpu"),
        "gpu": deeprnn.device("cuda", 0),
    }
    out = torch_loads(saved_by_deeprnn(obj))
    assert isinstance(out["p"], torch.nn.Parameter) and out["p"].requires_grad
    assert isinstance(out["frozen"], torch.nn.Parameter) and not out["frozen"].requires_grad
    assert type(out["leaf"]) is torch.Tensor and out["leaf"].requires_grad
    assert type(out["od"]) is OrderedDict and list(out["od"].items()) == [("b", 1), ("a", [2.5, "s", None, True])]
    assert out["tuple"] == (1, (2, 3)) and out["bytes"] == b"\x00\xff" and out["set"] == {1, 2}
    assert out["complex"] == 1 + 2j and out["big"] == 2**70
    assert out["size"] == torch.Size([2, 3]) and type(out["size"]) is torch.Size
    assert out["dtype"] is torch.float64 and out["np_scalar"] == 1.5 and type(out["np_scalar"]) is float
    assert out["np_array"].dtype == torch.int32 and out["np_array"].tolist() == [0, 1, 2]
    assert out["device"] == torch.device("cpu") and out["gpu"] == torch.device("cuda", 0)


def test_zero_d_and_empty_tensors():
    out = torch_loads(saved_by_deeprnn([deeprnn.tensor(3.5), deeprnn.zeros(0, 3), deeprnn.tensor(np.int64(7))]))
    assert out[0].shape == () and out[0].item() == 3.5
    assert out[1].shape == (0, 3) and out[1].dtype == torch.float32
    assert out[2].item() == 7 and out[2].dtype == torch.int64


def test_module_state_dict_loads_into_torch_module():
    ours = deeprnn.nn.Sequential(deeprnn.nn.Linear(3, 4), deeprnn.nn.Identity(), deeprnn.nn.Linear(4, 2))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Identity(), torch.nn.Linear(4, 2))
    ref.load_state_dict(torch_loads(saved_by_deeprnn(ours.state_dict())))
    for name, value in ref.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ours.state_dict()[name].numpy(), err_msg=name)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_close(ours(deeprnn.tensor(x)), ref(torch.tensor(x)), np.float32, "forward")


def test_layout_matches_torchs_writer():
    ours, theirs = saved_by_deeprnn({"a": deeprnn.ones(3)}), saved_by_torch({"a": torch.ones(3)})
    assert list(records(ours)) == list(records(theirs))
    for name in (".format_version", ".storage_alignment", "byteorder", "version", "data/0"):
        assert records(ours)[name] == records(theirs)[name], name
    assert len(records(ours)[".data/serialization_id"]) == 40
    for data in (ours, theirs):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                n, e = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
                assert (info.header_offset + 30 + n + e) % 64 == 0, info.filename  # 64-byte aligned data
                assert info.compress_type == zipfile.ZIP_STORED and info.flag_bits & 0x08  # data descriptors


def test_torch_mmap_and_computed_offsets_read_our_files(tmp_path, monkeypatch):
    from torch.utils.serialization import config

    path = tmp_path / "weights.pt"
    deeprnn.save({"w": deeprnn.tensor(np.arange(7.0)), "b": deeprnn.ones(2, dtype=deeprnn.float64)}, path)
    monkeypatch.setenv("TORCH_SERIALIZATION_DEBUG", "1")  # torch asserts its computed offsets are ours
    with config.patch({"load.calculate_storage_offsets": True}):
        out = torch.load(path, mmap=True, weights_only=True)
    assert out["w"].tolist() == list(np.arange(7.0)) and out["b"].tolist() == [1.0, 1.0]
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == "weights/data.pkl"  # torch names the folder after the file


def test_saving_to_a_path_is_atomic_and_needs_the_parent(tmp_path):
    path = tmp_path / "m.pt"
    deeprnn.save(deeprnn.ones(2), path)
    before = path.read_bytes()
    with pytest.raises(pickle.PicklingError, match="Can't pickle <function .*<lambda>"):
        deeprnn.save({"w": deeprnn.ones(2), "fn": lambda: 0}, path)  # a lambda cannot be pickled, as in torch
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist."):
        deeprnn.save(deeprnn.ones(2), tmp_path / "missing" / "m.pt")


def test_save_argument_errors():
    with pytest.raises(AttributeError, match="expected 'f' to be string, path, or a file-like object with a 'write'"):
        deeprnn.save(deeprnn.ones(1), 3)
    with pytest.raises(NotImplementedError, match="legacy format can be read, not written"):
        deeprnn.save(deeprnn.ones(1), io.BytesIO(), _use_new_zipfile_serialization=False)
    with pytest.raises(TypeError, match="cannot store an array of dtype <U1"):
        deeprnn.save(np.array(["a"]), io.BytesIO())


def test_file_objects_are_written_and_read_at_their_position():
    buf = io.BytesIO(b"header")
    buf.seek(6)
    deeprnn.save(deeprnn.ones(2), buf)
    assert torch.load(io.BytesIO(buf.getvalue()[6:]), weights_only=True).tolist() == [1.0, 1.0]
    buf.seek(6)
    assert as_numpy(deeprnn.load(buf)).tolist() == [1.0, 1.0]
