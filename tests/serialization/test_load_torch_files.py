"""torch.save of real torch 2.13 -> deeprnn.load: values, dtypes, views, sharing, Parameters, legacy format."""

from __future__ import annotations

import io
import sys
import warnings
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from _files import as_numpy, deeprnn_loads, saved_by_deeprnn, saved_by_torch

import deeprnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared oracle
from oracle import assert_close  # noqa: E402

TORCH_DTYPES = [
    torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8,
    torch.uint8, torch.bool, torch.complex64, torch.complex128, torch.uint16, torch.uint32, torch.uint64,
]  # fmt: skip
FORMATS = [{}, {"_use_new_zipfile_serialization": False}]
FORMAT_IDS = ["zip", "legacy"]


def _torch_values(dtype, shape=(3, 4)):
    g = torch.Generator().manual_seed(0)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    if dtype.is_complex or dtype.is_floating_point:
        return torch.randn(shape, generator=g, dtype=dtype)
    return torch.randint(0, 100, shape, generator=g).to(dtype)


# torch's legacy format has no storage class for the newer unsigned dtypes
DTYPE_CASES = [
    (d, f) for d in TORCH_DTYPES for f in FORMATS if not (f and d in (torch.uint16, torch.uint32, torch.uint64))
]


@pytest.mark.parametrize("dtype,fmt", DTYPE_CASES, ids=[f"{d}-{'legacy' if f else 'zip'}" for d, f in DTYPE_CASES])
def test_every_dtype_loads_bit_exact(dtype, fmt):
    t = _torch_values(dtype)
    out = deeprnn_loads(saved_by_torch(t, **fmt))
    assert isinstance(out, deeprnn.Tensor)
    np.testing.assert_array_equal(out.numpy(), t.numpy())
    assert out.dtype == t.numpy().dtype


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_views_and_shared_storages(fmt):
    base = torch.arange(24.0).reshape(2, 3, 4)
    obj = {"base": base, "col": base[:, :, 1], "t": base.transpose(0, 2), "elem": base[1, 2, 3], "same": base}
    out = deeprnn_loads(saved_by_torch(obj, **fmt))
    for k, v in obj.items():
        np.testing.assert_array_equal(out[k].numpy(), v.numpy(), err_msg=k)
        assert out[k].numpy().strides == tuple(s * 4 for s in v.stride()), k
    assert out["same"] is out["base"]
    out["base"].numpy()[1, 2, 1] = -5.0  # one storage: the views see the write
    assert out["col"].numpy()[1, 2] == -5.0 and out["t"].numpy()[1, 2, 1] == -5.0


def test_zero_d_empty_and_expanded_tensors():
    obj = [torch.tensor(2.5), torch.zeros(0, 5), torch.ones(3).expand(2, 3), torch.tensor([], dtype=torch.int64)]
    out = deeprnn_loads(saved_by_torch(obj))
    assert out[0].shape == () and out[0].item() == 2.5
    assert out[1].shape == (0, 5) and out[2].numpy().strides == (0, 4) and out[3].dtype == np.int64


def test_parameters_requires_grad_and_plain_data():
    obj = {
        "p": torch.nn.Parameter(torch.ones(2)),
        "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
        "leaf": torch.ones(2, requires_grad=True),
        "od": OrderedDict(z=1, a=2),
        "counter": Counter("abca"),
        "nested": [(1, 2.5), {"s": "text", "b": b"\x01", "none": None, "set": {3}, "c": 2j, "big": -(2**80)}],
        "size": torch.Size([4, 5]),
        "dtype": torch.float64,
        "device": torch.device("cpu"),
        "gpu": torch.device("cuda", 1),
    }
    out = deeprnn_loads(saved_by_torch(obj))
    assert isinstance(out["p"], deeprnn.nn.Parameter) and out["p"].requires_grad
    assert isinstance(out["frozen"], deeprnn.nn.Parameter) and not out["frozen"].requires_grad
    assert type(out["leaf"]) is deeprnn.Tensor and out["leaf"].requires_grad and out["leaf"].is_leaf
    assert type(out["od"]) is OrderedDict and list(out["od"]) == ["z", "a"] and out["counter"] == Counter("abca")
    assert out["nested"] == [(1, 2.5), {"s": "text", "b": b"\x01", "none": None, "set": {3}, "c": 2j, "big": -(2**80)}]
    assert out["size"] == (4, 5) and type(out["size"]) is deeprnn.Size
    assert out["dtype"] == deeprnn.float64 and out["device"] == deeprnn.device("cpu")
    assert out["gpu"] == deeprnn.device("cuda:1")  # a device object is data; only storages need the CPU


def test_a_state_dict_trained_in_torch_loads_into_deeprnn(tmp_path):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 3)).double()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    x = torch.randn(16, 4, dtype=torch.float64)
    for _ in range(3):
        opt.zero_grad()
        ref(x).pow(2).mean().backward()
        opt.step()
    path = tmp_path / "torch_saved.pt"
    torch.save(ref.state_dict(), path)
    ours = deeprnn.nn.Sequential(deeprnn.nn.Linear(4, 8), deeprnn.nn.Linear(8, 3)).double()
    result = ours.load_state_dict(deeprnn.load(path))  # no conversion step
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, value in ref.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name].numpy(), value.numpy(), err_msg=name)
    assert_close(ours(deeprnn.tensor(x.numpy())), ref(x), np.float64, "forward")


