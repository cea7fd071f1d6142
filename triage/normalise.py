"""Step 1: normalise complaint text.

Citizens write ``KUKAR ADUAN jln rusakkk bgt dkt SDN 012, hub 0812xxxx``; the model should read
``jalan rusak banget dekat sdn xangka hubung xtelepon``. :func:`normalise` does that, in order:

1. lower case; drop the SMS prefix (``<DEPLOYMENT> ADUAN``) and redaction brackets;
2. mask what identifies a person or is unique to one complaint: URLs, e-mail, NIK, phone numbers and other
   numbers become ``xurl``, ``xemail``, ``xnik``, ``xtelepon``, ``xangka`` (so the model learns that *a*
   phone number was given, not which);
3. squeeze letters repeated three or more times (``rusakkk`` -> ``rusak``);
4. expand slang and abbreviations (``yg`` -> ``yang``, ``gak`` -> ``tidak``) from :data:`SLANG`.

:func:`tokens` splits a clean text into words and drops stop words. Negations (tidak, belum, bukan,
tanpa) are *kept*: "tidak dilayani" and "belum selesai" carry the complaint.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:go\.id|com|id|net|org)\b(?:/\S*)?")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_REDACTED = re.compile(r"\[(nik|telepon|email|nama|alamat)\]")
# The three number patterns open with a character, not with \b: the regex engine then skips ahead to the
# next digit (or '+') instead of trying every position, several times faster on long texts. Each "\b at the
# start" is the lookbehind after that first character: the same matches as "\b\d{16}\b" and so on.
_NIK = re.compile(r"\d(?<=\b\d)\d{15}\b")
_PHONE = re.compile(r"(?:\+62|6(?<=\b6)2|0(?<=\b0))8[\d\- x]{6,14}\d|0(?<=\b0)8\d{2}x+\b|0(?<=\b0)8\d*x{2,}\w*")
_NUMBER = re.compile(r"\d(?<=\b\d)\d*(?:[.,]\d+)*(?:rb|ribu|jt|juta|k)?\b")
_REPEAT = re.compile(r"([a-z])\1{2,}")
_DIGIT = re.compile(r"\d")

SLANG: dict[str, str] = {
    # abbreviations of everyday words
    "yg": "yang", "dgn": "dengan", "dg": "dengan", "utk": "untuk", "untk": "untuk", "tuk": "untuk",
    "krn": "karena", "krna": "karena", "karna": "karena", "sdh": "sudah", "udh": "sudah", "udah": "sudah",
    "dah": "sudah", "sudh": "sudah", "blm": "belum", "blum": "belum", "belom": "belum", "tdk": "tidak",
    "tdak": "tidak", "gak": "tidak", "ga": "tidak", "gk": "tidak", "nggak": "tidak", "ngga": "tidak",
    "enggak": "tidak", "engga": "tidak", "kagak": "tidak", "ndak": "tidak", "nda": "tidak", "tak": "tidak",
    "kada": "tidak", "kd": "tidak", "bkn": "bukan", "jgn": "jangan", "jg": "juga", "jga": "juga",
    "aja": "saja", "aj": "saja", "sj": "saja", "sy": "saya", "sya": "saya", "aku": "saya", "gw": "saya",
    "gue": "saya", "ulun": "saya", "kmi": "kami", "kmrn": "kemarin", "kemaren": "kemarin", "skrg": "sekarang",
    "skrang": "sekarang", "sekarng": "sekarang", "bgt": "banget", "bngt": "banget", "bnyk": "banyak",
    "byk": "banyak", "sgt": "sangat", "sngat": "sangat", "tp": "tapi", "tpi": "tapi", "trs": "terus",
    "trus": "terus", "lg": "lagi", "lgi": "lagi", "dr": "dari", "dri": "dari", "dpt": "dapat", "dapet": "dapat",
    "bs": "bisa", "bsa": "bisa", "hrs": "harus", "msh": "masih", "masi": "masih", "mslh": "masalah",
    "sm": "sama", "sma": "sama", "spt": "seperti", "kyk": "seperti", "kayak": "seperti", "gmn": "bagaimana",
    "gimana": "bagaimana", "gmna": "bagaimana", "knp": "kenapa", "napa": "kenapa", "kpn": "kapan",
    "org": "orang", "orng": "orang", "ortu": "orang tua", "bln": "bulan", "thn": "tahun", "th": "tahun",
    "mgg": "minggu", "hr": "hari", "tgl": "tanggal", "bbrp": "beberapa", "smua": "semua",
    "sampe": "sampai", "smpe": "sampai", "pdhl": "padahal", "klo": "kalau", "kalo": "kalau",
    "kl": "kalau", "mo": "mau", "pengen": "ingin", "pgn": "ingin", "handak": "mau", "mnt": "minta",
    "tlg": "tolong", "tolongin": "tolong", "mhn": "mohon", "makasih": "terima kasih", "mksh": "terima kasih",
    "trims": "terima kasih", "thx": "terima kasih", "maf": "maaf", "mf": "maaf", "dlm": "dalam",
    "pd": "pada", "ttg": "tentang", "sbg": "sebagai", "tsb": "tersebut", "dll": "dan lain lain",
    "dsb": "dan sebagainya", "ato": "atau", "atw": "atau", "n": "dan", "dkt": "dekat",
    "deket": "dekat", "smg": "semoga", "ny": "nya", "bener": "benar", "bner": "benar", "emang": "memang",
    "mmg": "memang", "cuman": "cuma", "cm": "cuma", "doang": "saja", "gitu": "begitu",
    "gini": "begini", "nih": "ini", "tuh": "itu", "ni": "ini", "lawan": "dengan", "banyu": "air",
    "sidin": "beliau", "pian": "anda", "kaina": "nanti", "nyaman": "enak", "kek": "seperti",
    # public-service vocabulary
    "jln": "jalan", "jl": "jalan", "jembtn": "jembatan", "pjl": "penerangan jalan", "pju": "penerangan jalan",
    "rs": "rumah sakit", "pkm": "puskesmas", "pusk": "puskesmas", "bpk": "bapak", "pak": "bapak",
    "bu": "ibu", "ektp": "ktp", "kk": "kartu keluarga", "akte": "akta", "sktm": "surat keterangan",
    "pemkab": "pemerintah kabupaten", "pemda": "pemerintah daerah", "kades": "kepala desa",
    "sekdes": "sekretaris desa", "kadis": "kepala dinas", "kabid": "kepala bidang",
    "petugasnya": "petugas", "pns": "asn", "honor": "honorer", "sekolahan": "sekolah",
    "duit": "uang", "duitnya": "uang", "byr": "bayar", "bayr": "bayar", "ngurus": "urus", "ngurusin": "urus",
    "nunggu": "tunggu", "nungguin": "tunggu", "dtg": "datang", "ngantri": "antre",
    "antri": "antre", "antrian": "antrean", "ngasih": "beri", "kasih": "beri", "nyuruh": "suruh",
    "dibilang": "dikatakan", "bilang": "kata", "pake": "pakai", "wa": "whatsapp", "hp": "handphone",
    "online": "daring", "offline": "luring", "slow": "lambat", "lemot": "lambat",
}

# Function words that carry no routing signal. Negations and words of time and repetition
# ("sudah", "belum", "lagi", "berkali") are deliberately absent: they are how a complaint says
# "not served" or "still not done".
STOP_WORDS: frozenset[str] = frozenset("""
yang dan di ke dari ini itu dengan untuk pada adalah sebagai juga atau oleh karena dalam akan
saya kami kita mereka dia ia anda beliau nya pun lah kah tah ya yah sih deh dong kok loh lho kan
para sang si se the a an of to is are be this that as ada agar supaya bahwa maka jadi hingga
sampai serta yaitu yakni seperti apa siapa mana begitu begini sini situ sana tersebut tadi
saat ketika sedang telah bisa dapat mau ingin harus boleh saja cuma hanya pula amat sangat
banget sekali lebih paling kalau jika bila apabila namun tapi tetapi melainkan sedangkan
terhadap tentang kepada bagi antara setiap semua seluruh para hal tersebut mohon tolong
bapak ibu pak bu mas mbak kak dik terima kasih halo hai assalamualaikum salam selamat pagi siang sore malam
""".split())


def normalise(text: str, sms_prefixes: tuple[str, ...] = ("kukar",)) -> str:
    """Return the clean form of one complaint text (see the module docstring for the steps)."""
    return " ".join(form for word in _words(_masked(text, sms_prefixes)) for form in _FORMS[word])


def tokens(clean: str) -> list[str]:
    """Split a clean text into words, without stop words."""
    return [word for word in clean.split() if word not in STOP_WORDS]


def complaint_tokens(text: str, sms_prefixes: tuple[str, ...] = ("kukar",)) -> list[str]:
    """``tokens(normalise(text))`` in one pass: what the features read.

    Steps 3 and 4 and the stop words depend on one word at a time, so they are worked out once per
    distinct word and looked up after that (a backlog repeats the same words endlessly).
    """
    kept = _KEPT
    return [token for word in _words(_masked(text, sms_prefixes)) for token in kept[word]]


BREAK = "|"
"""What :func:`complaint_token_stream` puts between two texts' tokens: no run of letters can be it."""


