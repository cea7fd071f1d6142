"""The national function layer: codes every pemda shares, destinations outside it, non-routing outcomes.

Shipped as data in ``triage/deployments/national/`` and validated on load (every error names the file and
the entry at fault):

- ``functions.yaml``: the urusan pemerintahan of UU 23/2014 and the supporting, supervisory, territorial and
  general-government units, with their Permendagri 90/2019 (SIPD) codes, e.g. ``1.01`` Pendidikan, ``5.02``
  Keuangan, ``7.01`` Kecamatan; a few program-level codes (``1.05.03``) and codes of our own
  (``7.01.kel`` Kelurahan) where complaints need a finer split;
- ``outside.yaml``: destinations outside the pemda (OPD-head codes shared by every deployment: ``pln``,
  ``bpjs_kesehatan``, ... ``pemerintah_pusat``) with their public channels, and the outcomes that are not a
  routing (``aspirasi``, ``pertanyaan``, ``terima_kasih``; ``kosong``, ``spam``, ``kasar``);
- ``legacy_categories.yaml``: today's 19 category codes read as national codes, so that stored decisions
  and old models stay readable.

See docs/national.md; the category head predicts these codes and :mod:`triage.route` routes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from triage.errors import TaxonomyError, UnknownCodeError
from triage.taxonomy import read_yaml

NATIONAL_DIR = Path(__file__).parent / "deployments" / "national"

OUTSIDE_CODES: tuple[str, ...] = (
    "pln", "bpjs_kesehatan", "bpjs_ketenagakerjaan", "polri", "atr_bpn", "kemenag", "ojk", "imigrasi",
    "pertamina", "operator_seluler", "pemprov", "pemerintah_pusat",
)
"""The outside destinations issue 18's contract requires (``outside.yaml`` may add more)."""

OUTCOME_GROUPS: dict[str, str] = {"bukan_pengaduan": "Bukan pengaduan",
                                  "tidak_dapat_diproses": "Tidak dapat diproses"}

_FUNCTION_CODE = re.compile(r"^[1-8]\.\d{2}(\.[0-9a-z]+)?$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_CHANNEL_KINDS = {"telepon", "whatsapp", "email", "web", "aplikasi", "lapor"}


@dataclass(frozen=True)
class Function:
    """One national function: an urusan, a unit kind, or a finer code under one of them."""

    code: str
    slug: str
    name: str
    group: str
    description: str
    parent: str | None = None
    official: bool = True
    """False for codes of our own that SIPD does not have (``7.01.kel``)."""
    verified: bool = True
    """False where the code was not checked against the regulation's text (program-level codes)."""


@dataclass(frozen=True)
class Channel:
    """One public way to reach an outside destination."""

    kind: str
    value: str
    source: str
    verified: bool = True


@dataclass(frozen=True)
class Destination:
    """A body outside the pemda that a complaint may belong to (*bukan wewenang*: forward it there)."""

    code: str
    name: str
    remit: str
    channels: tuple[Channel, ...]
    lapor_name: str | None = None

    def forward_text(self) -> str:
        """What a handler reads, e.g. ``bukan wewenang: teruskan ke PT PLN (Persero), 123 (...) / LAPOR! PT PLN
        (Persero)``: the first verified channel (or the first one) and the LAPOR! name when there is one."""
        first = next((c for c in self.channels if c.verified), self.channels[0])
        text = f"bukan wewenang: teruskan ke {self.name}, {first.value}"
        return text + (f" / LAPOR! {self.lapor_name}" if self.lapor_name else "")


@dataclass(frozen=True)
class Outcome:
    """A decision that is not a routing: not a complaint, or cannot be processed."""

    code: str
    group: str
    name: str
    description: str


@dataclass(frozen=True)
class LegacyCategory:
    """How one of today's category codes reads on the national layer."""

    code: str
    national: str
    also: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, eq=False)
class National:
    """The whole national layer, as loaded from ``triage/deployments/national/``."""

    groups: dict[str, str]
    functions: dict[str, Function]
    destinations: dict[str, Destination]
    outcomes: dict[str, Outcome]
    legacy: dict[str, LegacyCategory]

    def function(self, code: str) -> Function:
        """The function with ``code``; :class:`UnknownCodeError` naming the known codes otherwise."""
        try:
            return self.functions[code]
        except KeyError:
            raise UnknownCodeError(f"'{code}' is not a national function code. Known codes: "
                                   f"{', '.join(self.functions)}.", head="national", code=code) from None

    def destination(self, code: str) -> Destination:
        """The outside destination with ``code``; :class:`UnknownCodeError` otherwise."""
        try:
            return self.destinations[code]
        except KeyError:
            raise UnknownCodeError(f"'{code}' is not a destination outside the pemda. Known codes: "
                                   f"{', '.join(self.destinations)}.", head="opd", code=code) from None

    def is_outside(self, code: str) -> bool:
        """Whether OPD-head ``code`` is a destination outside the pemda."""
        return code in self.destinations

    def national_of_category(self, category: str) -> str:
        """The national function code an old category code reads as (``infrastruktur`` -> ``1.03``); a
        national code is returned as it is, so a mix of old and new labels reads uniformly."""
        if category in self.functions:
            return category
        try:
            return self.legacy[category].national
        except KeyError:
            raise UnknownCodeError(f"'{category}' is neither a national function code nor one of the old category "
                                   f"codes ({', '.join(self.legacy)}).", head="category", code=category) from None


