"""A pemda's SOTK (susunan organisasi dan tata kerja) as data: its bodies, their national codes, its territory.

A SOTK file (``triage/deployments/sotk/<name>.yaml``) lists every perangkat daerah of one pemda with its
official name, the aliases it goes by (including how the pemda's own complaint exports name it) and the
national function codes it carries (:mod:`triage.national`); its kecamatan and their kelurahan/desa, from
which territorial bodies (``kec_<name>``, ``kel_<name>``/``desa_<name>``) are generated; and, under
``outside``, how its exports name bodies outside the pemda (mapped onto the national outside destinations).

Each file is a deployment (``TRIAGE_DEPLOYMENT=<name>``; :func:`triage.taxonomy.load_taxonomy` builds its
codes from it). :func:`load_sotk` validates a file on load, naming the entry at fault;
:meth:`Sotk.body_of_name` maps a body name as an export writes it onto a body code. See docs/national.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from triage.errors import TaxonomyError
from triage.national import National, load_national
from triage.taxonomy import FocalPoint, read_yaml

SOTK_DIR = Path(__file__).parent / "deployments" / "sotk"
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_LEVELS = {"kota": "kelurahan", "kabupaten": "desa", "provinsi": None}
OWN_LEVEL_DESTINATION = {"provinsi": "pemprov"}
"""The national outside destination that a pemda of this level is itself: for a province, a provincial office's
matter (``pemprov``: an SMA, a provincial road) is its own, not *bukan wewenang*."""
_PUNCTUATION = re.compile(r"[.,()\-/]")


@dataclass(frozen=True)
class Body:
    """One body a complaint can be sent to: a perangkat daerah, a unit inside one, a territorial office,
    or (``outside``) a destination outside the pemda."""

    code: str
    name: str
    functions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    kind: str = "perangkat_daerah"
    """``perangkat_daerah``, ``unit`` (a bagian, RSUD, puskesmas, BUMD), ``kecamatan``, ``kelurahan``,
    ``desa``, ``pemda`` (the pemda as a whole) or ``outside``."""
    parent: str | None = None
    """For units and villages: the body they belong to (the Setda for a bagian, the kecamatan for a
    kelurahan)."""
    note: str = ""
    focal_point: FocalPoint | None = None
    """The body's narahubung (focal point), when the pemda has named one."""
    lapor_name: str | None = None
    """How SP4N-LAPOR! names the body in "Instansi Terdisposisi", when it differs from ``name``."""
    lapor_aliases: tuple[str, ...] = ()
    """Other names of the body met in LAPOR! exports (read, never written)."""


@dataclass(frozen=True)
class Sotk:
    """One pemda's bodies, by code, in file order (perangkat daerah, then territorial, then outside)."""

    code: str
    name: str
    level: str
    bodies: dict[str, Body]
    sources: tuple[str, ...] = ()
    region_names: tuple[str, ...] = ()
    path: str = ""
    _names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def body_of_name(self, name: str) -> str | None:
        """The code of the body whose name or alias is ``name`` as an export writes it (case, dots, commas,
        dashes and brackets ignored; the pemda's own name after it ignored, e.g. "Dinas Sosial Kabupaten
        Bandung"); ``None`` if no body has it."""
        plain = plain_name(name)
        if plain in self._names:
            return self._names[plain]
        for region in self.region_names:
            suffix = " " + plain_name(region)
            if plain.endswith(suffix) and plain[: -len(suffix)] in self._names:
                return self._names[plain[: -len(suffix)]]
        return None

    def bodies_of_function(self, code: str) -> list[str]:
        """The bodies that carry national function ``code`` (several may share one: Dinkes and each RSUD)."""
        return [b.code for b in self.bodies.values() if code in b.functions]


def plain_name(name: str) -> str:
    """``name`` as body names are compared: lower case, punctuation as spaces, single spaces."""
    return " ".join(_PUNCTUATION.sub(" ", str(name)).casefold().split())


