"""The Webex client reads proxy and CA settings from the environment once, not at every request."""

import requests

from bot.webex import settle_environment

BASE = "https://webexapis.com/v1/"


def _clear(monkeypatch):
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_proxy_and_ca_bundle_from_the_environment_are_kept(monkeypatch):
    _clear(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corporate.pem")
    session = requests.Session()
    settle_environment(session, BASE)
    assert session.trust_env is False
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.verify == "/etc/ssl/corporate.pem"
    settings = session.merge_environment_settings(BASE + "messages", {}, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.example:3128"
    assert settings["verify"] == "/etc/ssl/corporate.pem"


def test_no_proxy_for_the_webex_host_is_kept(monkeypatch):
    _clear(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "webexapis.com")
    session = requests.Session()
    settle_environment(session, BASE)
    assert "https" not in session.proxies


def test_explicit_settings_are_not_overridden(monkeypatch):
    _clear(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/curl.pem")
    session = requests.Session()
    session.proxies["https"] = "http://chosen.example:8080"
    session.verify = False
    settle_environment(session, BASE)
    assert (session.proxies["https"], session.verify) == ("http://chosen.example:8080", False)
