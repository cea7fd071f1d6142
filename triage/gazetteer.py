"""Step "where": which kecamatan and kelurahan/desa of the pemda a complaint text names.

A :class:`Gazetteer` is built once per SOTK (:func:`triage.sotk.load_sotk`) from its generated territorial
bodies (kind ``kecamatan``, ``kelurahan``, ``desa``; each village's ``parent`` is its kecamatan) and their
aliases. :meth:`Gazetteer.find` returns a :class:`Where`: the kecamatan and the village named in the text,
each as a :class:`Place` (body code, body name, kind, and the span of the text that matched), or ``None``.

How a text is read
------------------
* Words are letters and digits; case, punctuation and spacing are ignored ("kec.rungkut",
  "Wonorejo,Rungkut"). A name matches whether written spaced or unspaced ("Tambak Rejo" / "Tambakrejo"):
  names are compared on their letters without spaces, over runs of up to (longest name + 1) words. Old
  spelling is folded ("oe" -> "u", "dj" -> "j", "tj" -> "c": "Soetomo" = "Sutomo"). Longest match wins
  ("Sukolilo Baru" is a kelurahan, not kecamatan Sukolilo followed by "baru").
* **Marker words** attach a name to a kind: ``kec``/``kec.``/``kecamatan`` and misspellings of it (any word
  starting with "kec" within two edits of "kecamatan": "kecamtan") for a kecamatan; ``kel``/``kelurahan``
  (and "kelurhan", ...) or ``ds``/``desa`` for a village.
* **Typos** (Damerau-Levenshtein, adjacent transpositions included): distance 1 for names of 6+ letters,
  2 for names of 10+ letters, and only where a marker word precedes the name or the name has several words
  (then one of its distinctive words must be written exactly and the others are compared as a whole).
  Candidates come from a symmetric-deletion index, so fuzzy look-ups cost a few hundred set probes.
* **Bare names** (no marker) count only when they are not common Indonesian words: a name made only of
  words in :data:`COMMON_WORDS` ("Pelabuhan", "Air Putih", "Harapan Baru") or shorter than four letters
  needs a marker. A bare name that is both a kecamatan and a village is read as the kecamatan.

How the answer is chosen
------------------------
* A village and a kecamatan that agree (the kecamatan is the village's parent) are taken together; among
  several agreeing pairs, those with more marker words win, then the first in the text. A village name
  that several kecamatan have ("Wonorejo" in Rungkut and in Tegalsari) is chosen by the kecamatan named in
  the text; without one, the village is left ``None``.
* Otherwise a village found alone gives its kecamatan (its parent). When a kecamatan is also named and does
  not agree, the kecamatan is kept and the village dropped, unless the village carries a marker and the
  kecamatan does not.
* Among several different kecamatan, the one attached to a marker wins, then the first.

Street names are not treated specially: "Jl. Rungkut Madya" names kecamatan Rungkut, since a street named
after an area usually runs in or beside it. After a marker word, typo candidates of the marker's kind come
first, then the fewest edits, then the longest span. After construction a typical 40-word text takes well
under 0.1 ms (``benchmarks/where.py``); typo look-ups after marker words are remembered per string.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage.sotk import Body, Sotk

VILLAGE_KINDS = ("kelurahan", "desa")

COMMON_WORDS: frozenset[str] = frozenset(
    # Compass points, positions and sizes that qualify place names.
    "barat timur utara selatan tengah tenggara kidul lor wetan kulon ilir hilir ulu hulu atas bawah dalam "
    "luar darat laut seberang pinggir ujung lama baru anyar besar kecil raya jaya indah permai makmur damai "
    "mulya mulia sejahtera sentosa agung merdeka sepakat rahayu"
    # Landforms, water and ground.
    " air sungai kali rawa tambak sawah kebun kebon hutan bukit gunung pulau teluk tanah batu pasir karang "
    "tanjung muara danau pantai laut lembah padang"
    # Colours.
    " putih hitam merah hijau biru kuning"
    # Ordinary nouns and places of a town.
    " kota desa kampung dukuh pasar pagi simpang jalan gang harapan pelita pelabuhan bandara mesjid masjid "
    "tenun sambutan budaya karya bunga kembang jeruk pakis gading lontar genteng jawa melayu bugis pendingin "
    "melintang perdana laksana sudi"
    # Numbers.
    " satu dua tiga empat lima"
    # Given names that are also place names.
    " made panji santosa sulaiman".split()
)
"""Words so common in Indonesian writing that a name made only of them needs a marker word ("kel.",
"kec.", "desa") to count. Generic: written from the language, not from any complaint export."""

_MARKERS = {
    "kec": "kecamatan", "kecamatan": "kecamatan", "kecamtan": "kecamatan", "kecamatn": "kecamatan",
    "kcmtn": "kecamatan", "kec_": "kecamatan",
    "kel": "village", "kelurahan": "village", "kelurhan": "village", "kelurahn": "village",
    "klurahan": "village", "kelrahan": "village", "kelurahaan": "village",
    "ds": "village", "desa": "village",
}
_MARKER_STEMS = {"kec": ("kecamatan", "kecamatan"), "kel": ("kelurahan", "village")}
_WORD = re.compile(r"[^\W_]+")
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")
_PREFIXES = {"kecamatan": "Kecamatan ", "kelurahan": "Kelurahan ", "desa": "Desa "}


@dataclass(frozen=True)
class Place:
    """A kecamatan or village named in a text."""

    code: str
    """Body code in the SOTK, e.g. ``kec_rungkut``, ``kel_wonorejo_rungkut``."""
    name: str
    """Body name, e.g. ``Kecamatan Rungkut``."""
    kind: str
    """``kecamatan``, ``kelurahan`` or ``desa``."""
    matched: str
    """The span of the text that matched the name (without its marker word), as written. For a kecamatan
    known only from its village, the village's span."""

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "kind": self.kind, "matched": self.matched}


