"""Realism report: surface statistics of the seed corpora beside the real complaint exports (issue 15).

    python training_data/realism.py [--shared ../shared] [--ranges]

Prints one row per statistic and one column per corpus: the national corpus (the assembled
``training_data/national/{train,test}.jsonl`` if present, else the writers' drafts
``training_data/national/drafts/*.jsonl``), the kukar corpus (``training_data/kukar/{train,test}.jsonl``) and,
when the shared folder is there, each real export of ``triage.realdata.SOURCES`` (Surabaya, Kab. Bandung,
Samarinda). Without the shared folder only the corpus columns are printed.

The real exports are evaluation-only and unlicensed: this script reads their texts to count, and prints
counts only. It never prints, stores or returns any of their text.

``--ranges`` also prints the markdown table of agreed ranges (min and max over the three exports, widened by
:data:`SHARE_MARGIN` / :data:`LONGEST_MARGIN`), the table that ``training_data/README.md`` holds under
"Realism ranges" and ``tests/data/test_realism.py`` enforces.

Every statistic is a function ``list[str] -> float`` in :data:`STATISTICS`, importable on its own.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
NATIONAL_DIR = HERE / "national"
KUKAR_DIR = HERE / "kukar"
DEFAULT_SHARED = PROJECT_ROOT.parent / "shared"

SHARE_MARGIN = 0.02
"""Ranges of share statistics are widened by 2 percentage points on each side (clamped to 0..1)."""
LONGEST_MARGIN = 0.10
"""The range of the longest text is widened by 10% on each side."""


# --- per-text tests -----------------------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """Whitespace-separated tokens that hold at least one letter or digit (so "-" and emoji do not count)."""
    return [t for t in text.split() if any(c.isalnum() for c in t)]


_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|co\.id|go\.id|id|net|org|ly|me)(?:/\S*)?\b",
                  re.IGNORECASE)
_MISSING_SPACE = re.compile(r"[^\W\d_][.,][^\W\d_]")
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
_GREETING = re.compile(
    r"^\W*(?:selamat\s+(?:pagi|siang|sore|malam|petang)|slmt\s+(?:pagi|siang|sore|malam)"
    r"|met\s+(?:pagi|siang|sore|malam)|ass?alam\w*|asslm\w*|ass?wr\w*|ass?ww\w*|aslkm\w*|salam|permisi|punten|sampurasun"
    r"|hal+o+|hai|hi|hey|pagi|siang|sore|malam|om\s+swastiastu|shalom)\b",
    re.IGNORECASE)
_THANKS = re.compile(r"\b(?:terima\s*kasih|trima\s*kasih|makasi|trims|thx|thanks|thank\s+you|tq\b|"
                     r"matur\s+nuwun|hatur\s+nuhun)", re.IGNORECASE)
_SAYA = re.compile(r"\bsaya\b", re.IGNORECASE)
_KAMI = re.compile(r"\bkami\b", re.IGNORECASE)
_HORMAT = re.compile(r"^\W*(?:[^\s]+\s+){0,8}?dengan\s+hormat\b", re.IGNORECASE)


def ends_with_stop(text: str) -> bool:
    """The text's last visible character is . ! or ? (closing quotes/brackets and emoji ignored)."""
    stripped = _EMOJI.sub("", text).rstrip(" \t\n\"')]")
    return stripped[-1:] in {".", "!", "?"}


def missing_space(text: str) -> bool:
    """Somewhere a letter, then . or , then a letter with no space ("skrg blm nyala,kulkas"); URLs ignored;
    numbers ("3.500", "2,5") are not counted."""
    return bool(_MISSING_SPACE.search(_URL.sub(" ", text)))


def starts_lower(text: str) -> bool:
    """The first letter of the text is lower case."""
    for char in text:
        if char.isalpha():
            return char.islower()
    return False


def has_line_break(text: str) -> bool:
    return "\n" in text.strip()


def has_emoji(text: str) -> bool:
    return bool(_EMOJI.search(text))


def has_url(text: str) -> bool:
    return bool(_URL.search(text))


def opens_with_greeting(text: str) -> bool:
    """Opens with selamat pagi/siang/sore/malam, assalamualaikum (and its short forms), permisi, punten,
    halo/hai, or a bare "pagi/siang/sore/malam" ("pagi min")."""
    return bool(_GREETING.match(text))


