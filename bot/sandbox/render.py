"""Markdown with Webex mentions → the message's text, html and mentioned people."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.sandbox.ids import uuid_of

MENTION = re.compile(r"<@(personEmail|personId):([^|>]+)(?:\|([^>]*))?>")
BOLD = re.compile(r"\*\*(.+?)\*\*")


def render(markdown: str, lookup: Callable[[str, str], dict | None]) -> tuple[str, str, list[str]]:
    """(text, html, mentioned person ids) of a markdown message; unknown mentions stay literal."""
    text_parts: list[str] = []
    html_parts: list[str] = []
    mentioned: list[str] = []
    pos = 0
    for match in MENTION.finditer(markdown):
        person = lookup(match.group(1), match.group(2).strip())
        if person is None:
            continue
        before = markdown[pos:match.start()]
        text_parts.append(_plain(before))
        html_parts.append(_inline(before))
        label = match.group(3) or person["displayName"]
        text_parts.append(label)
        html_parts.append(
            f'<spark-mention data-object-type="person" data-object-id="{uuid_of(person["id"])}">{html.escape(label)}</spark-mention>'
        )
        if person["id"] not in mentioned:
            mentioned.append(person["id"])
        pos = match.end()
    text_parts.append(_plain(markdown[pos:]))
    html_parts.append(_inline(markdown[pos:]))
    body = "".join(html_parts)
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n") if p.strip()) or "<p></p>"
    return "".join(text_parts), paragraphs.replace("\n", "<br/>"), mentioned


def _inline(chunk: str) -> str:
    return BOLD.sub(r"<strong>\1</strong>", html.escape(chunk, quote=False))


def _plain(chunk: str) -> str:
    # Webex's text drops markdown markup; bold is the only markup the sandbox renders.
    return BOLD.sub(r"\1", chunk)
