"""Batches: one result line per input line, in order, whatever the line holds."""

import os
import re
import tracemalloc
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import verify_file
from verifier.batch import iter_results, read_lines, run

BAD_LINES = {
    "malformed": (b'{"id": "m", oops}', "VF001"),
    "wrong type": (b'{"id": "w", "messages": {"role": "user"}}', "VF003"),
    "truncated": (b'{"id": "t", "messages": [{"role": "us', "VF002"),
    "blank": (b"   ", "VF001"),
    "not utf-8": (b'{"id": "\xc3\x28"}', "VF004"),
    "not an object": (b"[1, 2]", "VF003"),
}


def write_lines(path: Path, lines: list[bytes], end: bytes = b"\n") -> Path:
    path.write_bytes(b"\n".join(lines) + end)
    return path


def report_lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_every_line_gets_one_result_in_order(tmp_path, spec, make):
    good = orjson.dumps(make("WP-2"))
    lines = []
    for bad, _ in BAD_LINES.values():
        lines += [good, bad]
    source = write_lines(tmp_path / "in.jsonl", lines, end=b"")  # no final newline
    totals = verify_file(spec, source, report=tmp_path / "report.jsonl")
    records = report_lines(tmp_path / "report.jsonl")
    assert [r["line"] for r in records] == list(range(1, len(lines) + 1))
    assert totals.transcripts == len(lines)
    for record, (_, code) in zip(records[1::2], BAD_LINES.values(), strict=True):
        assert record["verdict"] == "fail"
        assert [f["code"] for f in record["findings"]] == [code]
        assert record["findings"][0]["message"]
    assert all(r["verdict"] == "pass" for r in records[::2])
    assert (totals.passed, totals.failed) == (len(BAD_LINES), len(BAD_LINES))


def test_crlf_line_breaks(tmp_path, spec, make):
    source = write_lines(tmp_path / "in.jsonl", [orjson.dumps(make("WP-2"))] * 2, end=b"\r\n")
    source.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    assert verify_file(spec, source).passed == 2


def test_empty_file_gets_one_result(tmp_path, spec):
    source = tmp_path / "empty.jsonl"
    source.write_bytes(b"")
    verify_file(spec, source, report=tmp_path / "r.jsonl")
    [record] = report_lines(tmp_path / "r.jsonl")
    assert record["findings"][0]["code"] == "VF001"
    assert "empty file" in record["findings"][0]["message"]


def test_a_50_mb_line_is_skipped_through_not_held(tmp_path, spec, make):
    good = orjson.dumps(make("WP-2"))
    huge = b'{"id": "big", "pad": "' + b"x" * (50 << 20) + b'"}'
    source = write_lines(tmp_path / "in.jsonl", [good, huge, good])
    size = len(huge)
    del huge
    tracemalloc.start()
    results = list(iter_results_of(spec, source, max_line_bytes=1 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20
    assert [r.passed for _, r in results] == [True, False, True]
    [finding] = results[1][1].findings
    assert finding.code == "VF005"
    assert f"the line is {size} bytes, over the limit of {1 << 20}" == finding.message
    # The default limit (16 MiB) turns it away too.
    assert [r.passed for _, r in iter_results_of(spec, source)] == [True, False, True]


def iter_results_of(spec, path, **options):
    from verifier import verifier_for

    return iter_results(verifier_for(spec), path, **options)


def test_read_lines_reports_long_lines_by_size():
    import io

    stream = io.BytesIO(b"short\n" + b"y" * 100 + b"\nlast")
    assert list(read_lines(stream, 10)) == [b"short", 100, b"last"]


def test_memory_is_flat_in_the_number_of_lines(tmp_path, spec, make):
    good = orjson.dumps(make("WP-2"))
    source = write_lines(tmp_path / "in.jsonl", [good] * 2000)
    tracemalloc.start()
    for _ in iter_results_of(spec, source):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Holding the lines, or their results, would take well over the file's size.
    assert peak < source.stat().st_size / 4


def test_json_document_with_one_transcript_or_an_array(tmp_path, spec, make):
    one = tmp_path / "one.json"
    one.write_bytes(orjson.dumps(make("WP-2"), option=orjson.OPT_INDENT_2))
    assert verify_file(spec, one).passed == 1
    many = tmp_path / "many.json"
    many.write_bytes(orjson.dumps([make("WP-2"), make("WP-1"), 3], option=orjson.OPT_INDENT_2))
    totals = verify_file(spec, many)
    assert (totals.transcripts, totals.passed) == (3, 2)
    cut = tmp_path / "cut.json"
    cut.write_bytes(many.read_bytes()[:-20])
    totals = verify_file(spec, cut, report=tmp_path / "r.jsonl")
    assert totals.transcripts == 1 and totals.by_code == {"VF002": 1}


def test_report_is_written_atomically(tmp_path, spec, make, monkeypatch):
    source = write_lines(tmp_path / "in.jsonl", [orjson.dumps(make("WP-2"))] * 3)
    report = tmp_path / "report.jsonl"
    report.write_text("old report\n")

    def fail_on_third(source, line, result):
        if line == 3:
            raise RuntimeError("interrupted")

    from verifier import verifier_for

    with pytest.raises(RuntimeError):
        run(verifier_for(spec), [source], report, on_result=fail_on_third)
    assert report.read_text() == "old report\n"
    assert set(os.listdir(tmp_path)) == {"in.jsonl", "report.jsonl"}  # no temporary left
    run(verifier_for(spec), [source], report)
    assert len(report_lines(report)) == 3
    assert set(os.listdir(tmp_path)) == {"in.jsonl", "report.jsonl"}


def test_several_files_in_order(tmp_path, spec, make):
    first = write_lines(tmp_path / "a.jsonl", [orjson.dumps(make("WP-2"))] * 2)
    second = write_lines(tmp_path / "b.jsonl", [b"nope"])
    from verifier import verifier_for

    run(verifier_for(spec), [first, second], tmp_path / "r.jsonl")
    records = report_lines(tmp_path / "r.jsonl")
    assert [(Path(r["source"]).name, r["line"]) for r in records] == [
        ("a.jsonl", 1),
        ("a.jsonl", 2),
        ("b.jsonl", 1),
    ]


def test_a_check_that_raises_fails_only_its_line(tmp_path, spec, make, monkeypatch):
    from verifier import verifier_for

    verifier = verifier_for(spec)
    real = verifier.verify

    def flaky(item):
        if b'"boom"' in item:
            raise ValueError("boom")
        return real(item)

    monkeypatch.setattr(verifier, "verify", flaky)
    good, boom = orjson.dumps(make("WP-2")), orjson.dumps(make("WP-2", id="boom"))
    source = write_lines(tmp_path / "in.jsonl", [good, boom, good])
    results = [r for _, r in iter_results(verifier, source)]
    assert [r.passed for r in results] == [True, False, True]
    assert results[1].findings[0].code == "VF090"
    assert "ValueError: boom" in results[1].findings[0].message


class _Trickle:
    """A stream whose read1 hands out at most `step` bytes at a time: line breaks, and the
    halves of a \r\n, fall across chunk boundaries."""

    def __init__(self, data: bytes, step: int):
        self.data, self.step, self.at = data, step, 0

    def read1(self, size: int) -> bytes:
        piece = self.data[self.at : self.at + min(size, self.step)]
        self.at += len(piece)
        return piece


def _reference_lines(data: bytes, max_bytes: int) -> list[bytes | int]:
    lines = re.split(rb"\r\n|\r|\n", data)
    if lines[-1] == b"":  # a break at the end, or no data: no line after it
        lines.pop()
    return [len(line) if len(line) > max_bytes else line for line in lines]


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.one_of(st.binary(max_size=12), st.sampled_from([b"\n", b"\r", b"\r\n", b"\n\r"])),
        max_size=20,
    ).map(b"".join),
    step=st.integers(1, 9),
    chunk=st.integers(1, 8),
    max_bytes=st.integers(0, 20),
)
def test_read_lines_splits_at_every_kind_of_break(data, step, chunk, max_bytes):
    import verifier.batch as batch

    original = batch.CHUNK_BYTES
    batch.CHUNK_BYTES = chunk
    try:
        assert list(read_lines(_Trickle(data, step), max_bytes)) == _reference_lines(
            data, max_bytes
        )
        # A snapshot size stops the reading there, whatever follows.
        cut = len(data) // 2
        assert list(read_lines(_Trickle(data, step), max_bytes, cut)) == _reference_lines(
            data[:cut], max_bytes
        )
    finally:
        batch.CHUNK_BYTES = original