def complaint_token_stream(texts: Sequence[str], sms_prefixes: tuple[str, ...] = ("kukar",)) -> list[str]:
    """The :func:`complaint_tokens` of every text in one list, each text's separated from the next by
    :data:`BREAK`: what the features read, for many texts at once.

    The same tokens, with far fewer calls: the texts, each masked (steps 1 and 2), are joined with a
    separator that becomes the word :data:`BREAK`, split into words and the words mapped to their tokens,
    all at once. A text holding the separator itself (never seen in complaints) makes the texts go one by
    one.
    """
    prefixes = tuple(sms_prefixes)
    joined = _SEPARATOR.join([_masked(text, prefixes) for text in texts])
    if joined.count("\x1f") != max(len(texts) - 1, 0):
        stream: list[str] = []
        for i, text in enumerate(texts):
            stream += [BREAK] * (i > 0) + complaint_tokens(text, prefixes)
        return stream
    words = joined.encode("ascii", "replace").translate(_LETTERS_AND_BREAKS).decode("ascii").split()
    return list(itertools.chain.from_iterable(map(_KEPT.__getitem__, words)))


MAX_CACHED_WORDS = 200_000
"""Distinct words whose clean forms are kept between calls; beyond this a cache starts afresh (a service
runs for months, and names and typos keep coming)."""


