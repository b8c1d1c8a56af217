"""Sequential, ModuleList and ModuleDict against torch: every method, the renumbering, repr and errors."""

from __future__ import annotations

import re
from collections import OrderedDict

import pytest
import torch
from _layers_parity import same_error

import deeprnn


def _names(m):
    return [n for n, _ in m.named_parameters()], [n for n, _ in m.named_modules()]


def _same(build):
    """``build(lib)`` returns a container; names, keys and repr must equal torch's."""
    ours, ref = build(deeprnn), build(torch)
    assert _names(ours) == _names(ref)
    assert repr(ours) == repr(ref)
    return ours, ref


def _lins(lib, n, k=3):
    return [lib.nn.Linear(k, k + i) for i in range(n)]


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.nn.Sequential(*_lins(lib, 3)),
        lambda lib: lib.nn.Sequential(OrderedDict([("a", lib.nn.ReLU()), ("b", lib.nn.Tanh())])),
        lambda lib: lib.nn.Sequential(*_lins(lib, 4))[1:3],
        lambda lib: lib.nn.Sequential(*_lins(lib, 2)) + lib.nn.Sequential(lib.nn.ReLU()),
        lambda lib: lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh()) * 2,
        lambda lib: 2 * lib.nn.Sequential(lib.nn.ReLU()),
        lambda lib: lib.nn.Sequential(*_lins(lib, 2)).append(lib.nn.ReLU()).insert(1, lib.nn.Tanh()),
        lambda lib: lib.nn.Sequential(*_lins(lib, 2)).insert(-1, lib.nn.Sigmoid()),
        lambda lib: lib.nn.Sequential(lib.nn.ReLU()).extend([lib.nn.Tanh(), lib.nn.Sigmoid()]),
    ],
)
def test_sequential_building_matches_torch(build):
    _same(build)


def test_sequential_mutation_matches_torch():
    def run(lib):
        s = lib.nn.Sequential(*_lins(lib, 5))
        del s[1]
        del s[::2]
        s[0] = lib.nn.ReLU()
        popped = s.pop(-1)
        s += lib.nn.Sequential(lib.nn.Tanh())
        s *= 2
        return s, popped

    (ours, p1), (ref, p2) = run(deeprnn), run(torch)
    assert repr(ours) == repr(ref) and repr(p1) == repr(p2) and len(ours) == len(ref)


def test_module_list_methods_match_torch():
    def run(lib):
        ml = lib.nn.ModuleList(_lins(lib, 2))
        ml.append(lib.nn.ReLU())
        ml.extend([lib.nn.Tanh()])
        ml.insert(1, lib.nn.Sigmoid())
        ml += [lib.nn.ReLU()]
        popped = ml.pop(0)
        del ml[-1]
        ml[0] = lib.nn.Tanh()
        both = ml + lib.nn.ModuleList([lib.nn.ReLU()])
        return ml, popped, both, ml[1:3], ml[-1]

    for a, b in zip(run(deeprnn), run(torch)):
        assert repr(a) == repr(b)
        if hasattr(b, "named_parameters"):
            assert _names(a) == _names(b)


def test_module_list_repr_groups_repeats_as_torch():
    _same(lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)] + [lib.nn.ReLU(), lib.nn.ReLU()]))
    _same(lambda lib: lib.nn.ModuleList())


def test_module_dict_methods_match_torch():
    def run(lib):
        md = lib.nn.ModuleDict({"b": lib.nn.Linear(2, 3), "a": lib.nn.ReLU()})
        md.update([("c", lib.nn.Tanh())])
        md.update(OrderedDict(d=lib.nn.Sigmoid()))
        md["e"] = lib.nn.Linear(3, 1)
        popped = md.pop("a")
        del md["c"]
        return md, popped, list(md.keys()), [repr(v) for v in md.values()], ["b" in md, "a" in md, len(md)]

    for a, b in zip(run(deeprnn), run(torch)):
        assert repr(a) == repr(b)
    md = deeprnn.nn.ModuleDict({"x": deeprnn.nn.ReLU()})
    md.clear()
    assert len(md) == 0 and list(md) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.Sequential(lib.nn.ReLU())[2],
        lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(5, lib.nn.ReLU()),
        lambda lib: lib.nn.Sequential(3),
        lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[-2],
        lambda lib: lib.nn.ModuleList(5),
        lambda lib: lib.nn.ModuleDict(5),
        lambda lib: lib.nn.ModuleDict([("a", lib.nn.ReLU(), 1)]),
        lambda lib: lib.nn.ModuleDict([3]),
        lambda lib: lib.nn.ModuleDict({"a.b": lib.nn.ReLU()}),
        lambda lib: lib.nn.ModuleDict({"a": 3}),
    ],
)
def test_container_errors_match_torch(call):
    same_error(call)


def _class_names_only(message):
    """ "<class 'torch.nn.modules.container.ModuleList'>" -> "<class 'ModuleList'>": the packages differ."""
    return re.sub(r"<class '(?:[\w]+\.)*(\w+)'>", r"<class '\1'>", message)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.Sequential(lib.nn.ReLU()) + lib.nn.ModuleList(),
        lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 0,
        lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 1.5,
        lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(0, 3),
    ],
)
def test_container_errors_naming_classes_match_torch(call):
    caught = {}
    for lib in (torch, deeprnn):
        with pytest.raises(Exception) as err:  # noqa: PT011 - compared below
            call(lib)
        caught[lib] = err.value
    assert type(caught[deeprnn]) is type(caught[torch])
    assert _class_names_only(str(caught[deeprnn])) == _class_names_only(str(caught[torch]))


def test_sequential_forward_runs_in_order():
    s = deeprnn.nn.Sequential(deeprnn.nn.Linear(2, 3), deeprnn.nn.ReLU(), deeprnn.nn.Linear(3, 1))
    x = deeprnn.ones(4, 2)
    assert s(x).shape == (4, 1)
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear"]
