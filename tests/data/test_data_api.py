"""Public API surface: exports, docstrings, and no heavy imports."""

import inspect
import json
import subprocess
import sys

import deeprnn.data as data


def test_all_exports_exist_and_are_documented():
    assert sorted(data.__all__) == sorted(set(data.__all__))
    for name in data.__all__:
        obj = getattr(data, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name


def test_import_needs_only_numpy():
    code = (
        "import sys, json; import deeprnn.data as d; "
        "d.Vocab.from_text('abc'); d.tokenize('hello there', 'word'); "
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ":".join(p for p in sys.path if p)},
    ).stdout
    mods = set(json.loads(out))
    for banned in ("torch", "jieba", "deeprnn.nn", "deeprnn.autograd", "deeprnn.kernels"):
        assert banned not in mods, banned
