"""Settings, read once from the environment and checked before anything starts."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot import i18n
from rules import load_service_levels
from rules.calendar import CalendarConfigError
from rules.desk import DeskConfigError
from rules.desk import load as load_desk

DEFAULT_BASE_URL = "https://webexapis.com/v1/"
DEFAULT_DATABASE_FILE = "servicedesk.db"
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
# An instance name goes into webhook names between spaces: one short printable word.
INSTANCE_MAX = 32
_INSTANCE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{INSTANCE_MAX - 1}}}")


def default_instance() -> str:
    """This host's name as an instance name: its first label, with anything but letters, digits,
    '.', '_' and '-' made '-', cut to INSTANCE_MAX ("bot" when nothing is left)."""
    label = socket.gethostname().split(".")[0]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", label).lstrip("._-")[:INSTANCE_MAX]
    return cleaned or "bot"


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    webex_access_token: str | None = None
    webex_base_url: str = DEFAULT_BASE_URL
    webex_webhook_secret: str | None = None
    # Set only by `serve --no-webhook-secret`: deliveries are accepted unsigned, knowingly.
    webhook_secret_waived: bool = False
    # Names this environment's webhooks, so environments sharing one bot token leave each other's alone.
    bot_instance: str = field(default_factory=default_instance)
    public_url: str | None = None
    database_url: str = f"sqlite:///{DEFAULT_DATABASE_FILE}"
    bot_host: str = "127.0.0.1"
    bot_port: int = 8080
    # Where `serve` answers GET /metrics: an address of its own, off the public webhook port.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8081
    # When set, GET /metrics on the webhook port answers too, to "Authorization: Bearer <token>"
    # (for web processes under gunicorn, which serve one port only).
    metrics_token: str | None = None
    bot_admins: frozenset[str] = field(default_factory=frozenset)
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object per line)
    # How long a call to Webex may take before it counts as a timeout (retried; a send is first looked for).
    webex_timeout_seconds: int = 20
    # How long a worker holds a claimed event or message before another may take it over.
    lease_seconds: int = 60
    # How often the timer thread checks that Webex has not disabled the bot's webhooks; 0: never.
    # Decimals allowed (0.05 is every 3 s, for drills).
    webhook_check_minutes: float = 5
    # How much lower than normal a `run_bot.py worker` process runs on the CPU (Unix nice, 0..19).
    # On a host shared with web processes, a burst is then acknowledged before its work is done,
    # at the cost of the work's own pace when the CPU runs out (see docs/operations.md, Running at scale).
    worker_nice: int = 0
    # Days a handled webhook event or a sent message is kept in the queues (bot/retention.py); 0: for ever.
    retention_days: int = 30
    # Worker threads inside one process; more processes come from `run_bot.py worker`.
    inbox_threads: int = 2
    outbox_threads: int = 2
    # Calendars and SLA profiles; None: the shipped rules/service_levels.toml.
    service_levels_file: str | None = None
    # Commands a person may give per minute; 0 turns the limit off (load tests only).
    rate_limit: int = 20
    # Notices to whole audiences (maintenance, disruptions, problems) and reports sent per second
    # by each process: below Webex's limit for the token, leaving room for conversation.
    bulk_per_second: float = 5.0
    # Contacts, escalation matrix and services; None: the shipped rules/desk.toml.
    desk_file: str | None = None

    @property
    def sandbox(self) -> bool:
        """True when no Webex token is configured: the bot talks to the local sandbox."""
        return not self.webex_access_token

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (used by the sandbox wiring and tests)."""
        return replace(self, **changes)


def require_webhook_secret(settings: Settings) -> None:
    """Refuse to serve webhooks without WEBEX_WEBHOOK_SECRET unless the operator waived it
    explicitly (`--no-webhook-secret`): without it anyone who finds the address can post events
    the bot acts on, a command in the name of any person."""
    if not settings.webex_webhook_secret and not settings.webhook_secret_waived:
        raise ConfigError(
            "WEBEX_WEBHOOK_SECRET is required to serve webhooks (Webex signs every delivery with it); "
            "set it, or accept unsigned deliveries with --no-webhook-secret"
        )


def _url(name: str, value: str, *, trailing_slash: bool = False) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    if trailing_slash and not value.endswith("/"):
        raise ConfigError(f"{name} must end with '/' (for example {DEFAULT_BASE_URL}), got {value!r}")
    return value