@dataclass(frozen=True)
class Where:
    """The kecamatan and the village (kelurahan or desa) a text names; ``None`` where nothing was found."""

    kecamatan: Place | None
    village: Place | None

    def to_dict(self) -> dict:
        return {"kecamatan": self.kecamatan.to_dict() if self.kecamatan else None,
                "village": self.village.to_dict() if self.village else None}


NOWHERE = Where(None, None)


def fold(word: str) -> str:
    """Lower-case text as names are compared: old spelling folded ("soetomo" -> "sutomo")."""
    return word.replace("oe", "u").replace("dj", "j").replace("tj", "c")


def damerau(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment) of ``a`` and ``b``; ``limit + 1`` as soon as
    it is known to exceed ``limit``."""
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(lb + 1))
    for i in range(1, la + 1):
        current = [i] + [0] * lb
        ca = a[i - 1]
        best = current[0]
        for j in range(1, lb + 1):
            cb = b[j - 1]
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            if value < best:
                best = value
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[lb], limit + 1)


def allowed_typos(compact: str) -> int:
    """Edits a name of these letters tolerates: 0 under 6 letters, 1 from 6, 2 from 10."""
    return 2 if len(compact) >= 10 else 1 if len(compact) >= 6 else 0


def _deletions(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@dataclass(frozen=True)
class _Target:
    code: str
    name: str
    kind: str
    parent: str | None


@dataclass(frozen=True)
class _Name:
    """Every body a name (letters without spaces) leads to."""

    compact: str
    targets: tuple[_Target, ...]
    common: bool
    """Needs a marker: made only of common words, or shorter than four letters."""
    words: int


@dataclass
class _Hit:
    start: int          # first token of the name
    end: int            # one past its last token
    targets: tuple[_Target, ...]
    marker: str | None  # "kecamatan", "village" or None
    matched: str

    def place(self, target: _Target) -> Place:
        return Place(code=target.code, name=target.name, kind=target.kind, matched=self.matched)


class Gazetteer:
    """The kecamatan and villages of one SOTK, precompiled for :meth:`find`."""

    _cache: dict[int, tuple["Sotk", "Gazetteer"]] = {}
    _lock = threading.Lock()

    def __init__(self, bodies: list[Body]) -> None:
        spellings: dict[str, list[tuple[tuple[str, ...], _Target]]] = {}
        self._kecamatan: dict[str, _Target] = {}
        for body in bodies:
            if body.kind != "kecamatan" and body.kind not in VILLAGE_KINDS:
                continue
            target = _Target(body.code, body.name, body.kind, body.parent)
            if body.kind == "kecamatan":
                self._kecamatan[body.code] = target
            for label in (body.name, *body.aliases):
                words = _name_words(label, body.kind)
                if words:
                    spellings.setdefault("".join(words), []).append((words, target))
        self._names: dict[str, _Name] = {}
        for compact, entries in spellings.items():
            targets = tuple(dict.fromkeys(t for _, t in entries))
            common = len(compact) < 4 or all(all(w in COMMON_WORDS for w in words) for words, _ in entries)
            self._names[compact] = _Name(compact, targets, common, max(len(w) for w, _ in entries))
        self._prefixes = {c[:i] for c in self._names for i in range(1, len(c) + 1)}
        self._span = max((n.words for n in self._names.values()), default=1) + 1
        self._longest = max((len(c) for c in self._names), default=0)
        # Symmetric-deletion index for typos after a marker word.
        self._close_cache: dict[str, tuple[tuple[int, str], ...]] = {}
        self._deleted: dict[str, list[str]] = {}
        for compact in self._names:
            for variant in _deletions(compact, allowed_typos(compact)) if allowed_typos(compact) else ():
                self._deleted.setdefault(variant, []).append(compact)
        # Multi-word names by their distinctive words, for typos without a marker.
        self._anchors: dict[str, list[tuple[str, int, int]]] = {}
        for compact, entries in spellings.items():
            if self._names[compact].common or allowed_typos(compact) == 0:
                continue
            for words, _ in entries:
                if len(words) < 2:
                    continue
                for index, word in enumerate(words):
                    if len(word) >= 4 and word not in COMMON_WORDS:
                        self._anchors.setdefault(word, []).append((compact, index, len(words)))

    @classmethod
    def of(cls, sotk: Sotk) -> Gazetteer:
        """The gazetteer of ``sotk``, built on first use and kept while that SOTK object lives in the cache."""
        key = id(sotk)
        with cls._lock:
            cached = cls._cache.get(key)
            if cached is not None and cached[0] is sotk:
                return cached[1]
        gazetteer = cls(list(sotk.bodies.values()))
        with cls._lock:
            if len(cls._cache) >= 32:
                cls._cache.clear()
            cls._cache[key] = (sotk, gazetteer)
        return gazetteer

    # -- reading -----------------------------------------------------------------------------------------

    def find(self, text: str) -> Where:
        """The kecamatan and village ``text`` names (see the module docstring for the rules)."""
        if text.isascii():  # lower() and fold() keep ASCII word boundaries: split once, on the folded text
            keys = _WORD.findall(fold(text.lower()))
        else:
            keys = [fold(w.lower()) for w in _WORD.findall(text)]
        found = self._found(keys)
        if not found:
            return NOWHERE
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        hits = [_hit(text, spans, start, end, name, marker) for start, end, name, marker in found]
        return _resolve(hits, self._kecamatan)

    def _found(self, keys: list[str]) -> list[tuple[int, int, _Name, str | None]]:
        """Names in the words ``keys``: (first token, one past the last, name, marker kind or None)."""
        found: list[tuple[int, int, _Name, str | None]] = []
        prefixes, anchors = self._prefixes, self._anchors
        n = len(keys)
        i = 0
        floor = 0  # tokens before this belong to an earlier name
        while i < n:
            key = keys[i]
            if key not in prefixes and key not in anchors and key not in _MARKERS and key[:3] not in _MARKER_STEMS:
                i += 1
                continue
            marker = _marker(key)
            if marker is not None and i + 1 < n and _marker(keys[i + 1]) is None:
                match = self._exact(keys, i + 1) or self._fuzzy(keys, i + 1, marker)
                if match is not None:
                    found.append((i + 1, match[0], match[1], marker))
                    i = floor = match[0]
                    continue
                i += 1
                continue
            match = self._exact(keys, i)
            if match is not None:
                if not match[1].common:
                    found.append((i, match[0], match[1], None))
                i = floor = match[0]
                continue
            fuzzy = self._anchored(keys, i, floor)
            if fuzzy is not None:
                found.append((fuzzy[0], fuzzy[1], fuzzy[2], None))
                i = floor = fuzzy[1]
                continue
            i += 1
        return found

    def _exact(self, keys: list[str], start: int) -> tuple[int, _Name] | None:
        """The longest name starting at token ``start``: (end token, name)."""
        joined = ""
        best = None
        for k in range(start, min(len(keys), start + self._span)):
            joined += keys[k]
            if joined not in self._prefixes:
                break
            name = self._names.get(joined)
            if name is not None:
                best = (k + 1, name)
        return best

    def _fuzzy(self, keys: list[str], start: int, marker: str) -> tuple[int, _Name] | None:
        """The closest name, within its allowed typos, starting at token ``start`` after a marker word."""
        best: tuple[tuple[int, int, int], int, _Name] | None = None  # (kind mismatch, distance, -tokens), end, name
        joined = ""
        for k in range(start, min(len(keys), start + self._span)):
            joined += keys[k]
            if len(joined) > self._longest + 2:
                break
            if len(joined) < 5:
                continue
            for distance, compact in self._close(joined):
                name = self._names[compact]
                mismatch = 0 if any(_kind_fits(t.kind, marker) for t in name.targets) else 1
                rank = (mismatch, distance, -(k + 1 - start))
                if best is None or rank < best[0]:
                    best = (rank, k + 1, name)
        return None if best is None else (best[1], best[2])

    def _close(self, joined: str) -> tuple[tuple[int, str], ...]:
        """Names within their allowed typos of ``joined``: (distance, compact); remembered per string (the
        words after marker words repeat from text to text)."""
        found = self._close_cache.get(joined)
        if found is None:
            candidates: set[str] = set()
            for variant in _deletions(joined, 2 if len(joined) >= 8 else 1):
                candidates.update(self._deleted.get(variant, ()))
            found = tuple(sorted((d, c) for c in candidates if (d := damerau(joined, c, allowed_typos(c)))
                                 <= allowed_typos(c)))
            if len(self._close_cache) >= 50_000:
                self._close_cache.clear()
            self._close_cache[joined] = found
        return found

    def _anchored(self, keys: list[str], i: int, floor: int) -> tuple[int, int, _Name] | None:
        """A multi-word name with one typo'd word, one of its distinctive words being token ``i``."""
        entries = self._anchors.get(keys[i])
        if not entries:
            return None
        for compact, index, words in entries:
            start = i - index
            end = start + words
            if start < floor or end > len(keys):
                continue
            joined = "".join(keys[start:end])
            if damerau(joined, compact, allowed_typos(compact)) <= allowed_typos(compact):
                return start, end, self._names[compact]
        return None


