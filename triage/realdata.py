"""Real public complaints as evaluation files: SP4N-LAPOR!/Media Center exports mapped onto kukar OPDs.

The shared corpora (``../shared/corpora/``) hold three exports whose rows carry the body a complaint was
dispositioned to: Surabaya's Media Center, Kab. Bandung's and Kota Samarinda's SP4N-LAPOR!. A reviewed map
per source (``training_data/realdata/<source>_opd_map.csv``: ``source_body, kukar_opd, n_rows, note``) turns
each body into a kukar OPD code, or into nothing (blank: the rows are dropped). :func:`build_source` reads
a source, cleans its texts, applies the map and returns the records of an evaluation file; each record is
``{"id", "text", "opd", "category", "source_body"}`` and is readable by :func:`triage.dataset.read_jsonl`.

``category`` is derived from the OPD by the one-to-one routing table of the labelling guidelines
(:data:`OPD_CATEGORY`): under those rules every OPD but the Inspektorat receives exactly one category, so
the category is as good as the OPD label and adds no noise of its own. Rows routed to the Inspektorat
(whose category follows the fund or sector, not the body) are dropped, so that every line of a file
carries the same heads.

No licence is stated for these corpora: the files are for evaluation only and never enter training data
or the package.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import DataError
from triage.taxonomy import Taxonomy

if TYPE_CHECKING:
    import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = PROJECT_ROOT.parent / "shared"
DEFAULT_OUT = PROJECT_ROOT / "evaluation"
MAPS_DIR = PROJECT_ROOT / "training_data" / "realdata"

MIN_WORDS = 3
"""Texts of fewer words ("pju mati", "tes") are dropped: too little to route."""

EMPTY_BODY = "(kosong)"
"""How the maps name rows that were never dispositioned to a body."""

OPD_CATEGORY: dict[str, str] = {
    "dinkes": "kesehatan", "rsud": "kesehatan", "disdikbud": "pendidikan", "dpupr": "infrastruktur",
    "perkim": "perumahan_permukiman", "disdukcapil": "kependudukan", "dlhk": "lingkungan_hidup",
    "dishub": "perhubungan", "dinsos": "sosial", "dpmptsp": "perizinan", "bapenda": "pajak_retribusi",
    "disnakertrans": "ketenagakerjaan", "satpolpp": "ketertiban_umum", "bpbd": "kebencanaan",
    "pdam": "air_bersih", "dpmd": "pemerintahan_desa", "bkpsdm": "kepegawaian", "distanak": "pertanian",
    "disperindag": "perdagangan", "diskominfo": "komunikasi_informatika",
}
"""Category of each kukar OPD, from GUIDELINES.md's routing table; ``inspektorat`` has none."""

# Reasons a row is dropped, in the order they are checked.
DROP_UNMAPPED = "body not in map"
DROP_NO_OPD = "body has no kukar OPD"
DROP_SHORT = f"text under {MIN_WORDS} words"
DROP_NO_CATEGORY = "OPD has no single category"
DROP_DUPLICATE = "duplicate text"


@dataclass(frozen=True)
class Source:
    """Where one corpus lives in the shared folder and which of its columns to read."""

    name: str
    folder: str
    file: str
    text_column: str
    body_column: str
    id_column: str

    def path(self, shared: str | Path) -> Path:
        """The source CSV under the shared folder ``shared``."""
        return Path(shared) / "corpora" / self.folder / self.file


SOURCES: dict[str, Source] = {
    "surabaya": Source("surabaya", "jaal047__Project_Capstone_LaskarAI_KeluhCerdas-",
                       "surabaya_mediacenter_2022-01_2023-06.csv", "keluhan", "instansi", "id"),
    # SP4N-LAPOR! exports: "Isi Laporan Awal" is the citizen's own text ("Akhir" is admin-edited).
    "kab_bandung": Source("kab_bandung", "sahlhafidzirkhami__Proyek-Saints-Data-Laporan-Aduan-Masyarakat",
                          "kab_bandung_sp4n_lapor_2021-2024.csv", "Isi Laporan Awal", "Instansi Terdisposisi",
                          "Tracking ID"),
    "samarinda": Source("samarinda", "ayucahyarani__Aduan", "aduan_samarinda_2024_no_names.csv",
                        "Isi Laporan Awal", "Instansi Terdisposisi", "Tracking ID"),
}


@dataclass
class BuildReport:
    """What :func:`build_source` did with one source."""

    source: str
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    opd: Counter = field(default_factory=Counter)
    path: Path | None = None


