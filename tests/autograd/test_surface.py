"""The torch surface that programs touch besides the maths: devices, CUDA on a CPU-only build,
legacy constructors, ``Variable``, ``type()``, ``to()``, printing, grad modes, RNG helpers.

Each test runs the same code with deeprnn and torch and compares what they give.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close

LIBS = pytest.mark.parametrize("lib", [deeprnn, torch], ids=["deeprnn", "torch"])


def _dtype_name(t) -> str:
    return str(t.dtype).removeprefix("torch.")


@LIBS
def test_device_is_a_value_with_torchs_repr(lib) -> None:
    cpu = lib.device("cpu")
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu" and cpu.type == "cpu" and cpu.index is None
    assert cpu == lib.device("cpu") and hash(cpu) == hash(lib.device("cpu")) and cpu != "cpu"
    assert repr(lib.device("cuda:1")) == "device(type='cuda', index=1)" and str(lib.device("cuda", 0)) == "cuda:0"
    assert lib.device(cpu) == cpu and lib.ones(2).device == cpu
    with pytest.raises(
        RuntimeError, match="^Expected one of cpu, cuda, .* device type at start of device string: gpu$"
    ):
        lib.device("gpu")


@LIBS
def test_to_accepts_devices_dtypes_and_tensors(lib) -> None:
    x = lib.ones(2)
    assert x.to("cpu") is x and x.to(lib.device("cpu")) is x and x.cpu() is x
    assert _dtype_name(x.to("cpu", lib.float64)) == "float64"
    assert _dtype_name(x.to(lib.ones(1, dtype=lib.float64))) == "float64"
    assert _dtype_name(x.to(dtype=lib.long, device="cpu")) == "int64"
    y = x.to(lib.float32, copy=True)
    assert y is not x and y.tolist() == x.tolist()


@LIBS
def test_cuda_is_absent_as_on_a_cpu_only_build(lib) -> None:
    assert lib.cuda.is_available() is False and lib.cuda.device_count() == 0
    lib.cuda.manual_seed(1)
    lib.cuda.manual_seed_all(1)
    for fn in (
        lambda: lib.ones(2).cuda(),
        lambda: lib.ones(2).to("cuda"),
        lambda: lib.ones(2).to(lib.device("cuda:0")),
        lambda: lib.zeros(2, device="cuda"),
        lambda: lib.cuda.current_device(),
    ):
        with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
            fn()
    with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none is available.$"):
        lib.ones(2).to(0)
    assert lib.ones(2).is_cuda is False and lib.ones(2).get_device() == -1


@LIBS
def test_backends_switches_can_be_set(lib) -> None:
    import importlib

    cudnn = importlib.import_module(f"{lib.__name__}.backends.cudnn")
    assert cudnn.enabled is True and cudnn.benchmark is False and cudnn.deterministic is False
    lib.backends.cudnn.benchmark = True
    assert lib.backends.cudnn.benchmark is True
    lib.backends.cudnn.benchmark = False
    assert lib.backends.mps.is_available() is False


LEGACY = [
    ("Tensor([1, 2])", "float32", [1.0, 2.0]),
    ("Tensor((2, 3))", "float32", [2.0, 3.0]),
    ("Tensor(np.array([1, 2]))", "float32", [1.0, 2.0]),
    ("Tensor([[1, 2], [3, 4]])", "float32", [[1.0, 2.0], [3.0, 4.0]]),
    ("Tensor()", "float32", []),
    ("FloatTensor([1, 2])", "float32", [1.0, 2.0]),
    ("LongTensor([1.7, 2])", "int64", [1, 2]),
    ("LongTensor(np.array([1, 2], dtype=np.int32))", "int64", [1, 2]),
    ("DoubleTensor([1])", "float64", [1.0]),
    ("IntTensor([1])", "int32", [1]),
    ("BoolTensor([1, 0])", "bool", [True, False]),
    ("ByteTensor([1, 44])", "uint8", [1, 44]),
    ("LongTensor()", "int64", []),
]


@pytest.mark.parametrize("expr, dtype, values", LEGACY)
@LIBS
def test_legacy_constructors_convert_data(lib, expr: str, dtype: str, values: list) -> None:
    t = eval(f"lib.{expr}", {"lib": lib, "np": np})
    assert _dtype_name(t) == dtype and t.tolist() == values


@LIBS
def test_legacy_constructors_take_sizes_and_types(lib) -> None:
    assert tuple(lib.Tensor(2, 3).shape) == (2, 3) and tuple(lib.LongTensor(2, 3).shape) == (2, 3)
    assert tuple(lib.Tensor(lib.Size([2, 3])).shape) == (2, 3)
    assert isinstance(lib.ones(2), lib.FloatTensor) and not isinstance(lib.ones(2, dtype=lib.long), lib.FloatTensor)
    assert isinstance(lib.ones(2, dtype=lib.long), lib.LongTensor) and isinstance(lib.ones(2), lib.Tensor)
    with pytest.raises(TypeError, match=r"^new\(\): data must be a sequence \(got float\)$"):
        lib.Tensor(3.5)
    with pytest.raises(RuntimeError, match=r"^Trying to create tensor with negative dimension -1: \[-1\]$"):
        lib.Tensor(-1)


@LIBS
def test_type_names_and_casts(lib) -> None:
    x = lib.ones(2)
    assert x.type() == "torch.FloatTensor" and lib.ones(2, dtype=lib.long).type() == "torch.LongTensor"
    assert x.half().type() == "torch.HalfTensor" and x.bool().type() == "torch.BoolTensor"
    assert _dtype_name(x.type(lib.LongTensor)) == "int64" and _dtype_name(x.type("torch.DoubleTensor")) == "float64"
    assert _dtype_name(x.type(lib.float64)) == "float64" and _dtype_name(x.type(lib.Tensor)) == "float32"


@LIBS
def test_variable_is_a_leaf_on_the_same_memory(lib) -> None:
    t = lib.ones(2)
    v = lib.autograd.Variable(t, requires_grad=True)
    assert v.requires_grad and v.is_leaf and not t.requires_grad
    with lib.no_grad():
        v.add_(1)
    assert t.tolist() == [2.0, 2.0] and type(v) is lib.Tensor


@LIBS
def test_sizes_dtypes_and_grad_fns_print_as_torch(lib) -> None:
    x = lib.ones(2, 3, requires_grad=True)
    assert repr(x.shape) == "torch.Size([2, 3])" and str(x.size()) == "torch.Size([2, 3])"
    assert repr(lib.ones(2, dtype=lib.float64)) == "tensor([1., 1.], dtype=torch.float64)"
    assert repr(lib.ones(2, dtype=lib.int32)) == "tensor([1, 1], dtype=torch.int32)"
    y = x * 2
    names = [
        y[0], y[:, 1], y[0:1], y[[0, 1]], y[y > 0], y[None], y[...], y[0, 1], y.reshape(6), y.t().reshape(6),
        y.squeeze(), y.unsqueeze(0), y.transpose(0, 1), y.permute(1, 0), y.t(), y.T, y.expand(2, 2, 3),
        y.unbind(0)[0], y.select(0, 1), y.narrow(0, 0, 1), y.split(1)[0], y.chunk(2)[1], y.sum(), y.sum(0),
        y.mean(), y.max(), y.max(0)[0], y.norm(), y.double(), y @ lib.ones(3), lib.cat([y, y]), lib.stack([y, y]),
        y.repeat(2, 1), y.flip(0), y.cumsum(0), y.prod(), y.std(), y.var(0), y.logsumexp(0), y.softmax(0),
        y.log_softmax(1), y.clamp(-1, 1), y.sign(), y ** 2, 2 ** y, y ** y, 1 - y, 2 / y, -y, lib.minimum(y, y),
        y.masked_fill(y > 0, 0), y.gather(1, lib.zeros(2, 1, dtype=lib.long)), y.topk(2)[0], y.sort(0)[0],
        lib.dot(y[0], y[1]), y.fmod(2), y.remainder(2), y.round(), y.amax(), y.split([1, 2], 1)[1], y.abs(),
    ]  # fmt: skip
    assert [t.grad_fn.name() for t in names] == [t.grad_fn.name() for t in _same_names_in_torch(lib, names)]


def _same_names_in_torch(lib, names):  # noqa: ANN202
    if lib is torch:
        return names
    x = torch.ones(2, 3, requires_grad=True)
    y = x * 2
    return [
        y[0], y[:, 1], y[0:1], y[[0, 1]], y[y > 0], y[None], y[...], y[0, 1], y.reshape(6), y.t().reshape(6),
        y.squeeze(), y.unsqueeze(0), y.transpose(0, 1), y.permute(1, 0), y.t(), y.T, y.expand(2, 2, 3),
        y.unbind(0)[0], y.select(0, 1), y.narrow(0, 0, 1), y.split(1)[0], y.chunk(2)[1], y.sum(), y.sum(0),
        y.mean(), y.max(), y.max(0)[0], y.norm(), y.double(), y @ torch.ones(3), torch.cat([y, y]), torch.stack([y, y]),
        y.repeat(2, 1), y.flip(0), y.cumsum(0), y.prod(), y.std(), y.var(0), y.logsumexp(0), y.softmax(0),
        y.log_softmax(1), y.clamp(-1, 1), y.sign(), y ** 2, 2 ** y, y ** y, 1 - y, 2 / y, -y, torch.minimum(y, y),
        y.masked_fill(y > 0, 0), y.gather(1, torch.zeros(2, 1, dtype=torch.long)), y.topk(2)[0], y.sort(0)[0],
        torch.dot(y[0], y[1]), y.fmod(2), y.remainder(2), y.round(), y.amax(), y.split([1, 2], 1)[1], y.abs(),
    ]  # fmt: skip


@LIBS
def test_return_types_print_as_torch(lib) -> None:
    x = lib.tensor([[1.0, 3.0], [2.0, 2.0]])
    r = x.max(1)
    values, indices = r
    assert repr(r) == "torch.return_types.max(\nvalues=tensor([3., 2.]),\nindices=tensor([1, 0]))"
    assert r.values is values and r.indices is indices and len(r) == 2
    assert repr(x.sort(0)).startswith("torch.return_types.sort(\nvalues=tensor([[1., 2.],")


@LIBS
def test_grad_modes_as_decorators_and_inference_mode(lib) -> None:
    w = lib.ones(1, requires_grad=True)

    @lib.no_grad
    def bare(t):  # noqa: ANN001, ANN202
        return t * 2

    @lib.inference_mode()
    def infer(t):  # noqa: ANN001, ANN202
        return t * 2

    assert not bare(w).requires_grad and not infer(w).requires_grad
    with lib.inference_mode():
        assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
    assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()


@LIBS
def test_small_helpers(lib) -> None:
    x = lib.ones(2, 3)
    assert lib.is_tensor(x) and not lib.is_tensor([1]) and lib.numel(x) == 6 and lib.is_floating_point(x)
    assert x.element_size() == 4 and x.stride() == (3, 1) and x.t().stride() == (1, 3) and not x.t().is_contiguous()
    assert x.is_contiguous() and x.t().contiguous().is_contiguous() and x.nelement() == 6 and x.ndimension() == 2
    assert f"{lib.tensor(0.123456):.3f}" == "0.123" and f"{lib.tensor(2)}" == "2"
    with pytest.raises(TypeError):
        f"{lib.ones(2):.3f}"  # noqa: B018
    assert lib.where(lib.tensor([1, 0, 2]) > 0)[0].tolist() == [0, 2]
    assert isinstance(lib.get_num_threads(), int)


@LIBS
def test_new_tensor_family_takes_this_dtype(lib) -> None:
    d = lib.ones(2, dtype=lib.float64, requires_grad=True)
    assert _dtype_name(d.new_zeros(3)) == "float64" and tuple(d.new_ones((2, 2)).shape) == (2, 2)
    assert d.new_full((2,), 3).tolist() == [3.0, 3.0] and not d.new_zeros(2).requires_grad
    assert _dtype_name(d.new_tensor([1, 2])) == "float64" and tuple(d.new_empty(4).shape) == (4,)
    assert _dtype_name(d.new_zeros(2, 3, dtype=lib.long)) == "int64" and tuple(d.new(2, 3).shape) == (2, 3)


@LIBS
def test_sizes_may_hold_zero_dim_integer_tensors_and_sizes(lib) -> None:
    n = lib.tensor(3)
    assert tuple(lib.zeros(2, n).shape) == (2, 3) and tuple(lib.ones((n, 2)).shape) == (3, 2)
    assert tuple(lib.zeros(lib.Size([2, 3])).shape) == (2, 3) and tuple(lib.randn(n).shape) == (3,)
    assert lib.arange(lib.tensor(3)).tolist() == [0, 1, 2]
    with pytest.raises(
        TypeError, match=r"^zeros\(\): argument 'size' \(position 1\) must be tuple of ints, not float$"
    ):
        lib.zeros(2.5)


ARANGE = [(5,), (1, 4), (0, 1, 0.3), (1, 2.5), (5, 0, -2), (0.0, 1.0, 0.25)]


@pytest.mark.parametrize("args", ARANGE)
def test_arange_variants_match_torch(args: tuple) -> None:
    ours, ref = deeprnn.arange(*args), torch.arange(*args)
    assert _dtype_name(ours) == _dtype_name(ref)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_set_printoptions_changes_the_digits_as_torch() -> None:
    try:
        for lib in (deeprnn, torch):
            lib.set_printoptions(precision=2)
        assert repr(deeprnn.tensor([1.23456, 2.0])) == repr(torch.tensor([1.23456, 2.0])) == "tensor([1.23, 2.00])"
    finally:
        for lib in (deeprnn, torch):
            lib.set_printoptions(profile="default")
    assert repr(deeprnn.tensor([1.23456])) == "tensor([1.2346])"


def test_rng_state_round_trips() -> None:
    deeprnn.manual_seed(5)
    state = deeprnn.get_rng_state()
    a = deeprnn.rand(3)
    deeprnn.set_rng_state(state)
    np.testing.assert_array_equal(a.numpy(), deeprnn.rand(3).numpy())
    assert deeprnn.initial_seed() == 5
    with pytest.raises(RuntimeError, match="^set_rng_state: not a state returned by deeprnn.get_rng_state"):
        deeprnn.set_rng_state(deeprnn.zeros(3, dtype=deeprnn.uint8))


@LIBS
def test_multinomial_and_randperm_shapes_and_errors(lib) -> None:
    lib.manual_seed(0)
    s = lib.multinomial(lib.tensor([[0.0, 1.0], [1.0, 0.0]]), 3, replacement=True)
    assert s.tolist() == [[1, 1, 1], [0, 0, 0]] and _dtype_name(s) == "int64"
    assert sorted(lib.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="^cannot sample n_sample > prob_dist.size"):
        lib.multinomial(lib.tensor([0.5, 0.5]), 3)


@LIBS
def test_modules_move_to_the_cpu_and_refuse_cuda(lib) -> None:
    m = lib.nn.Linear(2, 3)
    dev = lib.device("cpu")
    assert m.to(dev) is m and m.to("cpu") is m and m.cpu() is m
    m.to(dev, lib.float64)
    assert _dtype_name(m.weight) == "float64"
    m.to(lib.ones(1))
    assert _dtype_name(m.weight) == "float32"
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        m.cuda()
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        m.to("cuda")


LOGIC = [
    lambda L, x: x.all(),
    lambda L, x: x.any(1),
    lambda L, x: (x > 0).all(0, keepdim=True),
    lambda L, x: L.any(x < -1),
    lambda L, x: x.isnan() | x.isinf(),
    lambda L, x: L.isfinite(x) & ~L.isnan(x),
    lambda L, x: x.nonzero(),
    lambda L, x: L.nonzero(x > 0, as_tuple=True)[1],
    lambda L, x: x.eq(0) ^ x.ne(1),
    lambda L, x: L.lt(x, 0.5) + L.le(x, 0.5).int() + L.gt(x, x * 2) + x.ge(1).long(),
    lambda L, x: L.logical_and(x > 0, x < 1) | L.logical_not(x > 0) | L.logical_xor(x > 0, x > 1),
    lambda L, x: L.count_nonzero(x > 0),
    lambda L, x: (x == 1.0) | (x != x) | (1 < x) | (x <= 2),
    lambda L, x: L.tensor([L.equal(x, x.clone()), L.allclose(x, x + 1e-9), L.equal(x, x[:1])]),
    lambda L, x: L.isclose(x, x + 1e-6),
    lambda L, x: L.tensor([1, 0, 3], dtype=L.uint8).all(),
]


@pytest.mark.parametrize("k", range(len(LOGIC)))
def test_logic_and_comparisons_match_torch(k: int) -> None:
    x = np.array([[0.0, 1.0, np.inf, -2.0], [np.nan, 0.5, 1.0, -1.5], [3.0, 0.0, -np.inf, 1.0]], dtype=np.float32)
    ours, ref = LOGIC[k](deeprnn, deeprnn.tensor(x)), LOGIC[k](torch, torch.tensor(x))
    assert _dtype_name(ours) == _dtype_name(ref) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")  # torch's, when the mode is on
@LIBS
def test_anomaly_detection_switches_are_accepted(lib) -> None:
    lib.autograd.set_detect_anomaly(True)
    lib.autograd.set_detect_anomaly(False)
    with lib.autograd.detect_anomaly():
        (lib.ones(2, requires_grad=True) * 2).sum().backward()


NUMPY_NAMES = [
    lambda L, x: x.sum(axis=0),
    lambda L, x: x.mean(axis=1, keepdims=True),
    lambda L, x: x.max(axis=1).values,
    lambda L, x: L.cat([x, x], axis=1),
    lambda L, x: x.std(axis=0),
    lambda L, x: x.argmax(axis=1),
    lambda L, x: x.sum(0, keepdims=True),
    lambda L, x: x.cumsum(axis=0),
    lambda L, x: x.softmax(axis=0),
    lambda L, x: L.stack([x, x], axis=0),
    lambda L, x: x.logsumexp(axis=1),
    lambda L, x: x.min(axis=0)[1],
]


@pytest.mark.parametrize("k", range(len(NUMPY_NAMES)))
def test_numpy_argument_names_are_accepted_as_in_torch(k: int) -> None:
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    ours, ref = NUMPY_NAMES[k](deeprnn, deeprnn.tensor(x)), NUMPY_NAMES[k](torch, torch.tensor(x))
    if ref.dtype == torch.float32:
        assert_close(ours, ref, np.float32, "value")
    else:
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@LIBS
def test_unique_logspace_empty_like(lib) -> None:
    vals, inverse, counts = lib.unique(lib.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    assert vals.tolist() == [1, 2, 3] and inverse.tolist() == [2, 0, 2, 1] and counts.tolist() == [1, 1, 2]
    assert lib.tensor([[2, 2], [1, 2]]).unique().tolist() == [1, 2]
    assert lib.logspace(0, 2, 3).tolist() == [1.0, 10.0, 100.0]
    e = lib.empty_like(lib.ones(2, 3, dtype=lib.float64))
    assert tuple(e.shape) == (2, 3) and _dtype_name(e) == "float64"
