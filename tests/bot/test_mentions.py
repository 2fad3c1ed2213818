"""A command in a group space is found however Webex shows the bot's mention: the base64 or the
UUID id in `html`, a nickname, the mention anywhere in the text, next to other mentions, or no
`html` at all (then by the bot's name in `text`)."""

import pytest

from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, SANNE_EMAIL, STAFF_ROOM

BOT = f"<@personEmail:{BOT_EMAIL}>"
NICK = f"<@personEmail:{BOT_EMAIL}|IoT>"


def _post(harness, markdown, room=ACME_ROOM, email=ANNA_EMAIL):
    message = harness.state.post_message(email, room_id=harness.room(room)["id"], markdown=markdown)
    assert harness.state.wait_delivered(message["id"], timeout=10), "Webex did not deliver the webhook"
    harness.run()
    return harness.bot_messages(room)


def _pong(messages):
    return [m for m in messages if m["markdown"].startswith("pong")]


@pytest.mark.parametrize("ids", ["base64", "uuid"])
@pytest.mark.parametrize("html", [True, False], ids=["html", "no-html"])
@pytest.mark.parametrize(
    "markdown",
    [
        f"{BOT} /ping",
        f"{NICK} /ping",
        f"/ping {BOT}",
        f"{NICK} ping",
    ],
    ids=["full-name", "nickname", "mention-last", "no-slash"],
)
def test_the_command_is_found_whatever_the_mention_looks_like(harness, ids, html, markdown):
    harness.state.mention_ids = ids
    harness.state.omit_html = not html
    assert len(_pong(_post(harness, markdown))) == 1


@pytest.mark.parametrize("ids", ["base64", "uuid"])
def test_the_mention_in_the_middle_is_cut_out(harness, ids):
    harness.state.mention_ids = ids
    [answer] = _post(harness, f"/sla {BOT} P2 2026-01-09 17:00")
    assert "P2" in answer["markdown"] and "Mon 12 Jan" in answer["markdown"], answer["markdown"]


@pytest.mark.parametrize("html", [True, False], ids=["html", "no-html"])
def test_other_mentions_stay_in_the_text(harness, html):
    harness.state.omit_html = not html
    [answer] = _post(harness, f"{BOT} /incident Modems down, ask <@personEmail:{SANNE_EMAIL}|Sanne>")
    # The form is prefilled with the title as typed, Sanne's name kept and the bot's mention gone.
    title = next(i for i in answer["attachments"][0]["content"]["body"] if i.get("id") == "title")
    assert title["value"] == "Modems down, ask Sanne"


def test_a_message_naming_the_bot_without_mentioning_it_is_never_delivered(harness):
    room_id = harness.room(STAFF_ROOM)["id"]
    unheard = harness.state.post_message(SANNE_EMAIL, room_id=room_id, markdown="IoT Service Desk /ping")
    # Deliveries go out in order: once the next (mentioning) message is delivered, the first never will be.
    assert len(_pong(_post(harness, f"{BOT} /ping", room=STAFF_ROOM, email=SANNE_EMAIL))) == 1
    assert unheard["id"] not in {d["data_id"] for d in harness.state.deliveries}
