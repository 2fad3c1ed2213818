"""What users typed shows as typed in a card on a phone: the card escaper judged by an oracle of the phone's parser.

tests/cards/phone.py renders card markdown as Microsoft's shared parser does (the Webex apps on
phones use it); the sandbox page does the same in sandbox/static/card_markdown.js, and the
last test here checks that the two agree.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import LOOKALIKE_ASTERISK, WORD_JOINER, card_markdown, escape_card_text, escape_markdown
from tests.cards import phone
from tests.profiles import examples

ISSUE_TITLE = "Down since 10.00 - all sites"
PUNCTUATION = r"""Re: [URGENT] 50% of sites down (NL) - ETA 10.30! #1 | a_b <x> & "y"; C:\temp\[x] 2*3 ~z~ `q` {a} +31 (0)20-555 ... :-)"""
# The characters the parser acts on, and their neighbours in every kind: letters, digits, spaces, line breaks, other punctuation.
MARKDOWN_ALPHABET = st.sampled_from(list('*_[]()-+.\\\n ab1#!|<>&"{}é') + ["**", "__", "](", "- ", "1. ", "\n- ", "😀"])


def _shown(card_text: str) -> str:
    """What a phone shows, reading a lookalike asterisk as the asterisk it stands for."""
    return phone.shown(card_text).replace(LOOKALIKE_ASTERISK, "*")


def test_the_title_of_the_issue_shows_as_typed_and_webex_escaping_would_show_backslashes():
    assert phone.shown(escape_markdown(ISSUE_TITLE)) == r"Down since 10\.00 \- all sites"  # what phones showed
    assert escape_card_text(ISSUE_TITLE) == ISSUE_TITLE
    assert phone.shown(escape_card_text(ISSUE_TITLE)) == ISSUE_TITLE


@pytest.mark.parametrize(
    ("typed", "markup", "shown"),
    [
        ("**x**", {"strong"}, "∗∗x∗∗"),  # no invisible character stops `*` pairing: it is shown as ∗ (U+2217)
        ("_y_", {"em"}, "_y_"),
        ("[a](http://e)", {"a"}, "[a](http://e)"),
        ("- item", {"ul", "li"}, "- item"),
        ("1. item", {"ol", "li"}, "1. item"),
        ("see:\n- one\n2. two", {"ul", "ol", "li"}, "see:\n- one\n2. two"),
        ("(x)- y", {"ul", "li"}, "(x)- y"),
        ("10.- x and 2.1. y", {"ul", "li"}, "10.- x and 2.1. y"),
        ("a*b*c and snake_case_name", {"em"}, "a∗b∗c and snake_case_name"),
        ("__init__.py", {"strong"}, "__init__.py"),
        (r"C:\temp\[x] and a*\b", set(), r"C:\temp\[x] and a*\b"),
    ],
)
def test_markup_a_phone_would_show_is_shown_as_typed(typed, markup, shown):
    # Untouched, the phone would act on it: make markup of it, or drop a backslash.
    if markup:
        assert markup <= phone.markup(typed)
    else:
        assert phone.shown(typed) != typed
    escaped = escape_card_text(typed)
    assert phone.markup(escaped) == set()
    assert phone.shown(escaped) == shown


def test_punctuation_stays_as_typed_and_gets_no_backslashes():
    escaped = escape_card_text(PUNCTUATION)
    assert phone.markup(escaped) == set()
    assert phone.shown(escaped) == PUNCTUATION
    assert escaped.count("\\") == PUNCTUATION.count("\\")


@pytest.mark.parametrize(
    "typed",
    [
        ISSUE_TITLE,
        "Acme B.V. (NL) - 3 sites!",
        "v1.2.3 #42 | 50% ~ok~ <b>x</b> & more",
        "a * b and 2*3",
        "snake_case_name",
        "é😀 + 1",
        "line one\nline two",
    ],
)
def test_ordinary_text_is_not_touched(typed):
    assert escape_card_text(typed) == typed


def test_date_functions_stay_text():
    typed = "{{DATE(2026-11-23T09:00:00Z, SHORT)}} and {{TIME(2026-11-23T09:00:00Z)}}"
    escaped = escape_card_text(typed)
    assert not re.search(r"\{\{(DATE|TIME)\(", escaped)  # what the renderers turn into a local date
    assert escaped.replace(WORD_JOINER, "") == typed


def test_control_characters_are_dropped():
    assert phone.shown(escape_card_text("a\x07\x1b[b]\x00c")) == "a[b]c"


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(MARKDOWN_ALPHABET, max_size=30).map("".join))
def test_any_text_shows_as_typed(typed):
    escaped = escape_card_text(typed)
    assert phone.markup(escaped) == set()
    assert _shown(escaped) == typed


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(MARKDOWN_ALPHABET, min_size=1, max_size=20).map("".join))
def test_typed_text_between_markup_keeps_the_markup(typed):
    escaped = card_markdown(
        [("Create **", False), (typed, True), ("** and link it. Customers of _", False), (typed, True), ("_.", False)]
    )
    assert phone.markup(escaped) == {"strong", "em"}
    assert _shown(escaped) == f"Create {typed} and link it. Customers of {typed}."


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(MARKDOWN_ALPHABET, max_size=20).map("".join).filter(lambda t: "\n\n" not in t))
def test_typed_text_in_a_list_item_stays_in_it(typed):
    escaped = card_markdown([("- Impact: ", False), (typed, True)])
    assert phone.markup(escaped) == {"ul", "li"}
    assert _shown(escaped) == f"Impact: {typed}"


SANDBOX_RENDERER = Path(__file__).resolve().parents[2] / "sandbox" / "static" / "card_markdown.js"


def test_the_sandbox_page_renders_card_text_as_the_oracle_does():
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on this machine to run the sandbox page's card renderer")
    samples = [
        ISSUE_TITLE,
        escape_markdown(ISSUE_TITLE),
        PUNCTUATION,
        escape_card_text(PUNCTUATION),
        "**x** _y_ [a](http://e)",
        "- a\n- b\n\n1. c\n12.x",
        "*a **b** c* __d__ ***e***",
        r"a\*b\_c \[d\] e*\f",
        'x <b>&amp;</b> "q"',
        "[l [m](n(o)p) q](r",
        "(x)- y [- z] 10.- w",
        "é*ü*ß_ö_ 😀**😀**",
    ]
    script = (
        f"const {{cardMarkdown}} = require({json.dumps(str(SANDBOX_RENDERER))});"
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(texts.map(cardMarkdown)));"
    )
    done = subprocess.run(
        [node, "-e", script], input=json.dumps(samples), capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == [phone.render(sample) for sample in samples]
