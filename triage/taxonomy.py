"""A deployment's taxonomy: the category, OPD and maladministration codes triage predicts.

The codes are a contract shared by training data, models, the API and the web page. A deployment is a
YAML file (``triage/deployments/<code>.yaml`` ships kukar and kalsel; any path works too) and is
validated on load: every error names the entry at fault.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from triage.errors import TaxonomyError, UnknownCodeError

HEADS: tuple[str, ...] = ("category", "opd", "maladministration")
"""The three things predicted for every complaint, in this order everywhere."""

HEAD_NAMES: dict[str, str] = {"category": "kategori", "opd": "OPD", "maladministration": "bentuk maladministrasi"}
"""What handlers call each head, in Bahasa Indonesia, as written within a sentence (API messages, the web
page)."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str) -> object:
    """A deployment file's YAML (safe: plain data only), parsed with libyaml where PyYAML has it: every
    process that routes reads the national layer and a SOTK file of hundreds of places at start-up."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python


DEPLOYMENTS_DIR = Path(__file__).parent / "deployments"
SOTK_DIR = DEPLOYMENTS_DIR / "sotk"
LEGACY_DIR = DEPLOYMENTS_DIR / "legacy"
"""Kukar's and Kalsel's taxonomy files from before the national layer: the old codes, kept for reference and
for taxonomies written in that form (``categories``, ``opd``, ``maladministration`` of their own)."""
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_SECTIONS = {"category": "categories", "opd": "opd", "maladministration": "maladministration"}


@dataclass(frozen=True)
class FocalPoint:
    """The narahubung who receives complaints for one OPD."""

    name: str
    phone: str | None = None
    email: str | None = None

    @classmethod
    def parse(cls, value: object, where: str) -> FocalPoint | None:
        """A focal point from a deployment file's ``focal_point`` entry (``None`` stays ``None``);
        :class:`TaxonomyError` naming ``where`` if it is not a mapping with a ``name``."""
        if value is None:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise TaxonomyError(f"{where}: 'focal_point' must be a mapping with a 'name' (and optional 'phone', "
                                f"'email'); got {value!r}.")
        return cls(name=value["name"], phone=value.get("phone"), email=value.get("email"))


@dataclass(frozen=True)
class Label:
    """One code of one head, with what people read about it."""

    code: str
    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()
    focal_point: FocalPoint | None = None
    lapor_name: str | None = None
    """How SP4N-LAPOR! names the body in "Instansi Terdisposisi" (OPDs only), when it differs from ``name``."""
    lapor_aliases: tuple[str, ...] = ()
    """Other names of the body met in LAPOR! exports (read, never written)."""
    kind: str = ""
    """What the code is, on deployments built from a SOTK file: on the category head ``function``,
    ``outside`` or ``outcome``; on the OPD head the body's kind (``perangkat_daerah``, ``unit``,
    ``kecamatan``, ``kelurahan``, ``desa``, ``pemda``) or ``outside``."""
    functions: tuple[str, ...] = ()
    """National function codes: the code's own (category head) or those the body carries (OPD head)."""
    forward_text: str | None = None
    """For destinations outside the pemda: where to forward the complaint (*bukan wewenang*)."""

    @property
    def outside(self) -> bool:
        """Whether this code is a destination outside the pemda."""
        return self.kind == "outside"


