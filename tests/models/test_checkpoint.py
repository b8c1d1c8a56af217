"""Checkpoints: atomic writes, and clear errors for corrupt, foreign and other-version files."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest

import deeprnn
from deeprnn.models import CheckpointError, load_checkpoint, save_checkpoint
from deeprnn.models import checkpoint as ckpt_mod
from deeprnn.models.checkpoint import flatten_state, unflatten_state


def _write(path, value=1.0, meta=None):
    return save_checkpoint(
        path,
        {"deeprnn_version": "x", "model_config": {}, "vocab": {}, "iteration": 3, **(meta or {})},
        {"model/w": np.full((2, 3), value)},
    )


def test_round_trip_without_pickle(tmp_path):
    p = _write(tmp_path / "latest.npz", 2.5)
    with np.load(p, allow_pickle=False) as z:  # readable with pickle disabled
        assert set(z.files) == {"model/w", "__meta__"}
    c = load_checkpoint(tmp_path)  # a directory means its latest.npz
    assert c.meta["iteration"] == 3 and c.meta["format_version"] == ckpt_mod.FORMAT_VERSION
    np.testing.assert_array_equal(c.model_state()["w"], np.full((2, 3), 2.5))


def test_crash_during_save_leaves_old_checkpoint_intact(tmp_path, monkeypatch):
    p = _write(tmp_path / "latest.npz", 1.0)
    before = p.read_bytes()

    def crash(fh, arrays):
        fh.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(ckpt_mod, "_write_npz", crash)
    with pytest.raises(OSError, match="simulated"):
        _write(p, 7.0)
    assert p.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == ["latest.npz"]  # no temp file left behind
    np.testing.assert_array_equal(load_checkpoint(p).model_state()["w"], np.ones((2, 3)))


def test_keyboard_interrupt_during_save_leaves_old_checkpoint_intact(tmp_path, monkeypatch):
    p = _write(tmp_path / "latest.npz", 1.0)
    before = p.read_bytes()
    real = ckpt_mod._write_npz

    def interrupted(fh, arrays):
        real(fh, arrays)
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt_mod, "_write_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _write(p, 7.0)
    assert p.read_bytes() == before and len(list(tmp_path.iterdir())) == 1


def test_truncated_file_is_reported_with_its_path(tmp_path):
    p = _write(tmp_path / "latest.npz")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"latest\.npz.*(corrupt|truncated)"):
        load_checkpoint(p)


@pytest.mark.parametrize("content", [b"", b"hello, not a checkpoint", bytes(range(256)) * 10])
def test_garbage_files(tmp_path, content):
    p = tmp_path / "x.npz"
    p.write_bytes(content)
    with pytest.raises(CheckpointError, match=str(p.name)):
        load_checkpoint(p)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "not a .npz archive: it is empty"),
        (b"garbage\n", "not a .npz archive: it starts with b'garbag'"),
        (b"\x80\x04K\x01.", "not a .npz archive"),  # a pickle: never loaded, and no hint to allow it
    ],
)
def test_non_zip_files_name_what_they_start_with(tmp_path, content, expected):
    p = tmp_path / "x.npz"
    p.write_bytes(content)
    with pytest.raises(CheckpointError, match=re.escape(expected)) as info:
        load_checkpoint(p)
    assert "pickle" not in str(info.value)


def test_single_npy_array_is_refused(tmp_path):
    p = tmp_path / "x.npz"
    with open(p, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(CheckpointError, match=r"single \.npy array"):
        load_checkpoint(p)


def test_npz_that_is_not_a_checkpoint(tmp_path):
    p = tmp_path / "other.npz"
    np.savez(p, a=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a deeprnn checkpoint"):
        load_checkpoint(p)


def test_other_format_version_is_refused(tmp_path):
    p = _write(tmp_path / "latest.npz")
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["format_version"] = 99
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(p, **arrays)
    with pytest.raises(CheckpointError, match="version 99 is not supported"):
        load_checkpoint(p)


def test_corrupted_member_bytes_fail_the_crc(tmp_path):
    p = _write(tmp_path / "latest.npz", 3.0)
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("model/w.npy")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100  # inside the data
    data[offset] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="latest.npz"):
        load_checkpoint(p)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CheckpointError, match="no latest.npz in directory"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.npz")


def test_nested_state_round_trip():
    state = {
        "state": {0: {"step": 3, "exp_avg": deeprnn.tensor([1.0, 2.0]), "m": np.arange(3)}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0], "flag": None}],
    }
    arrays: dict = {}
    js = json.loads(json.dumps(flatten_state(state, "optim", arrays)))
    back = unflatten_state(js, arrays)
    assert back["param_groups"] == state["param_groups"]
    assert back["state"][0]["step"] == 3 and isinstance(back["state"][0]["exp_avg"], deeprnn.Tensor)
    np.testing.assert_array_equal(back["state"][0]["exp_avg"].detach().numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(back["state"][0]["m"], np.arange(3))
