"""The statistics page (admin, like ``/v1/stats``): complaints per OPD and category over time and how often
handlers keep each head's suggestion, as SVG bar charts ready for a report, with CSV and SVG downloads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from triage.api.deps import SessionDep, SuggesterDep
from triage.decisions import stats as decision_stats
from triage.errors import InvalidInputError, NotFoundError
from triage.reports import (
    PERIODS,
    AcceptanceRow,
    VolumeRow,
    acceptance,
    csv_text,
    decimal_comma,
    periods_between,
    volume,
)
from triage.taxonomy import HEADS, Taxonomy
from triage.web.charts import Chart, columns_chart, rows_chart
from triage.web.render import HEAD_NAMES, PageRoute, page, templates
from triage.web.session import AdminUserDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CSV_HEAD_NAMES = {"category": "kategori", "opd": "opd", "maladministration": "maladministrasi"}
"""The heads in CSV headers (lower case, one word)."""
PERIOD_NAMES = {"day": "Harian", "week": "Mingguan", "month": "Bulanan"}
DEFAULT_DAYS = 12 * 7
MAX_PERIODS = 400
MAX_TABLE_PERIODS = 16  # columns of the per-period tables; a longer range is in the CSV


@dataclass(frozen=True)
class StatsQuery:
    """The range, period and optional OPD or category the statistics are for."""

    date_from: date
    date_to: date
    period: str
    opd: str | None
    category: str | None

    @classmethod
    def parse(cls, request: Request, taxonomy: Taxonomy) -> StatsQuery:
        params = request.query_params
        today = datetime.now(timezone.utc).date()
        date_to = _day(params.get("sampai"), "Tanggal akhir") or today
        date_from = _day(params.get("dari"), "Tanggal awal") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise InvalidInputError(f"Rentang tanggal terbalik: dari {date_from} sampai {date_to}. Tanggal "
                                    "awal harus sebelum atau sama dengan tanggal akhir.")
        period = params.get("periode") or "week"
        if period not in PERIODS:
            raise InvalidInputError(f"Periode '{period}' tidak dikenal. Pilih harian, mingguan atau bulanan.")
        if len(periods_between(date_from, date_to, period)) > MAX_PERIODS:  # type: ignore[arg-type]
            raise InvalidInputError(f"Rentang ini terlalu panjang untuk periode "
                                    f"{PERIOD_NAMES[period].lower()}. Pilih periode yang lebih panjang "
                                    "atau rentang yang lebih pendek.")
        opd, category = params.get("opd") or None, params.get("kategori") or None
        if opd is not None:
            taxonomy.check("opd", opd)
        if category is not None:
            taxonomy.check("category", category)
        return cls(date_from=date_from, date_to=date_to, period=period, opd=opd, category=category)

    def string(self) -> str:
        params = {"dari": self.date_from.isoformat(), "sampai": self.date_to.isoformat(),
                  "periode": self.period, "opd": self.opd or "", "kategori": self.category or ""}
        return urlencode({k: v for k, v in params.items() if v})


@router.get("/statistik")
def statistics(request: Request, user: AdminUserDep, db: SessionDep, suggester: SuggesterDep) -> Response:
    taxonomy = suggester.taxonomy
    query = StatsQuery.parse(request, taxonomy)
    rows = _volume(db, query)
    accepted, summary = _acceptance(db, query), _summary(db, query)
    charts = _charts(query, rows, accepted, summary, taxonomy)
    axis = periods_between(query.date_from, query.date_to, query.period)  # type: ignore[arg-type]
    return page(request, "stats.html", {
        "axis": axis if len(axis) <= MAX_TABLE_PERIODS else None,
        "pivots": {head: _pivot(rows, head, taxonomy) for head in ("opd", "category")},
        "user": user, "query": query, "charts": charts, "summary": summary,
        "total": sum(r.complaints for r in rows),
        "acceptance_rows": accepted, "period_names": PERIOD_NAMES, "heads": HEADS,
        "options": {h: sorted(((c, lab.name) for c, lab in taxonomy.labels[h].items()), key=lambda p: p[1])
                    for h in ("opd", "category")},
        "query_string": query.string(),
    })


@router.get("/statistik/pengaduan.csv")
def volume_csv(request: Request, user: AdminUserDep, db: SessionDep, suggester: SuggesterDep) -> Response:
    """Complaints per period, OPD and category, one row each (what the charts add up)."""
    taxonomy = suggester.taxonomy
    query = StatsQuery.parse(request, taxonomy)
    rows = [[row.period.isoformat(), row.opd, taxonomy.name_of("opd", row.opd), row.category,
             taxonomy.name_of("category", row.category), row.complaints] for row in _volume(db, query)]
    return _csv(["periode_mulai", "opd", "nama_opd", "kategori", "nama_kategori", "jumlah_pengaduan"], rows,
                f"pengaduan_{query.date_from}_{query.date_to}.csv")


@router.get("/statistik/penerimaan.csv")
def acceptance_csv(request: Request, user: AdminUserDep, db: SessionDep, suggester: SuggesterDep) -> Response:
    """Per period, decisions and per head how many kept the suggestion."""
    query = StatsQuery.parse(request, suggester.taxonomy)
    header = ["periode_mulai", "keputusan", *[f"{CSV_HEAD_NAMES[h]}_dipertahankan" for h in HEADS],
              *[f"tingkat_penerimaan_{CSV_HEAD_NAMES[h]}" for h in HEADS]]
    rows = [[row.period.isoformat(), row.decisions, *[row.kept[h] for h in HEADS],
             *[decimal_comma(row.rate(h)) for h in HEADS]] for row in _acceptance(db, query)]
    return _csv(header, rows, f"penerimaan_saran_{query.date_from}_{query.date_to}.csv")


@router.get("/statistik/grafik/{chart_id}.svg")
def chart_svg(request: Request, chart_id: str, user: AdminUserDep, db: SessionDep,
              suggester: SuggesterDep) -> Response:
    """One chart as a standalone SVG file, to paste into a report."""
    taxonomy = suggester.taxonomy
    query = StatsQuery.parse(request, taxonomy)
    rows = _volume(db, query)
    charts = {c.id: c for c in _charts(query, rows, _acceptance(db, query), _summary(db, query), taxonomy)}
    if chart_id not in charts:
        raise NotFoundError(f"Grafik '{chart_id}' tidak ada. Pilih salah satu: {', '.join(charts)}.")
    body = templates.get_template("chart.svg.html").render(chart=charts[chart_id], standalone=True)
    return download(body, f"{chart_id}_{query.date_from}_{query.date_to}.svg", "image/svg+xml")


def _volume(db, query: StatsQuery) -> list[VolumeRow]:
    return volume(db, query.date_from, query.date_to, period=query.period,  # type: ignore[arg-type]
                  opd=query.opd, category=query.category)


def _acceptance(db, query: StatsQuery) -> list[AcceptanceRow]:
    return acceptance(db, query.date_from, query.date_to, period=query.period,  # type: ignore[arg-type]
                      opd=query.opd, category=query.category)


def _summary(db, query: StatsQuery) -> dict:
    return decision_stats(db, query.date_from, query.date_to, opd=query.opd, category=query.category)


def _charts(query: StatsQuery, rows: list[VolumeRow], accepted: list[AcceptanceRow], summary: dict,
            taxonomy: Taxonomy) -> list[Chart]:
    per_period: Counter[date] = Counter()
    per_opd: Counter[str] = Counter()
    per_category: Counter[str] = Counter()
    for row in rows:
        per_period[row.period] += row.complaints
        per_opd[row.opd] += row.complaints
        per_category[row.category] += row.complaints
    axis = periods_between(query.date_from, query.date_to, query.period)  # type: ignore[arg-type]
    label = "%d/%m" if query.period != "month" else "%m/%Y"
    where = _scope(query, taxonomy)
    return [
        columns_chart("waktu", f"Pengaduan diterima per periode "
                               f"({PERIOD_NAMES[query.period].lower()}){where}",
                      [(p.strftime(label), per_period[p]) for p in axis]),
        rows_chart("opd", f"Pengaduan per OPD{where}",
                   [(taxonomy.name_of("opd", c), n) for c, n in _ranked(per_opd)]),
        rows_chart("kategori", f"Pengaduan per kategori{where}",
                   [(taxonomy.name_of("category", c), n) for c, n in _ranked(per_category)]),
        rows_chart("penerimaan", f"Saran yang dipertahankan petugas ({summary['decisions']} keputusan)",
                   [(HEAD_NAMES[h], summary["acceptance"][h]["rate"] or 0) for h in HEADS],
                   maximum=1, as_percent=True),
    ]


@dataclass(frozen=True)
class PivotRow:
    """One code's complaints per period start, and in all."""

    name: str
    counts: dict[date, int]
    total: int


