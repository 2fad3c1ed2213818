"""What the bot repeats of typed text drops the characters that change how it reads, and where the
staff read it, its web addresses are no links."""

import sys
import unicodedata

import pytest

from bot.text import escape_card_text, escape_markdown, inert_links, visible


def test_every_format_character_is_dropped():
    # Unicode's category Cf (direction controls, zero-width characters, tags, …) of this Python's Unicode.
    format_characters = [chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"]
    assert len(format_characters) > 150
    assert visible("a" + "a".join(format_characters) + "a") == "a" * (len(format_characters) + 1)
    assert visible("C1\x85\x9b controls\u2028and\u2029separators") == "C1 controls and separators"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("👩\u200d💻", "👩\u200d💻"),  # an emoji sequence keeps its joiner
        ("می\u200cخواهم", "می\u200cخواهم"),  # Persian keeps its non-joiner
        ("ad\u200dmin", "admin"),  # between Latin letters a joiner only hides the word's real letters
        ("\u200d👩", "👩"),
    ],
)
def test_joiners_stay_only_where_scripts_and_emoji_need_them(typed, kept):
    assert visible(typed) == kept


def test_both_escapes_drop_them():
    assert escape_markdown("a\u202eb") == "ab"
    assert escape_card_text("a\u202eb\u200b") == "ab"


@pytest.mark.parametrize(
    ("typed", "inert"),
    [
        ("https://evil.example/reset?a=b.c", "https[:]//evil[.]example/reset?a=b.c"),
        ("see HTTP://Evil.Example, now", "see HTTP[:]//Evil[.]Example, now"),
        ("www.evil.co.uk/login", "www[.]evil[.]co[.]uk/login"),
        ("ftp://files.example", "ftp[:]//files[.]example"),
        ("no address: version 2.1 at 10.30", "no address: version 2.1 at 10.30"),
    ],
)
def test_web_addresses_are_written_as_no_links(typed, inert):
    assert inert_links(typed) == inert