@dataclass(frozen=True)
class Taxonomy:
    """The codes of one deployment, by head, in the file's order."""

    code: str
    name: str
    labels: dict[str, dict[str, Label]]
    places: tuple[str, ...] = ()
    source: str = ""
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)
    """Per head, codes that read as another code: the old category codes (``infrastruktur``) as national ones
    (``pekerjaan_umum``), so stored decisions, old scripts and old corpora stay valid."""
    sotk: object = field(default=None, repr=False, compare=False)
    """The :class:`~triage.sotk.Sotk` a deployment was built from (``None`` for a taxonomy file)."""

    @property
    def national(self) -> bool:
        """Whether the category head speaks national codes (a deployment built from a SOTK file)."""
        return self.sotk is not None

    def canonical(self, head: str, code: str) -> str:
        """``code`` itself, or the code it is an alias of on ``head``."""
        return self.aliases.get(head, {}).get(code, code)

    def codes(self, head: str) -> list[str]:
        """The codes of ``head`` in the order the deployment lists them."""
        return list(self.labels[head])

    def label(self, head: str, code: str) -> Label:
        """The label of ``code`` on ``head``; :class:`UnknownCodeError` if the deployment lacks it."""
        try:
            return self.labels[head][self.canonical(head, code)]
        except KeyError:
            known = ", ".join(self.labels[head])
            raise UnknownCodeError(
                f"'{code}' is not {'an' if head == 'opd' else 'a'} {head} code of deployment '{self.code}'. "
                f"Known codes: {known}.",
                head=head, code=code,
            ) from None

    def name_of(self, head: str, code: str) -> str:
        """The name of ``code`` on ``head``, or the code itself if the deployment lacks it (a code an older
        model predicts, or a decision made before the code was removed)."""
        label = self.labels[head].get(self.canonical(head, code))
        return label.name if label else code

    def lapor_name(self, code: str) -> str:
        """The name SP4N-LAPOR! gives OPD ``code`` ("Instansi Terdisposisi"): its ``lapor_name``, else its name,
        else the code itself (a code the deployment no longer has)."""
        label = self.labels["opd"].get(code)
        return (label.lapor_name or label.name) if label else code

    def opd_of_lapor_name(self, name: str) -> str | None:
        """The OPD code whose LAPOR! name, name or an alias is ``name`` (case and spacing ignored, and the
        pemda's own name after it, e.g. "Dinas Sosial Kabupaten Kutai Kartanegara"); ``None`` if none is."""
        if self.sotk is not None:
            found = self.sotk.body_of_name(name)
            if found is None:  # a destination outside the pemda, by its name or its LAPOR! name
                plain = _plain_name(name)
                found = next((c for c, label in self.labels["opd"].items() if plain and label.outside and plain in
                              {_plain_name(n) for n in (label.name, label.lapor_name, *label.aliases) if n}), None)
            return found
        wanted = {_plain_name(name)} - {""}
        place = self.name.replace("Pemerintah ", "", 1)  # "Kabupaten Kutai Kartanegara"
        for suffix in {_plain_name(place), _plain_name(place.replace("Kabupaten ", "Kab. ", 1))}:
            wanted |= {w[: -len(suffix) - 1] for w in wanted if w.endswith(" " + suffix)}
        for code, label in self.labels["opd"].items():
            names = [label.name, *label.aliases, *label.lapor_aliases, *([label.lapor_name] * bool(label.lapor_name))]
            if wanted & {_plain_name(n) for n in names}:
                return code
        return None

    def check(self, head: str, code: object) -> str:
        """Return ``code`` if it is a valid code of ``head``, else raise :class:`UnknownCodeError`."""
        if not isinstance(code, str):
            raise UnknownCodeError(
                f"a {head} code must be a string, got {type(code).__name__} {code!r}", head=head, code=str(code))
        return self.label(head, code).code

    def protected_words(self) -> set[str]:
        """Proper nouns and acronyms of the deployment that the stemmer must leave alone."""
        words: set[str] = set()
        texts = [self.name, *self.places]
        for label in self.labels["opd"].values():
            texts.extend([label.name, *label.aliases])
        for text in texts:
            for word in re.findall(r"[A-Za-z]+", text):
                # Acronyms (PUPR, RSUD) and capitalised names (Kutai, Tenggarong); not ordinary
                # words that happen to start a name ("Dinas", "Badan") which stem harmlessly.
                if word.isupper() and len(word) > 1 or word[0].isupper() and word.lower() not in _COMMON:
                    words.add(word.lower())
        return words

    @property
    def hash(self) -> str:
        """sha256 of the codes on each head: a model trained for other codes is refused. On a deployment built
        from a SOTK file, of the national heads only (category and maladministration, the same for every
        pemda): one model serves every such deployment, and whether its OPD head is this pemda's own is
        decided apart (:mod:`triage.route`)."""
        heads = ("category", "maladministration") if self.national else HEADS
        payload = json.dumps({h: self.codes(h) for h in heads}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


def _plain_name(name: str) -> str:
    """``name`` as body names are compared: lower case, without full stops, single spaces."""
    return " ".join(str(name).casefold().replace(".", " ").split())


# Words that begin OPD names; stemming them is harmless and they are ordinary vocabulary.
_COMMON = {
    "dinas", "badan", "satuan", "pemerintah", "kabupaten", "provinsi", "daerah", "umum", "rumah", "sakit",
    "pekerjaan", "penataan", "ruang", "perumahan", "kawasan", "permukiman", "kependudukan", "pencatatan",
    "sipil", "lingkungan", "hidup", "kehutanan", "perhubungan", "sosial", "penanaman", "modal", "pelayanan",
    "terpadu", "satu", "pintu", "pendapatan", "tenaga", "kerja", "transmigrasi", "polisi", "pamong", "praja",
    "penanggulangan", "bencana", "air", "minum", "pemberdayaan", "masyarakat", "desa", "kepegawaian",
    "pengembangan", "sumber", "manusia", "pertanian", "peternakan", "perindustrian", "perdagangan",
    "komunikasi", "informatika", "inspektorat", "kesehatan", "pendidikan", "kebudayaan", "perizinan",
    "keuangan", "koperasi", "usaha", "kecil", "menengah", "perempuan", "perlindungan", "anak", "keluarga",
    "berencana", "dan", "the", "of", "timur", "selatan", "barat", "utara", "muara", "sungai", "kota",
    "bangun", "darat", "kaya", "daya", "aji", "muhammad", "am", "puskesmas", "capil", "perkim", "perumda", "seberang",
}


def load_taxonomy(deployment: str | Path = "kukar") -> Taxonomy:
    """Load and validate a deployment: a shipped name (``kukar``, ``kalsel``, ``surabaya``, ``kab_bandung``,
    ``samarinda``: their SOTK files in ``triage/deployments/sotk/``) or a YAML path (a SOTK file, or a
    taxonomy file with ``categories``, ``opd`` and ``maladministration`` of its own).

    Loaded once, and again when the file changes: a running service that is promoted a model trained for
    an edited taxonomy loads both, without a restart.
    """
    path = _resolve(deployment)
    stat = path.stat()
    return _load(str(path), stat.st_mtime_ns, stat.st_size)


def shipped_deployments() -> list[str]:
    """The deployment names ``TRIAGE_DEPLOYMENT`` accepts without a path."""
    return sorted(p.stem for p in SOTK_DIR.glob("*.yaml"))


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int, size: int) -> Taxonomy:
    """The taxonomy in ``path``; ``mtime_ns`` and ``size`` (of the file as it is now) only key the cache."""
    try:
        raw = read_yaml(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path} is not valid YAML: {exc}. Fix the file's syntax.") from None
    if isinstance(raw, dict) and "sotk" in raw:
        return _from_sotk(path)
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{path}: expected a mapping with deployment, categories, opd and "
                            f"maladministration; got {type(raw).__name__}.")
    meta = raw.get("deployment")
    if not isinstance(meta, dict) or not isinstance(meta.get("code"), str):
        raise TaxonomyError(f"{path}: 'deployment' must be a mapping with a 'code'. Add e.g. "
                            "'deployment: {code: kukar, name: ...}'.")
    labels: dict[str, dict[str, Label]] = {}
    for head, section in _SECTIONS.items():
        entries = raw.get(section)
        if isinstance(entries, str) and entries.startswith("same_as"):
            other = entries.split()[-1]
            labels[head] = _resolve_load(other, path).labels[head]
            continue
        labels[head] = _parse_section(path, section, entries)
    places = meta.get("kecamatan") or []
    return Taxonomy(code=meta["code"], name=str(meta.get("name", meta["code"])), labels=labels,
                    places=tuple(str(p) for p in places), source=path, raw=raw)