def load_sotk(name: str | Path, national: National | None = None) -> Sotk:
    """Load and validate a SOTK file: a shipped name (``surabaya``) or a YAML path; cached while the file
    is unchanged."""
    path = Path(name)
    if path.suffix not in {".yaml", ".yml"}:
        path = SOTK_DIR / f"{name}.yaml"
        if not path.is_file():
            shipped = ", ".join(sorted(p.stem for p in SOTK_DIR.glob("*.yaml")))
            raise TaxonomyError(f"No SOTK file '{name}'. Shipped SOTK files: {shipped}; or give a YAML path.")
    elif not path.is_file():
        raise TaxonomyError(f"SOTK file {path} does not exist. Give an existing YAML file or a shipped name.")
    stat = path.stat()
    return _load(str(path.resolve()), stat.st_mtime_ns, stat.st_size, national or load_national())


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int, size: int, national: National) -> Sotk:
    try:
        raw = read_yaml(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path} is not valid YAML: {exc}. Fix the file's syntax.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("sotk"), dict) or not isinstance(raw.get("bodies"), dict):
        raise TaxonomyError(f"{path}: expected a mapping with 'sotk' (code, name, level, sources) and 'bodies'.")
    meta = raw["sotk"]
    code, level = meta.get("code"), meta.get("level")
    if not isinstance(code, str) or not _CODE.match(code):
        raise TaxonomyError(f"{path}: sotk.code must be an identifier like 'surabaya'; got {code!r}.")
    if level not in _LEVELS:
        raise TaxonomyError(f"{path}: sotk.level must be one of {sorted(_LEVELS)}; got {level!r}.")
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise TaxonomyError(f"{path}: sotk.sources must list the regulations and sites the file was written "
                            "from; nothing may come from complaint texts.")
    bodies: dict[str, Body] = {}
    for body_code, entry in raw["bodies"].items():
        _add(path, bodies, _body(path, f"bodies.{body_code}", body_code, entry, national))
    for body in _territory(path, raw.get("kecamatan") or {}, _LEVELS[level]):
        _add(path, bodies, body)
    for dest, entry in (raw.get("outside") or {}).items():
        where = f"outside.{dest}"
        if dest not in national.destinations:
            raise TaxonomyError(f"{path}: {where}: '{dest}' is not a national outside destination. Known: "
                                f"{', '.join(national.destinations)}.")
        aliases = _strings(path, where, (entry or {}).get("aliases"))
        _add(path, bodies, Body(code=dest, name=national.destinations[dest].name, functions=(),
                                aliases=aliases, kind="outside"))
    for body in bodies.values():
        if body.parent is not None and body.parent not in bodies:
            raise TaxonomyError(f"{path}: bodies.{body.code}: parent '{body.parent}' is not a body of this file.")
    names: dict[str, str] = {}
    for body in bodies.values():
        for alias in dict.fromkeys((body.name, *body.aliases, *body.lapor_aliases, *filter(None, [body.lapor_name]))):
            plain = plain_name(alias)
            other = names.setdefault(plain, body.code)
            if other != body.code:
                raise TaxonomyError(f"{path}: the name '{alias}' belongs to both '{other}' and '{body.code}'. A name "
                                    "must lead to one body: drop it from one, or qualify it (add the kecamatan).")
    return Sotk(code=code, name=_string(path, "sotk.name", meta.get("name")), level=level, bodies=bodies,
                sources=tuple(sources), region_names=_strings(path, "sotk.region_names", meta.get("region_names")),
                path=path, _names=names)


def _add(path: str, bodies: dict[str, Body], body: Body) -> None:
    if body.code in bodies:
        raise TaxonomyError(f"{path}: body code '{body.code}' is defined twice (a generated territorial code "
                            "can clash with a body's code). Rename one.")
    bodies[body.code] = body


