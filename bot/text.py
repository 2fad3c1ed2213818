"""Text helpers for what users typed: escaping before it is echoed in markdown."""

from __future__ import annotations

import re

# Characters Webex's markdown gives meaning to; escaped so typed text stays literal.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
# Control characters other than tab and newline: invisible, and some clients act on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_markdown(value: str) -> str:
    """Make user text inert in a markdown message: no formatting, links, HTML, mentions or control characters."""
    value = _CONTROL.sub("", value).replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN.sub(r"\\\1", value)


# An address that cannot end the mention tag early or smuggle markup into it.
_MENTIONABLE = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def mention(email: str) -> str:
    """A Webex mention of the person with `email` (markdown; Webex notifies them); any other text is only shown, escaped."""
    if _MENTIONABLE.match(email):
        return f"<@personEmail:{email}>"
    return escape_markdown(email)
