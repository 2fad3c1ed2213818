"""Mention stripping by id from `html`, and escaping of echoed text."""

import base64

from bot.events import strip_bot_mention
from bot.text import escape_markdown
from bot.webex import BotIdentity, person_uuid

BOT_UUID = "0f9a2b3c-1111-2222-3333-444455556666"
BOT_ID = base64.b64encode(f"ciscospark://us/PEOPLE/{BOT_UUID}".encode()).decode().rstrip("=")
BOT = BotIdentity(person_id=BOT_ID, uuid=BOT_UUID, display_name="IoT Service Desk", emails=("servicedesk@webex.bot",))


def _mention(uuid, label):
    return f'<spark-mention data-object-type="person" data-object-id="{uuid}">{label}</spark-mention>'


def test_person_uuid_from_id():
    assert person_uuid(BOT_ID) == BOT_UUID


def test_shortened_display_name_is_stripped_by_id():
    message = {"text": "IoT /ping", "html": f"<p>{_mention(BOT_UUID, 'IoT')} /ping</p>"}
    assert strip_bot_mention(message, BOT) == "/ping"


def test_other_mentions_are_kept():
    other = "aaaaaaaa-0000-0000-0000-000000000000"
    message = {"html": f"<p>{_mention(BOT_UUID, 'Desk')} /incident ask {_mention(other, 'Erik')} about it</p>"}
    assert strip_bot_mention(message, BOT) == "/incident ask Erik about it"


def test_mention_in_the_middle_and_entities():
    message = {"html": f"<p>please {_mention(BOT_UUID, 'IoT Service Desk')} /ping &amp; thanks</p>"}
    assert strip_bot_mention(message, BOT) == "please /ping & thanks"


def test_plain_text_in_direct_spaces():
    assert strip_bot_mention({"text": "  /help  "}, BOT) == "/help"


def test_escape_makes_markdown_inert():
    assert escape_markdown("**bold** <@personEmail:x@y.z> [a](http://e)") == (
        "\\*\\*bold\\*\\* &lt;@personEmail:x@y\\.z\\> \\[a\\]\\(http://e\\)"
    )
