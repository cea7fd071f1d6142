"""Workers read their own chunk: the plan's slices read back exactly the chunks that reading the input in
order makes (same rows, row numbers, bad lines), for awkward files too, whatever the scan's block size; what
only an in-order read handles is read in order; a malformed CSV names the row as it always did."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from triage import batch
from triage.errors import DataError


def bare_job(path, fmt: str, chunk_size: int) -> batch.BatchJob:
    return batch.BatchJob(input=path, output=path.with_name(f"out.{fmt}"), input_format=fmt, output_format=fmt,
                          chunk_size=chunk_size)


def assert_slices_read_what_an_in_order_read_does(job: batch.BatchJob) -> batch.Plan:
    layout = batch.plan(job)
    assert layout.slices is not None, layout.reason
    in_order = list(batch.read_chunks(job))
    sliced = [batch.read_slice(job, piece, layout.columns) for piece in layout.slices]
    assert [c.index for c in sliced] == [c.index for c in in_order]
    for mine, theirs in zip(sliced, in_order):
        pd.testing.assert_frame_equal(mine.frame.reset_index(drop=True), theirs.frame.reset_index(drop=True))
        assert mine.rows.tolist() == theirs.rows.tolist()
        assert mine.problems == theirs.problems
    return layout


AWKWARD_CSV = (
    b"\xef\xbb\xbf"  # a byte order mark
    b'id,"te\nxt",channel\r\n'  # a header with a quoted line break, CRLF line ends
    b'1,"jalan ""rusak""\r\nparah",sms\r\n'  # doubled quotes and a line break inside quotes
    b"\r\n   \n\t\n"  # blank lines: pandas skips them, they are no records
    b'2,"",web\n'
    b"3,lampu mati,\n"
    b' ,x,\n'  # a space is content: a record
    b'4,"a,b\n\n\nc",wa\n'  # blank lines inside quotes belong to the field
    b"5,short\n"  # fewer fields: the rest is missing
    b'6,"""quoted""",desk'  # no line end at the end
)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 100])
@pytest.mark.parametrize("block", [1, 2, 7, 1 << 22])
def test_csv_slices_are_the_chunks_of_an_in_order_read(tmp_path, monkeypatch, chunk_size, block):
    monkeypatch.setattr(batch, "_BLOCK", block)  # carries across blocks: quotes, blank lines, CRLF
    source = tmp_path / "awkward.csv"
    source.write_bytes(AWKWARD_CSV)
    layout = assert_slices_read_what_an_in_order_read_does(bare_job(source, "csv", chunk_size))
    assert layout.columns == ("id", "te\nxt", "channel")
    assert sum(piece.rows for piece in layout.slices) == 7


@pytest.mark.parametrize("content", [b"id,text\n", b"id,text", b"id,text\n\n  \n"])
def test_a_csv_with_a_header_only_is_one_empty_chunk_as_before(tmp_path, content):
    source = tmp_path / "empty.csv"
    source.write_bytes(content)
    layout = assert_slices_read_what_an_in_order_read_does(bare_job(source, "csv", 5))
    assert [(piece.rows, piece.first) for piece in layout.slices] == [(0, 1)]


@pytest.mark.parametrize("content, why", [
    (b'id,text\n1,ab"c\n2,d\n', "quoting"),  # a quote inside an unquoted field is a character for pandas
    (b'id,text\n1,"ab"c\n2,d\n', "quoting"),  # text after a closing quote
    (b"id,text\r1,a\r2,b\r", "lone carriage return"),  # old Mac line ends
    (b"id,text\n1,x,extra\n2,y\n", "first row"),  # pandas makes the first field an index
])
def test_what_only_an_in_order_read_handles_is_read_in_order(tmp_path, job, content, why):
    source = tmp_path / "odd.csv"
    source.write_bytes(content)
    layout = batch.plan(bare_job(source, "csv", 1))
    assert layout.slices is None and why in layout.reason

    summary = batch.run(job(source, tmp_path / "out.csv", chunk_size=1), jobs=1)

    assert summary.rows == 2 and any(why in note for note in summary.notes)


def test_a_csv_pandas_cannot_parse_names_the_row_as_before(tmp_path, job, typo_backlog):
    lines = typo_backlog.read_bytes().splitlines(keepends=True)
    lines[1201] = lines[1201].rstrip(b"\r\n") + b",one too many\n"  # record 1201 opens the fourth chunk
    source = tmp_path / "broken.csv"
    source.write_bytes(b"".join(lines))
    with pytest.raises(DataError) as in_order:
        for _ in batch.read_chunks(bare_job(source, "csv", 400)):
            pass

    for jobs in (1, 2):
        with pytest.raises(DataError) as raised:
            batch.run(job(source, tmp_path / "out.csv", chunk_size=400), jobs=jobs, restart=True)
        assert str(raised.value) == str(in_order.value)
    assert re.search(r"broken\.csv: cannot be read as CSV after row 1200: .*Expected 3 fields in line 1202, "
                     r"saw 4 Fix the file and run again with --restart\.", str(raised.value))


def test_jsonl_slices_are_the_chunks_of_an_in_order_read(tmp_path, monkeypatch):
    lines = [json.dumps({"id": 1, "text": "Jalan rusak"}), "", "   ", "\u00a0\u3000",
             json.dumps({"id": 2, "text": "lampu mati"}, ensure_ascii=False) + " ", '{"id": 3, "text": ',
             "[1, 2]", json.dumps({"id": 4, "text": "air PDAM keruh é"}, ensure_ascii=False), "\t",
             json.dumps({"id": 5, "text": "KTP"})]
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\xff\n\n")
    for block in (1, 3, 1 << 22):
        monkeypatch.setattr(batch, "_BLOCK", block)
        for chunk_size in (1, 2, 4, 50):
            layout = assert_slices_read_what_an_in_order_read_does(bare_job(source, "jsonl", chunk_size))
            assert sum(piece.rows for piece in layout.slices) == 6


def test_parquet_slices_cross_row_groups_as_batches_do(tmp_path):
    rows = 53
    frame = pd.DataFrame({"id": np.arange(rows), "text": [f"jalan {i}" if i % 9 else None for i in range(rows)],
                          "received": pd.date_range("2026-01-01", periods=rows, freq="h", tz="Asia/Makassar"),
                          "tags": [["a"] * (i % 3) for i in range(rows)]})
    for group in (4, 7, 53):
        source = tmp_path / f"groups{group}.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source, row_group_size=group)
        for chunk_size in (1, 5, 10, 60):
            assert_slices_read_what_an_in_order_read_does(bare_job(source, "parquet", chunk_size))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_workers_reading_their_chunks_write_what_an_in_order_read_writes(tmp_path, job, typo_backlog, fmt):
    frame = pd.read_csv(typo_backlog, dtype=str, keep_default_na=False)
    source = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        source.write_bytes(typo_backlog.read_bytes())
    elif fmt == "jsonl":
        source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dict("records")))
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source, row_group_size=700)
    this = job(source, tmp_path / f"out.{fmt}", chunk_size=500)
    # the in-order read, classified and written by this process: what every job did before
    this.parts_dir.mkdir()
    for chunk in batch.read_chunks(this):
        good, problems = batch.classify(this, chunk, batch.suggester_for(this.models_dir, this.deployment,
                                                                           this.model_version))
        batch.write_part(this, chunk.index, good, problems)
    batch._assemble(this, batch._markers(this))
    expected = this.output.read_bytes()
    shutil.rmtree(this.parts_dir)

    summary = batch.run(this, jobs=2, restart=True)

    assert summary.chunks == 8 and not summary.notes
    assert this.output.read_bytes() == expected
