"""Who may talk to the bot and with which rights: webhook signatures and roles."""

from __future__ import annotations

import hashlib
import hmac

ADMIN = "admin"
AGENT = "agent"
ENGINEER = "engineer"
PROBLEM_MANAGER = "problem-manager"
STAFF_ROLES = frozenset({AGENT, ENGINEER, PROBLEM_MANAGER, ADMIN})


def sign(body: bytes, secret: str) -> str:
    """The X-Spark-Signature Webex sends: hex HMAC-SHA1 of the raw body keyed with the secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """Check a delivery's signature in constant time, on the bytes as received."""
    if not header:
        return False
    return hmac.compare_digest(sign(body, secret), header.strip().lower())


def roles_of(email: str, *, admins: frozenset[str]) -> frozenset[str]:
    """The roles a person holds: admins come from BOT_ADMINS."""
    return frozenset({ADMIN}) if email.lower() in admins else frozenset()