def load_national(folder: str | Path = NATIONAL_DIR) -> National:
    """Load and validate the national layer from ``folder`` (the shipped one by default); cached per folder
    and file state, so an edited file is read again."""
    folder = Path(folder)
    files = [folder / n for n in ("functions.yaml", "outside.yaml", "legacy_categories.yaml")]
    for path in files:
        if not path.is_file():
            raise TaxonomyError(f"{path} does not exist. The national layer needs functions.yaml, outside.yaml "
                                "and legacy_categories.yaml in one folder.")
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _load(key)


@lru_cache(maxsize=4)
def _load(key: tuple[tuple[str, int, int], ...]) -> National:
    functions_path, outside_path, legacy_path = (Path(k[0]) for k in key)
    raw = _read(functions_path, ("groups", "functions"))
    groups, digits = {}, {}
    for name, entry in _mapping(functions_path, "groups", raw["groups"]).items():
        groups[name] = _text(functions_path, f"groups.{name}", entry, "name")
        digits[name] = _text(functions_path, f"groups.{name}", entry, "digit")
        if not re.fullmatch(r"[1-9]", digits[name]):
            raise TaxonomyError(f"{functions_path}: groups.{name}: 'digit' must be the group's leading code digit "
                                f"(quoted); got {digits[name]!r}.")
    functions = _functions(functions_path, raw["functions"], digits)
    raw = _read(outside_path, ("destinations", "outcomes"))
    destinations = _destinations(outside_path, raw["destinations"])
    outcomes = _outcomes(outside_path, raw["outcomes"])
    overlap = set(destinations) & set(outcomes)
    if overlap:
        raise TaxonomyError(f"{outside_path}: {sorted(overlap)} are both a destination and an outcome; a code "
                            "must mean one thing. Rename one of them.")
    raw = _read(legacy_path, ("categories",))
    legacy = _legacy(legacy_path, raw["categories"], functions)
    return National(groups=groups, functions=functions, destinations=destinations, outcomes=outcomes,
                    legacy=legacy)


def _read(path: Path, sections: tuple[str, ...]) -> dict:
    try:
        raw = read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path} is not valid YAML: {exc}. Fix the file's syntax.") from None
    if not isinstance(raw, dict) or any(s not in raw for s in sections):
        got = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise TaxonomyError(f"{path}: expected a mapping with sections {list(sections)}; got {got}.")
    return raw


def _mapping(path: Path, where: str, value: object) -> dict:
    if not isinstance(value, dict) or not value:
        raise TaxonomyError(f"{path}: {where} must be a non-empty mapping; got {type(value).__name__}.")
    return value


def _text(path: Path, where: str, entry: object, field: str, *, required: bool = True) -> str:
    value = entry.get(field) if isinstance(entry, dict) else None
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{path}: {where}: expected a non-empty string '{field}'; got {value!r}. "
                            f"Add the {field}.")
    return value.strip()


def _flag(path: Path, where: str, entry: dict, field: str) -> bool:
    value = entry.get(field, True)
    if not isinstance(value, bool):
        raise TaxonomyError(f"{path}: {where}: '{field}' must be true or false; got {value!r}.")
    return value


