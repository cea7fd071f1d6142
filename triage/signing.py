"""Ed25519 signatures of saved models: which models a machine loads is decided by keys, not by who can write
the models directory.

Whose key signs: whoever makes models, that is the operator who runs ``triage train``, ``triage retrain`` or
``triage models convert`` (and the service, whose retraining jobs run ``triage retrain``), holds a private
key *outside* the models directory and names it in ``TRIAGE_SIGNING_KEY``. The shipped model is signed by the
project's release key, whose public half is :data:`RELEASE_KEY`; its private half never enters the repository.

Which keys are trusted where models load: :data:`RELEASE_KEY`, every key listed in the file named by
``TRIAGE_TRUSTED_KEYS`` (one OpenSSH line ``ssh-ed25519 AAAA... comment`` each; ``#`` starts a comment), and
the public half of ``TRIAGE_SIGNING_KEY``. Neither file may lie inside the models directory.

What is signed: the exact bytes of a version's ``metadata.json`` (which hold the sha256 of ``model.npz``),
prefixed by :data:`_CONTEXT`. The signature is ``signature.json``: ``{"algorithm": "ed25519", "key":
"SHA256:...", "signature": base64}``, the key named by its OpenSSH fingerprint (as ``ssh-keygen -lf`` prints
it). Keys made by ``triage models keygen`` (PEM) and by ``ssh-keygen -t ed25519`` (OpenSSH, unencrypted) both
sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import ModelError, ModelIntegrityError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from triage.settings import Settings

RELEASE_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHmoM0x/eudExFgMC4Ur/cDLerFgiw7giXI2s9ob7Rj3 "
               "triage release key")
"""Public half of the key that signs the models shipped with triage (``models/kukar-seed``)."""

SIGNATURE_FILE = "signature.json"
_CONTEXT = b"triage model metadata v1\n"  # a signature of a model's metadata is never valid for anything else
_SSH_ED25519 = b"ssh-ed25519"


def public_key_line(raw: bytes, comment: str = "") -> str:
    """The OpenSSH line of a 32-byte Ed25519 public key."""
    blob = _ssh_string(_SSH_ED25519) + _ssh_string(raw)
    return f"ssh-ed25519 {base64.b64encode(blob).decode()}" + (f" {comment}" if comment else "")


def fingerprint(raw: bytes) -> str:
    """``SHA256:...`` of a 32-byte Ed25519 public key, as ``ssh-keygen -lf`` prints it."""
    blob = _ssh_string(_SSH_ED25519) + _ssh_string(raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_public_key(line: str, where: str) -> bytes:
    """The 32 raw bytes of the Ed25519 public key on an OpenSSH line ``ssh-ed25519 BASE64 [comment]``."""
    parts = line.split()
    try:
        blob = base64.b64decode(parts[1], validate=True) if len(parts) >= 2 else b""
    except ValueError:
        blob = b""
    if parts[:1] != ["ssh-ed25519"] or blob[:15] != _ssh_string(_SSH_ED25519) or len(blob) != 15 + 4 + 32 \
            or blob[15:19] != struct.pack(">I", 32):
        raise ModelError(f"{where}: expected an Ed25519 public key line 'ssh-ed25519 AAAA... comment', found "
                         f"{line[:40]!r}. Copy the line from the .pub file that `triage models keygen` wrote.")
    return blob[19:]


def generate_key(path: Path, comment: str) -> str:
    """Write a new private key to ``path`` (PEM, readable by its owner only) and its public line to
    ``path`` + ``.pub``; returns the public line. Refuses to overwrite either file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public_path = path.with_name(path.name + ".pub")
    for existing in (path, public_path):
        if existing.exists():
            raise ModelError(f"{existing} already exists; choose another path (a key is never overwritten).")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    line = public_key_line(raw, comment)
    public_path.write_text(line + "\n", encoding="utf-8")
    return line