def _from_sotk(path: str) -> Taxonomy:
    """A deployment built from a SOTK file and the national layer (docs/national.md).

    - category: every national function (by its slug), every destination outside the pemda and every outcome
      that is not a routing; the old category codes are aliases of the functions they read as;
    - opd: every body of the SOTK (perangkat daerah, units, kecamatan, kelurahan/desa, the pemda itself) and
      every destination outside the pemda (marked ``outside``, with where to forward);
    - maladministration: the national forms (``national/maladministration.yaml``).
    """
    from triage.national import load_national
    from triage.sotk import OWN_LEVEL_DESTINATION, load_sotk

    national = load_national()
    sotk = load_sotk(path, national)
    categories: dict[str, Label] = {}
    slug_of = {f.code: f.slug for f in national.functions.values()}
    for function in national.functions.values():
        categories[function.slug] = Label(code=function.slug, name=function.name, description=function.description,
                                          kind="function", functions=(function.code,))
    own = OWN_LEVEL_DESTINATION.get(sotk.level)  # a province's own level is not outside it
    for dest in national.destinations.values():
        if dest.code == own:
            categories[dest.code] = Label(code=dest.code, name=f"Urusan {sotk.name}", description=dest.remit,
                                          kind="outcome")
            continue
        categories[dest.code] = Label(code=dest.code, name=dest.name, description=dest.remit, kind="outside",
                                      forward_text=dest.forward_text())
    for outcome in national.outcomes.values():
        categories[outcome.code] = Label(code=outcome.code, name=outcome.name, description=outcome.description,
                                         kind="outcome")
    bodies: dict[str, Label] = {}
    for body in sotk.bodies.values():
        if body.kind == "outside":
            continue
        bodies[body.code] = Label(code=body.code, name=body.name, description=body.note, aliases=body.aliases,
                                  focal_point=body.focal_point, lapor_name=body.lapor_name,
                                  lapor_aliases=body.lapor_aliases, kind=body.kind, functions=body.functions)
    for dest in national.destinations.values():
        if dest.code == own:
            continue
        extra = sotk.bodies[dest.code].aliases if dest.code in sotk.bodies else ()
        bodies[dest.code] = Label(code=dest.code, name=dest.name, description=dest.remit,
                                  aliases=extra, lapor_name=dest.lapor_name, kind="outside",
                                  forward_text=dest.forward_text())
    malad_path = str(Path(national_dir()) / "maladministration.yaml")
    malad = _parse_section(malad_path, "maladministration",
                           (read_yaml(Path(malad_path).read_text(encoding="utf-8")) or {}).get("maladministration"))
    aliases = {"category": {old: slug_of[legacy.national] for old, legacy in national.legacy.items()
                            if old not in categories}}
    places = tuple(b.name.removeprefix("Kecamatan ") for b in sotk.bodies.values() if b.kind == "kecamatan")
    return Taxonomy(code=sotk.code, name=sotk.name, labels={"category": categories, "opd": bodies,
                                                           "maladministration": malad},
                    places=places, source=path, aliases=aliases, sotk=sotk)


