"""One settings object for every front end, read from ``TRIAGE_*`` environment variables and, if
``TRIAGE_CONFIG`` names one, a YAML file (environment wins over the file).

Nothing is read at import time: call :func:`get_settings` (cached) or build ``Settings(...)`` in tests.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout triage runs from: home of the shipped ``models/`` and ``training_data/``."""


class Settings(BaseSettings):
    """Everything an operator can configure."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    deployment: str = Field("kukar", description="Shipped deployment name or path of a taxonomy YAML file.")
    database_url: str = Field(f"sqlite:///{PROJECT_ROOT / 'var' / 'triage.db'}",
                              description="SQLAlchemy URL of the history database (SQLite file by default).")
    models_dir: Path = Field(PROJECT_ROOT / "models", description="Model registry directory.")
    signing_key: Path | None = Field(None, description="Private Ed25519 key that signs the models this machine "
                                                       "trains, retrains or converts (`triage models keygen "
                                                       "PATH` makes one); outside models_dir.")
    trusted_keys: Path | None = Field(None, description="File of public keys ('ssh-ed25519 ...' lines) whose "
                                                        "signed models load, besides triage's release key and "
                                                        "signing_key's own; outside models_dir.")
    allow_pickled_models: bool = Field(False, description="Load models saved as pickles (model.pickle, "
                                                          "model.joblib), which run code when loaded: only for a "
                                                          "models_dir nobody else can write. Prefer `triage "
                                                          "models convert VERSION --allow-pickle`.")
    training_data_dir: Path = Field(PROJECT_ROOT / "training_data", description="Seed corpora, one folder a deployment.")
    max_text_chars: int = Field(10_000, description="Longest complaint text accepted, in characters.")
    max_body_bytes: int | None = Field(None, description="Largest request body read, however it is sent (a "
                                                         "larger one gets 413 unread); default: room for "
                                                         "max_text_chars JSON-escaped (12 bytes a character) "
                                                         "plus 64 KiB.")
    max_header_bytes: int = Field(16_384, description="Largest request line plus headers (larger: 431).")
    read_timeout_seconds: float = Field(10.0, description="Longest a client may take to send a request's headers, "
                                                          "and again its body (slower: 408, connection closed).")
    key_failure_limit: int = Field(20, description="Wrong API keys (API or web sign-in) one client address may "
                                                   "send per key_failure_window_seconds before it gets 429; 0: "
                                                   "no limit. Counted per worker process.")
    key_failure_window_seconds: float = Field(60.0, description="Window of key_failure_limit, in seconds.")
    host: str = Field("127.0.0.1", description="Address `triage serve` listens on.")
    port: int = Field(8000, description="Port `triage serve` listens on.")
    docs: Literal["off", "on", "key"] = Field("key", description="Who may read the API docs (/docs, /redoc, "
                                                                "/openapi.json): nobody, anyone, or holders of an "
                                                                "API key or a web sign-in.")
    metrics_key: str = Field("", description="Token that lets a scraper read /metrics from another host "
                                             "(`Authorization: Bearer <token>`); loopback needs none.")
    workers: int = Field(1, description="Worker processes of `triage serve` (each loads the model).")
    model_check_seconds: float = Field(1.0, description="How often a worker looks for a newly promoted model.")
    session_hours: int = Field(12, description="How long a web sign-in lasts.")
    secret_key: str = Field("", description="Key that signs web session cookies; if empty, one is made once and "
                                            "kept in state_dir/web-secret.")
    state_dir: Path = Field(PROJECT_ROOT / "var", description="Where the service keeps its own files (web secret, job locks).")
    retrain_tolerance: float = Field(0.01, description="How much worse a challenger may be on a head and still pass.")
    retrain_min_examples: int = Field(10, description="Examples a new code needs before retraining learns it.")
    retrain_recent_holdout: int = Field(200, description="Most recent decisions held out to compare models "
                                                         "(at most a quarter of the decisions).")
    retrain_confidence: float = Field(0.95, description="A challenger fails a head only if it is worse beyond the "
                                                        "tolerance with this confidence (paired bootstrap); 0 "
                                                        "compares the figures alone.")
    retrain_seed_tolerance: float = Field(0.03, description="How much worse a challenger may be on a head of the "
                                                            "seed test split (older, possibly outdated labels).")
    retrain_similarity: float = Field(0.2, description="Cosine similarity (of stem n-grams) at which a decision "
                                                       "that corrected a code counts against a seed complaint.")
    retrain_overrule_votes: int = Field(3, description="Similar corrections it takes to overrule a seed complaint.")
    retrain_decision_weight: float = Field(1.0, description="Multiplies a handler's decision's weight in training "
                                                           "(decisions and the deployment's own seed corpus weigh "
                                                           "4x the corpora every pemda shares).")
    # The lifecycle after routing (triage/lifecycle.py, triage/deadlines.py, triage/notify.py; docs/lifecycle.md).
    deadlines: dict[str, str] = Field(default_factory=dict, description="Overrides of the stage deadlines, e.g. "
                                      "{route: 3 hari kerja, respond: 5 hari kerja, settle: 60 hari} (the defaults).")
    cuti_bersama: list[date] = Field(default_factory=list, description="The deployment's joint leave days "
                                                                       "(not working days), besides national holidays.")
    timezone: str = Field("Asia/Makassar", description="Time zone whose days the deadlines count (WITA for kukar).")
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL of the service in links sent to focal points.")
    smtp_host: str = Field("", description="SMTP server that e-mails focal points on disposition; empty: no e-mail.")
    smtp_port: int = Field(25, description="Port of smtp_host.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str = Field("", description="SMTP login, if the server wants one.")
    smtp_password: str = Field("", description="SMTP password of smtp_user.")
    smtp_from: str = Field("triage@localhost", description="Sender address of e-mails to focal points.")
    webhook_url: str = Field("", description="URL that receives a signed JSON POST on every disposition; empty: none.")
    webhook_secret: str = Field("", description="Key of the webhook's HMAC-SHA256 signature (X-Triage-Signature).")
    notify_attempts: int = Field(3, description="Tries per channel (e-mail, webhook) before a failure is recorded.")
    notify_backoff_seconds: float = Field(2.0, description="Wait before the n-th retry: n times this.")

    @model_validator(mode="after")
    def _derive_body_limit(self) -> "Settings":
        if self.max_body_bytes is None:
            self.max_body_bytes = self.max_text_chars * 12 + 64 * 1024
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        return init_settings, env_settings, _YamlFileSource(settings_cls)


class _YamlFileSource(PydanticBaseSettingsSource):
    """Values from the YAML file named by ``TRIAGE_CONFIG``, if any."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._values().items() if k in self.settings_cls.model_fields}

    def _values(self) -> dict[str, Any]:
        path = os.environ.get("TRIAGE_CONFIG")
        if not path:
            return {}
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of setting names to values, got {type(data).__name__}.")
        return data


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
