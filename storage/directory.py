"""The directory: organisations, spaces, people, role grants, and the audit timeline.

Keyword-only functions on a session; they never commit (the caller's scope does) and every
change an admin makes is written to the audit log in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import insert_missing, is_postgres
from storage.models.directory import AuditEntry, Organisation, Person, RoleGrant, SpaceRecord

LAST_SEEN_STEP = timedelta(minutes=1)
# Whether the bot can post in a space (SpaceRecord.state).
ACTIVE, SUSPENDED, UNREACHABLE = "active", "suspended", "unreachable"


def org_key(name: str) -> str:
    """The lookup key of an organisation name: case-folded, inner spaces collapsed."""
    return " ".join(name.split()).casefold()


def audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    room_id: str | None,
    subject_type: str,
    subject: str,
    action: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one line to the audit timeline."""
    entry = AuditEntry(
        at=at, actor=actor, room_id=room_id, subject_type=subject_type, subject=subject, action=action, old=old, new=new
    )
    session.add(entry)
    return entry


def timeline(session: Session, *, subject_type: str, subject: str) -> list[AuditEntry]:
    """Every audit line of one subject, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == subject_type, AuditEntry.subject == subject)
            .order_by(AuditEntry.id)
        )
    )


# -- organisations -----------------------------------------------------------------------------


def find_org(session: Session, *, name: str) -> Organisation | None:
    """The organisation with this name (any case or spacing)."""
    return session.scalar(select(Organisation).where(Organisation.key == org_key(name)))


def org_by_id(session: Session, *, org_id: int) -> Organisation | None:
    """An organisation by id."""
    return session.get(Organisation, org_id)


def create_org(
    session: Session,
    *,
    name: str,
    actor: str,
    room_id: str | None,
    now: datetime,
    sla_profile: str = "iot",
    language: str = "en",
) -> Organisation:
    """A new organisation (the caller made sure the name is free)."""
    org = Organisation(
        name=" ".join(name.split()),
        key=org_key(name),
        sla_profile=sla_profile,
        language=language,
        created_at=now,
        created_by=actor,
    )
    session.add(org)
    session.flush()
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="org",
        subject=org.key,
        action="created",
        new={"name": org.name, "sla_profile": sla_profile, "language": language},
    )
    return org


def orgs(session: Session) -> list[Organisation]:
    """Every organisation, by name."""
    return list(session.scalars(select(Organisation).order_by(Organisation.key)))


# -- spaces ------------------------------------------------------------------------------------------


def space(session: Session, *, room_id: str, for_update: bool = False) -> SpaceRecord | None:
    """What the bot knows of a space."""
    return session.get(SpaceRecord, room_id, with_for_update=for_update and is_postgres(session))


def space_and_org(session: Session, *, room_id: str) -> tuple[SpaceRecord | None, Organisation | None]:
    """What the bot knows of a space and the organisation it is bound to, in one query."""
    row = session.execute(
        select(SpaceRecord, Organisation)
        .outerjoin(Organisation, Organisation.id == SpaceRecord.org_id)
        .where(SpaceRecord.room_id == room_id)
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def ensure_space(session: Session, *, room_id: str, room_type: str) -> SpaceRecord:
    """The space's record, created as unbound on first sight."""
    record = space(session, room_id=room_id)
    if record is None:
        insert_missing(session, SpaceRecord.__table__, room_id=room_id, room_type=room_type, kind="unbound")
        record = session.get_one(SpaceRecord, room_id)
    return record


def _space_state(record: SpaceRecord) -> dict[str, Any]:
    return {"kind": record.kind, "org_id": record.org_id}


def set_space_kind(
    session: Session, *, room_id: str, room_type: str, kind: str, org: Organisation | None, actor: str, now: datetime
) -> SpaceRecord:
    """Bind a space to an org, mark it the staff space, or unbind it; on the audit timeline."""
    record = ensure_space(session, room_id=room_id, room_type=room_type)
    old = _space_state(record)
    record.kind = kind
    record.org_id = org.id if org is not None else None
    record.changed_by, record.changed_at = actor, now
    action = {"customer": "bound", "staff": "marked staff", "unbound": "unbound"}[kind]
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="space",
        subject=room_id,
        action=action,
        old=old,
        new=_space_state(record) | ({"org": org.name} if org else {}),
    )
    return record


def set_space_state(
    session: Session, *, record: SpaceRecord, state: str, actor: str, now: datetime, reason: str | None = None
) -> str:
    """Record whether the bot can post in a space (its binding stays as it is); on the audit
    timeline. Returns the state it had; nothing changes when it is the same."""
    old = record.state
    if old == state:
        return old
    record.state, record.state_changed_at = state, now
    audit(
        session,
        at=now,
        actor=actor,
        room_id=record.room_id,
        subject_type="space",
        subject=record.room_id,
        action=state,
        old={"state": old},
        new={"state": state} | ({"reason": reason[:300]} if reason else {}),
    )
    return old


