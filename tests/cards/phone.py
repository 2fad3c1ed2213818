"""How a phone shows a card text: the markdown of Microsoft's shared Adaptive Cards parser, in Python.

The Webex apps on phones render TextBlock and Fact texts with that parser
(github.com/microsoft/AdaptiveCards, source/shared/cpp/ObjectModel/MarkDown*.cpp). This oracle
follows its rules, quirks included, the way sandbox/static/card_markdown.js does for the
sandbox page (tests/cards/test_card_text.py checks that the two agree):

- a block starts at the beginning, after a line break and after `[`, `]` and `)`; there
  `- `, `+ `, `* ` and `1. ` start a list item (`-`, `+`, digits and `1.` without a space are
  text, and the parser looks again right after them);
- `[text](destination)` is a link when `](` touch and the destination's parentheses balance;
- a run of `*` or `_` opens or closes by the parser's flanking rules (every byte of a non-ASCII
  character counts as a letter) and pairs with a run of its own character;
- a backslash is dropped before `[`, `]`, `)` and a line break and right after a run, and kept
  (making them text) before `*` and `_`.
"""

from __future__ import annotations

import html
import re

_BLOCK_TOKENS = "[])\n\r"
_ESCAPE, _INIT, _SPACE, _ALNUM, _PUNCT = "escape", "init", "space", "alnum", "punct"
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _is_space(c: str | None) -> bool:
    return c is not None and c in " \t\n\r\f\v"


def _is_alnum(c: str | None) -> bool:
    return c is not None and (not c.isascii() or c.isalnum())


def _is_punct(c: str | None) -> bool:
    return c is not None and c in _ASCII_PUNCT


def _is_digit(c: str | None) -> bool:
    return c is not None and c.isascii() and c.isdigit()


def _look_behind(c: str, previous: str) -> str:
    if _is_alnum(c):
        return _ALNUM
    if _is_space(c):
        return _SPACE
    if _is_punct(c):
        return _ESCAPE if c == "\\" else _PUNCT
    return previous


class _Run:
    def __init__(self, chars: str, count: int, kind: str, opens: bool, closes: bool) -> None:
        self.chars, self.unused, self.kind = chars, count, kind
        self.side = "both" if opens and closes else "left" if opens else "right"
        self.direction = "right"
        self.tags: list[str] = []

    def is_left(self) -> bool:
        return self.side == "left" or self.direction == "left"

    def is_right(self) -> bool:
        return self.side != "left" and self.direction == "right"

    def is_both(self) -> bool:
        return self.side == "both"

    def matches(self, other: _Run) -> bool:
        return self.kind == other.kind and not (
            (self.is_both() or other.is_both()) and (self.unused + other.unused) % 3 == 0
        )

    def push(self, name: str) -> None:
        opening = self.side == "left" or (self.side == "both" and self.direction == "left")
        self.tags.append(f"<{name}>" if opening else f"</{name}>")

    def html(self) -> str:
        rest = self.chars[len(self.chars) - self.unused :] if self.unused else ""
        return rest + "".join(reversed(self.tags)) if self.side == "left" else "".join(self.tags) + rest