def _name_words(label: str, kind: str) -> tuple[str, ...]:
    """The words of a body name or alias without its kind prefix and "(Kecamatan)" qualifier, folded."""
    prefix = _PREFIXES.get(kind, "")
    if label.lower().startswith(prefix.lower()):
        label = label[len(prefix):]
    label = _QUALIFIER.sub("", label)
    return tuple(fold(w.lower()) for w in _WORD.findall(label))


def _marker(key: str) -> str | None:
    found = _MARKERS.get(key)
    if found is not None or len(key) < 6:
        return found
    stem = _MARKER_STEMS.get(key[:3])
    if stem is not None and damerau(key, stem[0], 2) <= 2:
        return stem[1]
    return None


def _kind_fits(kind: str, marker: str | None) -> bool:
    return marker == "kecamatan" if kind == "kecamatan" else marker == "village"


def _hit(text: str, spans: list[tuple[int, int]], start: int, end: int, name: _Name, marker: str | None) -> _Hit:
    targets = name.targets
    kecamatan = tuple(t for t in targets if t.kind == "kecamatan")
    villages = tuple(t for t in targets if t.kind != "kecamatan")
    if marker == "village" and villages:
        targets = villages
    elif marker != "village" and kecamatan:
        targets = kecamatan  # a bare name that is also a kecamatan is read as the kecamatan
    return _Hit(start, end, targets, marker, text[spans[start][0]:spans[end - 1][1]])