def _pivot(rows: list[VolumeRow], head: str, taxonomy: Taxonomy) -> list[PivotRow]:
    """Complaints per code of ``head`` (``opd`` or ``category``) and period, most complaints first."""
    counts: dict[str, Counter[date]] = {}
    for row in rows:
        counts.setdefault(getattr(row, head), Counter())[row.period] += row.complaints
    pivot = [PivotRow(name=taxonomy.name_of(head, code), counts=dict(c), total=sum(c.values()))
             for code, c in counts.items()]
    return sorted(pivot, key=lambda r: (-r.total, r.name))


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def _scope(query: StatsQuery, taxonomy: Taxonomy) -> str:
    parts = [taxonomy.name_of("opd", query.opd) if query.opd else "",
             taxonomy.name_of("category", query.category) if query.category else ""]
    parts = [p for p in parts if p]
    return f" — {', '.join(parts)}" if parts else ""


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{what} '{value}' tidak sah: tulis tanggal sebagai YYYY-MM-DD.") from None


def _csv(header: list[str], rows: list[list], filename: str) -> Response:
    return download(csv_text(header, rows), filename, "text/csv")


def download(body: str, filename: str, media_type: str) -> Response:
    """``body`` as a file to save (``filename``)."""
    return Response(body, media_type=f"{media_type}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
