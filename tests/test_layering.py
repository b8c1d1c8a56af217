"""The house rule: imports run one way only, downwards.

memory, fileio < kernels < autograd < nn < optim < utils (utils.data), data < serialization < distributed < models <
explain < cli. A kernel knows nothing of modules; a module knows nothing of the CLI. Checked statically from each
file's imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "deeprnn"
ORDER = [
    "memory",
    "fileio",
    "kernels",
    "autograd",
    "nn",
    "optim",
    "utils",
    "data",
    "serialization",
    "distributed",
    "models",
    "explain",
    "cli",
]
# What each layer may import from inside deeprnn (besides itself).
_BELOW_MODELS = {
    "memory",
    "fileio",
    "kernels",
    "autograd",
    "nn",
    "optim",
    "utils",
    "data",
    "serialization",
    "distributed",
}
ALLOWED = {
    "memory": set(),
    "fileio": set(),
    "kernels": set(),
    "autograd": set(),
    "nn": {"autograd", "kernels"},
    "optim": {"autograd", "nn"},
    "utils": {"kernels", "autograd", "nn", "optim"},
    "data": {"memory", "fileio"},
    "serialization": {"fileio", "kernels", "autograd", "nn", "optim"},
    "distributed": {"memory", "fileio", "kernels", "autograd", "data"},
    "models": _BELOW_MODELS,
    "explain": {"memory", "fileio", "kernels", "autograd", "nn"},
    "cli": _BELOW_MODELS | {"models", "explain"},
}


def layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def deeprnn_imports(path: Path) -> set[str]:
    """The top-level deeprnn subpackages a file imports (relative or absolute)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(SRC)
    pkg_depth = len(rel.parts) - 1
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                up = node.level - 1
                if up < pkg_depth:
                    continue  # inside its own package
                target = (node.module or "").split(".")[0]
                names = [a.name for a in node.names] if not target else [target]
                found.update(names)
            elif node.module and node.module.startswith("deeprnn."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("deeprnn."):
                    found.add(a.name.split(".")[1])
    return found


FILES = [p for p in SRC.rglob("*.py") if layer_of(p) in ALLOWED]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SRC)) for p in FILES])
def test_imports_run_downwards(path: Path) -> None:
    layer = layer_of(path)
    bad = {m for m in deeprnn_imports(path) if m in ALLOWED and m != layer and m not in ALLOWED[layer]}
    assert not bad, f"{path.relative_to(SRC)} ({layer}) imports {sorted(bad)}, which sit above it"


def test_no_torch_at_runtime() -> None:
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            assert "torch" not in roots, f"{path} imports torch: torch is the test oracle, never the runtime"