@dataclass
class ModelKeys:
    """The keys one process signs models with and trusts models from.

    ``trusted`` maps fingerprints to raw public keys; ``signing_key`` is the path of the private key (read
    only when something is signed, or when a signature names a key not otherwise trusted).
    """

    trusted: Mapping[str, bytes]
    signing_key: Path | None = None
    _private: Ed25519PrivateKey | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelKeys:
        """The release key, the keys of ``settings.trusted_keys`` and the private ``settings.signing_key``;
        :class:`ModelError` if a key file is missing, malformed or inside the models directory."""
        models = Path(settings.models_dir).resolve()
        for setting, path in (("TRIAGE_SIGNING_KEY", settings.signing_key),
                              ("TRIAGE_TRUSTED_KEYS", settings.trusted_keys)):
            if path is not None and Path(path).resolve().is_relative_to(models):
                raise ModelError(f"{setting} ({path}) is inside the models directory {models}: whoever can "
                                 "write models could replace it. Move it outside and update the setting.")
        raw = parse_public_key(RELEASE_KEY, "the release key")
        trusted = {fingerprint(raw): raw}
        if settings.trusted_keys is not None:
            path = Path(settings.trusted_keys)
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ModelError(f"TRIAGE_TRUSTED_KEYS names {path}, which cannot be read ({exc.strerror}). "
                                 "Create it (one public key line a line) or unset the setting.") from None
            for number, line in enumerate(lines, 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    raw = parse_public_key(line.strip(), f"{path} line {number}")
                    trusted[fingerprint(raw)] = raw
        signing_key = None if settings.signing_key is None else Path(settings.signing_key)
        return cls(trusted=trusted, signing_key=signing_key)

    def require_signing_key(self) -> None:
        """:class:`ModelError` unless a private key is configured and readable (checked before long work)."""
        self._private_key()

    def sign(self, metadata: bytes) -> bytes:
        """The bytes of ``signature.json`` for a version whose ``metadata.json`` holds ``metadata``."""
        from cryptography.hazmat.primitives import serialization

        key = self._private_key()
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        signature = key.sign(_CONTEXT + metadata)
        return (json.dumps({"algorithm": "ed25519", "key": fingerprint(raw),
                            "signature": base64.b64encode(signature).decode()}, indent=2) + "\n").encode()

    def verify(self, metadata: bytes, signature: bytes | None, version: str) -> str:
        """The fingerprint of the trusted key whose ``signature`` (the bytes of ``signature.json``, ``None``
        if there is none) signs ``metadata``; :class:`ModelIntegrityError` otherwise."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        if signature is None:
            raise ModelIntegrityError(
                f"Model '{version}' is not signed (no {SIGNATURE_FILE}), so it cannot be trusted. Train it "
                "again with TRIAGE_SIGNING_KEY set, or convert an old pickled version with `triage models "
                "convert`.")
        try:
            document = json.loads(signature)
            key_id, value = document["key"], base64.b64decode(document["signature"], validate=True)
            if document.get("algorithm") != "ed25519" or not isinstance(key_id, str):
                raise ValueError(document.get("algorithm"))
        except (ValueError, KeyError, TypeError):
            raise ModelIntegrityError(f"Model '{version}': {SIGNATURE_FILE} is not an Ed25519 signature "
                                      "document; the folder was damaged or tampered with. Restore the version "
                                      "from a trusted copy or retrain.") from None
        raw = self.trusted.get(key_id) or self._own_public_key(key_id)
        if raw is None:
            raise ModelIntegrityError(
                f"Model '{version}' is signed by key {key_id}, which is not trusted here. If you trust whoever "
                "holds that key, add its public key line to the TRIAGE_TRUSTED_KEYS file; otherwise retrain.")
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(value, _CONTEXT + metadata)
        except InvalidSignature:
            raise ModelIntegrityError(
                f"Model '{version}': its signature does not match its metadata.json (key {key_id}); the folder "
                "was changed after it was signed. Restore the version from a trusted copy or retrain; do not "
                "serve it.") from None
        return key_id

    # -- the private key -----------------------------------------------------------------------------

    def _own_public_key(self, key_id: str) -> bytes | None:
        """The public half of the signing key if its fingerprint is ``key_id``."""
        if self.signing_key is None:
            return None
        from cryptography.hazmat.primitives import serialization

        raw = self._private_key().public_key().public_bytes(serialization.Encoding.Raw,
                                                            serialization.PublicFormat.Raw)
        return raw if fingerprint(raw) == key_id else None

    def _private_key(self) -> Ed25519PrivateKey:
        if self._private is not None:
            return self._private
        if self.signing_key is None:
            raise ModelError("No key to sign models with: TRIAGE_SIGNING_KEY is not set. Create one with "
                             "`triage models keygen PATH` (outside the models directory) and set "
                             "TRIAGE_SIGNING_KEY=PATH.")
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            data = self.signing_key.read_bytes()
        except OSError as exc:
            raise ModelError(f"TRIAGE_SIGNING_KEY names {self.signing_key}, which cannot be read "
                             f"({exc.strerror}). Fix the path or create a key with `triage models "
                             "keygen`.") from None
        try:
            if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
                key = serialization.load_ssh_private_key(data, password=None)
            else:
                key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ModelError(f"{self.signing_key} (TRIAGE_SIGNING_KEY) is not an unencrypted private key "
                             f"({exc}). Create one with `triage models keygen PATH`.") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ModelError(f"{self.signing_key} (TRIAGE_SIGNING_KEY) is a {type(key).__name__}, expected an "
                             "Ed25519 key. Create one with `triage models keygen PATH`.")
        self._private = key
        return key


def _ssh_string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value
