"""Escaping what users typed before it is echoed: in a Webex message's markdown, or in a card.

Both drop the invisible characters that change how text reads (`visible`): a right-to-left
override (U+202E) can make a title read backwards, a zero-width space hide a word's real letters.
Where the staff read what a customer typed (alerts, page cards), `links=False` also makes a web
address plain text, so that nobody opens a customer's link from an alert by a tap.

Webex messages and Adaptive Cards speak different markdown. A message's markdown honours
backslash escapes, so `escape_markdown` puts a backslash before every character Webex could
act on. A card's TextBlock and Fact texts go through Microsoft's shared markdown parser (the
Webex apps on phones render cards with it), which honours a backslash only before `[`, `]`,
`)` and a line break, keeps it on screen before `*` and `_`, and on iOS shows the raw text,
backslashes included, whenever the text has no markup left. So `escape_card_text` escapes
nothing with backslashes: it breaks only the constructs that parser acts on, with a word
joiner (U+2060, invisible, which the parser reads as a letter), and shows an asterisk that
would pair with another as U+2217 (∗), the one mark no invisible character can stop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Characters Webex's markdown gives meaning to; escaped so typed text stays literal.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
# Control characters other than tab and newline: invisible, and some clients act on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Unicode's format characters (category Cf: the direction controls U+202A-U+202E and U+2066-U+2069,
# zero-width space, joiners and word joiner, soft hyphen, byte order mark, tag characters, …), the
# C1 controls and the line and paragraph separators: invisible, or moving text about.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f\x80-\x9f\u2028\u2029]"
)
# The joiners that shape emoji (👩‍💻) and scripts such as Persian and the Indic ones: kept between two
# such characters, dropped elsewhere (between Latin letters they only hide a word's real letters).
_JOINERS = "\u200c\u200d"
# A web address: a scheme and "://", or a host name starting with www.
_WEB_ADDRESS = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]{0,15}://|www\.)[^\s<>\"'`]*")

WORD_JOINER = "\u2060"
LOOKALIKE_ASTERISK = "\u2217"
# After these the card parser starts a new block: a list may begin there.
_BLOCK_START = "[])\n"
_DELIMITERS = "*_"
# The renderers turn {{DATE(…)}} and {{TIME(…)}} into a local date before any markdown.
_DATE_FUNCTION = re.compile(r"\{\{(?:DATE|TIME)\(")
_INIT, _SPACE, _ALNUM, _PUNCT = "init", "space", "alnum", "punct"


def visible(value: str) -> str:
    """`value` without the invisible characters that change how it reads (see _INVISIBLE); a line or
    paragraph separator becomes a space."""
    return _INVISIBLE.sub(_drop_invisible, value) if _INVISIBLE.search(value) else value


def _drop_invisible(match: re.Match[str]) -> str:
    ch, text, at = str(match.group()), match.string, match.start()
    if ch in "\u2028\u2029":
        return " "
    if ch in _JOINERS and 0 < at < len(text) - 1 and _joins(text[at - 1]) and _joins(text[at + 1]):
        return ch
    return ""


def _joins(ch: str) -> bool:
    return not ch.isascii() and not ch.isspace() and _INVISIBLE.match(ch) is None


def inert_links(value: str) -> str:
    """`value` with its web addresses written so that no client makes them links, readable still:
    https://evil.example/x → https[:]//evil[.]example/x, www.evil.example → www[.]evil[.]example."""

    def defang(match: re.Match[str]) -> str:
        scheme, sep, rest = str(match.group()).partition("://")
        if not sep:
            scheme, rest = "", str(match.group())
        host, slash, path = rest.partition("/")
        return (f"{scheme}[:]//" if sep else "") + host.replace(".", "[.]") + slash + path

    return _WEB_ADDRESS.sub(defang, value)


def fit_escaped(render: Callable[[str], str], value: str, limit: int) -> str:
    """`render(escape_markdown(value))`, with what the user typed cut short (…) as far as needed
    for the whole to stay within `limit` UTF-8 bytes (a message Webex takes)."""
    full = render(escape_markdown(value))
    if len(full.encode("utf-8")) <= limit:
        return full
    low, high = 0, len(value)  # the longest cut of `value` that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if len(render(escape_markdown(value[:middle]) + "…").encode("utf-8")) <= limit:
            low = middle
        else:
            high = middle - 1
    return render(escape_markdown(value[:low]) + "…")


def escape_markdown(value: str, *, links: bool = True) -> str:
    """Make user text inert in a markdown message: no formatting, links, HTML, mentions, control or
    invisible characters; `links=False`: no web address a client would make a link of either."""
    value = visible(_CONTROL.sub("", value))
    if not links:
        value = inert_links(value)
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN.sub(r"\\\1", value)


