"""SP4N-LAPOR! exports through ``triage batch``: the "Laporan Ringkas" XLSX (a block of rows about the export,
then the header), its CSV copies, results written back in LAPOR!'s names, and ``--to-queue`` filling the
review queue with tracking ids. The workbooks are built here with openpyxl; the real exports of
``../shared/corpora`` are read where present (skipped otherwise)."""

from __future__ import annotations

import csv
import re
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, text

from triage import lapor
from triage.errors import TaxonomyError
from triage.taxonomy import load_taxonomy

from .conftest import MODEL

HEADER = ["Tracking ID", "Tanggal Laporan Masuk", "Waktu Laporan Masuk", "Klasifikasi Laporan", "Judul Laporan",
          "Isi Laporan Awal", "Isi Laporan Akhir", "Sumber Laporan", "Instansi Terdisposisi", "Status Laporan",
          "Alasan Tunda/Arsip"]
BLOCK = [["Laporan Ringkas"], [], ["Nama Instansi", "Pemerintah Kabupaten Kutai Kartanegara"],
         ["Periode Masuk", "(2024-01-01) - (2024-12-31)"], ["Tanggal Generate", "2025-01-06"], [], [], [], [], []]
REPORTS = [  # written for these tests
    [7100001, datetime(2024, 2, 24), "13:30:21", "Pengaduan Berkadar Pengawasan", "Jalan rusak",
     "jalan poros desa bukit raya rusak parah berlubang sudah 3 bulan tidak diperbaiki", "", "Website",
     "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Kutai Kartanegara", "Ditutup oleh Sistem", None],
    [7100002, "24 Mei 2024", "08:05:00", "Pengaduan Berkadar Pengawasan", "Akta",
     "mau urus akta kelahiran anak di capil disuruh bayar 200rb biar cepat", "", "Android",
     "Dinas Sosial", "Ditindaklanjuti", None],
    [7100003, "2024-06-01", "10:00:00", "Aspirasi", "", "", "", "SMS", None, "Menunggu Verifikasi", None],
    [7100004, "12 Jul 2024", "21:00:00", "Aspirasi", "Sampah",
     "sampah di tps pasar tangga arung menumpuk bau tidak diangkut seminggu", "", "Website", None,
     "Diarsipkan oleh Admin", "Tidak jelas"],
    [7100005, "31 Feb 2024", "07:00:00", "Pengaduan Tidak Berkadar Pengawasan", "PJU",
     "lampu jalan di jl ahmad yani tenggarong mati sudah dua minggu gelap rawan", "", "Hotline Service", None,
     "Ditutup oleh Admin", None],
]
FIRST_DATA_ROW = len(BLOCK) + 2  # the spreadsheet row of the first report