def test_legacy_format_parameters_and_views():
    base = torch.arange(6.0)
    obj = {"p": torch.nn.Parameter(torch.ones(2)), "v": base[2:5], "base": base, "i": torch.tensor([7, 8])}
    out = deeprnn_loads(saved_by_torch(obj, _use_new_zipfile_serialization=False))
    assert isinstance(out["p"], deeprnn.nn.Parameter) and out["p"].requires_grad
    assert out["v"].tolist() == [2.0, 3.0, 4.0] and out["i"].tolist() == [7, 8]
    assert np.shares_memory(out["v"].numpy(), out["base"].numpy())


def test_bfloat16_loads_widened_to_float32_exactly():
    t = torch.tensor([1.5, -2.25, 3.0e38, 1e-30], dtype=torch.bfloat16)
    for fmt in FORMATS:
        with pytest.warns(UserWarning, match="NumPy has no bfloat16"):
            out = deeprnn_loads(saved_by_torch({"t": t, "dtype": torch.bfloat16}, **fmt))
        assert out["t"].dtype == np.float32
        np.testing.assert_array_equal(out["t"].numpy(), t.float().numpy())


def test_unrepresentable_dtypes_are_refused_clearly():
    data = saved_by_torch(torch.zeros(2, dtype=torch.float8_e4m3fn))
    with pytest.raises(RuntimeError, match="torch.float8_e4m3fn has no NumPy counterpart"):
        deeprnn_loads(data)


@pytest.mark.parametrize(
    "map_location",
    [
        "cpu",
        torch.device("cpu"),
        deeprnn.device("cpu"),
        {"cuda:0": "cpu"},
        lambda storage, loc: storage,
        lambda s, loc: None,
        b"cpu",
    ],
    ids=["str", "torch-device", "device", "dict", "callable", "callable-none", "bytes"],
)
def test_map_location_forms(map_location):
    out = deeprnn_loads(saved_by_torch({"w": torch.ones(2)}), map_location=map_location)
    assert out["w"].tolist() == [1.0, 1.0]


def _cuda_tagged(data: bytes) -> bytes:
    """The same file as if saved on a GPU: its storages tagged 'cuda:0' (same length as 'cpu'+2)."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith("data.pkl"):
                body = body.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            dst.writestr(info.filename, body)
    return buf.getvalue()


def test_gpu_storages_need_map_location_as_on_a_cpu_only_torch():
    data = _cuda_tagged(saved_by_torch({"w": torch.ones(2)}))
    msg = (
        "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you are "
        "running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to map your "
        "storages to the CPU."
    )
    with pytest.raises(RuntimeError) as err:
        deeprnn_loads(data)
    assert str(err.value) == msg
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError) as ref:
            torch.load(io.BytesIO(data), weights_only=True)
        assert str(ref.value) == msg
    assert deeprnn_loads(data, map_location="cpu")["w"].tolist() == [1.0, 1.0]
    assert deeprnn_loads(data, map_location={"cuda:0": "cpu"})["w"].tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="on a CUDA device"):
        deeprnn_loads(saved_by_torch(torch.ones(1)), map_location="cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        deeprnn_loads(saved_by_torch(torch.ones(1)), map_location=lambda s, loc: s.cuda())
    with pytest.raises(TypeError, match="map_location must be a str, a device, a dict or a callable, got int"):
        deeprnn_loads(saved_by_torch(torch.ones(1)), map_location=3)


def test_paths_file_objects_and_round_trip_of_our_own_files(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"a": torch.arange(3)}, str(path))
    assert deeprnn.load(str(path))["a"].tolist() == [0, 1, 2]
    with open(path, "rb") as fh:
        assert deeprnn.load(fh)["a"].tolist() == [0, 1, 2]
    ours = {"x": deeprnn.tensor(np.arange(4.0)).reshape(2, 2).T, "p": deeprnn.nn.Parameter(np.ones(1))}
    back = deeprnn_loads(saved_by_deeprnn(ours))
    assert back["x"].numpy().strides == ours["x"].numpy().strides and isinstance(back["p"], deeprnn.nn.Parameter)
    assert as_numpy(back["x"]).tolist() == as_numpy(ours["x"]).tolist()


def test_load_argument_errors_and_warnings():
    data = saved_by_torch(torch.ones(1))
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
        deeprnn.load(io.BytesIO(data), pickle_module=__import__("pickle"), weights_only=True)
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        deeprnn.load(io.BytesIO(data), mmap=True)
    with pytest.warns(UserWarning, match="pickle_load_args only works if `weights_only=False`."):
        deeprnn.load(io.BytesIO(data), encoding="latin1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert deeprnn.load(io.BytesIO(data), weights_only=False, encoding="latin1").tolist() == [1.0]

    class NoSeek(io.RawIOBase):
        def readable(self):
            return True

        def seekable(self):
            return False

        def tell(self):
            raise io.UnsupportedOperation("tell")

    with pytest.raises(io.UnsupportedOperation, match="You can only torch.load from a file that is seekable"):
        deeprnn.load(NoSeek())