# An address that cannot end the mention tag early or smuggle markup into it.
_MENTIONABLE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def mention(email: str) -> str:
    """A Webex mention of the person with `email` (markdown; Webex notifies them); any other text is only shown, escaped."""
    if _MENTIONABLE.match(email):
        return f"<@personEmail:{email}>"
    return escape_markdown(email)


def escape_card_text(value: str, *, links: bool = True) -> str:
    """Make user text show as typed in a card's TextBlock or Fact: no emphasis, links, lists, date
    functions or invisible characters; `links=False`: no web address a client would make a link of."""
    return card_markdown([(value, True)], links=links)


def card_markdown(parts: Iterable[tuple[str, bool]], *, links: bool = True) -> str:
    """Join (text, typed) parts into card markdown: the typed parts shown as typed, the others' markup
    kept (`links=False`: the typed parts' web addresses are no links).

    The typed parts are judged in their place (a list starts only at a line start, an asterisk
    pairs with one in the surrounding text), but only they are changed.
    """
    text = _Text()
    for value, typed in parts:
        if typed:
            value = visible(_CONTROL.sub("", value))
            value = value if links else inert_links(value)
        text.add(value, typed)
    text.break_escapes()
    text.break_date_functions()
    text.break_links()
    text.break_lists()
    text.break_emphasis()
    return "".join(text.chars)