def _resolve(hits: list[_Hit], kecamatan: dict[str, _Target]) -> Where:
    kecamatan_hits = [h for h in hits if h.targets[0].kind == "kecamatan"]
    village_hits = [h for h in hits if h.targets[0].kind != "kecamatan"]
    # 1. A village with its own kecamatan named: the pair with more markers, then the first.
    pairs = []
    for v in village_hits:
        for target in v.targets:
            for k in kecamatan_hits:
                if k.targets[0].code == target.parent:
                    marks = (v.marker is not None) + (k.marker is not None)
                    pairs.append((-marks, min(v.start, k.start), v, target, k))
    if pairs:
        _, _, v, target, k = min(pairs, key=lambda p: (p[0], p[1]))
        return Where(k.place(k.targets[0]), v.place(target))
    kec = min(kecamatan_hits, key=lambda h: (h.marker is None, h.start)) if kecamatan_hits else None
    single = [v for v in village_hits if len(v.targets) == 1]
    village = min(single, key=lambda h: (h.marker is None, h.start)) if single else None
    if village is None:
        return Where(kec.place(kec.targets[0]) if kec else None, None)
    target = village.targets[0]
    if kec is None or (village.marker is not None and kec.marker is None):
        parent = kecamatan.get(target.parent or "")
        return Where(village.place(parent) if parent else None, village.place(target))
    return Where(kec.place(kec.targets[0]), None)
