"""Crafted checkpoints: each is refused with one CheckpointError naming the problem, before it
allocates what it claims, runs code, reads a file it names or puts an impossible value into a run.

Every case starts from a real checkpoint of a tiny run and changes one thing in it.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from deeprnn.models import CheckpointError, ModelConfig, TrainConfig, load_checkpoint
from deeprnn.models.state import model_from_checkpoint
from deeprnn.models.trainer import train

from ._texts import ENGLISH


def _config(directory: Path, **kw) -> TrainConfig:
    base = dict(
        model=ModelConfig(hidden_size=8, num_layers=2, kind="lstm"),
        seq_len=8,
        batch_size=2,
        iters=4,
        eval_every=2,
        eval_batches=1,
        sample_every=10_000,
        checkpoint_every=2,
        checkpoint_dir=str(directory),
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    """A real checkpoint of an LSTM: it carries (h, c)."""
    d = tmp_path_factory.mktemp("original")
    train(_config(d / "ck"), ENGLISH, quiet=True)
    return d / "ck" / "latest.npz"


@pytest.fixture(scope="module")
def original_rnn(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("original_rnn")
    train(_config(d / "ck", model=ModelConfig(hidden_size=8, num_layers=2, kind="rnn")), ENGLISH, quiet=True)
    return d / "ck" / "latest.npz"


def _parts(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(arrays.pop("__meta__").tobytes()), arrays


def _save(path: Path, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    return path


def _crafted(original: Path, tmp_path: Path, change) -> Path:  # noqa: ANN001
    meta, arrays = _parts(original)
    change(meta, arrays)
    return _save(tmp_path / "ck" / "latest.npz", meta, arrays)


def _refused(path: Path, match: str, resume: bool = False) -> str:
    with pytest.raises(CheckpointError, match=match) as info:
        if resume:
            train(_config(path.parent, iters=6), ENGLISH, resume=True, quiet=True)
        else:
            model_from_checkpoint(load_checkpoint(path))
    message = str(info.value)
    assert "\n" not in message and str(path.name) in message
    return message


# ---- the archive ------------------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def test_raw_member_is_refused(original, tmp_path):
    meta, _ = _parts(original)
    members = {"__meta__.npy": _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)), "model/head.bias": b"\x00" * 8}
    p = _zip(tmp_path / "raw.npz", members)
    assert "not a .npy array" in _refused(p, "model/head.bias")


def test_raw_json_metadata_is_refused(original, tmp_path):
    meta, arrays = _parts(original)
    members = {"__meta__": json.dumps(meta).encode(), **{f"{k}.npy": _npy(v) for k, v in arrays.items()}}
    _refused(_zip(tmp_path / "rawmeta.npz", members), r"entry '__meta__' is not a \.npy array")


def test_npy_member_holding_raw_bytes_is_refused(tmp_path):
    _refused(_zip(tmp_path / "x.npz", {"__meta__.npy": b'{"format": "deeprnn-lm-checkpoint"}'}), "raw bytes")


def test_metadata_of_the_wrong_dtype_is_refused(original, tmp_path):
    meta, arrays = _parts(original)
    p = tmp_path / "m.npz"
    np.savez(p, __meta__=np.zeros(3), **arrays)
    _refused(p, "expected UTF-8 bytes")


def test_pickled_object_member_is_refused_without_unpickling(tmp_path):
    obj = np.array([{"evil": 1}], dtype=object)
    p = tmp_path / "obj.npz"
    np.savez(p, __meta__=obj)  # np.savez pickles object arrays
    message = _refused(p, "only plain numbers")
    assert "allow_pickle" not in message


def test_header_that_does_not_match_its_data_is_refused(tmp_path):
    data = _npy(np.zeros(1000))[:200]  # the header declares 1000 float64s; 8 KB are missing
    _refused(_zip(tmp_path / "h.npz", {"__meta__.npy": data}), r"declares shape \(1000,\)")


def test_entry_named_twice_is_refused(original, tmp_path):
    meta, _ = _parts(original)
    blob = _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))
    p = tmp_path / "dup.npz"
    with zipfile.ZipFile(p, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("__meta__.npy", blob)
        z.writestr("__meta__.npy", blob)
    _refused(p, "named twice")


def _bomb(path: Path, name: str, n_bytes: int) -> Path:
    """A zip holding one deflated member of about ``n_bytes``: a .npy header, then zeros, written
    without ever holding them (one full-flushed deflate block of 16 MiB of zeros, repeated)."""
    chunk = bytes(1 << 24)
    full = n_bytes // len(chunk)
    h = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        h, {"descr": "<f4", "fortran_order": False, "shape": (full * len(chunk) // 4,)}
    )
    head = h.getvalue()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    body = first + block * full + comp.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(full):
        crc = zlib.crc32(chunk, crc)
    size, fname = len(head) + full * len(chunk), name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(body), size, len(fname), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(body), size, len(fname), 0, 0, 0, 0, 0, 0
    )
    offset = len(local) + len(fname) + len(body)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(fname), offset, 0)
    path.write_bytes(local + fname + body + central + fname + end)
    return path


def test_zip_bomb_is_refused_before_it_inflates(tmp_path):
    p = _bomb(tmp_path / "bomb.npz", "model/head.weight.npy", 2 << 30)  # 2 GiB in about 2 MB
    assert p.stat().st_size < 3 << 20
    with zipfile.ZipFile(p) as z:  # a well-formed archive: zipfile lists the 2 GiB member
        assert z.getinfo("model/head.weight.npy").file_size > 2 << 30
    message = _refused(p, "zip bomb")
    assert "would inflate from" in message


def test_archive_larger_than_the_free_memory_is_refused(original, monkeypatch):
    import deeprnn.memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 1000)
    with pytest.raises(
        memory.MemoryLimitError, match=r"latest.npz' needs about [\d.]+ KiB of memory, more than the 1,000"
    ):
        load_checkpoint(original)


# ---- the metadata: sizes that would allocate or loop -------------------------------------------
def test_huge_hidden_size_is_refused_without_allocating(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["model_config"].update(hidden_size=10**6))
    _refused(p, r"parameter shapes do not match the model config \(rnn.weight_ih_l0: \(32, \d+\), config says")


def test_huge_num_layers_is_refused_by_arithmetic(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["model_config"].update(num_layers=10**7))
    _refused(p, "describes 40,000,002 parameter arrays, the file holds 10")


def test_vocab_size_that_contradicts_the_vocabulary(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["model_config"].update(vocab_size=3))
    _refused(p, "vocab_size 3 != ")


def test_char_vocabulary_with_words_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["vocab"]["itos"].__setitem__(0, "two chars"))
    _refused(p, "a char-level vocab holds single characters")


def test_non_finite_parameters_are_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: a["model/head.bias"].__setitem__(0, np.nan))
    _refused(p, "NaN or inf")


def test_deeply_nested_metadata_is_refused(original, tmp_path):
    meta, arrays = _parts(original)
    p = tmp_path / "ck" / "latest.npz"
    p.parent.mkdir()
    raw = b'{"format": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    np.savez(p, __meta__=np.frombuffer(raw, np.uint8), **arrays)
    _refused(p, "metadata is not valid JSON")


def test_long_strings_from_the_file_are_not_echoed_whole(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m.update(format="x" * 10_000))
    assert len(_refused(p, "not a deeprnn language-model checkpoint")) < 300


# ---- the training state, at --resume -----------------------------------------------------------
def _set_scheduler(value):
    def change(m, a):
        m["scheduler"]["__dict__"]["step_size"] = value

    return change


@pytest.mark.parametrize("value", ["1000", None, [1], 1.5, True])
def test_garbage_scheduler_state_is_refused(original, tmp_path, value):
    p = _crafted(original, tmp_path, _set_scheduler(value))
    _refused(p, r"scheduler state\['step_size'\] is .*expected an integer", resume=True)


def test_scheduler_with_unknown_keys_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["scheduler"]["__dict__"].update(lr_lambdas=["os.system"]))
    _refused(p, "scheduler state has unexpected keys", resume=True)


def test_scheduler_out_of_step_with_the_iteration_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["scheduler"]["__dict__"].update(last_epoch=999))
    _refused(p, "the scheduler is at step 999, the run at iteration 4", resume=True)


@pytest.mark.parametrize("value", [-5, 2.5, "4", None])
def test_bad_iteration_is_refused(original, tmp_path, value):
    p = _crafted(original, tmp_path, lambda m, a: m.update(iteration=value))
    _refused(p, "iteration is .*expected an integer >= 0", resume=True)


@pytest.mark.parametrize("key,value", [("elapsed", -1.0), ("tokens", -3), ("best_val", "low"), ("elapsed", 1e400)])
def test_bad_counters_are_refused(original, tmp_path, key, value):
    p = _crafted(original, tmp_path, lambda m, a: m.update({key: value}))
    _refused(p, f"{key} is", resume=True)


def test_missing_hidden_state_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: a.pop("hidden"))
    _refused(p, "no carried hidden state after iteration 4", resume=True)


def test_hidden_state_of_the_wrong_shape_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: a.update(hidden=np.zeros((2, 2, 3), np.float32)))
    _refused(p, r"carried hidden state has shape \(2, 2, 3\)", resume=True)


def test_missing_cell_state_of_an_lstm_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: a.pop("cell"))
    _refused(p, "no carried cell state after iteration 4", resume=True)


def test_cell_state_of_the_wrong_shape_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: a.update(cell=np.zeros((2, 2, 3), np.float32)))
    _refused(p, r"carried cell state has shape \(2, 2, 3\)", resume=True)


def test_non_finite_cell_state_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: a.update(cell=np.full((2, 2, 8), np.inf, np.float32)))
    _refused(p, r"carried cell state has shape \(2, 2, 8\), expected a finite \(2, 2, 8\)", resume=True)


def test_cell_state_in_the_checkpoint_of_an_rnn_is_refused(original_rnn, tmp_path):
    p = _crafted(original_rnn, tmp_path, lambda m, a: a.update(cell=np.zeros((2, 2, 8), np.float32)))
    _refused(p, "a tanh RNN carries no cell state, but the file holds one", resume=True)


def test_unknown_kind_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["model_config"].update(kind="transformer"))
    _refused(p, r"invalid vocabulary or model config: .kind must be one of \('rnn', 'lstm', 'gru'\), got 'transformer'")


def test_kind_that_contradicts_the_parameters_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["model_config"].update(kind="gru"))
    _refused(p, r"parameter shapes do not match the model config \(rnn.weight_ih_l0: \(32, \d+\), config says \(24,")


def test_level_that_contradicts_the_vocabulary_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["train_config"].update(level="word"))
    _refused(p, "train_config level 'word' contradicts the char-level vocabulary", resume=True)


def test_optimizer_state_of_the_wrong_shape_is_refused(original, tmp_path):
    def change(m, a):
        key = next(k for k in a if k.startswith("optim/") and k.endswith("exp_avg"))
        a[key] = np.zeros(7, np.float32)

    _refused(_crafted(original, tmp_path, change), "optimizer state 'exp_avg' of parameter", resume=True)


def test_optimizer_with_a_negative_learning_rate_is_refused(original, tmp_path):
    def change(m, a):
        m["optimizer"]["__dict__"]["param_groups"][0]["__dict__"]["lr"] = -1.0

    _refused(_crafted(original, tmp_path, change), "learning rate -1.0 is not > 0", resume=True)


def test_garbage_rng_state_is_refused(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: m["rng"]["model"].update(bit_generator="MT19937"))
    _refused(p, "invalid model RNG state", resume=True)


@pytest.mark.parametrize("value", ["zero", 1.5, None])
def test_garbage_data_position_is_refused(original, tmp_path, value):
    p = _crafted(original, tmp_path, lambda m, a: m["data"].update(epoch=value))
    with pytest.raises(ValueError, match="saved position must be integers"):
        train(_config(p.parent, iters=6), ENGLISH, resume=True, quiet=True)


def _format_1(meta: dict, arrays: dict) -> None:
    """What deeprnn wrote before LSTM and GRU: format 1, no 'kind' in the model configs."""
    meta["format_version"] = 1
    del meta["model_config"]["kind"]
    del meta["train_config"]["model"]["kind"]


def test_a_checkpoint_of_format_1_loads_resumes_and_samples_as_an_rnn(original_rnn, tmp_path):
    p = _crafted(original_rnn, tmp_path, _format_1)
    model = model_from_checkpoint(load_checkpoint(p))
    assert model.kind == "rnn" and type(model.rnn).__name__ == "RNN"
    assert model.sample("the ", 20, seed=1) == model_from_checkpoint(load_checkpoint(original_rnn)).sample(
        "the ", 20, seed=1
    )
    result = train(_config(p.parent, iters=6), ENGLISH, resume=True, quiet=True)
    assert result.iteration == 6 and result.model.kind == "rnn"
    assert load_checkpoint(p).meta["format_version"] == 2  # the resumed run writes today's format


def test_an_lstm_in_a_checkpoint_of_format_1_is_refused_with_one_line(original, tmp_path):
    """A format-1 file with LSTM-shaped arrays cannot be an RNN: one line, not a traceback."""
    p = _crafted(original, tmp_path, _format_1)
    _refused(p, r"parameter shapes do not match the model config \(rnn.weight_ih_l0: \(32, \d+\), config says \(8,")


def test_the_unchanged_checkpoint_still_resumes(original, tmp_path):
    p = _crafted(original, tmp_path, lambda m, a: None)
    assert train(_config(p.parent, iters=6), ENGLISH, resume=True, quiet=True).iteration == 6