def _functions(path: Path, entries: object, digits: dict[str, str]) -> dict[str, Function]:
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(f"{path}: 'functions' must be a non-empty list; got {type(entries).__name__}.")
    functions: dict[str, Function] = {}
    slugs: set[str] = set()
    for number, entry in enumerate(entries, 1):
        code = entry.get("code") if isinstance(entry, dict) else None
        where = f"functions[{number}] ({code!r})"
        if not isinstance(code, str) or not _FUNCTION_CODE.match(code):
            raise TaxonomyError(f"{path}: {where}: 'code' must look like 1.01, 1.05.03 or 7.01.kel (quoted, so "
                                f"YAML keeps it a string); got {code!r}.")
        if code in functions:
            raise TaxonomyError(f"{path}: {where}: code {code} is listed twice. Keep one entry per code.")
        slug = _text(path, where, entry, "slug")
        if not _IDENTIFIER.match(slug) or slug in slugs:
            raise TaxonomyError(f"{path}: {where}: 'slug' must be a unique identifier (lower-case letters, digits, "
                                f"'_'); got {slug!r}.")
        group = _text(path, where, entry, "group")
        if group not in digits:
            raise TaxonomyError(f"{path}: {where}: group '{group}' is not one of {list(digits)}.")
        parent = entry.get("parent")
        if parent is not None and (parent not in functions or not code.startswith(parent + ".")):
            raise TaxonomyError(f"{path}: {where}: parent {parent!r} must be a code listed before it, of which "
                                f"{code} is a sub-code.")
        if len(code.split(".")) > 2 and parent is None:
            raise TaxonomyError(f"{path}: {where}: a three-part code needs its 'parent' ({code.rsplit('.', 1)[0]}).")
        if not code.startswith(digits[group] + "."):
            raise TaxonomyError(f"{path}: {where}: code {code} does not start with the digit of group '{group}'.")
        slugs.add(slug)
        functions[code] = Function(code=code, slug=slug, name=_text(path, where, entry, "name"), group=group,
                                   description=_text(path, where, entry, "description"), parent=parent,
                                   official=_flag(path, where, entry, "official"),
                                   verified=_flag(path, where, entry, "verified"))
    return functions


def _destinations(path: Path, entries: object) -> dict[str, Destination]:
    destinations: dict[str, Destination] = {}
    for code, entry in _mapping(path, "destinations", entries).items():
        where = f"destinations.{code}"
        if not isinstance(code, str) or not _IDENTIFIER.match(code):
            raise TaxonomyError(f"{path}: {where}: a destination code must be an identifier (lower-case letters, "
                                f"digits, '_'), as OPD-head codes are; got {code!r}.")
        raw_channels = entry.get("channels") if isinstance(entry, dict) else None
        if not isinstance(raw_channels, list) or not raw_channels:
            raise TaxonomyError(f"{path}: {where}: expected a non-empty list 'channels' (kind, value, source).")
        channels = []
        for number, channel in enumerate(raw_channels, 1):
            at = f"{where}.channels[{number}]"
            kind = _text(path, at, channel, "kind")
            if kind not in _CHANNEL_KINDS:
                raise TaxonomyError(f"{path}: {at}: kind '{kind}' is not one of {sorted(_CHANNEL_KINDS)}.")
            channels.append(Channel(kind=kind, value=_text(path, at, channel, "value"),
                                    source=_text(path, at, channel, "source"),
                                    verified=_flag(path, at, channel, "verified")))
        destinations[code] = Destination(code=code, name=_text(path, where, entry, "name"),
                                         remit=_text(path, where, entry, "remit"), channels=tuple(channels),
                                         lapor_name=_text(path, where, entry, "lapor_name", required=False) or None)
    missing = [c for c in OUTSIDE_CODES if c not in destinations]
    if missing:
        raise TaxonomyError(f"{path}: destinations {missing} are missing; every deployment relies on "
                            f"{list(OUTSIDE_CODES)}. Add them.")
    return destinations


def _outcomes(path: Path, entries: object) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for code, entry in _mapping(path, "outcomes", entries).items():
        where = f"outcomes.{code}"
        if not isinstance(code, str) or not _IDENTIFIER.match(code):
            raise TaxonomyError(f"{path}: {where}: an outcome code must be an identifier; got {code!r}.")
        group = _text(path, where, entry, "group")
        if group not in OUTCOME_GROUPS:
            raise TaxonomyError(f"{path}: {where}: group '{group}' is not one of {list(OUTCOME_GROUPS)}.")
        outcomes[code] = Outcome(code=code, group=group, name=_text(path, where, entry, "name"),
                                 description=_text(path, where, entry, "description"))
    return outcomes


def _legacy(path: Path, entries: object, functions: dict[str, Function]) -> dict[str, LegacyCategory]:
    legacy: dict[str, LegacyCategory] = {}
    for code, entry in _mapping(path, "categories", entries).items():
        where = f"categories.{code}"
        national = _text(path, where, entry, "national")
        also = entry.get("also") or []
        if not isinstance(also, list):
            raise TaxonomyError(f"{path}: {where}: 'also' must be a list of national codes; got {also!r}.")
        for target in [national, *also]:
            if target not in functions:
                raise TaxonomyError(f"{path}: {where}: '{target}' is not a national function code of "
                                    "functions.yaml. Fix the code or add the function.")
        legacy[code] = LegacyCategory(code=code, national=national, also=tuple(also),
                                      note=_text(path, where, entry, "note", required=False))
    return legacy