def _int(name: str, value: str, *, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {number}")
    return number


def _minutes(name: str, value: str, *, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of minutes, got {value!r}") from None
    if not 0 <= number <= high:  # also refuses nan
        raise ConfigError(f"{name} must be between 0 and {high:g}, got {value}")
    return number


def _rate(name: str, value: str, *, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number per second, got {value!r}") from None
    if not low <= number <= high:  # also refuses nan
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value}")
    return number


def _instance(name: str, value: str | None) -> str:
    if value is None:
        return default_instance()
    if not _INSTANCE.fullmatch(value):
        raise ConfigError(
            f"{name} must be 1 to {INSTANCE_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit, "
            f"got {value!r}"
        )
    return value


# A bearer token anyone could guess in a few tries is no protection.
METRICS_TOKEN_MIN = 16


def _token(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) < METRICS_TOKEN_MIN or not all(33 <= ord(c) <= 126 for c in value):
        raise ConfigError(f"{name} must be at least {METRICS_TOKEN_MIN} printable ASCII characters without spaces")
    return value


def _emails(name: str, value: str) -> frozenset[str]:
    emails = [part.strip().lower() for part in value.split(",") if part.strip()]
    for email in emails:
        if not _EMAIL.match(email):
            raise ConfigError(f"{name} must be comma-separated email addresses, {email!r} is not one")
    return frozenset(emails)


def _database_url(name: str, value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(f"{name} is not a database URL: {value!r}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{name} must be a sqlite:// or postgresql:// URL, got {url.get_backend_name()!r}")
    return value


def load_settings(environ: dict[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
    """Read and validate the configuration; raises ConfigError naming the bad variable."""
    env = dict(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    token = get("WEBEX_ACCESS_TOKEN")
    base_url = _url("WEBEX_BASE_URL", get("WEBEX_BASE_URL") or DEFAULT_BASE_URL, trailing_slash=True)
    public_url = get("PUBLIC_URL")
    if public_url:
        _url("PUBLIC_URL", public_url)
    database_url = get("DATABASE_URL") or f"sqlite:///{(cwd or Path.cwd()) / DEFAULT_DATABASE_FILE}"
    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json, got {log_format!r}")
    return Settings(
        webex_access_token=token,
        webex_base_url=base_url,
        webex_webhook_secret=get("WEBEX_WEBHOOK_SECRET"),
        bot_instance=_instance("BOT_INSTANCE", get("BOT_INSTANCE")),
        public_url=public_url.rstrip("/") if public_url else None,
        database_url=_database_url("DATABASE_URL", database_url),
        bot_host=get("BOT_HOST") or "127.0.0.1",
        bot_port=_int("BOT_PORT", get("BOT_PORT") or "8080", low=0, high=65535),
        metrics_host=get("METRICS_HOST") or "127.0.0.1",
        metrics_port=_int("METRICS_PORT", get("METRICS_PORT") or "8081", low=0, high=65535),
        metrics_token=_token("METRICS_TOKEN", get("METRICS_TOKEN")),
        bot_admins=_emails("BOT_ADMINS", get("BOT_ADMINS") or ""),
        log_level=level,
        log_format=log_format,
        inbox_threads=_int("BOT_INBOX_THREADS", get("BOT_INBOX_THREADS") or "2", low=1, high=64),
        outbox_threads=_int("BOT_OUTBOX_THREADS", get("BOT_OUTBOX_THREADS") or "2", low=1, high=64),
        worker_nice=_int("BOT_WORKER_NICE", get("BOT_WORKER_NICE") or "0", low=0, high=19),
        service_levels_file=_service_levels("SERVICE_LEVELS_FILE", get("SERVICE_LEVELS_FILE")),
        desk_file=_desk("DESK_FILE", get("DESK_FILE")),
        rate_limit=_int("BOT_RATE_LIMIT", get("BOT_RATE_LIMIT") or "20", low=0, high=10_000),
        bulk_per_second=_rate("BOT_BULK_PER_SECOND", get("BOT_BULK_PER_SECOND") or "5", low=0.1, high=1000),
        webex_timeout_seconds=_int("WEBEX_TIMEOUT_SECONDS", get("WEBEX_TIMEOUT_SECONDS") or "20", low=1, high=300),
        lease_seconds=_int("BOT_LEASE_SECONDS", get("BOT_LEASE_SECONDS") or "60", low=1, high=3600),
        retention_days=_int("BOT_RETENTION_DAYS", get("BOT_RETENTION_DAYS") or "30", low=0, high=36500),
        webhook_check_minutes=_minutes("WEBHOOK_CHECK_MINUTES", get("WEBHOOK_CHECK_MINUTES") or "5", high=1440),
    )


def _checked_file(
    name: str, value: str | None, check: Callable[[str | None], object], error: type[Exception]
) -> str | None:
    """A configuration file checked in full at start-up, so a typo cannot wait for a ticket."""
    try:
        check(value)
    except error as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return value


def _desk(name: str, value: str | None) -> str | None:
    return _checked_file(name, value, load_desk, DeskConfigError)


def _service_levels(name: str, value: str | None) -> str | None:
    return _checked_file(name, value, lambda path: load_service_levels(path, naming=i18n.naming()), CalendarConfigError)
