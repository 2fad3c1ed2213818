"""Every text the bot sends comes from here: gettext catalogues (English, Dutch) read with Babel.

Message ids are stable keys ("ping.reply"); the catalogue of each language holds the text
with `{name}` placeholders filled by `t()`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from rules.sla_config import Naming

log = logging.getLogger(__name__)

LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).parent / "locales"


@cache
def catalog(lang: str) -> Catalog:
    """The parsed catalogue of one language."""
    with open(LOCALES / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


@cache
def _texts(lang: str) -> dict[str, str]:
    return {m.id: m.string for m in catalog(lang) if isinstance(m.id, str) and isinstance(m.string, str) and m.string}


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text for `key` in `lang` (falling back to English), with placeholders filled."""
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    template = _texts(lang).get(key) or _texts(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise KeyError(f"no message {key!r} in the catalogues")
    return template.format(**values) if values else template


def count(key: str, n: int, lang: str | None = None, **values: object) -> str:
    """`key.one` for n == 1, else `key.other`, with `{n}` filled."""
    return t(f"{key}.{'one' if n == 1 else 'other'}", lang, n=n, **values)


def when(instant: datetime, lang: str | None, zone: ZoneInfo) -> str:
    """A local date and time in the language's style: 'Mon 12 Jan 2026 09:00' / 'ma 12 jan 2026 09:00'."""
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    return format_datetime(instant, "EEE d MMM y HH:mm", tzinfo=zone, locale=lang)


def day(value: date, lang: str | None) -> str:
    """A date without the year in the language's style: 'Mon 27 Apr' / 'ma 27 apr'."""
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    return format_date(value, "EEE d MMM", locale=lang)


def keys(lang: str) -> set[str]:
    """Every message id with a translation in `lang`."""
    return set(_texts(lang))


def template(key: str, lang: str) -> str:
    """The raw text of `key` in `lang`, placeholders unfilled."""
    return _texts(lang)[key]


def naming() -> Naming:
    """What the catalogues offer the rules: the languages and the keys that name things."""
    return Naming(languages=LANGUAGES, keys=frozenset(keys(DEFAULT_LANGUAGE)))
