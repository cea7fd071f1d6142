"""Figures over time (triage.reports), the chart geometry and the statistics page with its downloads."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tests.web.conftest import PU_COMPLAINT, WATER_COMPLAINT, post_complaint, sign_in
from triage.reports import acceptance, period_start, periods_between, volume
from triage.taxonomy import HEADS
from triage.web.charts import _nice_step, columns_chart, rows_chart


def test_period_start_folds_days_into_weeks_and_months():
    wednesday = date(2026, 11, 18)
    assert period_start(wednesday, "day") == wednesday
    assert period_start(wednesday, "week") == date(2026, 11, 16)
    assert period_start(wednesday, "month") == date(2026, 11, 1)
    assert periods_between(date(2026, 11, 20), date(2027, 1, 5), "month") == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    assert len(periods_between(date(2026, 11, 16), date(2026, 11, 29), "week")) == 2


FIXED_NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
"""The clock while the history below is made and read: the decisions fall in November 2026 whatever today is."""

ROAD = {"category": "pekerjaan_umum", "opd": "dpupr", "maladministration": "penundaan_berlarut"}
WATER = {"category": "air_minum", "opd": "dinsos", "maladministration": "bukan_maladministrasi"}


@pytest.fixture
def history(client, handler, time_machine) -> dict[str, int]:
    """Three complaints over two weeks (two of them in one week), each decided on :data:`FIXED_NOW` (so the
    routing in force does not depend on the model); returns, per head, how many decisions kept the
    suggestion. The clock stays fixed near :data:`FIXED_NOW` for the rest of the test."""
    time_machine.move_to(FIXED_NOW, tick=True)
    kept = dict.fromkeys(HEADS, 0)
    for text, when, codes in ((PU_COMPLAINT, "2026-11-03T09:00:00+00:00", ROAD),
                              (PU_COMPLAINT + " Lagi.", "2026-11-05T09:00:00+00:00", ROAD),
                              (WATER_COMPLAINT, "2026-11-12T09:00:00+00:00", WATER)):
        complaint = post_complaint(client, handler, text, received_at=when)
        response = client.post(f"/v1/complaints/{complaint['id']}/decisions", json=codes,
                               headers=handler.headers)
        assert response.status_code == 201, response.text
        for head in HEADS:
            kept[head] += codes[head] == complaint["suggestion"][head]["code"]
    return kept


def test_volume_counts_complaints_per_period_opd_and_category(client, history, database_url):
    from triage.db import make_engine, make_sessions

    engine = make_engine(database_url)
    with make_sessions(engine)() as db:
        weekly = volume(db, date(2026, 11, 1), date(2026, 11, 30), period="week")
        monthly = volume(db, period="month")
        only_dinsos = volume(db, period="month", opd="dinsos")
        decided = acceptance(db, period="month")
    engine.dispose()

    first_week = [r for r in weekly if r.period == date(2026, 11, 2)]
    assert [(r.opd, r.complaints) for r in first_week] == [("dpupr", 2)]
    assert sum(r.complaints for r in monthly) == 3 and {r.period for r in monthly} == {date(2026, 11, 1)}
    assert [(r.opd, r.category, r.complaints) for r in only_dinsos] == [("dinsos", "air_minum", 1)]
    assert [(r.period, r.decisions, r.kept) for r in decided] == [(date(2026, 11, 1), 3, history)]
    assert decided[0].rate("opd") == history["opd"] / 3


def test_charts_scale_bars_to_the_largest_value():
    chart = rows_chart("opd", "Per OPD", [("A", 10), ("B", 5)])
    assert chart.bars[0].width == 2 * chart.bars[1].width
    assert rows_chart("x", "x", [(str(i), 1) for i in range(20)], limit=5).bars[-1].label == "Lainnya"
    columns = columns_chart("waktu", "Per minggu", [("01/11", 0), ("08/11", 7)])
    assert columns.bars[0].height == 0 and columns.bars[1].height > 0
    assert columns.grid[-1][1] == "8"
    assert columns_chart("waktu", "kosong", [("01/11", 0)]).empty
    assert [_nice_step(v) for v in (3, 9, 40, 130, 2500)] == [1, 5, 10, 50, 1000]


def test_the_statistics_page_draws_the_charts(client, admin, history):
    sign_in(client, admin)

    html = client.get("/statistik", params={"dari": "2026-11-01", "sampai": "2026-11-30"}).text

    assert html.count('<svg class="chart') == 4
    assert "Dinas Pekerjaan Umum dan Penataan Ruang" in html and "Dinas Sosial" in html
    assert "3 keputusan" in html


def test_the_csv_downloads_hold_the_numbers_behind_the_charts(client, admin, history):
    sign_in(client, admin)
    params = {"dari": "2026-11-01", "sampai": "2026-11-30", "periode": "week"}

    volume_csv = client.get("/statistik/pengaduan.csv", params=params)
    acceptance_csv = client.get("/statistik/penerimaan.csv", params={"periode": "month"})

    assert volume_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="pengaduan_2026-11-01_2026-11-30.csv"' in volume_csv.headers["content-disposition"]
    assert volume_csv.content.decode("utf-8-sig").splitlines() == [
        "periode_mulai;opd;nama_opd;kategori;nama_kategori;jumlah_pengaduan",
        "2026-11-02;dpupr;Dinas Pekerjaan Umum dan Penataan Ruang;pekerjaan_umum;"
        "Pekerjaan Umum dan Penataan Ruang;2",
        "2026-11-09;dinsos;Dinas Sosial;air_minum;Program Pengelolaan dan Pengembangan Sistem Penyediaan Air Minum;1",
    ]
    rows = acceptance_csv.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("periode_mulai;keputusan;kategori_dipertahankan")
    assert rows[1].split(";")[1:5] == ["3", *(str(history[h]) for h in HEADS)]


def test_a_chart_downloads_as_a_standalone_svg(client, admin, history):
    sign_in(client, admin)

    response = client.get("/statistik/grafik/opd.svg", params={"dari": "2026-11-01"})

    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    assert client.get("/statistik/grafik/rahasia.svg").status_code == 404


@pytest.mark.parametrize("params, message", [
    ({"dari": "kemarin"}, "Tanggal awal"),
    ({"dari": "2026-12-01", "sampai": "2026-11-01"}, "terbalik"),
    ({"periode": "tahunan"}, "Periode"),
    ({"dari": "2000-01-01", "periode": "day"}, "terlalu panjang"),
])
def test_statistics_explain_bad_parameters(client, admin, params, message):
    sign_in(client, admin)

    response = client.get("/statistik", params=params)

    assert response.status_code == 422 and message in response.text
