"""Every format in, every format out: the input's rows and columns kept, the suggestion added, bad rows
set aside with their row number and reason."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook, load_workbook

from triage import batch, lapor

BAD_ROWS = {41: "text is empty", 121: "text is blank (only whitespace)",
            171: "text has no letters (only numbers or symbols)"}


def read(path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if fmt == "jsonl":
        return pd.DataFrame([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    if fmt == "xlsx":
        workbook = load_workbook(path, read_only=True)
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        return pd.DataFrame([[lapor.cell_text(v) for v in row] for row in rows[1:]], columns=list(rows[0]))
    return pq.read_table(path).to_pandas()


def write(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dict("records")))
    elif fmt == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        for row in [list(frame.columns), *frame.values.tolist()]:
            sheet.append(row)
        workbook.save(path)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


@pytest.mark.parametrize("fmt", batch.FORMATS)
def test_round_trip_keeps_input_rows_and_columns_and_adds_the_suggestion(tmp_path, job, backlog_frame, fmt):
    source = tmp_path / f"backlog.{fmt}"
    write(backlog_frame, source, fmt)
    out = tmp_path / f"out.{fmt}"

    summary = batch.run(job(source, out, chunk_size=64), jobs=1)

    result = read(out, fmt)
    good = backlog_frame.drop(index=[r - 1 for r in BAD_ROWS]).reset_index(drop=True)
    assert list(result.columns) == list(backlog_frame.columns) + list(batch.SUGGESTION_COLUMNS)
    pd.testing.assert_frame_equal(result[list(backlog_frame.columns)], good, check_dtype=False)
    assert (summary.rows, summary.classified, summary.bad) == (200, 197, 3)
    assert set(result["model_version"]) == {"kukar-seed"}
    assert result["category_confidence"].astype(float).between(0, 1).all()
    assert not out.parent.joinpath(f".{out.name}.parts").exists()


def test_the_suggestion_is_the_one_suggest_makes(tmp_path, job, backlog_frame, shipped):
    out = tmp_path / "out.parquet"
    batch.run(job(_csv(tmp_path, backlog_frame), out), jobs=1)
    result = pq.read_table(out).to_pandas()
    for row in result.head(5).itertuples():
        suggestion = shipped.suggest(row.text)
        assert row.suggested_opd == suggestion.opd.code
        assert row.opd_confidence == pytest.approx(suggestion.opd.confidence, abs=1e-4)
        assert row.needs_review == suggestion.needs_review


def test_csv_to_parquet_and_jsonl_conversions_keep_the_values(tmp_path, job, backlog_frame):
    source = _csv(tmp_path, backlog_frame)
    batch.run(job(source, tmp_path / "out.jsonl"), jobs=1)
    batch.run(job(source, tmp_path / "out.parquet"), jobs=1)
    as_jsonl, as_parquet = read(tmp_path / "out.jsonl", "jsonl"), read(tmp_path / "out.parquet", "parquet")
    assert as_jsonl["id"].tolist() == as_parquet["id"].tolist()
    assert as_jsonl["suggested_opd"].tolist() == as_parquet["suggested_opd"].tolist()


def test_bad_rows_go_to_the_errors_file_with_row_number_and_reason(tmp_path, job, backlog_frame):
    out = tmp_path / "out.csv"
    summary = batch.run(job(_csv(tmp_path, backlog_frame), out, chunk_size=50), jobs=1)

    errors = pd.read_csv(tmp_path / "out.errors.csv", dtype=str, keep_default_na=False)
    assert summary.errors_path == tmp_path / "out.errors.csv"
    assert list(errors.columns) == list(batch.ERROR_COLUMNS)
    assert dict(zip(errors["row"].astype(int), errors["reason"])) == BAD_ROWS
    assert errors["id"].tolist() == ["BL-0041", "BL-0121", "BL-0171"]
    assert errors["text"].tolist()[2] == "081234567890"


def test_jsonl_rows_that_are_not_text_or_not_json_are_errors_with_their_line(tmp_path, job):
    source = tmp_path / "mixed.jsonl"
    source.write_text("\n".join([
        json.dumps({"id": 1, "text": "Jalan poros Loa Janan rusak parah, mohon diperbaiki"}),
        json.dumps({"id": 2, "text": 12345}),
        json.dumps({"id": 3, "text": None}),
        '{"id": 4, "text": "lampu jalan mati',
        "",
        json.dumps({"id": 6}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": None, "text": "KTP saya belum jadi sudah dua bulan"}),
        json.dumps({"id": 9, "text": "Air PDAM mati tiga hari di Tenggarong", "extra": {"a": 1}}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"

    summary = batch.run(job(source, out, chunk_size=4), jobs=1)

    assert (summary.rows, summary.classified, summary.bad) == (8, 2, 6)
    errors = pd.read_csv(tmp_path / "out.errors.csv", dtype=str, keep_default_na=False)
    reasons = dict(zip(errors["row"].astype(int), errors["reason"]))
    assert reasons[2] == "text is not a string (got int)"
    assert reasons[3] == reasons[6] == "text is missing"
    assert reasons[4].startswith("not valid JSON")
    assert reasons[7] == "not a JSON object"
    assert reasons[8] == "id is missing"
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in kept] == [1, 9]
    assert kept[1]["extra"] == {"a": 1}


def test_a_job_without_bad_rows_leaves_no_errors_file(tmp_path, job, backlog_frame):
    clean = backlog_frame[backlog_frame["text"].str.contains("[a-z]", regex=True)]
    out = tmp_path / "out.csv"
    (tmp_path / "out.errors.csv").write_text("row,id,reason,text\n1,x,stale,\n")
    summary = batch.run(job(_csv(tmp_path, clean), out), jobs=1)
    assert summary.bad == 0 and summary.errors_path is None
    assert not (tmp_path / "out.errors.csv").exists()


def _csv(tmp_path, frame: pd.DataFrame):
    path = tmp_path / "backlog.csv"
    frame.to_csv(path, index=False)
    return path


def test_jsonl_records_with_different_keys_make_one_csv_with_every_column(tmp_path, job):
    source = tmp_path / "varied.jsonl"
    records = [{"id": i, "text": "Lampu jalan di Tenggarong mati sudah seminggu"} for i in range(6)]
    records[4]["kecamatan"] = "Tenggarong"
    records[5]["tags"] = ["lampu", "jalan"]
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out.csv"

    batch.run(job(source, out, chunk_size=2), jobs=1)

    result = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(result.columns) == ["id", "text", *batch.SUGGESTION_COLUMNS, "kecamatan", "tags"]
    assert result["id"].tolist() == [str(i) for i in range(6)]
    assert result["kecamatan"].tolist() == ["", "", "", "", "Tenggarong", ""]
    assert json.loads(result["tags"][5]) == ["lampu", "jalan"]


def test_parquet_keeps_the_types_of_its_columns(tmp_path, job, backlog_frame):
    typed = pd.DataFrame({
        "id": range(1, 11),
        "received": pd.to_datetime(backlog_frame["received"].head(10)),
        "priority": [0.5] * 10,
        "text": backlog_frame["text"].iloc[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]].tolist(),
    })
    typed.loc[3, "text"] = "   "
    source, out = tmp_path / "typed.parquet", tmp_path / "out.parquet"
    typed.to_parquet(source, index=False)

    batch.run(job(source, out, chunk_size=4), jobs=1)

    schema = pq.read_schema(out)
    assert schema.field("id").type == pa.int64()
    assert pa.types.is_timestamp(schema.field("received").type)
    assert schema.field("priority").type == pa.float64()
    assert schema.field("needs_review").type == pa.bool_()
    assert pq.read_table(out).column("id").to_pylist() == [1, 2, 3, 5, 6, 7, 8, 9, 10]


def test_a_jsonl_file_may_start_with_a_bad_line(tmp_path, job):
    source = tmp_path / "late.jsonl"
    good = json.dumps({"id": 2, "text": "Jalan rusak di Loa Kulu"})
    source.write_text('{"id": 1, "text": \n' + good + "\n")
    summary = batch.run(job(source, tmp_path / "out.jsonl"), jobs=1)
    assert (summary.classified, summary.bad) == (1, 1)