def reachable(session: Session, *, room_id: str) -> bool:
    """Whether the bot may post in a space of its own accord (notices, countdowns, reminders):
    not while it was removed from it or Webex refused its posts there. Unknown spaces are."""
    record = space(session, room_id=room_id)
    return record is None or record.state == ACTIVE


def staff_spaces(session: Session) -> list[SpaceRecord]:
    """Spaces marked as staff spaces."""
    return list(session.scalars(select(SpaceRecord).where(SpaceRecord.kind == "staff").order_by(SpaceRecord.room_id)))


def spaces_of_org(session: Session, *, org_id: int) -> list[SpaceRecord]:
    """The customer spaces bound to an organisation."""
    return list(session.scalars(select(SpaceRecord).where(SpaceRecord.org_id == org_id).order_by(SpaceRecord.room_id)))


def language_of(record: SpaceRecord | None, org: Organisation | None) -> str | None:
    """The language chosen for a group space, else its organisation's; None when neither is set."""
    if record is not None and record.language:
        return record.language
    return org.language if org is not None else None


def space_language(session: Session, *, room_id: str) -> str | None:
    """`language_of` a space, looked up by its room id."""
    return language_of(*space_and_org(session, room_id=room_id))


def set_space_language(
    session: Session, *, room_id: str, room_type: str, language: str, actor: str, now: datetime
) -> None:
    """The language the bot uses in a group space."""
    record = ensure_space(session, room_id=room_id, room_type=room_type)
    old = record.language
    record.language = language
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="space",
        subject=room_id,
        action="language",
        old={"language": old},
        new={"language": language},
    )


# -- people ------------------------------------------------------------------------------------------


def touch_person(
    session: Session, *, email: str, person_id: str | None, display_name: str | None, now: datetime
) -> Person:
    """The person's record, created or refreshed (name, id; last seen to the minute)."""
    email = email.lower()
    person = session.get(Person, email)
    if person is None:
        insert_missing(session, Person.__table__, email=email)
        person = session.get_one(Person, email)
    # Assigning unchanged values writes nothing; last_seen only moves once a minute, so a busy
    # person's commands do not each rewrite their row.
    if person_id and person.person_id != person_id:
        person.person_id = person_id
    if display_name and person.display_name != display_name:
        person.display_name = display_name
    if person.last_seen is None or now - person.last_seen >= LAST_SEEN_STEP:
        person.last_seen = now
    session.flush()
    return person


def person(session: Session, *, email: str) -> Person | None:
    """A person by email."""
    return session.get(Person, email.lower())


def set_person_language(session: Session, *, email: str, language: str, now: datetime) -> None:
    """The language used with a person in 1:1 spaces and for pages."""
    record = touch_person(session, email=email, person_id=None, display_name=None, now=now)
    record.language = language


# -- roles ------------------------------------------------------------------------------------------------


def active_roles(session: Session, *, email: str) -> frozenset[str]:
    """The roles granted to `email` and not revoked."""
    rows = session.scalars(
        select(RoleGrant.role).where(RoleGrant.email == email.lower(), RoleGrant.revoked_at.is_(None))
    )
    return frozenset(rows)


def grant_role(session: Session, *, email: str, role: str, actor: str, room_id: str | None, now: datetime) -> bool:
    """Grant `role`; False when it is already held (nothing changes then)."""
    email = email.lower()
    if role in active_roles(session, email=email):
        return False
    session.add(RoleGrant(email=email, role=role, granted_by=actor, granted_at=now))
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="role",
        subject=email,
        action="granted",
        new={"role": role},
    )
    session.flush()
    return True


def revoke_role(session: Session, *, email: str, role: str, actor: str, room_id: str | None, now: datetime) -> bool:
    """Revoke `role`; False when it was not held."""
    email = email.lower()
    stmt = select(RoleGrant).where(RoleGrant.email == email, RoleGrant.role == role, RoleGrant.revoked_at.is_(None))
    if is_postgres(session):
        stmt = stmt.with_for_update()
    grant = session.scalar(stmt)
    if grant is None:
        return False
    grant.revoked_by, grant.revoked_at = actor, now
    audit(
        session,
        at=now,
        actor=actor,
        room_id=room_id,
        subject_type="role",
        subject=email,
        action="revoked",
        old={"role": role},
    )
    session.flush()
    return True


def active_grants(session: Session) -> list[RoleGrant]:
    """Every active grant, by email then role."""
    return list(
        session.scalars(
            select(RoleGrant).where(RoleGrant.revoked_at.is_(None)).order_by(RoleGrant.email, RoleGrant.role)
        )
    )