def _masked(text: str, sms_prefixes: tuple[str, ...]) -> str:
    """Steps 1 and 2: lower case, no SMS prefix, masks in place of personal data and numbers."""
    return _mask(_strip_sms_prefix(text.lower(), tuple(sms_prefixes)))


def _mask(clean: str) -> str:
    """Step 2 on lower-case text: masks in place of personal data and numbers."""
    # Each pattern runs only when its cheapest tell-tale is present: most complaints have no URL,
    # e-mail or redaction marker, and the work is per complaint on backlogs of millions.
    if "[" in clean:
        clean = _REDACTED.sub(lambda m: _MASKS[m.group(1)], clean)
    if "@" in clean:
        clean = _EMAIL.sub(" xemail ", clean)
    if "www" in clean or "http" in clean or ".id" in clean or ".com" in clean or ".net" in clean or \
            ".org" in clean:
        clean = _URL.sub(" xurl ", clean)
    if _DIGIT.search(clean):
        clean = _NIK.sub(" xnik ", clean)
        if "08" in clean or "62" in clean:  # in every phone number: +62 8.., 628.., 08..
            clean = _PHONE.sub(" xtelepon ", clean)
        clean = _NUMBER.sub(" xangka ", clean)
    return clean


def _words(clean: str) -> list[str]:
    """The runs of letters a-z of a lower-case text (what ``re.findall("[a-z]+")`` gives, twice as fast):
    every other character, accented and non-Latin letters included, separates words."""
    return clean.encode("ascii", "replace").translate(_LETTERS_ONLY).decode("ascii").split()


_LETTERS_ONLY = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
# Between texts joined by complaint_token_stream: the unit separator (a text holding one goes its own way),
# which becomes the word BREAK.
_SEPARATOR = " \x1f "
_LETTERS_AND_BREAKS = _LETTERS_ONLY[:0x1f] + BREAK.encode() + _LETTERS_ONLY[0x20:]


class _WordCache(dict):
    """``cache[word]``: computed by ``make(word)`` the first time, looked up after that; bounded."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, word: str) -> tuple[str, ...]:
        if len(self) >= MAX_CACHED_WORDS:
            self.clear()
        made = self[word] = self.make(word)
        return made


def _forms(word: str) -> tuple[str, ...]:
    """Steps 3 and 4 for one word of letters: squeezed, then expanded (``"ortu"`` -> orang, tua)."""
    if len(word) > 2 and _REPEAT.search(word):
        word = _REPEAT.sub(r"\1", word)
    expanded = SLANG.get(word)
    return (word,) if expanded is None else tuple(expanded.split(" "))


def _kept(word: str) -> tuple[str, ...]:
    """The forms of one word that are not stop words."""
    forms = _FORMS[word]
    if len(forms) == 1:
        return () if forms[0] in STOP_WORDS else forms
    return tuple([form for form in forms if form not in STOP_WORDS])


# Letters repeat only inside a word, so squeezing word by word is squeezing the text.
_FORMS = _WordCache(_forms)
_KEPT = _WordCache(_kept)

_MASKS = {"nik": " xnik ", "telepon": " xtelepon ", "email": " xemail ", "nama": " xnama ", "alamat": " xalamat "}


def _strip_sms_prefix(text: str, prefixes: tuple[str, ...]) -> str:
    found = _sms_prefix(prefixes).match(text)
    return text[found.end():] if found else text


@functools.lru_cache(maxsize=16)
def _sms_prefix(prefixes: tuple[str, ...]) -> re.Pattern:
    """``<code> ADUAN`` for any of the deployment codes, as SMS gateways format it."""
    codes = "|".join(map(re.escape, prefixes)) or "(?!)"
    return re.compile(rf"\s*(?:{codes})\s+aduan\b[\s:#.\-]*")
