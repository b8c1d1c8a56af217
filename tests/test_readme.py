"""The README tells the truth: its API example runs, and CI runs its test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import torch

import deeprnn
from oracle import assert_close

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    test_command = blocks[1].strip()
    assert "pytest" in test_command and "torch==2.13.0" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_api_example_runs_and_matches_torch() -> None:
    """The ten-line example, with `import deeprnn as torch` and with real torch, from the same weights."""
    code = README.split("## The API in ten lines\n\n```python\n")[1].split("```")[0]
    ours: dict = {}
    exec(compile(code, "README", "exec"), ours)  # noqa: S102
    assert tuple(ours["output"].shape) == (8, 10, 10) and tuple(ours["h_n"].shape) == (4, 8, 5)
    ref_code = code.replace("import deeprnn as torch", "import torch").replace(
        "import deeprnn.nn as nn", "import torch.nn as nn"
    )
    # Run torch's version on deeprnn's initial weights and inputs.
    deeprnn.manual_seed(0)
    ours = {}
    exec(compile(code.split("opt.zero_grad()")[0], "README", "exec"), ours)  # noqa: S102
    theirs: dict = {}
    exec(compile(ref_code.split("output, h_n =")[0], "README", "exec"), theirs)  # noqa: S102
    for name in ("rnn", "head"):
        theirs[name].load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours[name].state_dict().items()})
    theirs["x"], theirs["y"] = torch.tensor(ours["x"].detach().numpy()), torch.tensor(ours["y"].detach().numpy())
    exec(compile("output, h_n = rnn(x)\n" + ref_code.split("output, h_n = rnn(x)")[1], "README", "exec"), theirs)  # noqa: S102
    assert_close(ours["loss"], theirs["loss"], what="loss")
    assert_close(ours["output"], theirs["output"], what="output")
