"""Habits of real messages added by a seeded script to a share of a corpus's lines (issue 15).

    python training_data/texture.py --corpus national --out training_data/national/texture.jsonl \
        [--corrections FILE ...] [--RATE SHARE ...] training_data/national/drafts/*.jsonl
    python training_data/texture.py --corpus kukar --out training_data/kukar/texture.jsonl [--RATE SHARE ...] \
        --rewrites training_data/kukar/rewrites.jsonl --apply

Writers wrote the matter, the voice, the length, the misspellings, the body named or not, and most openings,
closings and pronouns of every text by hand (the national drafts, the rewrites). What they could not reach in
the time there was, on a corpus of 10,000 lines, is left to this script, for a stated share of lines each:

* ``--saya``: told by one person: "kami" becomes "saya" (not where it speaks for a named group, "kami para
  pedagang");
* ``--greeting``: a greeting opens the message ("Selamat pagi", "Assalamualaikum", "Punten" in a Sundanese
  voice, ...: :data:`GREETINGS`);
* ``--thanks``: a thanks closing ends it ("terima kasih", "makasih min", "matur nuwun" in a Surabaya voice, ...:
  :data:`CLOSINGS`);
* ``--drop-stop``: the message just stops (a final full stop dropped);
* ``--squeeze``: no space after a comma or full stop, once in the message ("sudah lapor,belum ada");
* ``--lower``: the message starts in lower case.

A closing or a greeting does not change what a complaint is about: the guidelines label by the matter, and "a
closing terima kasih never decides" (GUIDELINES section 4). Each rate is the share of the corpus's lines to
change, drawn among the lines that do not have the habit yet, with ``random.Random(SEED)``. The output is a
corrections file (``{"id", "field": "text", "old", "new", "reason"}``, the format ``assemble.py`` applies with
``--corrections``), so every change is on record beside the text it changed. For the national corpus the lines
are read as ``assemble.py`` reads them (drafts with the given corrections applied); for the kukar corpus, its
train split (``--apply`` then writes the changes into it): its test split stays as first written, the fixed
benchmark issue 3's targets are held on.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261204

_STOP = re.compile(r"\.\s*$")
_SPACED = re.compile(r"(?<=[^\W\d_])([.,]) (?=[^\W\d_])")
_SQUEEZED = re.compile(r"[^\W\d_][.,][^\W\d_]")


def drop_stop(text: str, rnd: random.Random, voice: str | None = None) -> str | None:
    """``text`` without its final full stop (not "...", "?" or "!"), or ``None`` if it has none."""
    stripped = text.rstrip()
    if not _STOP.search(stripped) or stripped.endswith(".."):
        return None
    return stripped[:-1].rstrip()


def squeeze(text: str, rnd: random.Random, voice: str | None = None) -> str | None:
    """``text`` with the space after one comma or full stop between two words removed, or ``None``."""
    if _SQUEEZED.search(text):
        return None
    spots = list(_SPACED.finditer(text))
    if not spots:
        return None
    spot = rnd.choice(spots)
    return text[:spot.start()] + spot.group(1) + text[spot.end():]


def lower_first(text: str, rnd: random.Random, voice: str | None = None) -> str | None:
    """``text`` with its first letter in lower case, or ``None`` if it is already, or is an acronym ("PJU")."""
    for i, char in enumerate(text):
        if char.isalpha():
            word = re.match(r"\w+", text[i:]).group(0)
            if char.islower() or (len(word) > 1 and word.isupper()):
                return None
            return text[:i] + char.lower() + text[i + 1:]
    return None


CLOSINGS = {
    "": ("terima kasih", "Terima kasih", "terimakasih", "Terimakasih", "makasih", "makasih min", "trims",
         "Terima kasih atas perhatiannya", "terima kasih banyak", "mohon dibantu, terima kasih",
         "mohon ditindaklanjuti terima kasih", "Terima kasih pak", "tks", "trimakasih"),
    "surabaya": ("matur nuwun", "Matur nuwun", "suwun", "matur suwun"),
    "kab_bandung": ("hatur nuhun", "Hatur nuhun", "nuhun"),
    "kalsel": ("terima kasih banyak lah", "makasih pian"),
}
"""Closings people type at the end of a complaint, by voice (``""``: every voice); a voice draws from its own
and the common ones."""
GREETINGS = {
    "": ("Selamat pagi", "Selamat siang", "selamat sore", "Selamat malam", "Assalamualaikum",
         "Assalamualaikum wr wb", "assalamualaikum", "Permisi", "Pagi min", "siang pak", "Halo admin", "Selamat pagi pak"),
    "surabaya": ("Pagi rek", "Permisi cak"),
    "kab_bandung": ("Punten", "punten min", "Sampurasun"),
    "kalsel": ("Assalamualaikum pian", "Salamat pagi"),
}
"""Openings, as :data:`CLOSINGS`."""

_KAMI = re.compile(r"\b([Kk])ami\b")
_GROUP = re.compile(r"\bkami\s+(?:para|semua|bersama|sekalian|berdua|bertiga)\b", re.IGNORECASE)


def _voice(row_voice: str | None, table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return table[""] + table.get(row_voice or "", ())


def close_with_thanks(text: str, rnd: random.Random, voice: str | None = None) -> str | None:
    """``text`` ending with a thanks closing (``None`` if it thanks already)."""
    if _THANKS.search(text):
        return None
    closing = rnd.choice(_voice(voice, CLOSINGS))
    body = text.rstrip()
    joint = rnd.choice((" ", " ", ", ", ". ", ".. ")) if body[-1:] not in ".!?" else " "
    return body + joint + closing


def open_with_greeting(text: str, rnd: random.Random, voice: str | None = None) -> str | None:
    """``text`` opened with a greeting (``None`` if it opens with one already)."""
    if _OPENED.match(text):
        return None
    greeting = rnd.choice(_voice(voice, GREETINGS))
    body = text.lstrip()
    if rnd.random() < 0.5 and body[:1].isupper() and not body.split(" ", 1)[0].isupper():
        body = body[0].lower() + body[1:]
    return greeting + rnd.choice((", ", " ", ". ", ".. ")) + body


def speak_as_one(text: str, rnd: random.Random, voice: str | None = None) -> str | None:
    """``text`` told by one person: "kami" becomes "saya" (``None`` if it has no "kami", already has "saya", or
    speaks for a named group: "kami para ...", "kami semua")."""
    if not _KAMI.search(text) or re.search(r"\bsaya\b", text, re.IGNORECASE) or _GROUP.search(text):
        return None
    return _KAMI.sub(lambda m: "Saya" if m.group(1) == "K" else "saya", text)


_THANKS = re.compile(r"\b(?:terima\s*kasih|trima\s*kasih|makasi|trims|thx|thanks|tks|tq\b|matur\s+(?:nuwun|suwun)|suwun|"
                     r"hatur\s+nuhun|nuhun)", re.IGNORECASE)
_OPENED = re.compile(r"^\W*(?:selamat|slmt|met|salamat|ass?alam\w*|asslm\w*|salam|permisi|punten|sampurasun|hal+o+|hai|"
                     r"pagi|siang|sore|malam|yth|kepada|dengan\s+hormat)\b", re.IGNORECASE)


HABITS = (("saya", speak_as_one, "told by one person (kami -> saya)"),
          ("greeting", open_with_greeting, "a greeting opening added"),
          ("thanks", close_with_thanks, "a thanks closing added"),
          ("drop_stop", drop_stop, "the final full stop dropped"),
          ("squeeze", squeeze, "no space after one comma or full stop"),
          ("lower", lower_first, "first letter in lower case"))
"""Every habit, in the order :func:`texture` adds them (wording first, typing last)."""


def texture(rows: list[dict], rates: dict[str, float], seed: int = SEED) -> list[dict]:
    """Corrections adding each habit to ``rates[habit]`` × ``len(rows)`` lines (fewer if fewer lines qualify).
    ``rows``: ``{"id", "text"}``. Habits are applied in :data:`HABITS` order; a line may get several, each
    correction's ``old`` being the text the one before it left."""
    rnd = random.Random(seed)
    current = {row["id"]: row["text"] for row in rows}
    voices = {row["id"]: row.get("voice") for row in rows}
    out = []
    for name, change, what in HABITS:
        wanted = round(rates.get(name, 0.0) * len(rows))
        ids = [row["id"] for row in rows]
        rnd.shuffle(ids)
        done = 0
        for row_id in ids:
            if done >= wanted:
                break
            new = change(current[row_id], rnd, voices.get(row_id))
            if new is None or new == current[row_id]:
                continue
            out.append({"id": row_id, "field": "text", "old": current[row_id], "new": new,
                        "reason": f"texture (training_data/texture.py, seed {seed}): {what}"})
            current[row_id] = new
            done += 1
    return out


