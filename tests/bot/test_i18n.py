"""Catalogues: every key in both languages, with the same placeholders."""

import string

import pytest

from bot import i18n


def _placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_in_every_language():
    english = i18n.keys("en")
    for lang in i18n.LANGUAGES:
        assert i18n.keys(lang) == english, f"{lang} differs: {sorted(i18n.keys(lang) ^ english)}"


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_same_placeholders(lang):
    for key in i18n.keys("en"):
        assert _placeholders(i18n.template(key, lang)) == _placeholders(i18n.template(key, "en")), key


def test_unknown_language_falls_back_to_english():
    assert i18n.t("cmd.ping", "fr") == i18n.t("cmd.ping", "en")


def test_unknown_key_is_an_error():
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "en")
