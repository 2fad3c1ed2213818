"""Markdown with Webex mentions → the message's text, html and mentioned people.

The sandbox renders the markdown Webex clients show: paragraphs and line breaks, bold,
italic, strike-through, inline code and fenced code, bulleted and numbered lists, quotes,
headings, links (http, https, mailto and tel only), bare web addresses, backslash escapes
and HTML entities (`&amp;` shows as `&`, as the bot's escaping relies on). Raw HTML is shown
as text, and so are markdown tables: Webex renders none, so their lines show as written.
Mentions become `<spark-mention>` elements, as in Webex's html.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from sandbox.ids import uuid_of

MENTION = re.compile(r"<@(personEmail|personId):([^|>]+)(?:\|([^>]*))?>")
LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_INLINE = re.compile(
    r"(?P<esc>\\[\\`*_{}\[\]()#+\-.!<>~|])"
    r"|(?P<code>`(?P<code_text>[^`\n]+)`)"
    r"|(?P<link>\[(?P<link_text>[^\]\n]+)\]\((?P<link_url>[^()\s]+)\))"
    r"|(?P<bold>\*\*(?P<bold_text>.+?)\*\*|__(?P<bold_text2>.+?)__)"
    r"|(?P<italic>\*(?P<italic_text>[^*\s](?:[^*\n]*?[^*\s])?)\*|(?<!\w)_(?P<italic_text2>[^_\s](?:[^_\n]*?[^_\s])?)_(?!\w))"
    r"|(?P<strike>~~(?P<strike_text>.+?)~~)"
    r"|(?P<url>https?://[^\s<>()\x00]*[^\s<>().,;:!?'\"\x00])"
    r"|(?P<placeholder>\x00\d+\x00)"
)
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}(\d{1,9})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_HEADING = re.compile(r"^\s{0,3}(#{1,3})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}```")


def render(
    markdown: str, lookup: Callable[[str, str], dict[str, Any] | None], *, mention_ids: str = "base64"
) -> tuple[str, str, list[str]]:
    """(text, html, mentioned person ids) of a markdown message; unknown mentions stay literal.

    `mention_ids`: how `<spark-mention>` names the person: "base64", the full person id as
    public captures of Webex's REST API show it, or "uuid", the bare UUID inside it (also seen).
    """
    mentions: list[tuple[str, str]] = []  # (html, text) per placeholder
    mentioned: list[str] = []

    def hold(match: re.Match[str]) -> str:
        person = lookup(match.group(1), match.group(2).strip())
        if person is None:
            return match.group(0)
        label = match.group(3) or person["displayName"]
        object_id = uuid_of(person["id"]) if mention_ids == "uuid" else person["id"]
        markup = f'<spark-mention data-object-type="person" data-object-id="{object_id}">{html.escape(label)}</spark-mention>'
        mentions.append((markup, label))
        if person["id"] not in mentioned:
            mentioned.append(person["id"])
        return f"\x00{len(mentions) - 1}\x00"

    held = MENTION.sub(hold, markdown.replace("\x00", ""))
    markup, text = _blocks(held)

    def put_html(match: re.Match[str]) -> str:
        return mentions[int(match.group(1))][0]

    def put_text(match: re.Match[str]) -> str:
        return mentions[int(match.group(1))][1]

    return _PLACEHOLDER.sub(put_text, text), _PLACEHOLDER.sub(put_html, markup) or "<p></p>", mentioned


def _blocks(source: str) -> tuple[str, str]:
    """Block structure: paragraphs, lists, quotes, headings and fenced code."""
    html_out: list[str] = []
    text_out: list[str] = []
    lines = source.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _FENCE.match(line):
            body: list[str] = []
            i += 1
            while i < len(lines) and not _FENCE.match(lines[i]):
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence (or the end)
            code = "\n".join(body)
            html_out.append(f"<pre><code>{html.escape(code, quote=False)}</code></pre>")
            text_out.append(code)
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            inner_html, inner_text = _inline(heading.group(2))
            html_out.append(f"<h{level}>{inner_html}</h{level}>")
            text_out.append(inner_text)
            i += 1
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
            first = pattern.match(line)
            if first:
                items: list[str] = []
                start = first.group(1) if tag == "ol" else None
                while i < len(lines) and (item := pattern.match(lines[i])):
                    items.append(item.groups()[-1])
                    i += 1
                rendered = [_inline(item) for item in items]
                opening = f'<ol start="{int(start)}">' if start and int(start) != 1 else f"<{tag}>"
                html_out.append(opening + "".join(f"<li>{h}</li>" for h, _ in rendered) + f"</{tag}>")
                text_out.append("\n".join(t for _, t in rendered))
                break
        else:
            if _QUOTE.match(line):
                quoted: list[str] = []
                while i < len(lines) and (quote := _QUOTE.match(lines[i])):
                    quoted.append(quote.group(1))
                    i += 1
                inner_html, inner_text = _blocks("\n".join(quoted))
                html_out.append(f"<blockquote>{inner_html}</blockquote>")
                text_out.append(inner_text)
                continue
            paragraph: list[str] = []
            while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
                paragraph.append(lines[i])
                i += 1
            if not paragraph:  # a block marker that did not form a block of its own
                paragraph.append(lines[i])
                i += 1
            rendered = [_inline(part) for part in paragraph]
            html_out.append("<p>" + "<br/>".join(h for h, _ in rendered) + "</p>")
            text_out.append("\n".join(t for _, t in rendered))
    return "".join(html_out), "\n\n".join(text_out)


def _starts_block(line: str) -> bool:
    return bool(
        _BULLET.match(line) or _NUMBERED.match(line) or _QUOTE.match(line) or _HEADING.match(line) or _FENCE.match(line)
    )


def _inline(chunk: str) -> tuple[str, str]:
    """(html, text) of one line of inline markdown."""
    html_parts: list[str] = []
    text_parts: list[str] = []
    pos = 0
    for match in _INLINE.finditer(chunk):
        _literal(chunk[pos : match.start()], html_parts, text_parts)
        pos = match.end()
        kind = match.lastgroup or ""  # every alternative of _INLINE is a named group
        if kind == "esc":
            _literal(match.group(0)[1], html_parts, text_parts, entities=False)
        elif kind == "code":
            code = match.group("code_text")
            html_parts.append(f"<code>{html.escape(code, quote=False)}</code>")
            text_parts.append(code)
        elif kind == "link":
            url = match.group("link_url")
            inner_html, inner_text = _inline(match.group("link_text"))
            if url.lower().startswith(LINK_SCHEMES):
                html_parts.append(f'<a href="{html.escape(html.unescape(url))}">{inner_html}</a>')
                text_parts.append(inner_text)
            else:
                _literal(match.group(0), html_parts, text_parts)
        elif kind == "url":
            url = match.group("url")
            html_parts.append(f'<a href="{html.escape(url)}">{html.escape(url, quote=False)}</a>')
            text_parts.append(url)
        elif kind == "placeholder":
            html_parts.append(match.group(0))
            text_parts.append(match.group(0))
        else:
            tag = {"bold": "strong", "italic": "em", "strike": "del"}[kind]
            inner = next(
                value for name, value in match.groupdict().items() if name.startswith(f"{kind}_text") and value
            )
            inner_html, inner_text = _inline(inner)
            html_parts.append(f"<{tag}>{inner_html}</{tag}>")
            text_parts.append(inner_text)
    _literal(chunk[pos:], html_parts, text_parts)
    return "".join(html_parts), "".join(text_parts)


def _literal(value: str, html_parts: list[str], text_parts: list[str], *, entities: bool = True) -> None:
    """Plain text: entities the author wrote (`&amp;`) show as their character; HTML shows as text."""
    plain = html.unescape(value) if entities else value
    html_parts.append(html.escape(plain, quote=False))
    text_parts.append(plain)
