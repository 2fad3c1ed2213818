"""The service desk's own facts: contacts, escalation matrix, service catalogue (from DESK_FILE)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).with_name("desk.toml")
_PHONE = re.compile(r"^\+[0-9 ]{6,20}$")


class DeskConfigError(ValueError):
    """The desk configuration is not valid."""


@dataclass(frozen=True)
class Level:
    """One row of the escalation matrix."""

    level: int
    role: str
    name: str
    phone: str
    pin: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Service:
    """A service customers can report about."""

    code: str
    name: str


@dataclass(frozen=True)
class Desk:
    """Everything /contact shows and the intake forms offer."""

    name: str
    phone: str
    email: str
    portal: str
    office_hours: str
    escalation: tuple[Level, ...]
    services: tuple[Service, ...]
    unsubscribed_notices: str = "all"  # "all" or "none": what a space without subscriptions gets
    paging_team: str = "iot-oncall"
    repage_minutes: int = 5
    pages_per_engineer: int = 2

    def service(self, code: str) -> Service | None:
        """The service with this code, case-insensitively."""
        return next((s for s in self.services if s.code.lower() == code.lower()), None)


def tel_link(phone: str) -> str:
    """A markdown link that dials `phone` from a phone: [+31 88 1200 043](tel:+31881200043)."""
    return f"[{phone}](tel:{phone.replace(' ', '')})"


def load(path: str | Path | None = None) -> Desk:
    """Read and check a desk file (the shipped one when None)."""
    source = Path(path) if path else DEFAULT_FILE
    try:
        with open(source, "rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise DeskConfigError(f"cannot read {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DeskConfigError(f"{source} is not valid TOML: {exc}") from None
    contact = raw.get("contact", {})
    for key in ("name", "phone", "email", "portal", "office_hours"):
        if not isinstance(contact.get(key), str) or not contact[key].strip():
            raise DeskConfigError(f"[contact] needs {key}")
    phones = [contact["phone"]] + [str(row.get("phone", "")) for row in raw.get("escalation", [])]
    for phone in phones:
        if not _PHONE.match(phone):
            raise DeskConfigError(f"phone {phone!r} must be international, like +31 88 1200 043")
    try:
        levels = tuple(
            sorted(
                (
                    Level(
                        level=int(r["level"]),
                        role=str(r["role"]),
                        name=str(r["name"]),
                        phone=str(r["phone"]),
                        pin=str(r["pin"]) if r.get("pin") else None,
                        email=str(r["email"]).lower() if r.get("email") else None,
                    )
                    for r in raw.get("escalation", [])
                ),
                key=lambda lv: lv.level,
            )
        )
        services = tuple(Service(code=str(s["code"]), name=str(s["name"])) for s in raw.get("services", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise DeskConfigError(
            f"escalation rows need level, role, name, phone; services need code, name ({exc})"
        ) from None
    if not levels:
        raise DeskConfigError("the escalation matrix is empty")
    if not services:
        raise DeskConfigError("the service catalogue is empty")
    paging = raw.get("paging", {})
    try:
        repage, per_engineer = int(paging.get("repage_minutes", 5)), int(paging.get("pages_per_engineer", 2))
    except (TypeError, ValueError):
        raise DeskConfigError("[paging] repage_minutes and pages_per_engineer must be whole numbers") from None
    if not (1 <= repage <= 120 and 1 <= per_engineer <= 10):
        raise DeskConfigError("[paging] repage_minutes must be 1–120 and pages_per_engineer 1–10")
    unsubscribed = str(raw.get("notices", {}).get("unsubscribed", "all"))
    if unsubscribed not in ("all", "none"):
        raise DeskConfigError('[notices] unsubscribed must be "all" or "none"')
    return Desk(
        unsubscribed_notices=unsubscribed,
        name=contact["name"],
        phone=contact["phone"],
        email=contact["email"],
        portal=contact["portal"],
        office_hours=contact["office_hours"],
        escalation=levels,
        services=services,
        paging_team=str(paging.get("team", "iot-oncall")),
        repage_minutes=repage,
        pages_per_engineer=per_engineer,
    )
