"""Logging set-up: the usual text lines, or one JSON object per line (LOG_FORMAT=json).

While a worker handles an inbox event or sends an outbox row it binds what it is working on
(event id, space, outbox row); handlers add the ticket number once they know it. Every log
record made meanwhile, in any module, carries those fields in JSON output, so the lines of one
event or one ticket can be found together without passing ids around.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The default is never changed in place: binding fields sets a new dict.
_fields: ContextVar[dict[str, str]] = ContextVar("log_fields", default={})  # noqa: B039


@contextmanager
def bound(**fields: str | int | None) -> Iterator[None]:
    """Attach fields to every record logged inside the block (None values are left out)."""
    token = _fields.set({**_fields.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


def note(**fields: str | int | None) -> None:
    """Add fields for the rest of the enclosing bound() block (a handler naming its ticket)."""
    _fields.set({**_fields.get(), **{k: str(v) for k, v in fields.items() if v is not None}})


def current() -> dict[str, str]:
    """The fields bound now."""
    return dict(_fields.get())


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the bound fields, and the error if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "bound", None) or _fields.get())
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str, fmt: str = "text") -> None:
    """Set up the root logger once for a process: `fmt` is text or json."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