def mentions_thanks(text: str) -> bool:
    """"terima kasih", "makasih" and their common spellings (trims, thx, matur nuwun, hatur nuhun)."""
    return bool(_THANKS.search(text))


def has_saya(text: str) -> bool:
    return bool(_SAYA.search(text))


def has_kami(text: str) -> bool:
    return bool(_KAMI.search(text))


def opens_with_dengan_hormat(text: str) -> bool:
    """"Dengan hormat" within the first nine words (after a salutation such as "Yth. Bapak Bupati")."""
    return bool(_HORMAT.match(text))


# --- corpus statistics ------------------------------------------------------------------------------------

def share(texts: list[str], test: Callable[[str], bool]) -> float:
    """Share of ``texts`` for which ``test`` holds (0.0 for no texts)."""
    return sum(1 for t in texts if test(t)) / len(texts) if texts else 0.0


def share_over_100_words(texts: list[str]) -> float:
    return share(texts, lambda t: len(words(t)) > 100)


def longest_words(texts: list[str]) -> float:
    return float(max((len(words(t)) for t in texts), default=0))


def share_under_10_words(texts: list[str]) -> float:
    return share(texts, lambda t: len(words(t)) < 10)


@dataclass(frozen=True)
class Statistic:
    """One statistic. ``compute`` takes the texts; a ``labelled`` statistic is computed from :func:`naming`
    instead (it needs each text's responsible body) and its ``compute`` is ``None``."""

    key: str
    label: str
    compute: Callable[[list[str]], float] | None
    is_share: bool = True
    labelled: bool = False


STATISTICS: dict[str, Statistic] = {s.key: s for s in (
    Statistic("over_100_words", "texts over 100 words", share_over_100_words),
    Statistic("longest_words", "longest text (words)", longest_words, is_share=False),
    Statistic("under_10_words", "texts under 10 words", share_under_10_words),
    Statistic("ends_with_stop", "ends with . ! ?", lambda ts: share(ts, ends_with_stop)),
    Statistic("missing_space", "no space after . or , somewhere", lambda ts: share(ts, missing_space)),
    Statistic("starts_lower", "starts in lower case", lambda ts: share(ts, starts_lower)),
    Statistic("line_breaks", "has line breaks", lambda ts: share(ts, has_line_break)),
    Statistic("emoji", "has emoji", lambda ts: share(ts, has_emoji)),
    Statistic("urls", "has a URL", lambda ts: share(ts, has_url)),
    Statistic("greeting", "opens with a greeting", lambda ts: share(ts, opens_with_greeting)),
    Statistic("thanks", "mentions terima kasih / makasih", lambda ts: share(ts, mentions_thanks)),
    Statistic("saya", "has \"saya\"", lambda ts: share(ts, has_saya)),
    Statistic("kami", "has \"kami\"", lambda ts: share(ts, has_kami)),
    Statistic("dengan_hormat", "opens with \"Dengan hormat\"", lambda ts: share(ts, opens_with_dengan_hormat)),
    Statistic("names_body", "names its responsible body", None, labelled=True),
)}


def statistics(texts: list[str], named: list[bool | None] | None = None) -> dict[str, float]:
    """Every statistic of :data:`STATISTICS` for ``texts``; ``named`` (one entry per text, :func:`naming`)
    gives the labelled ones, which are left out without it."""
    out = {key: stat.compute(texts) for key, stat in STATISTICS.items() if not stat.labelled}
    if named is not None:
        counted = [n for n in named if n is not None]
        out["names_body"] = sum(counted) / len(counted) if counted else 0.0
    return out


# --- naming the responsible body ------------------------------------------------------------------------------

_OFFICE_WORDS = {
    "kecamatan": r"kecamatan|kantor camat|pak camat|bu camat|camat",
    "kelurahan": r"kelurahan|kantor lurah|pak lurah|bu lurah|lurah",
    "desa": r"kepala desa|kades|pemdes|pemerintah desa|balai desa|kantor desa|perangkat desa|aparat desa|pak desa",
}
"""A kecamatan, kelurahan or desa office is named when the text names an office of its kind (the place alone,
"Desa Loa Ipuh", is an address, except for "kelurahan"/"kecamatan" which are both)."""


