"""Corrupt and hostile files: a clear error, torch's where torch has one, and no code ever runs."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch
from _files import archive, deeprnn_loads, error_of, saved_by_torch, tensor_pkl

TWO_FLOATS = np.ones(2, np.float32).tobytes()


def _marker_command(path):
    return f"touch {path}"


class _System:
    def __init__(self, path, protocol_global=os.system):
        self.path, self.fn = path, protocol_global

    def __reduce__(self):
        return (self.fn, (_marker_command(self.path),))


class _Eval:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (eval, (f"__import__('pathlib').Path({str(self.path)!r}).touch()",))


def _same_as_torch(data, cls):
    """deeprnn and torch raise ``cls`` with the same message for these bytes; return the message."""
    ours = error_of(lambda: deeprnn_loads(data))
    ref = error_of(lambda: torch.load(io.BytesIO(data), weights_only=True))
    assert type(ours) is type(ref) is cls, (ours, ref)
    assert str(ours) == str(ref)
    return str(ours)


@pytest.mark.parametrize("protocol", [0, 2])
def test_reduce_calling_os_system_is_blocked_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    data = archive(pickle.dumps(_System(marker), protocol=protocol))
    msg = _same_as_torch(data, pickle.UnpicklingError)
    assert msg.startswith("Weights only load failed.") and "Trying to load unsupported GLOBAL posix.system whose" in msg
    assert "module posix is blocked." in msg and not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4])
def test_protocol_4_stack_global_and_inst_go_through_the_allow_list(tmp_path, protocol):
    marker = tmp_path / "pwned"
    for data in (
        archive(pickle.dumps(_System(marker), protocol=protocol)),
        archive(f"(S'{_marker_command(marker)}'\nios\nsystem\n.".encode()),  # the INST opcode
    ):
        with pytest.raises(
            pickle.UnpicklingError, match=r"GLOBAL (posix|os)\.system whose module (posix|os) is blocked"
        ):
            deeprnn_loads(data)
    assert not marker.exists()


def test_global_builtins_eval_is_refused_with_torchs_message(tmp_path):
    marker = tmp_path / "pwned"
    msg = _same_as_torch(archive(pickle.dumps(_Eval(marker), protocol=2)), pickle.UnpicklingError)
    assert "Unsupported global: GLOBAL eval was not an allowed global by default." in msg
    assert "`torch.serialization.add_safe_globals([eval])`" in msg and not marker.exists()


def test_refused_globals_are_never_imported(tmp_path):
    import sys

    data = archive(b"\x80\x02cxml.dom.minidom\nparseString\nq\x00.")  # a module nobody imported yet
    sys.modules.pop("xml.dom.minidom", None)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL xml.dom.minidom.parseString was not an allowed global"):
        deeprnn_loads(data)
    assert "xml.dom.minidom" not in sys.modules


def test_allowed_builtins_cannot_be_abused():
    huge = archive(b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x7f\x85R.")  # bytearray(2**31 - ...)
    with pytest.raises(RuntimeError, match="bytearray is allowed only from str or bytes, got int"):
        deeprnn_loads(huge)
    codec = archive(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.")
    with pytest.raises(RuntimeError, match=r"_codecs.encode is allowed only as pickle writes bytes"):
        deeprnn_loads(codec)
    not_storage = archive(b"\x80\x02(X\x06\x00\x00\x00moduleK\x01tQ.")
    msg = str(error_of(lambda: deeprnn_loads(not_storage)))
    assert msg.startswith("Weights only load failed.") and "Only persistent_load of storage is allowed" in msg
    fake_storage = archive(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(X\x01\x00\x00\x00sK\x00)))\x89NtR.")
    with pytest.raises(RuntimeError, match="corrupt tensor record: expected a storage, got str"):
        deeprnn_loads(fake_storage)


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"size": (5,)}, "Trying to resize storage that is not resizable"),
        ({"offset": 3, "size": (1,)}, "Trying to resize storage that is not resizable"),
        ({"size": (2,), "stride": (9,)}, "Trying to resize storage that is not resizable"),
        ({"offset": -1}, "Tensor: invalid storage offset -1"),
        ({"stride": (-1,)}, "Storage size calculation overflowed with sizes=[2] and strides=[-1]"),
        ({"size": (2, 1)}, "unequal size length (2) and stride length (1)"),
        ({"numel": 4, "size": (4,)}, "record size (8 bytes) does not match expected size (16 bytes"),
        ({"numel": 2**31 - 1}, "record size (8 bytes) does not match expected size (8589934588 bytes"),
        ({"key": "7"}, "PytorchStreamReader failed locating file data/7: file not found."),
    ],
)
def test_tensor_records_pointing_outside_their_data(fields, message):
    data = archive(tensor_pkl(**fields), {"0": TWO_FLOATS})
    ours = error_of(lambda: deeprnn_loads(data))
    ref = error_of(lambda: torch.load(io.BytesIO(data), weights_only=True))
    assert type(ours) is type(ref) is RuntimeError
    assert str(ours).startswith(message) and str(ref).startswith(message)
    if not message.startswith("Trying to resize"):  # there deeprnn adds what the record asked for
        assert str(ours) == str(ref)


def test_a_valid_hand_written_record_loads():
    assert deeprnn_loads(archive(tensor_pkl(), {"0": TWO_FLOATS})).tolist() == [1.0, 1.0]


def test_truncated_archives():
    good = saved_by_torch({"a": torch.ones(100)})
    for cut in (len(good) // 2, len(good) - 10, 30):
        with pytest.raises(RuntimeError, match="failed reading zip archive: the file is truncated or corrupt"):
            deeprnn_loads(good[:cut])
    with pytest.raises(pickle.UnpicklingError, match=r"it starts with b'PK\\x03', neither a zip archive"):
        deeprnn_loads(good[:3])


def test_a_storage_record_with_a_bad_crc_is_refused():
    good = bytearray(saved_by_torch({"a": torch.ones(100)}))
    at = bytes(good).index(np.ones(100, np.float32).tobytes())
    good[at + 5] ^= 0xFF  # flip bits inside the storage's data
    with pytest.raises(RuntimeError, match="failed reading file data/0: the file is truncated or corrupt .*Bad CRC-32"):
        deeprnn_loads(bytes(good))


def test_zip_bomb_is_refused_before_inflating():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x00" * (50 << 20))
        zf.writestr("archive/version", b"3\n")
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(RuntimeError, match=r"would inflate \d+ bytes to 52428800 \(more than 200x\): .*zip bomb"):
        deeprnn_loads(buf.getvalue())


def test_a_deflated_archive_within_limits_loads():
    src = zipfile.ZipFile(io.BytesIO(saved_by_torch({"a": torch.arange(5.0)})))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    assert deeprnn_loads(buf.getvalue())["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    "data,cls,message",
    [
        (b"hello world" * 10, pickle.UnpicklingError, "it starts with b'hello wo', neither a zip archive"),
        (b"", pickle.UnpicklingError, "it starts with b'', neither"),
        (b"\x80\x02K\x07.", RuntimeError, "Invalid magic number; corrupt file?"),
        (b"\x80\x02", pickle.UnpicklingError, "ends in the middle of a pickle (truncated)"),
        (b"\x00" * 257 + b"ustar" + b"\x00" * 300, RuntimeError, "in the legacy .tar format of torch < 0.4"),
    ],
    ids=["garbage", "empty", "bad-magic", "truncated-pickle", "tar"],
)
def test_non_torch_files(data, cls, message):
    with pytest.raises(cls) as err:
        deeprnn_loads(data)
    assert message in str(err.value)


def test_archive_structure_errors():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.pkl", b"\x80\x02N.")
    with pytest.raises(RuntimeError, match="file in archive is not in a subdirectory: data.pkl"):
        deeprnn_loads(buf.getvalue())
    with pytest.raises(RuntimeError, match="failed locating file data.pkl: file not found"):
        deeprnn_loads(_without_pickle())
    with pytest.raises(ValueError, match="Unknown endianness type: middle"):
        deeprnn_loads(archive(tensor_pkl(), {"0": TWO_FLOATS}, byteorder=b"middle"))
    buf = io.BytesIO()
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("archive/data.pkl", b"\x80\x02N.")
            zf.writestr("archive/data.pkl", b"\x80\x02K\x01.")
    with pytest.raises(RuntimeError, match="it holds two records of the same name"):
        deeprnn_loads(buf.getvalue())


def _without_pickle():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/version", b"3\n")
    return buf.getvalue()


def test_big_endian_files_are_byteswapped():
    big = np.arange(2, dtype=">f4").tobytes()
    out = deeprnn_loads(archive(tensor_pkl(), {"0": big}, byteorder=b"big"))
    assert out.tolist() == [0.0, 1.0] and out.dtype == np.float32
    ref = torch.load(io.BytesIO(archive(tensor_pkl(), {"0": big}, byteorder=b"big")), weights_only=True)
    assert ref.tolist() == [0.0, 1.0]
