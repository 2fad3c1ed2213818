"""SLA profiles from the service-levels configuration: target tables, office hours, maintenance
window and change types, checked against the known calendars; CalendarConfigError saying what is
wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.calendar import Calendar, CalendarConfigError
from rules.sla import DEFAULT_RFC_TYPES, KINDS, PRIORITIES, RECOVERY, STARTS, Profile, RfcType, TargetSpec, parse_budget


def _target_from_config(
    profile: str, where: str, spec: dict[str, Any], known_calendars: Mapping[str, Calendar]
) -> TargetSpec:
    name = spec.get("target")
    if not isinstance(name, str) or not name:
        raise CalendarConfigError(f'profile {profile} {where}: every target needs a name (target = "...")')
    deadline = bool(spec.get("deadline", True))
    budget = calendar = None
    if deadline:
        try:
            budget = parse_budget(str(spec.get("budget", "")))
        except ValueError as exc:
            raise CalendarConfigError(f"profile {profile} {where} {name}: {exc}") from None
        calendar = spec.get("calendar")
        if calendar not in known_calendars:
            raise CalendarConfigError(f"profile {profile} {where} {name}: unknown calendar {calendar!r}")
    starts = spec.get("starts", "opened")
    if starts not in STARTS:
        raise CalendarConfigError(
            f"profile {profile} {where} {name}: starts must be one of {', '.join(repr(s) for s in STARTS)}"
        )
    return TargetSpec(
        name=name,
        budget=budget,
        calendar=calendar,
        starts=starts,
        pauses=bool(spec.get("pauses", True)),
        deadline=deadline,
        cal=known_calendars[calendar] if calendar else None,
    )


_RFC_TYPE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
PROFILE_KEYS = ("description", "office_hours", "maintenance_window", "rfc_types")


def _calendar_key(profile: str, spec: dict[str, Any], key: str, known_calendars: Mapping[str, Calendar]) -> str | None:
    value = spec.get(key)
    if value is not None and value not in known_calendars:
        raise CalendarConfigError(f"profile {profile}: {key} names unknown calendar {value!r}")
    return value


def _rfc_types_from_config(
    profile: str,
    spec: dict[str, Any],
    known_calendars: Mapping[str, Calendar],
    rfc_targets: tuple[TargetSpec, ...] | None,
    naming: Naming,
) -> tuple[RfcType, ...]:
    rows = spec.get("rfc_types")
    if rows is None:
        return DEFAULT_RFC_TYPES
    if not isinstance(rows, list) or not rows:
        raise CalendarConfigError(
            f"profile {profile}: rfc_types must list at least one type ([[profiles.{profile}.rfc_types]])"
        )
    found: list[RfcType] = []
    for row in rows:
        type_id = row.get("id") if isinstance(row, dict) else None
        if not isinstance(type_id, str) or not _RFC_TYPE_ID.match(type_id):
            raise CalendarConfigError(
                f"profile {profile}: every RFC type needs an id of lower-case letters, digits and -, got {type_id!r}"
            )
        where = f"profile {profile} RFC type {type_id}"
        if any(t.id == type_id for t in found):
            raise CalendarConfigError(f"{where}: listed twice")
        unknown = set(row) - {"id", "lead_time", "calendar", "title"}
        if unknown:
            raise CalendarConfigError(f"{where}: unknown keys {sorted(unknown)}")
        lead_time = None
        if "lead_time" in row:
            try:
                lead_time = parse_budget(str(row["lead_time"]))
            except ValueError as exc:
                raise CalendarConfigError(f"{where}: {exc}") from None
        calendar = row.get("calendar")
        if calendar is not None and calendar not in known_calendars:
            raise CalendarConfigError(f"{where}: unknown calendar {calendar!r}")
        if (
            lead_time is not None
            and calendar is None
            and not any(t.name == RECOVERY and t.calendar for t in rfc_targets or ())
        ):
            raise CalendarConfigError(
                f"{where}: a lead time needs a calendar (here, or on the profile's rfc resolution target)"
            )
        title = row.get("title")
        languages = naming.languages
        if title is None:
            if naming.keys is not None and f"form.rfc_type.{type_id.replace('-', '_')}" not in naming.keys:
                names = ", ".join(f'{lang} = "…"' for lang in languages)
                raise CalendarConfigError(f"{where}: the catalogues do not name it; give title = {{ {names} }}")
        elif not isinstance(title, dict) or any(
            not isinstance(title.get(lang), str) or not title[lang].strip() for lang in languages
        ):
            raise CalendarConfigError(f"{where}: title needs a name in each language ({', '.join(languages)})")
        found.append(
            RfcType(
                id=type_id,
                lead_time=lead_time,
                calendar=calendar,
                title={lang: title[lang].strip() for lang in languages} if title else None,
                cal=known_calendars[calendar] if calendar else None,
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class Naming:
    """What the bot's catalogues offer a change type's name: the languages every configured title must
    have, and the catalogue keys (None: not checked, as when the rules are used without the bot)."""

    languages: tuple[str, ...] = ("en", "nl")
    keys: frozenset[str] | None = None


def load_profiles(
    config: dict[str, Any], known_calendars: Mapping[str, Calendar], naming: Naming = Naming()
) -> dict[str, Profile]:
    """Every profile of a configuration, checked against the known calendars."""
    tables = config.get("profiles")
    if not isinstance(tables, dict) or not tables:
        raise CalendarConfigError("the configuration has no [profiles]")
    profiles = {}
    for name, spec in tables.items():
        parsed: dict[tuple[str, str | None], tuple[TargetSpec, ...]] = {}
        for kind in KINDS:
            value = spec.get(kind)
            if value is None:
                continue
            if kind == "incident":
                unknown = set(value) - set(PRIORITIES)
                if unknown:
                    raise CalendarConfigError(f"profile {name}: unknown priorities {sorted(unknown)}")
                for priority, targets in value.items():
                    parsed[(kind, priority)] = tuple(
                        _target_from_config(name, f"incident {priority}", t, known_calendars) for t in targets
                    )
            else:
                parsed[(kind, None)] = tuple(_target_from_config(name, kind, t, known_calendars) for t in value)
        unknown_kinds = set(spec) - set(KINDS) - set(PROFILE_KEYS)
        if unknown_kinds:
            raise CalendarConfigError(f"profile {name}: unknown record kinds {sorted(unknown_kinds)}")
        profiles[name] = Profile(
            name=name,
            description=str(spec.get("description", "")),
            tables=parsed,
            office_hours=_calendar_key(name, spec, "office_hours", known_calendars),
            maintenance_window=_calendar_key(name, spec, "maintenance_window", known_calendars),
            rfc_types=_rfc_types_from_config(name, spec, known_calendars, parsed.get(("rfc", None)), naming),
        )
    return profiles
