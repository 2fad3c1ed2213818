"""Who may talk to the bot and with which rights: webhook signatures, roles, the rate limit."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage import directory
from storage.db import is_postgres
from storage.models.runtime import CommandRate

ADMIN = "admin"
AGENT = "agent"
ENGINEER = "engineer"
PROBLEM_MANAGER = "problem-manager"
# Not granted: every member of a space bound to an organisation is one of its customers there.
CUSTOMER = "customer"
STAFF_ROLES = frozenset({AGENT, ENGINEER, PROBLEM_MANAGER, ADMIN})
GRANTABLE = (AGENT, ENGINEER, PROBLEM_MANAGER, ADMIN)

# Where a command may be used: the kinds of space.
IN_CUSTOMER = "customer"
IN_STAFF = "staff"
IN_UNBOUND = "unbound"
IN_DIRECT = "direct"
ANYWHERE = frozenset({IN_CUSTOMER, IN_STAFF, IN_UNBOUND, IN_DIRECT})
GROUP_SPACES = frozenset({IN_CUSTOMER, IN_STAFF, IN_UNBOUND})

RATE_LIMIT = 20
RATE_WINDOW = timedelta(minutes=1)


def sign(body: bytes, secret: str) -> str:
    """The X-Spark-Signature Webex sends: hex HMAC-SHA1 of the raw body keyed with the secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """Check a delivery's signature in constant time, on the bytes as received."""
    if not header:
        return False
    # Compared as bytes: compare_digest refuses str with non-ASCII characters, which a forged
    # header may well contain; such a header is simply wrong.
    given = header.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(sign(body, secret).encode("ascii"), given)


def bearer_ok(header: str | None, token: str) -> bool:
    """Whether an Authorization header is "Bearer <token>", compared in constant time."""
    if not header or not header.startswith("Bearer "):
        return False
    given = header[len("Bearer ") :].strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(token.encode("utf-8"), given)


def roles_of(email: str, *, admins: frozenset[str], session: Session | None = None) -> frozenset[str]:
    """The staff roles a person holds now: admin from BOT_ADMINS, the rest from grants.

    Read at every command, so a revocation counts from the next one.
    """
    roles = set(directory.active_roles(session, email=email)) if session is not None else set()
    if email.lower() in admins:
        roles.add(ADMIN)
    return frozenset(roles)


@dataclass(frozen=True)
class RateVerdict:
    """What the per-person limit says of a command: "ok", "warn" (the first one over: answer once,
    saying from when the person may send again, `again_at`), or "drop"."""

    verdict: str
    again_at: datetime | None = None


def rate_check(session: Session, *, email: str, now: datetime, limit: int = RATE_LIMIT) -> RateVerdict:
    """Count a command against the person's limit."""
    if limit == 0:
        return RateVerdict("ok")
    email = email.lower()
    row = session.get(CommandRate, email, with_for_update=is_postgres(session))
    stamp = now.timestamp()
    if row is None:
        row = CommandRate(email=email, recent=[], warned_at=None)
        session.add(row)
    recent = sorted(t for t in row.recent if t > stamp - RATE_WINDOW.total_seconds())
    if len(recent) >= limit:
        row.recent = recent
        # One answer per stretch of flooding; refused commands do not count, so the person
        # is back as soon as the oldest of their last 20 is a minute old.
        if row.warned_at is not None:
            return RateVerdict("drop")
        row.warned_at = now
        # When as many have left the window as would make room for one more (whole seconds, up).
        again = datetime.fromtimestamp(math.ceil(recent[len(recent) - limit] + RATE_WINDOW.total_seconds()), tz=UTC)
        return RateVerdict("warn", again_at=again)
    row.recent = [*recent, stamp]
    row.warned_at = None
    return RateVerdict("ok")
