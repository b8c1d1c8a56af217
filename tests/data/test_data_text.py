"""read_text: encodings and clear errors."""

import pytest

from deeprnn.data import DataError, read_text


def test_reads_utf8_and_normalises(tmp_path, zh_text):
    p = tmp_path / "a.txt"
    p.write_bytes(b"\xef\xbb\xbfline one\r\nline two\rend")
    assert read_text(p) == "line one\nline two\nend"
    q = tmp_path / "zh.txt"
    q.write_bytes(zh_text.encode("utf-8"))
    assert read_text(str(q)) == zh_text


def test_gbk_file(tmp_path, zh_text):
    p = tmp_path / "zh_gbk.txt"
    p.write_bytes(zh_text.encode("gbk"))  # GBK copy generated from the UTF-8 fixture
    assert read_text(p, encoding="gbk") == zh_text
    with pytest.raises(DataError) as ei:
        read_text(p)  # utf-8 by default
    msg = str(ei.value)
    assert "utf-8" in msg and "zh_gbk.txt" in msg
    # GBK "循" = D1 AD happens to be a valid 2-byte UTF-8 sequence; "环" = BB B7 is not:
    # BB is a continuation byte with no lead byte, at offset 2.
    assert "invalid byte(s) bb at byte offset 2 (line 1)" in msg
    assert "--encoding gbk" in msg
    assert isinstance(ei.value, ValueError)


def test_bad_utf8_bytes_name_offset_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"good line\nabc\xff\xfedef")
    want = r"as utf-8: invalid byte\(s\) ff at byte offset 13 \(line 2\)"
    with pytest.raises(DataError, match=want):
        read_text(p)


def test_utf8_read_as_gbk_fails_clearly(tmp_path):
    p = tmp_path / "u.txt"
    p.write_bytes("隐层。".encode())
    with pytest.raises(DataError, match=r"as gbk.*offset.*try --encoding utf-8"):
        read_text(p, encoding="gbk")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"not found: .*nope\.txt"):
        read_text(tmp_path / "nope.txt")


def test_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        read_text(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty \(0 bytes\)"):
        read_text(p)


def test_unknown_encoding(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("hi", encoding="utf-8")
    with pytest.raises(DataError, match="unknown text encoding 'utf-99'"):
        read_text(p, encoding="utf-99")
    with pytest.raises(DataError, match="not a text encoding"):
        read_text(p, encoding="rot13")
    assert read_text(p, encoding="latin-1") == "hi"