def load_map(path: str | Path, taxonomy: Taxonomy) -> dict[str, str | None]:
    """Read a reviewed map: source body -> OPD code of ``taxonomy``, or ``None`` (drop that body's rows)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("map file not found. Expected a CSV with columns source_body, kukar_opd, n_rows, "
                        "note.", path=str(path))
    mapping: dict[str, str | None] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"source_body", "kukar_opd"} - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"expected columns source_body, kukar_opd, n_rows, note; missing "
                            f"{sorted(missing)}.", path=str(path))
        for number, row in enumerate(reader, 2):
            body = (row["source_body"] or "").strip()
            if not body:
                raise DataError("empty source_body. Name the body, or '(kosong)' for undispositioned rows.",
                                path=str(path), line=number, field="source_body")
            if body in mapping:
                raise DataError(f"body '{body}' is mapped twice. Keep one row per body.", path=str(path),
                                line=number, field="source_body")
            code = (row["kukar_opd"] or "").strip()
            if code and code not in taxonomy.labels["opd"]:
                known = ", ".join(taxonomy.codes("opd"))
                raise DataError(f"'{code}' is not an OPD code of deployment '{taxonomy.code}'. Known codes: "
                                f"{known}. Fix the code or leave it blank to drop the body's rows.",
                                path=str(path), line=number, field="kukar_opd")
            mapping[body] = code or None
    return mapping


def read_source(path: str | Path, source: Source) -> pd.DataFrame:
    """Read a source CSV as text: columns ``id``, ``text``, ``body`` (``(kosong)`` where empty)."""
    import pandas as pd  # here, not at import time: every `triage` command imports this module

    path = Path(path)
    if not path.is_file():
        raise DataError(f"corpus '{source.name}' not found. Expected the CSV of the shared corpora; give the "
                        "shared folder with --shared.", path=str(path))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot be read as a UTF-8 CSV ({exc}).", path=str(path)) from None
    columns = [source.id_column, source.text_column, source.body_column]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"expected columns {columns}; missing {missing}. Is this the right export?",
                        path=str(path))
    body = frame[source.body_column].str.strip()
    return pd.DataFrame({"id": frame[source.id_column].str.strip(), "text": frame[source.text_column],
                         "body": body.mask(body == "", EMPTY_BODY)})


_ESCAPED_BREAK = re.compile(r"\\[rnt]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def clean_text(text: str) -> str:
    """Undo export damage: literal ``\\n`` escapes become line breaks; runs of spaces collapse; stripped."""
    text = _ESCAPED_BREAK.sub(lambda m: "\n" if m.group(0) != "\\t" else " ", text)
    text = _SPACES.sub(" ", text.replace("\r", "\n"))
    return _BLANK_LINES.sub("\n", text).strip()


def build_source(frame: pd.DataFrame, mapping: dict[str, str | None],
                 source: str) -> tuple[list[dict], BuildReport]:
    """Records of an evaluation file from a frame of :func:`read_source`, with what was dropped and why."""
    report = BuildReport(source=source, read=len(frame))
    records: list[dict] = []
    seen: set[str] = set()
    for row_id, raw, body in frame[["id", "text", "body"]].itertuples(index=False):
        if body not in mapping:
            report.dropped[DROP_UNMAPPED] += 1
            continue
        opd = mapping[body]
        if opd is None:
            report.dropped[DROP_NO_OPD] += 1
            continue
        text = clean_text(raw)
        if len(text.split()) < MIN_WORDS:
            report.dropped[DROP_SHORT] += 1
            continue
        category = OPD_CATEGORY.get(opd)
        if category is None:
            report.dropped[DROP_NO_CATEGORY] += 1
            continue
        key = " ".join(text.lower().split())
        if key in seen:
            report.dropped[DROP_DUPLICATE] += 1
            continue
        seen.add(key)
        records.append({"id": f"{source}-{row_id}", "text": text, "opd": opd, "category": category,
                        "source_body": body})
        report.opd[opd] += 1
    report.kept = len(records)
    return records, report


def write_jsonl(records: list[dict], path: str | Path) -> Path:
    """Write ``records`` one JSON object a line (UTF-8, not ASCII-escaped); parent folders are made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def build_all(taxonomy: Taxonomy, shared: str | Path = DEFAULT_SHARED, out: str | Path = DEFAULT_OUT,
              maps_dir: str | Path = MAPS_DIR, sources: list[str] | None = None) -> list[BuildReport]:
    """Write ``<out>/<source>.jsonl`` for each source; every input is checked before any file is written."""
    shared = Path(shared)
    if not shared.is_dir():
        raise DataError("shared folder not found. Expected the folder holding corpora/; give it with "
                        "--shared.", path=str(shared))
    names = sources or list(SOURCES)
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise DataError(f"unknown source(s) {unknown}. Known sources: {', '.join(SOURCES)}.")
    for name in names:
        if not SOURCES[name].path(shared).is_file():
            read_source(SOURCES[name].path(shared), SOURCES[name])  # raises the one-line error
    maps = {name: load_map(Path(maps_dir) / f"{name}_opd_map.csv", taxonomy) for name in names}
    reports = []
    for name in names:
        source = SOURCES[name]
        records, report = build_source(read_source(source.path(shared), source), maps[name], name)
        report.path = write_jsonl(records, Path(out) / f"{name}.jsonl")
        reports.append(report)
    return reports


def routing_records(frame: pd.DataFrame, taxonomy: Taxonomy, source: str) -> list[dict]:
    """Every disposed row of a source frame as ``{"id", "text", "opd", "source_body"}``, the body read through
    the pemda's own SOTK file (``taxonomy`` built from it): nothing dropped but rows never dispositioned
    (and none is left unmapped: the SOTK files cover every body of their exports, a test keeps it so).
    :class:`DataError` naming the body if one is not in the SOTK file."""
    records = []
    for row_id, raw, body in frame[["id", "text", "body"]].itertuples(index=False):
        if body == EMPTY_BODY:
            continue
        code = taxonomy.opd_of_lapor_name(body)
        if code is None:
            raise DataError(f"body '{body}' of source '{source}' is not a body of deployment '{taxonomy.code}'. "
                            "Add it (or its name as an alias) to the deployment's SOTK file.")
        records.append({"id": f"{source}-{row_id}", "text": clean_text(raw) or raw, "opd": code, "source_body": body})
    return records