def test_records_separated_by_cr_only_are_one_result_each(tmp_path, spec, make):
    good = orjson.dumps(make("WP-2"))
    source = write_lines(tmp_path / "in.jsonl", [good] * 3, end=b"\r")
    source.write_bytes(source.read_bytes().replace(b"\n", b"\r"))
    assert verify_file(spec, source).passed == 3


def test_a_byte_order_mark_before_the_first_line_is_dropped(tmp_path, spec, make):
    good = orjson.dumps(make("WP-2"))
    source = write_lines(tmp_path / "in.jsonl", [b"\xef\xbb\xbf" + good, good])
    assert verify_file(spec, source).passed == 2
    document = tmp_path / "one.json"
    document.write_bytes(b"\xef\xbb\xbf" + good)
    assert verify_file(spec, document).passed == 1
    # Nor before a later line (files concatenated), but inside a line it is not JSON.
    later = write_lines(tmp_path / "later.jsonl", [good, b"\xef\xbb\xbf" + good])
    assert verify_file(spec, later).passed == 2
    inside = write_lines(tmp_path / "inside.jsonl", [good[:1] + b"\xef\xbb\xbf" + good[1:]])
    assert verify_file(spec, inside).by_code == {"VF001": 1}


def test_a_json_file_over_the_limit_is_refused_not_held(tmp_path, spec, make):
    from spec_lang import InputError

    many = tmp_path / "many.json"
    many.write_bytes(orjson.dumps([make("WP-2")] * 50))
    size = many.stat().st_size
    with pytest.raises(InputError, match=f"{size:,} bytes, over the limit of {size - 1:,}"):
        list(iter_results_of(spec, many, max_line_bytes=size - 1))
    assert len(list(iter_results_of(spec, many, max_line_bytes=size))) == 50


def test_a_file_is_read_up_to_its_size_when_reading_started(tmp_path, spec, make):
    """A writer appends while the batch is read: the half-written last line is one result
    (cut off), and what is appended after reading started waits for the next run."""
    good = orjson.dumps(make("WP-2"))
    source = tmp_path / "growing.jsonl"
    source.write_bytes(good + b"\n" + good + b"\n" + good[:40])
    results = iter_results_of(spec, source)
    first = next(results)
    with source.open("ab") as stream:
        stream.write(good[40:] + b"\n" + (good + b"\n") * 5000)
    rest = list(results)
    assert [number for number, _ in [first, *rest]] == [1, 2, 3]
    assert [f.code for f in rest[-1][1].findings] == ["VF002"]
    assert verify_file(spec, source).transcripts == 5003  # the next run reads it all


def test_verify_drops_a_byte_order_mark_from_text(spec, make):
    from verifier import verify

    good = orjson.dumps(make("WP-2"))
    assert verify(spec, b"\xef\xbb\xbf" + good).passed
    assert verify(spec, "\ufeff" + good.decode()).passed