class _Text:
    """Characters, each knowing whether a user typed it; changes go next to typed characters only."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.typed: list[bool] = []

    def add(self, value: str, typed: bool) -> None:
        self.chars.extend(value)
        self.typed.extend([typed] * len(value))

    def _join_before(self, positions: Iterable[int]) -> None:
        """A word joiner before each position (a joiner counts as typed: it belongs to the escaping)."""
        at = set(positions)
        if not at:
            return
        chars, typed = [], []
        for i, (ch, mine) in enumerate(zip(self.chars, self.typed, strict=False)):
            if i in at:
                chars.append(WORD_JOINER)
                typed.append(True)
            chars.append(ch)
            typed.append(mine)
        if len(self.chars) in at:
            chars.append(WORD_JOINER)
            typed.append(True)
        self.chars[:], self.typed[:] = chars, typed

    def _touches_typed(self, start: int, end: int) -> bool:
        return any(self.typed[start:end])

    def break_escapes(self) -> None:
        """A typed backslash stays on screen and escapes nothing of the surrounding text: the parser
        drops one before `[`, `]`, `)` or a line break, and one before `*` or `_` makes them text."""
        c = self.chars
        self._join_before(
            i + 1
            for i in range(len(c) - 1)
            if c[i] == "\\"
            and (
                (c[i + 1] in _BLOCK_START and self._touches_typed(i, i + 2))
                or (self.typed[i] and not self.typed[i + 1])
            )
        )

    def break_date_functions(self) -> None:
        """`{{DATE(` and `{{TIME(` typed by a user stay text."""
        joined = "".join(self.chars)
        self._join_before(
            m.start() + 1 for m in _DATE_FUNCTION.finditer(joined) if self._touches_typed(m.start(), m.end())
        )

    def break_links(self) -> None:
        """`[text](url)` is a link only with `](` side by side."""
        c = self.chars
        self._join_before(
            i + 1 for i in range(len(c) - 1) if c[i] == "]" and c[i + 1] == "(" and self._touches_typed(i, i + 2)
        )

    def break_lists(self) -> None:
        """No list where a user's text starts a block with `- `, `+ `, `* ` or `1. ` (after `--`, `1.` and the like too).

        In a list item the parser also moves or drops the digits a line starts with: a typed
        line start with a digit is broken as well.
        """
        c = self.chars
        starts = [0] + [i + 1 for i, ch in enumerate(c) if ch in _BLOCK_START]
        breaks = []
        for start in starts:
            end = _list_marker_end(c, start)
            if end is not None and self._touches_typed(start, end):
                breaks.append(start)
            elif start > 0 and c[start - 1] == "\n" and start < len(c) and self.typed[start] and c[start].isdigit():
                breaks.append(start)
        self._join_before(breaks)

    def break_emphasis(self) -> None:
        """Typed `*` and `_` that would pair with another delimiter stop being delimiters.

        First the runs are kept apart: where typed text meets a run of the surrounding text,
        that run sees a letter (so `**{org}**` stays bold whatever the name starts or ends
        with); a typed run never joins a run of the surrounding text or of the other character
        (the parser prints only as many characters of a run as it has of its first one), and
        never ends just before a backslash (the parser drops it). Then every typed run that
        could open or close, with a partner of its kind on the right side, is made inert: `_`
        between letters is inert (a word joiner on each side that is not one), `*` is inert
        nowhere, so it becomes ∗.
        """
        c = self.chars
        self._join_before(
            i + 1 for i in range(len(c) - 1) if self.typed[i] != self.typed[i + 1] and _edge_of_markup(c, i)
        )
        self._join_before(
            i + 1
            for i in range(len(c) - 1)
            if c[i] in _DELIMITERS
            and self._touches_typed(i, i + 2)
            and (
                (c[i + 1] in _DELIMITERS and (c[i + 1] != c[i] or self.typed[i] != self.typed[i + 1]))
                or c[i + 1] == "\\"
            )
        )
        for _ in range(len(c)):
            runs = [run for run in _runs(self.chars) if run.pairs and self._touches_typed(run.start, run.end)]
            if not runs:
                return
            joins = []
            for run in runs:
                for i in range(run.start, run.end):
                    if self.chars[i] == "*":
                        self.chars[i] = LOOKALIKE_ASTERISK
                for i in range(run.start, run.end):
                    if self.chars[i] == "_":
                        if _kind(self.chars, i - 1) != _ALNUM:
                            joins.append(i)
                        if _kind(self.chars, i + 1) != _ALNUM:
                            joins.append(i + 1)
            self._join_before(joins)


def _edge_of_markup(chars: list[str], i: int) -> bool:
    """Whether one of chars[i], chars[i + 1] is a delimiter and the other neither a delimiter nor a letter."""
    a, b = chars[i], chars[i + 1]
    if (a in _DELIMITERS) == (b in _DELIMITERS):
        return False
    other = i + 1 if a in _DELIMITERS else i
    return _kind(chars, other) != _ALNUM


def _kind(chars: list[str], i: int) -> str:
    """A character as the card parser classes it: bytes of non-ASCII characters count as letters."""
    if i < 0:
        return _INIT
    if i >= len(chars):
        return _SPACE  # the end of the text closes like a space
    ch = chars[i]
    if ch.isspace() and ch.isascii():
        return _SPACE
    if not ch.isascii() or ch.isalnum():
        return _ALNUM
    return _PUNCT


def _list_marker_end(chars: list[str], start: int) -> int | None:
    """Where a list marker found from a block start ends, or None: the parser reads `-` and `+`
    without a space, digits, and `1.` without a space as text and looks again after them."""
    i, n = start, len(chars)
    while i < n:
        ch = chars[i]
        if ch in "-+*":
            if i + 1 < n and chars[i + 1] == " ":
                return i + 2
            if ch == "*":
                return None
            i += 1
        elif ch.isdigit() and ch.isascii():
            while i < n and chars[i].isdigit() and chars[i].isascii():
                i += 1
            if i < n and chars[i] == ".":
                if i + 1 < n and chars[i + 1] == " ":
                    return i + 2
                i += 1
        else:
            return None
    return None


class _Run:
    """A run of `*`/`_` as the card parser reads it: its kind is its first character."""

    def __init__(self, start: int, end: int, kind: str, opens: bool, closes: bool) -> None:
        self.start, self.end, self.kind, self.opens, self.closes = start, end, kind, opens, closes
        self.pairs = False


def _runs(chars: list[str]) -> list[_Run]:
    """Every delimiter run, marked `pairs` when a run of its kind could close it or open before it."""
    runs: list[_Run] = []
    i, n = 0, len(chars)
    while i < n:
        if chars[i] not in _DELIMITERS or (i > 0 and chars[i - 1] == "\\"):
            i += 1
            continue
        start, kind = i, chars[i]
        while i < n and chars[i] in _DELIMITERS:
            i += 1
        before = _kind(chars, start - 1)
        runs.append(_Run(start, i, kind, *_flanks(kind, before, _kind(chars, i), at_end=i >= n)))
    for kind in _DELIMITERS:
        same = [run for run in runs if run.kind == kind]
        opened = False
        for run in same:
            run.pairs = run.closes and opened
            opened = opened or run.opens
        closing = False
        for run in reversed(same):
            run.pairs = run.pairs or (run.opens and closing)
            closing = closing or run.closes
    return runs


def _flanks(kind: str, before: str, after: str, *, at_end: bool) -> tuple[bool, bool]:
    """(can open, can close) by the card parser's rules for a run between `before` and `after`."""
    after_punct = after == _PUNCT
    opens = not at_end and after != _SPACE and not (before == _ALNUM and (after_punct or kind == "_"))
    after_punctuation_run = before == _PUNCT
    intraword_underscore = before == _ALNUM and kind == "_"
    closes = before != _SPACE and (
        ((at_end or after == _SPACE) and (after_punctuation_run or intraword_underscore or kind == "*"))
        or (after == _ALNUM and before != _INIT and not after_punctuation_run and not intraword_underscore)
        or after_punct
    )
    return opens, closes
