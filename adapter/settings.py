"""Settings: read once from the environment over the defaults in config/defaults.env."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from adapter.errors import ConfigurationError

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "config" / "defaults.env"


@dataclasses.dataclass(frozen=True)
class Settings:
    port: int
    redis_url: str
    meta_app_secret: str
    meta_verify_token: str
    graph_api_base_url: str
    graph_api_version: str
    helpdesk_base_url: str
    helpdesk_attachment_hosts: tuple[str, ...]
    admin_token: str
    public_base_url: str
    queue_partitions: int
    worker_threads: int
    job_max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    dedupe_ttl_seconds: int
    helpdesk_webhook_max_age_seconds: int
    max_body_bytes: int
    media_max_bytes: int
    http_timeout_seconds: float
    log_level: str
    log_format: str
    window_warning_lead_seconds: int
    template_sync_interval_seconds: int
    admin_username: str
    admin_password: str
    session_secret: str
    meta_app_id: str
    meta_config_id: str
    meta_sdk_url: str
    encryption_key: str
    queue_lease_seconds: float
    unknown_outcome_wait_seconds: float
    outbound_per_second: float
    pair_interval_seconds: float
    pair_burst: int
    ready_max_backlog_age_seconds: float

    @property
    def graph_url(self) -> str:
        """Graph base URL with the version, e.g. https://graph.facebook.com/v25.0."""
        return f"{self.graph_api_base_url.rstrip('/')}/{self.graph_api_version}"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def read_defaults(path: Path = DEFAULTS_FILE) -> dict[str, str]:
    defaults: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        defaults[name.strip()] = value.strip()
    return defaults


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive whole number")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be a positive number")
    return number


def _port(value: str) -> int:
    number = int(value)
    if not 0 < number < 65536:
        raise ValueError("must be a port number between 1 and 65535")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or a positive whole number")
    return number


def _http_url(value: str) -> str:
    if value == "":
        return value
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


def _hosts(value: str) -> tuple[str, ...]:
    """Comma-separated hosts (host, host:port or a URL) -> their network locations, lowercase."""
    hosts = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        netloc = urlparse(item if "//" in item else f"//{item}").netloc.lower()
        if not netloc or any(ch.isspace() for ch in netloc):
            raise ValueError(f"must be comma-separated hosts; {item!r} is not one")
        hosts.append(netloc)
    return tuple(hosts)


def _redis_url(value: str) -> str:
    if value and urlparse(value).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must be a redis://, rediss:// or unix:// URL")
    return value


def _graph_version(value: str) -> str:
    if not (value.startswith("v") and value[1:].replace(".", "").isdigit()):
        raise ValueError("must look like v25.0")
    return value


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.upper() in choices or value.lower() in choices:
            return value.upper() if value.upper() in choices else value.lower()
        raise ValueError("must be one of " + ", ".join(choices))

    return parse


_PARSERS: dict[str, Callable[[str], Any]] = {
    "PORT": _port,
    "REDIS_URL": _redis_url,
    "META_APP_SECRET": str,
    "META_VERIFY_TOKEN": str,
    "GRAPH_API_BASE_URL": _http_url,
    "GRAPH_API_VERSION": _graph_version,
    "HELPDESK_BASE_URL": _http_url,
    "HELPDESK_ATTACHMENT_HOSTS": _hosts,
    "ADMIN_TOKEN": str,
    "PUBLIC_BASE_URL": _http_url,
    "QUEUE_PARTITIONS": _positive_int,
    "WORKER_THREADS": _positive_int,
    "JOB_MAX_ATTEMPTS": _positive_int,
    "RETRY_BASE_SECONDS": _positive_float,
    "RETRY_MAX_SECONDS": _positive_float,
    "DEDUPE_TTL_SECONDS": _positive_int,
    "HELPDESK_WEBHOOK_MAX_AGE_SECONDS": _positive_int,
    "MAX_BODY_BYTES": _positive_int,
    "MEDIA_MAX_BYTES": _positive_int,
    "HTTP_TIMEOUT_SECONDS": _positive_float,
    "LOG_LEVEL": _one_of("DEBUG", "INFO", "WARNING", "ERROR"),
    "LOG_FORMAT": _one_of("json", "text"),
    "WINDOW_WARNING_LEAD_SECONDS": _non_negative_int,
    "TEMPLATE_SYNC_INTERVAL_SECONDS": _non_negative_int,
    "ADMIN_USERNAME": str,
    "ADMIN_PASSWORD": str,
    "SESSION_SECRET": str,
    "META_APP_ID": str,
    "META_CONFIG_ID": str,
    "META_SDK_URL": _http_url,
    "ENCRYPTION_KEY": str,
    "QUEUE_LEASE_SECONDS": _positive_float,
    "UNKNOWN_OUTCOME_WAIT_SECONDS": _positive_float,
    "OUTBOUND_PER_SECOND": _positive_float,
    "PAIR_INTERVAL_SECONDS": _positive_float,
    "PAIR_BURST": _positive_int,
    "READY_MAX_BACKLOG_AGE_SECONDS": _positive_float,
}


def load_settings(environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build Settings from defaults + environ; raise one error naming every bad variable."""
    raw = read_defaults()
    raw.update({name: environ[name] for name in _PARSERS if name in environ})
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, parse in _PARSERS.items():
        try:
            values[name.lower()] = parse(raw.get(name, "").strip())
        except ValueError as exc:
            reason = str(exc) if "must" in str(exc) else "is not a valid value"
            problems.append(f"{name} {reason}")
    if problems:
        raise ConfigurationError("Invalid configuration: " + "; ".join(problems) + ".")
    values.update(overrides or {})
    return Settings(**values)