def _body_pattern(taxonomy, body: str) -> re.Pattern | None:
    """Names of one body as a text would give them: its name and aliases as the SOTK file has them (for a
    destination outside the pemda also its code, "pln"), compared as :func:`triage.sotk.plain_name` compares."""
    from triage.sotk import plain_name

    kind = body[1:] if body.startswith("@") else None
    label = taxonomy.labels["opd"].get(body)
    if label is not None and label.kind in _OFFICE_WORDS:
        kind = label.kind
    if kind in _OFFICE_WORDS:
        return re.compile(r"\b(?:" + _OFFICE_WORDS[kind] + r")\b")
    if label is None:
        return None
    names = {plain_name(n) for n in (label.name, *getattr(label, "aliases", ()))}
    if label.kind == "outside":
        names.add(plain_name(body.replace("_", " ")))
    names = sorted((n for n in names if len(n) >= 3), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b") if names else None


def naming(rows: Iterable[tuple[str, str, tuple[str, ...]]]) -> list[bool | None]:
    """For each ``(text, deployment, bodies)`` (the bodies responsible for it in that deployment), whether the
    text names one of them; ``None`` for a text no body is responsible for (an outcome such as ``kosong``)."""
    from triage.sotk import plain_name
    from triage.taxonomy import load_taxonomy

    patterns: dict[tuple[str, str], re.Pattern | None] = {}
    out: list[bool | None] = []
    for text, deployment, bodies in rows:
        if not bodies:
            out.append(None)
            continue
        plain = plain_name(text)
        found = False
        for body in bodies:
            key = (deployment, body)
            if key not in patterns:
                patterns[key] = _body_pattern(load_taxonomy(deployment), body)
            if patterns[key] is not None and patterns[key].search(plain):
                found = True
                break
        out.append(found)
    return out


# --- corpora ------------------------------------------------------------------------------------------------

def _jsonl_texts(paths: Iterable[Path]) -> list[str]:
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    return texts


def national_paths(folder: Path = NATIONAL_DIR) -> list[Path]:
    """The national corpus the models learn from: its assembled train split if present, else the writers'
    drafts."""
    if (folder / "train.jsonl").is_file():
        return [folder / "train.jsonl"]
    return sorted((folder / "drafts").glob("*.jsonl"))


def national_texts(folder: Path = NATIONAL_DIR) -> list[str]:
    return _jsonl_texts(national_paths(folder))


def kukar_paths(folder: Path = KUKAR_DIR) -> list[Path]:
    """The kukar corpus the models learn from: its train split (its test split is kept as first written, the
    fixed benchmark of issue 3's targets)."""
    return [p for p in (folder / "train.jsonl",) if p.is_file()]


def kukar_texts(folder: Path = KUKAR_DIR) -> list[str]:
    return _jsonl_texts(kukar_paths(folder))


def _jsonl_rows(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


def national_naming(folder: Path = NATIONAL_DIR) -> list[bool | None]:
    """:func:`naming` of the national corpus: each line read in the deployment of its voice (``umum``: kukar),
    responsible the bodies its code routes to there (a territorial code: an office of its kind; an outcome:
    none)."""
    from triage.route import Router
    from triage.taxonomy import load_taxonomy, shipped_deployments

    routers: dict[str, Router] = {}
    rows = []
    for row in _jsonl_rows(national_paths(folder)):
        deployment = row.get("voice") if row.get("voice") in shipped_deployments() else "kukar"
        router = routers.get(deployment) or routers.setdefault(deployment, Router(load_taxonomy(deployment)))
        code = router.taxonomy.canonical("category", row["category"])
        kind = router.taxonomy.labels["category"][code].kind
        if code in router.territorial:
            bodies = ("@" + router.territorial[code],)
        elif kind == "outcome":
            bodies = ()
        else:
            bodies = tuple(router.candidates[code])
        rows.append((row["text"], deployment, bodies))
    return naming(rows)


def kukar_naming(folder: Path = KUKAR_DIR) -> list[bool | None]:
    """:func:`naming` of the kukar corpus: each line's own OPD label."""
    return naming((row["text"], "kukar", (row["opd"],)) for row in _jsonl_rows(kukar_paths(folder)))


def _real_frames(shared: Path):
    """``(name, frame)`` of each real export present under ``shared`` (``triage.realdata.SOURCES``)."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from triage.realdata import SOURCES, read_source

    for name, source in SOURCES.items():
        path = source.path(shared)
        if path.is_file():
            yield name, read_source(path, source)


def real_texts(shared: Path) -> dict[str, list[str]]:
    """Texts of each real export (cleaned as the real-data evaluation cleans them; empty texts left out).
    Empty dict when the shared folder or a source is missing. For counting only: never write them out."""
    from triage.realdata import clean_text

    return {name: [t for t in (clean_text(raw) for raw in frame["text"]) if t] for name, frame in _real_frames(shared)}


def real_naming(shared: Path) -> dict[str, list[bool | None]]:
    """:func:`naming` of each real export's disposed rows, responsible the body they were disposed to (read
    through the pemda's SOTK file; the pemda's own account counts as none). For counting only."""
    from triage.realdata import routing_records
    from triage.taxonomy import load_taxonomy

    found = {}
    for name, frame in _real_frames(shared):
        taxonomy = load_taxonomy(name)
        found[name] = naming((r["text"], name, () if taxonomy.labels["opd"][r["opd"]].kind == "pemda" else (r["opd"],))
                             for r in routing_records(frame, taxonomy, name))
    return found


def ranges(real: dict[str, dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Agreed range per statistic: min and max over the real exports, widened by the stated margins."""
    out = {}
    for key, stat in STATISTICS.items():
        values = [figures[key] for figures in real.values()]
        low, high = min(values), max(values)
        if stat.is_share:
            out[key] = (max(0.0, low - SHARE_MARGIN), min(1.0, high + SHARE_MARGIN))
        else:
            out[key] = (float(int(low * (1 - LONGEST_MARGIN))), float(int(high * (1 + LONGEST_MARGIN) + 0.999)))
    return out


def fmt(stat: Statistic, value: float) -> str:
    return f"{value:.1%}" if stat.is_share else f"{value:.0f}"


def ranges_table(limits: dict[str, tuple[float, float]]) -> str:
    """The markdown table ``tests/data/test_realism.py`` reads (shares as fractions with 3 decimals)."""
    lines = ["| statistic | min | max |", "|---|---|---|"]
    for key, (low, high) in limits.items():
        if STATISTICS[key].is_share:
            lines.append(f"| {key} | {low:.3f} | {high:.3f} |")
        else:
            lines.append(f"| {key} | {low:.0f} | {high:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="the shared folder holding corpora/ (default: ../shared); optional")
    parser.add_argument("--ranges", action="store_true", help="also print the ranges table for the datasheet")
    args = parser.parse_args(argv)

    columns: dict[str, list[str]] = {"national": national_texts(), "kukar": kukar_texts()}
    named = {"national": national_naming(), "kukar": kukar_naming()}
    columns["both"] = columns["national"] + columns["kukar"]
    named["both"] = named["national"] + named["kukar"]
    real = real_texts(args.shared) if args.shared.is_dir() else {}
    columns.update(real)
    if real:
        named.update(real_naming(args.shared))
    figures = {name: statistics(texts, named.get(name)) for name, texts in columns.items()}

    width = max(len(s.label) for s in STATISTICS.values()) + 2
    header = "statistic".ljust(width) + "".join(f"{name:>13}" for name in columns)
    print(f"national corpus: {', '.join(str(p.relative_to(PROJECT_ROOT)) for p in national_paths())}")
    if not real:
        print(f"(no real exports under {args.shared}: corpus columns only)")
    print(header)
    print("texts".ljust(width) + "".join(f"{len(texts):>13}" for texts in columns.values()))
    for key, stat in STATISTICS.items():
        print(stat.label.ljust(width) + "".join(f"{fmt(stat, figures[name][key]) if key in figures[name] else '-':>13}"
                                                 for name in columns))
    if args.ranges:
        if len(real) < 3:
            print("--ranges needs the three real exports", file=sys.stderr)
            return 1
        print()
        print(ranges_table(ranges({name: figures[name] for name in real})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
