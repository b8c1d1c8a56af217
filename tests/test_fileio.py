"""Atomic writes: the old file survives a failed write, and new files get ordinary permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deeprnn.fileio import atomic_write, atomic_write_text


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def broken(fh):  # noqa: ANN001
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "sub" / "g.txt", "hello")
    finally:
        os.umask(old)
    assert path.read_text() == "hello"
    assert (path.stat().st_mode & 0o777) == 0o644
