"""What the chat page stands on: markdown as Webex shows it, the page's directory, keeping the
sandbox between starts, `--reset`, and the pinned card renderer's integrity check."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile

import pytest
import requests

from bot.config import load_settings
from sandbox import assets, keeper, launch
from sandbox.demo import (
    ACME_ROOM,
    ANNA_EMAIL,
    BOT_EMAIL,
    ERIK_EMAIL,
    SANNE_EMAIL,
    STAFF_ROOM,
    build_demo_state,
    open_direct_spaces,
)
from sandbox.ids import membership_id
from sandbox.render import render
from sandbox.state import SandboxState


def _md(markdown: str) -> tuple[str, str]:
    text, markup, _ = render(markdown, lambda kind, value: None)
    return text, markup


@pytest.mark.parametrize(
    ("markdown", "html", "text"),
    [
        (
            "**bold** and *italic* and ~~gone~~",
            "<p><strong>bold</strong> and <em>italic</em> and <del>gone</del></p>",
            "bold and italic and gone",
        ),
        (
            "call [+31 88 1200 043](tel:+31881200043)",
            '<p>call <a href="tel:+31881200043">+31 88 1200 043</a></p>',
            "call +31 88 1200 043",
        ),
        (
            "see https://status.example/now.",
            '<p>see <a href="https://status.example/now">https://status.example/now</a>.</p>',
            "see https://status.example/now.",
        ),
        ("- one\n- **two**", "<ul><li>one</li><li><strong>two</strong></li></ul>", "one\ntwo"),
        ("3. three\n4. four", '<ol start="3"><li>three</li><li>four</li></ol>', "three\nfour"),
        ("first\nsecond\n\nnext", "<p>first<br/>second</p><p>next</p>", "first\nsecond\n\nnext"),
        ("> quoted", "<blockquote><p>quoted</p></blockquote>", "quoted"),
        ("`a*b*c` done", "<p><code>a*b*c</code> done</p>", "a*b*c done"),
        ("```\n<b>x</b>\n```", "<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>", "<b>x</b>"),
        ("### Heading", "<h3>Heading</h3>", "Heading"),
    ],
)
def test_markdown_renders_as_webex_shows_it(markdown, html, text):
    assert _md(markdown) == (text, html)


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        # What the bot's escape_markdown produces shows literally, entities as their characters.
        (r"\*not\* \[x\]\(y\) a &amp; b &lt;i&gt;", "<p>*not* [x](y) a &amp; b &lt;i&gt;</p>"),
        ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ('[x](https://a.example/"onmouseover=")', '<p><a href="https://a.example/&quot;onmouseover=&quot;">x</a></p>'),
        ("snake_case_name and 2 * 3", "<p>snake_case_name and 2 * 3</p>"),
    ],
)
def test_markup_that_is_not_allowed_stays_text(markdown, html):
    assert _md(markdown)[1] == html


def test_a_markdown_table_is_not_rendered_but_shown_as_its_lines():
    # Webex's markdown has no tables: a report written as one arrives as its literal lines.
    table = "| Org | Tickets |\n|---|---:|\n| Acme | 3 |"
    text, markup = _md(table)
    assert markup == "<p>| Org | Tickets |<br/>|---|---:|<br/>| Acme | 3 |</p>"
    assert text == table and "<table" not in markup


def test_the_directory_lists_people_with_their_demo_role_and_every_space_by_kind(state):
    open_direct_spaces(state)
    data = state.directory()
    assert data["bot"]["email"] == BOT_EMAIL and data["bot"]["type"] == "bot"
    people = {p["email"]: (p["role"], p["org"]) for p in data["people"]}
    assert people[ANNA_EMAIL] == ("customer", "Acme Logistics")
    assert people[ERIK_EMAIL] == ("engineer", "IoT Service Desk")
    assert BOT_EMAIL not in people
    kinds = {room["title"]: room["kind"] for room in data["rooms"]}
    assert kinds[ACME_ROOM] == "customer" and kinds[STAFF_ROOM] == "staff"
    direct = [room for room in data["rooms"] if room["kind"] == "direct"]
    assert sorted(tuple(sorted(room["members"])) for room in direct) == [
        tuple(sorted((BOT_EMAIL, ERIK_EMAIL))),
        tuple(sorted((BOT_EMAIL, SANNE_EMAIL))),
    ]


def test_the_page_and_its_directory_are_served(server):
    page = requests.get(f"{server.url}/", timeout=10)
    assert page.status_code == 200 and 'id="composer"' in page.text
    assert requests.get(f"{server.url}/_sandbox/static/sandbox.js", timeout=10).status_code == 200
    assert requests.get(f"{server.url}/_sandbox/directory", timeout=10).json()["bot"]["email"] == BOT_EMAIL
    assert requests.get(f"{server.url}/_sandbox/static/../api.py", timeout=10).status_code == 404


def test_a_kept_sandbox_continues_with_the_same_spaces_messages_and_tokens(tmp_path):
    state = build_demo_state()
    acme = state.room_by_title(ACME_ROOM)
    first = state.post_message(ANNA_EMAIL, room_id=acme["id"], markdown="hello **there**")
    state.update_message(ANNA_EMAIL, first["id"], room_id=acme["id"], text=None, markdown="hello again")
    state.post_message(ANNA_EMAIL, room_id=acme["id"], text="second", parent_id=first["id"])
    path = tmp_path / "sandbox.json"
    keeper.save(state, path)
    state.close()

    again = keeper.load(path)
    try:
        assert again.room_by_title(ACME_ROOM)["id"] == acme["id"]
        assert [m["text"] for m in again.messages_in(acme["id"])] == ["hello again", "second"]
        assert again.edits[first["id"]] == 1
        assert again.person_by_token("sandbox-token-anna")["emails"] == [ANNA_EMAIL]
        # The page's change feed replays the kept messages, oldest first.
        assert [(e["kind"], e["message"]["id"]) for e in again.events_since(0, acme["id"])][0] == (
            "created",
            first["id"],
        )
        assert again.roles[ANNA_EMAIL] == "customer"
    finally:
        again.close()


def test_a_sandbox_kept_before_membership_ids_were_derived_continues(tmp_path):
    state = build_demo_state()
    acme = state.room_by_title(ACME_ROOM)["id"]
    data = state.snapshot()
    state.close()
    # An older file: random membership ids.
    data["memberships"] = {f"old-{n}": {**m, "id": f"old-{n}"} for n, m in enumerate(data["memberships"].values())}
    path = tmp_path / "sandbox.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    again = keeper.load(path)
    try:
        anna = again.person_by_email(ANNA_EMAIL)["id"]
        assert again.is_member(acme, anna)
        assert again.membership_of(acme, anna)["id"] == membership_id(anna, acme)
        assert len(again.memberships) == len(data["memberships"])
    finally:
        again.close()


def test_an_unreadable_kept_sandbox_starts_clean(tmp_path):
    path = tmp_path / "sandbox.json"
    path.write_text("{not json", encoding="utf-8")
    assert keeper.load(path) is None
    path.write_text(json.dumps({"people": {}}), encoding="utf-8")  # no org_id
    assert keeper.load(path) is None
    assert keeper.load(tmp_path / "missing.json") is None


def test_the_keeper_writes_only_after_a_change(tmp_path):
    state = build_demo_state()
    path = tmp_path / "sandbox.json"
    kept = keeper.Keeper(state, path, every_s=3600)
    try:
        assert kept.save_if_changed() is True
        assert kept.save_if_changed() is False
        state.post_message(ANNA_EMAIL, room_id=state.room_by_title(ACME_ROOM)["id"], text="news")
        assert kept.save_if_changed() is True
        assert json.loads(path.read_text(encoding="utf-8"))["org_id"] == state.org_id
    finally:
        state.close()


def _settings(cwd):
    return load_settings({"BOT_PORT": "0"}, cwd=cwd)


def test_a_restart_keeps_the_database_and_reset_or_a_missing_half_starts_clean(tmp_path):
    database = tmp_path / launch.SANDBOX_DATABASE
    kept = tmp_path / launch.SANDBOX_STATE
    database.write_bytes(b"tickets")
    kept.write_text("{}", encoding="utf-8")

    settings = launch.sandbox_settings(_settings(tmp_path), explicit_database=False, cwd=tmp_path)
    assert settings.database_url == f"sqlite:///{database}"
    assert database.exists() and kept.exists()

    launch.sandbox_settings(_settings(tmp_path), explicit_database=False, cwd=tmp_path, reset=True)
    assert not database.exists() and not kept.exists()

    database.write_bytes(b"tickets")  # a database without its sandbox belongs to other spaces
    launch.sandbox_settings(_settings(tmp_path), explicit_database=False, cwd=tmp_path)
    assert not database.exists()


def test_reset_is_an_option_of_the_sandbox_command():
    import run_bot

    assert run_bot._parser().parse_args(["sandbox", "--reset"]).reset is True
    assert run_bot._parser().parse_args(["sandbox"]).reset is False


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _pin(data: bytes, files=(("package/dist/x.js", "x.js"), ("package/LICENSE", "x.LICENSE"))) -> assets.NpmFile:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    return assets.NpmFile(package="x", version="1.0.0", integrity=integrity, files=files)


def test_a_pinned_asset_is_unpacked_only_when_its_integrity_matches(tmp_path):
    data = _tarball({"package/dist/x.js": b"render()", "package/LICENSE": b"MIT"})
    pin = _pin(data)
    assets.unpack(pin, data, tmp_path)
    assert (tmp_path / "x.js").read_bytes() == b"render()" and (tmp_path / "x.LICENSE").read_bytes() == b"MIT"
    assert assets.present((pin,), tmp_path)

    other = tmp_path / "other"
    with pytest.raises(assets.AssetError, match="integrity mismatch"):
        assets.unpack(pin, data + b"tampered", other)
    assert not other.exists()


def test_a_pinned_file_missing_from_the_package_is_refused(tmp_path):
    data = _tarball({"package/LICENSE": b"MIT"})
    with pytest.raises(assets.AssetError, match="has no package/dist/x.js"):
        assets.unpack(_pin(data), data, tmp_path)
    assert not assets.present((_pin(data),), tmp_path)


def test_the_card_renderer_is_pinned_to_one_version_with_a_sha512():
    assert assets.ADAPTIVE_CARDS.tarball == "adaptivecards/-/adaptivecards-3.0.6.tgz"
    assert assets.ADAPTIVE_CARDS.integrity.startswith("sha512-")
    assert any(name.endswith("LICENSE") for _, name in assets.ADAPTIVE_CARDS.files)


def test_a_snapshot_holds_exactly_what_is_kept():
    state = SandboxState()
    try:
        assert set(state.snapshot()) == {*SandboxState._KEPT, "org_id", "file_data"}
    finally:
        state.close()


def _start(cwd, *, reset=False):
    settings = launch.sandbox_settings(_settings(cwd), explicit_database=False, cwd=cwd, reset=reset)
    return launch.start_sandbox(settings, with_workers=False, state_file=cwd / launch.SANDBOX_STATE)


def test_the_first_start_creates_the_demo_and_the_next_continues_it(tmp_path):
    from sqlalchemy import select

    from storage.models.directory import Organisation, SpaceRecord
    from storage.models.operations import OnCallTeam, Subscription

    stack = _start(tmp_path)
    try:
        state = stack.sandbox_state
        acme = state.room_by_title(ACME_ROOM)["id"]
        with stack.runtime.db.read() as session:
            assert sorted(session.scalars(select(Organisation.name))) == ["Acme Logistics", "Polder Energy"]
            kinds = {row.room_id: row.kind for row in session.scalars(select(SpaceRecord))}
            assert kinds[acme] == "customer" and kinds[state.room_by_title(STAFF_ROOM)["id"]] == "staff"
            assert session.get(OnCallTeam, "iot-oncall").rota == [ERIK_EMAIL, SANNE_EMAIL]
            assert sorted(
                s.service for s in session.scalars(select(Subscription).where(Subscription.room_id == acme))
            ) == ["LoRa", "M2M"]
        assert sum(room["kind"] == "direct" for room in state.directory()["rooms"]) == 2
        state.post_message(ANNA_EMAIL, room_id=acme, text="kept?")
    finally:
        stack.stop()

    again = _start(tmp_path)
    try:
        assert again.sandbox_state.room_by_title(ACME_ROOM)["id"] == acme
        assert [m["text"] for m in again.sandbox_state.messages_in(acme)] == ["kept?"]
        with again.runtime.db.read() as session:
            assert len(list(session.scalars(select(Subscription).where(Subscription.room_id == acme)))) == 2
    finally:
        again.stop()

    fresh = _start(tmp_path, reset=True)
    try:
        assert fresh.sandbox_state.room_by_title(ACME_ROOM)["id"] != acme
        assert fresh.sandbox_state.messages_in(fresh.sandbox_state.room_by_title(ACME_ROOM)["id"]) == []
    finally:
        fresh.stop()