def apply(paths: list[Path], corrections: list[dict]) -> int:
    """Write text ``corrections`` into assembled split files (in place, by ``id``); returns how many applied.
    A correction whose ``old`` no longer matches is skipped (already applied, or the line changed)."""
    fixes: dict[str, list[dict]] = {}
    for fix in corrections:
        fixes.setdefault(fix["id"], []).append(fix)
    applied = 0
    for path in paths:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for row in rows:
            for fix in fixes.get(row["id"], []):
                if row.get(fix["field"]) == fix["old"]:
                    row[fix["field"]] = fix["new"]
                    applied += 1
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("national", "kukar"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="corrections file to write")
    parser.add_argument("--corrections", action="append", default=[], help="(national) applied before")
    parser.add_argument("--drop-stop", type=float, default=0.0)
    parser.add_argument("--squeeze", type=float, default=0.0)
    parser.add_argument("--lower", type=float, default=0.0)
    parser.add_argument("--thanks", type=float, default=0.0)
    parser.add_argument("--greeting", type=float, default=0.0)
    parser.add_argument("--saya", type=float, default=0.0)
    parser.add_argument("--apply", action="store_true", help="(kukar) also write the changes into the split")
    parser.add_argument("--rewrites", type=Path,
                        help="(kukar, with --apply) the writers' rewrites (kukar/rewrites.jsonl), applied first")
    parser.add_argument("drafts", nargs="*", type=Path)
    args = parser.parse_args(argv)

    split = [HERE / args.corpus / "train.jsonl"]  # kukar: its test split stays as written (issue 3's benchmark)
    if args.corpus == "national":
        if not args.drafts:
            print("national: give the draft files, as to assemble.py", file=sys.stderr)
            return 2
        sys.path.insert(0, str(HERE))
        from assemble import CORPORA, assemble

        rows = [{"id": r["id"], "text": r["text"], "voice": r.get("voice")}
                for r in assemble([str(p) for p in args.drafts], args.corrections, CORPORA["national"])]
    else:
        if args.rewrites and args.apply:
            written = [json.loads(line) for line in args.rewrites.read_text(encoding="utf-8").splitlines() if line.strip()]
            print(f"applied {apply(split, written)} of {len(written)} rewrites from {args.rewrites}")
        rows = [json.loads(line) for p in split for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    rates = {"drop_stop": args.drop_stop, "squeeze": args.squeeze, "lower": args.lower, "thanks": args.thanks,
             "greeting": args.greeting, "saya": args.saya}
    fixes = texture(rows, rates)
    args.out.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in fixes), encoding="utf-8")
    counts = {name: sum(1 for f in fixes if what in f["reason"]) for name, _, what in HABITS}
    print(f"{len(fixes)} changes over {len(rows)} lines ({counts}) -> {args.out}")
    if args.apply and args.corpus == "kukar":
        print(f"applied {apply(split, fixes)} to {', '.join(str(p) for p in split)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
