"""Router: longest-prefix, case-insensitive, slash optional, whole words, duplicates refused."""

import pytest

from bot.errors import EmptyCommand, Forbidden, UnknownAction, UnknownCommand
from bot.fields import Field
from bot.router import Router


def _router():
    r = Router()
    calls = []
    for name in ("space", "space bind", "space bind force", "ping"):
        r.command(name)(lambda ctx, args, _n=name: calls.append((_n, args.text)))
    r.command("admin only", roles=frozenset({"admin"}))(lambda ctx, args: calls.append(("admin only", args.text)))
    r.card_action("take", fields={"ticket": Field.TEXT})(lambda ctx, inputs: calls.append(("take", inputs)))
    return r, calls


class _Ctx:
    def __init__(self, roles=frozenset()):
        from bot.context import Actor, Space

        self.actor = Actor(person_id="p", email="p@example.com", roles=roles)
        self.space = Space(room_id="r", room_type="group")


@pytest.mark.parametrize(
    ("typed", "name", "rest"),
    [
        ("/space bind Acme Logistics", "space bind", "Acme Logistics"),
        ("SPACE   BIND   acme", "space bind", "acme"),
        ("space bind force acme", "space bind force", "acme"),
        ("space info", "space", "info"),
        ("/Ping", "ping", ""),
        ("  ping   extra  words ", "ping", "extra  words"),
    ],
)
def test_longest_whole_word_prefix(typed, name, rest):
    r, _ = _router()
    command, remainder = r.match(typed)
    assert (command.name, remainder) == (name, rest)


@pytest.mark.parametrize("typed", ["pingpong", "spacebind x", "/", "hello"])
def test_no_substring_matches(typed):
    r, _ = _router()
    assert r.match(typed) is None


def test_duplicate_registration_fails():
    r, _ = _router()
    with pytest.raises(RuntimeError, match="registered twice"):
        r.command("Space  Bind")(lambda ctx, args: None)
    with pytest.raises(RuntimeError, match="registered twice"):
        r.card_action("take", fields={})(lambda ctx, inputs: None)


def test_dispatch_unknown_and_empty():
    r, calls = _router()
    with pytest.raises(UnknownCommand) as err:
        r.dispatch_text(_Ctx(), "/frob*nicate* now")
    assert (
        err.value.render("en")
        == "I don't know the command **/frob\\*nicate\\***. Type `/help` to see what you can do here."
    )
    with pytest.raises(EmptyCommand):
        r.dispatch_text(_Ctx(), "   ")
    with pytest.raises(UnknownAction):
        r.dispatch_card(_Ctx(), {"action": "nope"})
    assert calls == []


def test_roles_are_checked_and_named():
    r, calls = _router()
    with pytest.raises(Forbidden) as err:
        r.dispatch_text(_Ctx(), "admin only x")
    assert err.value.render("en") == "Only someone with the **admin** role can use `/admin only`."
    assert calls == []
    r.dispatch_text(_Ctx(roles=frozenset({"admin"})), "admin only x")
    assert calls == [("admin only", "x")]


def test_help_lists_only_what_the_person_may_use():
    r, _ = _router()
    assert "admin only" not in [c.name for c in r.visible_to(frozenset())]
    assert "admin only" in [c.name for c in r.visible_to(frozenset({"admin"}))]