def national_dir() -> Path:
    """Where the national layer's files are."""
    return DEPLOYMENTS_DIR / "national"


def _resolve(deployment: str | Path) -> Path:
    path = Path(deployment)
    if path.suffix in {".yaml", ".yml"}:
        if not path.is_file():
            raise TaxonomyError(f"Taxonomy file {path} does not exist. Give an existing YAML file "
                                f"or a shipped deployment name.")
        return path.resolve()
    shipped = SOTK_DIR / f"{deployment}.yaml"
    if not shipped.is_file():
        names = ", ".join(shipped_deployments())
        raise TaxonomyError(f"Unknown deployment '{deployment}'. Shipped deployments: {names}; "
                            "or give the path of a SOTK or taxonomy YAML file.")
    return shipped


def _resolve_load(other: str, path: str) -> Taxonomy:
    if other == Path(path).stem:
        raise TaxonomyError(f"{path}: a section cannot be 'same_as' its own deployment.")
    sibling = Path(path).parent / f"{other}.yaml"  # a taxonomy file next to this one, else a shipped deployment
    return load_taxonomy(sibling if sibling.is_file() else other)


def _parse_section(path: str, section: str, entries: object) -> dict[str, Label]:
    if not isinstance(entries, dict) or not entries:
        raise TaxonomyError(f"{path}: section '{section}' must map codes to entries; got "
                            f"{type(entries).__name__}. Add at least one code.")
    parsed: dict[str, Label] = {}
    for code, entry in entries.items():
        where = f"{path}: {section}.{code}"
        if not isinstance(code, str) or not _CODE.match(code):
            raise TaxonomyError(f"{where}: a code must be lower-case letters, digits and '_', starting with "
                                f"a letter; got {code!r}. Rename the code.")
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise TaxonomyError(f"{where}: expected a mapping with a non-empty 'name'; got {entry!r}.")
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise TaxonomyError(f"{where}: 'aliases' must be a list of strings; got {aliases!r}.")
        focal = FocalPoint.parse(entry.get("focal_point"), where)
        lapor_name = entry.get("lapor_name")
        if lapor_name is not None and (not isinstance(lapor_name, str) or not lapor_name.strip()):
            raise TaxonomyError(f"{where}: 'lapor_name' must be a non-empty string (the body's name in "
                                f"SP4N-LAPOR!); got {lapor_name!r}.")
        lapor_aliases = entry.get("lapor_aliases") or []
        if not isinstance(lapor_aliases, list) or not all(isinstance(a, str) for a in lapor_aliases):
            raise TaxonomyError(f"{where}: 'lapor_aliases' must be a list of strings; got {lapor_aliases!r}.")
        parsed[code] = Label(code=code, name=entry["name"].strip(), description=str(entry.get("description", "")),
                             aliases=tuple(aliases), focal_point=focal,
                             lapor_name=lapor_name.strip() if lapor_name else None,
                             lapor_aliases=tuple(lapor_aliases))
    return parsed
