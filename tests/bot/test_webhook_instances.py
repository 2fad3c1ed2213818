"""`run_bot.py webhooks`: each environment sharing the bot token manages only its own webhooks,
always signed, and the bot subscribes to its own memberships only."""

from __future__ import annotations

import pytest

import run_bot
from sandbox.api import create_sandbox_app
from sandbox.demo import BOT_EMAIL, BOT_TOKEN, build_demo_state
from tests.harness.loopback import serve_in_process

SECRET = "instance-secret"
PROD_URL, ACC_URL = "https://prod.example", "https://acc.example"


@pytest.fixture
def webex():
    """A sandbox Webex (in process); the two environments below share its bot token."""
    state = build_demo_state()
    server = serve_in_process("webex", create_sandbox_app(state))
    yield state, f"{server.url}/v1/"
    server.stop()
    state.close()


def _cli(
    monkeypatch,
    capsys,
    base_url: str,
    instance: str,
    *argv: str,
    public_url: str = PROD_URL,
    secret: str | None = SECRET,
):
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("WEBEX_BASE_URL", base_url)
    monkeypatch.setenv("BOT_INSTANCE", instance)
    monkeypatch.setenv("PUBLIC_URL", public_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    if secret:
        monkeypatch.setenv("WEBEX_WEBHOOK_SECRET", secret)
    else:
        monkeypatch.delenv("WEBEX_WEBHOOK_SECRET", raising=False)
    code = run_bot.main(["webhooks", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def _hooks(state) -> dict[str, dict]:
    return {h["id"]: dict(h) for h in state.webhooks.values()}


def _legacy(state, name: str, target: str, resource: str = "messages", event: str = "created") -> dict:
    """A webhook as an earlier release registered it: no instance in its name, no filter."""
    bot_id = state.person_by_email(BOT_EMAIL)["id"]
    hook = {
        "id": f"LEGACY-{len(state.webhooks)}",
        "name": name,
        "targetUrl": target,
        "resource": resource,
        "event": event,
        "filter": None,
        "secret": "old",
        "orgId": state.org_id,
        "createdBy": bot_id,
        "appId": "SANDBOX",
        "ownedBy": "creator",
        "status": "active",
        "created": state.stamp(),
        "ownerId": bot_id,
    }
    state.webhooks[hook["id"]] = hook
    return hook


def test_register_creates_this_instances_signed_webhooks_with_the_bot_filter(webex, monkeypatch, capsys):
    state, base = webex
    code, out, _ = _cli(monkeypatch, capsys, base, "prod", "register")
    assert code == 0 and len(out) == 4
    bot_id = state.person_by_email(BOT_EMAIL)["id"]
    hooks = sorted(state.webhooks.values(), key=lambda h: h["name"])
    assert [
        (h["name"], h["resource"], h["event"], h["filter"], h["targetUrl"], h["secret"], h["status"]) for h in hooks
    ] == [
        (
            "servicedesk prod attachmentActions created",
            "attachmentActions",
            "created",
            None,
            f"{PROD_URL}/webhooks/webex",
            SECRET,
            "active",
        ),
        (
            "servicedesk prod memberships created",
            "memberships",
            "created",
            f"personId={bot_id}",
            f"{PROD_URL}/webhooks/webex",
            SECRET,
            "active",
        ),
        (
            "servicedesk prod memberships deleted",
            "memberships",
            "deleted",
            f"personId={bot_id}",
            f"{PROD_URL}/webhooks/webex",
            SECRET,
            "active",
        ),
        (
            "servicedesk prod messages created",
            "messages",
            "created",
            None,
            f"{PROD_URL}/webhooks/webex",
            SECRET,
            "active",
        ),
    ]


def test_two_instances_on_one_token_leave_each_other_alone(webex, monkeypatch, capsys):
    state, base = webex
    assert _cli(monkeypatch, capsys, base, "prod", "register")[0] == 0
    prod = _hooks(state)
    assert _cli(monkeypatch, capsys, base, "acc", "register", public_url=ACC_URL, secret="acc-secret")[0] == 0
    assert len(state.webhooks) == 8
    assert {i: h for i, h in _hooks(state).items() if i in prod} == prod  # untouched

    # Registering again updates in place: same webhooks, a new secret, no gap in between.
    assert _cli(monkeypatch, capsys, base, "prod", "register", secret="rotated")[0] == 0
    assert set(_hooks(state)) == set(prod) | {
        i for i, h in state.webhooks.items() if h["name"].startswith("servicedesk acc ")
    }
    assert {h["secret"] for h in state.webhooks.values() if h["name"].startswith("servicedesk prod ")} == {"rotated"}
    assert {h["secret"] for h in state.webhooks.values() if h["name"].startswith("servicedesk acc ")} == {"acc-secret"}

    code, out, _ = _cli(monkeypatch, capsys, base, "acc", "list", public_url=ACC_URL)
    assert code == 0 and sorted(line.split()[0] for line in out) == sorted(
        i for i, h in state.webhooks.items() if h["name"].startswith("servicedesk acc ")
    )

    # Deleting prod's webhook by id from acc is refused; --all deletes acc's only.
    some_prod = next(iter(prod))
    code, out, _ = _cli(monkeypatch, capsys, base, "acc", "delete", some_prod, public_url=ACC_URL)
    assert code == 2 and out == [
        f"webhooks delete: {some_prod} is not a webhook of instance acc (BOT_INSTANCE); nothing deleted"
    ]
    code, out, _ = _cli(monkeypatch, capsys, base, "acc", "delete", "--all", public_url=ACC_URL)
    assert code == 0 and len(out) == 4
    assert set(state.webhooks) == set(prod)
    code, out, _ = _cli(monkeypatch, capsys, base, "prod", "delete", some_prod)
    assert code == 0 and out == [f"deleted {some_prod}"] and set(state.webhooks) == set(prod) - {some_prod}


def test_webhooks_of_earlier_releases_are_taken_over_only_at_this_instances_address(webex, monkeypatch, capsys):
    state, base = webex
    ours = _legacy(state, "servicedesk messages", f"{PROD_URL}/webhooks/webex")
    our_joins = _legacy(state, "servicedesk memberships", f"{PROD_URL}/webhooks/webex", resource="memberships")
    theirs = _legacy(state, "servicedesk messages", f"{ACC_URL}/webhooks/webex")
    stranger = _legacy(state, "someone else's", f"{PROD_URL}/webhooks/webex")

    code, out, _ = _cli(monkeypatch, capsys, base, "prod", "list")
    assert code == 0 and sorted(line.split()[0] for line in out) == sorted([ours["id"], our_joins["id"]])

    assert _cli(monkeypatch, capsys, base, "prod", "register")[0] == 0
    # The old messages webhook is renamed and signed in place; the unfiltered memberships one is replaced.
    assert state.webhooks[ours["id"]]["name"] == "servicedesk prod messages created"
    assert state.webhooks[ours["id"]]["secret"] == SECRET
    assert our_joins["id"] not in state.webhooks
    assert state.webhooks[theirs["id"]] == theirs and state.webhooks[stranger["id"]] == stranger
    assert len(state.webhooks) == 6


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["delete"], "webhooks delete: give a webhook id or --all"),
        (["delete", "X", "--all"], "webhooks delete: give a webhook id or --all"),
    ],
)
def test_delete_wants_an_id_or_all(webex, monkeypatch, capsys, argv, expected):
    state, base = webex
    _cli(monkeypatch, capsys, base, "prod", "register")
    before = _hooks(state)
    code, out, _ = _cli(monkeypatch, capsys, base, "prod", *argv)
    assert code == 2 and out == [expected] and _hooks(state) == before


@pytest.mark.parametrize(
    ("env", "variable"), [({"secret": None}, "WEBEX_WEBHOOK_SECRET"), ({"public_url": ""}, "PUBLIC_URL")]
)
def test_register_without_secret_or_address_is_refused_and_changes_nothing(webex, monkeypatch, capsys, env, variable):
    state, base = webex
    legacy = _legacy(state, "servicedesk messages", f"{PROD_URL}/webhooks/webex")
    code, out, err = _cli(monkeypatch, capsys, base, "prod", "register", **env)
    assert code == 2 and out == []
    assert err.startswith(f"configuration error: {variable} is required to register webhooks")
    assert list(state.webhooks.values()) == [legacy]
