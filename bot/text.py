"""Text helpers for what users typed: escaping before it is echoed in markdown."""

from __future__ import annotations

import re

# Characters Webex's markdown gives meaning to; escaped so typed text stays literal.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(value: str) -> str:
    """Make user text inert in a markdown message: no formatting, links, HTML or mentions."""
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN.sub(r"\\\1", value)