def write_export(path, reports=REPORTS, block=BLOCK):
    """A "Laporan Ringkas" workbook as LAPOR! exports it: the block, the header, one report a row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Laporan Ringkas"
    for row in [*block, HEADER, *reports]:
        sheet.append(row)
    workbook.save(path)
    return path


def sheet_rows(path, sheet):
    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()


@pytest.fixture
def export(tmp_path):
    return write_export(tmp_path / "laporan.xlsx")


def test_an_xlsx_export_is_classified_below_its_header_block_with_lapor_columns_added(tmp_path, cli, export):
    out = tmp_path / "hasil.csv"
    result = cli("batch", str(export), "-o", str(out), "--model", MODEL)

    assert result.returncode == 0, result.stderr
    assert "classified 4 of 5 rows" in result.stdout
    assert (f"first bad row: row {FIRST_DATA_ROW + 2} (Tracking ID 7100003), column 'Isi Laporan Awal': "
            "text is empty") in result.stdout
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame.columns[:len(HEADER)].tolist() == HEADER
    assert frame.columns[-2:].tolist() == ["Saran Instansi Terdisposisi", "Saran Sesuai Disposisi"]
    assert frame["Tracking ID"].tolist() == ["7100001", "7100002", "7100004", "7100005"]
    assert frame["Tanggal Laporan Masuk"].tolist()[:2] == ["2024-02-24", "24 Mei 2024"]  # as the cells show
    kukar = load_taxonomy("kukar")
    assert frame["Saran Instansi Terdisposisi"].tolist() == [kukar.lapor_name(c) for c in frame["suggested_opd"]]
    assert frame["suggested_opd"].tolist()[:2] == ["dpupr", "disdukcapil"]
    # the report's own disposition against the suggestion: same body, another body, none
    assert frame["Saran Sesuai Disposisi"].tolist() == ["ya", "tidak", "", ""]
    errors = pd.read_csv(tmp_path / "hasil.errors.csv", dtype=str, keep_default_na=False)
    assert errors[["row", "id", "reason"]].values.tolist() == [[str(FIRST_DATA_ROW + 2), "7100003", "text is empty"]]


def test_the_csv_copy_of_an_export_reads_as_the_xlsx_with_or_without_the_block(tmp_path, cli, export):
    reference = tmp_path / "from-xlsx.csv"
    assert cli("batch", str(export), "-o", str(reference), "--model", MODEL).returncode == 0
    for name, block in (("plain.csv", []), ("with-block.csv", BLOCK)):
        source = tmp_path / name
        with open(source, "w", encoding="utf-8", newline="") as handle:
            rows = sheet_rows(export, "Laporan Ringkas")
            writer = csv.writer(handle)
            for number, row in enumerate(rows, 1):
                if number > len(BLOCK) or block:
                    writer.writerow([lapor.cell_text(v) for v in row])
        out = tmp_path / f"out-{name}"
        result = cli("batch", str(source), "-o", str(out), "--model", MODEL)
        assert result.returncode == 0, result.stderr
        assert out.read_bytes() == reference.read_bytes(), name


def test_an_xlsx_output_holds_the_same_table(tmp_path, cli, export):
    as_csv, as_xlsx = tmp_path / "hasil.csv", tmp_path / "hasil.xlsx"
    assert cli("batch", str(export), "-o", str(as_csv), "--model", MODEL).returncode == 0
    result = cli("batch", str(export), "-o", str(as_xlsx), "--model", MODEL)

    assert result.returncode == 0, result.stderr
    expected = pd.read_csv(as_csv, dtype=str, keep_default_na=False)
    rows = sheet_rows(as_xlsx, "Hasil Triage")
    assert list(rows[0]) == expected.columns.tolist()
    got = pd.DataFrame([[lapor.cell_text(v) for v in row] for row in rows[1:]], columns=list(rows[0]))
    for column in expected.columns:
        if column.endswith("_confidence"):
            assert [float(v) for v in got[column]] == [float(v) for v in expected[column]]
        elif column.endswith("needs_review"):
            assert got[column].tolist() == expected[column].tolist()
        else:
            assert got[column].tolist() == expected[column].tolist(), column


def test_to_queue_stores_reports_under_their_tracking_ids_once(tmp_path, cli, export, database_url):
    env = {"TRIAGE_DATABASE_URL": database_url}
    args = ["batch", str(export), "-o", str(tmp_path / "hasil.csv"), "--to-queue", "--model", MODEL]

    first, again = cli(*args, env=env), cli(*args, env=env)

    assert first.returncode == 0, first.stderr
    assert ("queued 3 complaints for review; 0 were queued already (1 with an unreadable received date stored "
            "as received now; 1 archived in LAPOR! not queued)") in first.stdout
    assert ("note: Tracking ID 7100005, column 'Tanggal Laporan Masuk': '31 Feb 2024' is not a date; stored as "
            "received now") in first.stdout
    assert again.returncode == 0, again.stderr
    assert "queued 0 complaints for review; 3 were queued already" in again.stdout
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT external_id, channel, received_at, status, suggested_opd "
                                       "FROM complaints ORDER BY external_id")).all()
    engine.dispose()
    assert [r.external_id for r in rows] == ["7100001", "7100002", "7100005"]
    assert {r.channel for r in rows} == {"lapor"} and {r.status for r in rows} == {"pending"}
    received = {r.external_id: str(r.received_at)[:19] for r in rows}  # stored as UTC
    assert received["7100001"] == "2024-02-24 06:30:21"  # 13:30:21 WIB
    assert received["7100002"] == "2024-05-24 01:05:00"
    assert rows[0].suggested_opd == "dpupr"


def test_a_file_that_is_not_a_workbook_is_a_one_line_error(tmp_path, cli):
    fake = tmp_path / "laporan.xlsx"
    fake.write_text("Tracking ID,Isi Laporan Awal\n1,jalan rusak\n")
    result = cli("batch", str(fake), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(r"laporan\.xlsx: cannot be read as an XLSX workbook .* export it as CSV", result.stderr)


def test_a_missing_column_names_the_header_row(tmp_path, cli, export):
    result = cli("batch", str(export), "-o", str(tmp_path / "out.csv"), "--id-column", "Nomor")
    assert result.returncode == 2
    assert f"field 'Nomor': no id column 'Nomor' in header row {len(BLOCK) + 1}" in result.stderr


def test_dates_as_lapor_writes_them_are_read_as_wib():
    wib = lapor.WIB
    assert lapor.received_at("2021-10-17", "03:16:47") == datetime(2021, 10, 17, 3, 16, 47, tzinfo=wib)
    assert lapor.received_at("24 Feb 2024", "13:30:21") == datetime(2024, 2, 24, 13, 30, 21, tzinfo=wib)
    assert lapor.received_at("3 Agustus 2024", None) == datetime(2024, 8, 3, tzinfo=wib)
    assert lapor.received_at("05/02/2024", "") == datetime(2024, 2, 5, tzinfo=wib)  # day first
    assert lapor.received_at("31 Feb 2024", "07:00:00") is None
    assert lapor.received_at("", "07:00:00") is None
    assert lapor.received_at("2024-02-24", "25:00:00").astimezone(timezone.utc).hour == 17  # bad time: left out


def test_lapor_names_of_the_kukar_bodies_read_back_to_their_codes():
    kukar = load_taxonomy("kukar")
    assert kukar.lapor_name("dinsos") == "Dinas Sosial Kabupaten Kutai Kartanegara"
    assert kukar.lapor_name("pdam") == kukar.labels["opd"]["pdam"].name  # no lapor_name: its name
    for code in kukar.codes("opd"):
        assert kukar.opd_of_lapor_name(kukar.lapor_name(code)) == code
        assert kukar.opd_of_lapor_name(kukar.lapor_name(code).upper()) == code
    assert kukar.opd_of_lapor_name("Dinas Sosial Kab. Kutai Kartanegara") == "dinsos"
    assert kukar.opd_of_lapor_name("Dinas Pekerjaan Umum Kabupaten Kutai Kartanegara") == "dpupr"
    assert kukar.opd_of_lapor_name("Dinas Sosial Kabupaten Bandung") is None
    assert kukar.opd_of_lapor_name("") is None


def test_a_bad_lapor_name_in_a_deployment_names_the_entry(tmp_path):
    text_ = Path(load_taxonomy("kukar").source).read_text(encoding="utf-8")
    line = next(line for line in text_.splitlines() if line.startswith("  dinsos:"))
    text_ = text_.replace(line, '  dinsos:        {name: "Dinas Sosial", functions: ["1.06"], lapor_name: 7}')
    mine = tmp_path / "mine.yaml"
    mine.write_text(text_, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"bodies\.dinsos\.lapor_name: expected a non-empty string"):
        load_taxonomy(mine)


# -- the real exports (evaluation only: read in place, never copied) --------------------------------------

REAL = {"kab_bandung": "sahlhafidzirkhami__Proyek-Saints-Data-Laporan-Aduan-Masyarakat/"
                       "kab_bandung_sp4n_lapor_2021-2024.csv",
        "samarinda": "ayucahyarani__Aduan/aduan_samarinda_2024_no_names.csv"}


@pytest.mark.parametrize("source", sorted(REAL))
def test_the_real_exports_are_classified_and_queued_by_tracking_id(tmp_path, cli, shared_dir, source):
    path = shared_dir / "corpora" / REAL[source]
    reports = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    out = tmp_path / "hasil.csv"
    env = {"TRIAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'queue.db'}"}

    result = cli("batch", str(path), "-o", str(out), "--to-queue", "--model", MODEL, env=env, timeout=300)

    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    bad = int(re.search(r"(\d+) bad rows", result.stdout).group(1)) if "bad rows" in result.stdout else 0
    assert len(frame) + bad == len(reports)
    assert frame.columns[:len(reports.columns)].tolist() == reports.columns.tolist()
    assert set(frame["Saran Instansi Terdisposisi"]) <= {load_taxonomy("kukar").lapor_name(c)
                                                         for c in load_taxonomy("kukar").codes("opd")}
    archived = frame["Status Laporan"].str.startswith("Diarsipkan").sum()
    queued = int(re.search(r"queued (\d+) complaints", result.stdout).group(1))
    assert queued == len(frame.drop_duplicates("Tracking ID")) - archived
    engine = create_engine(env["TRIAGE_DATABASE_URL"])
    with engine.connect() as connection:
        stored = set(connection.scalars(text("SELECT external_id FROM complaints")))
        channels = set(connection.scalars(text("SELECT channel FROM complaints")))
    engine.dispose()
    assert stored == set(frame.loc[~frame["Status Laporan"].str.startswith("Diarsipkan"), "Tracking ID"])
    assert channels == {"lapor"}