def _string(path: str, where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{path}: {where}: expected a non-empty string; got {value!r}.")
    return value.strip()


def _strings(path: str, where: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TaxonomyError(f"{path}: {where}: expected a list of non-empty strings; got {value!r}.")
    return tuple(v.strip() for v in value)


_KINDS = {"perangkat_daerah", "unit", "pemda"}


def _body(path: str, where: str, code: object, entry: object, national: National) -> Body:
    if not isinstance(code, str) or not _CODE.match(code):
        raise TaxonomyError(f"{path}: {where}: a body code must be lower-case letters, digits and '_', starting "
                            f"with a letter; got {code!r}.")
    if not isinstance(entry, dict):
        raise TaxonomyError(f"{path}: {where}: expected a mapping with name, functions and aliases; got {entry!r}.")
    functions = _strings(path, f"{where}.functions", entry.get("functions"))
    if not functions:
        raise TaxonomyError(f"{path}: {where}: 'functions' must list at least one national function code (e.g. "
                            "['1.02']); see triage/deployments/national/functions.yaml.")
    for function in functions:
        if function not in national.functions:
            raise TaxonomyError(f"{path}: {where}: '{function}' is not a national function code. Known codes: "
                                f"{', '.join(national.functions)}.")
    kind = entry.get("kind", "perangkat_daerah")
    if kind not in _KINDS:
        raise TaxonomyError(f"{path}: {where}: kind '{kind}' is not one of {sorted(_KINDS)}.")
    parent = entry.get("parent")
    focal = FocalPoint.parse(entry.get("focal_point"), f"{path}: {where}")
    lapor_name = entry.get("lapor_name")
    return Body(code=code, name=_string(path, f"{where}.name", entry.get("name")), functions=functions,
                aliases=_strings(path, f"{where}.aliases", entry.get("aliases")), kind=kind,
                parent=parent if isinstance(parent, str) else None, note=str(entry.get("note", "")),
                focal_point=focal, lapor_name=_string(path, f"{where}.lapor_name", lapor_name) if lapor_name else None,
                lapor_aliases=_strings(path, f"{where}.lapor_aliases", entry.get("lapor_aliases")))


def _slug(name: str) -> str:
    return "_".join(plain_name(name).replace("'", "").split())


def _territory(path: str, kecamatan: object, village_kind: str | None) -> list[Body]:
    """Bodies for each kecamatan and its kelurahan/desa. A village name that occurs in two kecamatan is
    qualified with its kecamatan ("Kelurahan Wonorejo (Rungkut)") so that every name leads to one body."""
    if not isinstance(kecamatan, dict):
        raise TaxonomyError(f"{path}: 'kecamatan' must map kecamatan names to their villages; got "
                            f"{type(kecamatan).__name__}.")
    if kecamatan and village_kind is None:
        raise TaxonomyError(f"{path}: a provinsi has no kecamatan of its own; remove the 'kecamatan' section.")
    parsed: list[tuple[str, tuple[str, ...], list[tuple[str, tuple[str, ...], str | None]]]] = []
    for name, entry in kecamatan.items():
        where = f"kecamatan.{name}"
        if isinstance(entry, list) or entry is None:
            entry = {"villages": entry or []}
        if not isinstance(entry, dict):
            raise TaxonomyError(f"{path}: {where}: expected a list of villages or a mapping with aliases and "
                                f"villages; got {entry!r}.")
        villages = []
        # A kabupaten's kecamatan may also hold kelurahan (the town around its seat): ``kelurahan: [...]``.
        listed = [(v, village_kind) for v in entry.get("villages") or []]
        listed += [(v, "kelurahan") for v in (entry.get("kelurahan") or []) if village_kind == "desa"]
        for village, kind in listed:
            if isinstance(village, str):
                villages.append((village.strip(), (), kind))
            elif isinstance(village, dict) and len(village) == 1:
                (vname, valiases), = village.items()
                villages.append((str(vname).strip(), _strings(path, f"{where}.{vname}", valiases), kind))
            else:
                raise TaxonomyError(f"{path}: {where}: a village is a name or {{name: [aliases]}}; got {village!r}.")
        parsed.append((_string(path, where, name), _strings(path, f"{where}.aliases", entry.get("aliases")), villages))
    counts: dict[str, int] = {}
    for _, _, villages in parsed:
        for vname, _, _ in villages:
            counts[plain_name(vname)] = counts.get(plain_name(vname), 0) + 1
    bodies: list[Body] = []
    for name, aliases, villages in parsed:
        kec_code = f"kec_{_slug(name)}"
        bodies.append(Body(code=kec_code, name=f"Kecamatan {name}", functions=("7.01",),
                           aliases=tuple(f"Kecamatan {a}" for a in aliases), kind="kecamatan"))
        for vname, valiases, kind in villages:
            prefix = {"kelurahan": "Kelurahan", "desa": "Desa"}.get(kind or "", "")
            shared = counts[plain_name(vname)] > 1
            code = f"{'kel' if kind == 'kelurahan' else 'desa'}_{_slug(vname)}"
            code += f"_{_slug(name)}" if shared else ""
            full = f"{prefix} {vname}" + (f" ({name})" if shared else "")
            function = "7.01.kel" if kind == "kelurahan" else "2.13.desa"
            bodies.append(Body(code=code, name=full, functions=(function,),
                               aliases=tuple(f"{prefix} {a}" for a in valiases), kind=kind or "",
                               parent=kec_code))
    return bodies