def _pair(left: _Run, right: _Run) -> bool:
    over = left.unused - right.unused
    if over >= 0:
        count, left.unused, right.unused = right.unused, over, 0
    else:
        count, right.unused, left.unused = left.unused, -over, 0
    if count % 2:
        left.push("em")
        right.push("em")
    for _ in range(count // 2):
        left.push("strong")
        right.push("strong")
    return count > 0


class _Parsed:
    def __init__(self) -> None:
        self.items: list[dict] = []
        self.runs: list[_Run] = []
        self.tags = False
        self.captured = False

    def add(self, item: dict) -> None:
        if self.items and self.items[-1]["block"] != item["block"]:
            if self.items[-1].get("newline"):
                self.items.pop()
            if self.items:
                self.items[-1]["tail"] = True
            item["head"] = True
        self.items.append(item)

    def text(self, value: str) -> None:
        self.add({"block": "p", "html": value})

    def newline(self, c: str) -> None:
        self.add({"block": "p", "html": c, "newline": True})

    def run(self, run: _Run) -> None:
        self.add({"block": "p", "run": run})
        self.runs.append(run)

    def append(self, other: _Parsed) -> None:
        for i, item in enumerate(other.items):
            self.add(item) if i == 0 else self.items.append(item)
        self.runs += other.runs
        self.tags = self.tags or other.tags
        self.captured = other.captured

    def translate(self) -> None:
        waiting: list[_Run] = []
        i = 0
        while i < len(self.runs):
            current = self.runs[i]
            if current.is_left() or (current.is_both() and not waiting):
                if current.is_both() and current.is_right():
                    current.direction = "left"
                waiting.append(current)
                i += 1
            elif waiting:
                left = waiting[-1]
                if not left.matches(current):
                    skipped, found = [], False
                    while waiting and not found:
                        if waiting[-1].matches(current):
                            left, found = waiting[-1], True
                        else:
                            skipped.append(waiting.pop())
                    if not found:
                        while skipped:
                            waiting.append(skipped.pop())
                        if waiting[-1].kind == current.kind:
                            current.direction = "left"
                        else:
                            i += 1
                        continue
                self.tags = _pair(left, current) or self.tags
                if current.unused == 0:
                    i += 1
                if left.unused == 0:
                    waiting.pop()
            else:
                i += 1

    def html(self, blocks: bool) -> str:
        if blocks and self.items:
            self.items[0]["head"] = self.items[-1]["tail"] = True
        out = []
        for item in self.items:
            body = item["run"].html() if "run" in item else item["html"]
            block = item["block"]
            if block == "p":
                opening, closing = "<p>", "</p>"
            else:
                opening = "<ul>" if block == "ul" else f'<ol start="{item["start"]}">'
                closing = f"</{block}>"
            out.append((opening if item.get("head") else "") + body + (closing if item.get("tail") else ""))
        return "".join(out)


class _Parser:
    def __init__(self, source: str) -> None:
        self.s, self.pos = source, 0

    def peek(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.s[i] if i < len(self.s) else None

    def block(self, out: _Parsed) -> None:
        c = self.peek()
        if c == "[":
            self.link(out)
        elif c in ("]", ")"):
            out.text(c)
            self.pos += 1
        elif c in ("\n", "\r"):
            out.newline(c)
            self.pos += 1
        elif c in ("-", "+", "*"):
            self.bullet(out, c)
        elif _is_digit(c):
            self.numbered(out)
        else:
            self.emphasis(out)

    def emphasis(self, out: _Parsed) -> None:
        state = {"behind": _INIT, "token": "", "kind": None, "count": 0, "after_punct": False, "intraword": False}
        in_run = False

        def flush_text() -> None:
            if state["token"]:
                out.text(state["token"])
            state["token"] = ""

        def opens(nxt: str | None) -> bool:
            behind = state["behind"]
            return (
                state["count"] > 0
                and nxt is not None
                and not _is_space(nxt)
                and not (behind == _ALNUM and _is_punct(nxt))
                and not (behind == _ALNUM and state["kind"] == "_")
            )

        def closes(nxt: str | None) -> bool:
            behind, after_punct, intraword = state["behind"], state["after_punct"], state["intraword"]
            if (
                (nxt is None or _is_space(nxt))
                and behind != _SPACE
                and (after_punct or intraword or state["kind"] == "*")
            ):
                return True
            if _is_alnum(nxt) and behind not in (_SPACE, _INIT):
                return not after_punct and not intraword
            return _is_punct(nxt) and behind != _SPACE

        def capture(nxt: str | None) -> None:
            can_close, can_open = closes(nxt), opens(nxt)
            if can_close or can_open:
                out.run(_Run(state["token"], state["count"], state["kind"], can_open, can_close))
            elif state["token"]:
                out.text(state["token"])
            state["token"] = ""

        def start_run(c: str) -> None:
            if state["behind"] != _SPACE:
                state["after_punct"] = state["behind"] == _PUNCT
                state["intraword"] = state["behind"] == _ALNUM and c == "_"
            state["count"] += 1
            state["kind"] = c

        while True:
            c = self.peek()
            if not in_run:
                special = c is not None and c in _BLOCK_TOKENS
                if c is None or (state["behind"] != _ESCAPE and special):
                    flush_text()
                    return
                if c in ("*", "_") and state["behind"] != _ESCAPE:
                    flush_text()
                    if self.pos > 0:
                        state["behind"] = _look_behind(self.s[self.pos - 1], state["behind"])
                    state["count"] = 0
                    start_run(c)
                    state["token"] = c
                    self.pos += 1
                    in_run = True
                else:
                    if special and state["behind"] == _ESCAPE:
                        state["token"] = state["token"][:-1]
                    state["behind"] = _look_behind(c, state["behind"])
                    state["token"] += c
                    self.pos += 1
            else:
                if c is None or c in _BLOCK_TOKENS:
                    capture(c)
                    return
                if c in ("*", "_") and state["behind"] != _ESCAPE:
                    if c == state["kind"]:
                        start_run(c)
                    state["token"] += c
                    self.pos += 1
                else:
                    capture(c)
                    if c == "\\":
                        self.pos += 1
                    state["count"] = 0
                    in_run = False
                    nxt = self.peek()
                    if nxt is None:
                        return
                    state["behind"] = _look_behind(nxt, state["behind"])
                    state["token"] += nxt
                    self.pos += 1

    def link(self, out: _Parsed) -> None:
        text = _Parsed()
        text.text("[")
        self.pos += 1
        if self.peek() != "]":
            while self.peek() is not None and self.peek() != "]":
                inner = _Parsed()
                self.block(inner)
                text.append(inner)
                if text.captured:
                    break
            if self.peek() != "]":
                out.append(text)
                return
        self.pos += 1
        text.text("]")
        if self.peek() != "(":
            out.append(text)
            return
        self.pos += 1
        text.text("(")
        depth, end, p = 1, 0, self.pos
        while p < len(self.s) and depth > 0:
            depth += {"(": 1, ")": -1}.get(self.s[p], 0)
            if depth == 0:
                end = p
            p += 1
        first = self.peek()
        if not end or (first is not None and (first < " " or first == "\x7f" or _is_space(first))):
            out.append(text)
            return
        destination = _Parsed()
        while self.pos < end and self.peek() is not None:
            if self.peek() == "[":
                destination.text("[")
                self.pos += 1
            else:
                self.block(destination)
        if self.peek() == ")":
            self.pos += 1
        del text.items[0]
        del text.items[-2:]
        text.translate()
        link = _Parsed()
        link.text(f'<a href="{destination.html(False)}">{text.html(False)}</a>')
        link.tags = link.captured = True
        out.append(link)

    def item(self, out: _Parsed, block: str, start: str | None = None) -> None:
        while self.peek() == " ":
            self.pos += 1
        content = _Parsed()
        self.block(content)
        while self.pos < len(self.s):
            if self.peek() in ("\n", "\r"):
                newline = self.peek()
                self.pos += 1
                if _is_digit(self.peek()):
                    digits = ""
                    while _is_digit(self.peek()):
                        digits += self.peek()
                        self.pos += 1
                    if self.peek() == ".":
                        self.pos -= 1
                        break
                    content.text(digits)
                elif self.peek() in ("-", "+", "*") and self.peek(1) == " ":
                    break
                elif self.peek() in ("\n", "\r"):
                    while self.peek() in ("\n", "\r"):
                        self.pos += 1
                    break
                content.text(newline)
            self.block(content)
        content.translate()
        item = _Parsed()
        item.add({"block": block, "html": f"<li>{content.html(False)}</li>", "start": start})
        item.tags = True
        out.append(item)

    def bullet(self, out: _Parsed, c: str) -> None:
        self.pos += 1
        if self.peek() == " ":
            self.item(out, "ul")
        elif c == "*":
            self.pos -= 1
            self.emphasis(out)
        else:
            out.text(c)

    def numbered(self, out: _Parsed) -> None:
        digits = ""
        while _is_digit(self.peek()):
            digits += self.peek()
            self.pos += 1
        if self.peek() != ".":
            out.text(digits)
            return
        self.pos += 1
        if self.peek() == " ":
            self.item(out, "ol", digits)
        else:
            out.text(digits + ".")


def render(text: str) -> str:
    """The HTML a phone makes of a card text (line breaks as <br>, as on Android)."""
    if not text:
        return "<p></p>"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    parser = _Parser(escaped)
    parsed = _Parsed()
    while parser.pos < len(parser.s):
        parser.block(parsed)
    parsed.translate()
    return re.sub(r"\r\n|\n|\r", "<br>", parsed.html(True))


def markup(text: str) -> set[str]:
    """The elements a phone would make of a card text besides paragraphs and line breaks: em, strong, a, ul, ol, li."""
    return set(re.findall(r"<(\w+)", render(text))) - {"p", "br"}


def shown(text: str) -> str:
    """The characters a phone shows for a card text (invisible word joiners left out)."""
    visible = re.sub(r"<br>", "\n", render(text))
    return html.unescape(re.sub(r"<[^>]+>", "", visible)).replace("\u2060", "")
