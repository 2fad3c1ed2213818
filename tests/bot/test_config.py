"""Configuration: defaults, and one clear line naming the variable when something is wrong."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults(tmp_path):
    settings = load_settings({}, cwd=tmp_path)
    assert settings.webex_base_url == "https://webexapis.com/v1/"
    assert settings.bot_port == 8080
    assert settings.database_url == f"sqlite:///{tmp_path / 'servicedesk.db'}"
    assert settings.sandbox is True
    assert settings.bot_admins == frozenset()
    assert settings.worker_nice == 0
    assert (settings.metrics_host, settings.metrics_port, settings.metrics_token) == ("127.0.0.1", 8081, None)


def test_values_are_read(tmp_path):
    settings = load_settings(
        {
            "WEBEX_ACCESS_TOKEN": "tok",
            "WEBEX_BASE_URL": "http://127.0.0.1:9/v1/",
            "WEBEX_WEBHOOK_SECRET": "s3cret",
            "PUBLIC_URL": "https://bot.example/",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
            "BOT_HOST": "0.0.0.0",
            "BOT_PORT": "9090",
            "BOT_ADMINS": " Ada@Example.com, bob@example.com ",
        },
        cwd=tmp_path,
    )
    assert settings.sandbox is False
    assert settings.public_url == "https://bot.example"
    assert settings.bot_port == 9090
    assert settings.bot_admins == frozenset({"ada@example.com", "bob@example.com"})
    assert load_settings({"BOT_BULK_PER_SECOND": "2.5"}, cwd=tmp_path).bulk_per_second == 2.5
    metrics = load_settings(
        {"METRICS_HOST": "10.0.0.5", "METRICS_PORT": "9464", "METRICS_TOKEN": "t" * 16}, cwd=tmp_path
    )
    assert (metrics.metrics_host, metrics.metrics_port, metrics.metrics_token) == ("10.0.0.5", 9464, "t" * 16)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("WEBEX_BASE_URL", "http://127.0.0.1:9/v1", "must end with '/'"),
        ("WEBEX_BASE_URL", "ftp://x/v1/", "http(s) URL"),
        ("PUBLIC_URL", "bot.example", "http(s) URL"),
        ("BOT_PORT", "eighty", "whole number"),
        ("BOT_PORT", "70000", "between 0 and 65535"),
        ("BOT_ADMINS", "ada@example.com,not-an-email", "not-an-email"),
        ("DATABASE_URL", "mysql://root@localhost/x", "sqlite:// or postgresql://"),
        ("DATABASE_URL", "::::", "not a database URL"),
        ("BOT_WORKER_NICE", "20", "between 0 and 19"),
        ("BOT_WORKER_NICE", "-5", "between 0 and 19"),
        ("BOT_WORKER_NICE", "low", "whole number"),
        ("BOT_BULK_PER_SECOND", "0", "between 0.1 and 1000"),
        ("BOT_BULK_PER_SECOND", "nan", "between 0.1 and 1000"),
        ("BOT_BULK_PER_SECOND", "fast", "number per second"),
        ("METRICS_PORT", "65536", "between 0 and 65535"),
        ("METRICS_TOKEN", "short", "at least 16 printable ASCII characters"),
        ("METRICS_TOKEN", "sixteen chars and spaces", "without spaces"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, value, fragment):
    with pytest.raises(ConfigError) as err:
        load_settings({name: value}, cwd=tmp_path)
    assert str(err.value).startswith(name)
    assert fragment in str(err.value)


@pytest.mark.process
def test_start_up_stops_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "BOT_PORT": "nope", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["configuration error: BOT_PORT must be a whole number, got 'nope'"]


@pytest.mark.process
def test_serve_without_token_is_refused(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "WEBEX_ACCESS_TOKEN" in result.stderr
    assert not (tmp_path / "servicedesk.db").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["sandbox", "--help"],
        ["webhooks", "--help"],
        ["webhooks", "register", "--help"],
        ["db", "upgrade", "--help"],
    ],
)
@pytest.mark.process
def test_every_subcommand_has_help(argv):
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "usage: run_bot.py" in result.stdout


@pytest.mark.process
def test_db_upgrade_creates_the_schema(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {
        r[0] for r in sqlite3.connect(tmp_path / "x.db").execute("select name from sqlite_master where type='table'")
    }
    assert {"inbox_events", "outbox_messages", "timers", "alembic_version"} <= tables


def test_rate_limit_setting(tmp_path):
    from bot.config import ConfigError, load_settings

    assert load_settings({}, cwd=tmp_path).rate_limit == 20
    assert load_settings({"BOT_RATE_LIMIT": "0"}, cwd=tmp_path).rate_limit == 0
    import pytest

    with pytest.raises(ConfigError, match="BOT_RATE_LIMIT must be a whole number"):
        load_settings({"BOT_RATE_LIMIT": "lots"}, cwd=tmp_path)


def test_the_instance_defaults_to_the_host_and_is_one_short_printable_word(tmp_path, monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "web-01.eu-west.example.com")
    assert load_settings({}, cwd=tmp_path).bot_instance == "web-01"
    monkeypatch.setattr("socket.gethostname", lambda: "Bob's Laptop")
    assert load_settings({}, cwd=tmp_path).bot_instance == "Bob-s-Laptop"
    monkeypatch.setattr("socket.gethostname", lambda: "...")
    assert load_settings({}, cwd=tmp_path).bot_instance == "bot"
    assert load_settings({"BOT_INSTANCE": "acceptance_2.eu"}, cwd=tmp_path).bot_instance == "acceptance_2.eu"


@pytest.mark.parametrize("value", ["two words", "x" * 33, "-leading", "prod/eu", "prødu", "tab\there"])
def test_a_bad_instance_name_is_refused_naming_the_variable(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        load_settings({"BOT_INSTANCE": value}, cwd=tmp_path)
    assert str(err.value).startswith("BOT_INSTANCE must be 1 to 32 letters, digits")
    assert repr(value) in str(err.value)


def _run_bot(tmp_path, *argv, **env):
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "WEBEX_BASE_URL": "http://127.0.0.1:9/v1/"}
    return subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), *argv],
        cwd=tmp_path,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.process
@pytest.mark.parametrize("argv", [["serve"], []], ids=["serve", "the-default-with-a-token"])
def test_serve_with_a_token_but_no_webhook_secret_is_refused(tmp_path, argv):
    result = _run_bot(tmp_path, *argv, WEBEX_ACCESS_TOKEN="tok")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: WEBEX_WEBHOOK_SECRET is required to serve webhooks (Webex signs every delivery with it); "
        "set it, or accept unsigned deliveries with --no-webhook-secret"
    ]
    assert not (tmp_path / "servicedesk.db").exists()


@pytest.mark.process
def test_serve_without_a_secret_starts_only_when_told_and_warns(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "WEBEX_BASE_URL": "http://127.0.0.1:9/v1/",
        "WEBEX_ACCESS_TOKEN": "tok",
        "BOT_PORT": "0",
        "METRICS_PORT": "0",
        "WEBHOOK_CHECK_MINUTES": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_bot.py"), "serve", "--no-webhook-secret"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().startswith("listening on http://127.0.0.1:")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert (
        "WEBEX_WEBHOOK_SECRET is not set and --no-webhook-secret was given: webhook deliveries are accepted without a "
        "signature"
    ) in err
    assert "WARNING" in next(line for line in err.splitlines() if "--no-webhook-secret" in line)


@pytest.mark.process
def test_a_worker_needs_no_webhook_secret(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "WEBEX_BASE_URL": "http://127.0.0.1:9/v1/",
        "WEBEX_ACCESS_TOKEN": "tok",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
    }
    assert _run_bot(tmp_path, "db", "upgrade", **env).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_bot.py"), "worker"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        while not lines or "workers started" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, lines  # the worker ended instead
            lines.append(line)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert any("webhook watchdog off in this process: without WEBEX_WEBHOOK_SECRET" in line for line in lines), lines


@pytest.mark.process
def test_registering_webhooks_needs_the_secret(tmp_path):
    result = _run_bot(tmp_path, "webhooks", "register", WEBEX_ACCESS_TOKEN="tok", PUBLIC_URL="https://bot.example")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: WEBEX_WEBHOOK_SECRET is required to register webhooks (Webex signs every delivery with it)"
    ]


@pytest.mark.process
def test_the_wsgi_application_needs_the_secret_or_says_it_goes_without(tmp_path):
    env = {
        **{"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        "WEBEX_ACCESS_TOKEN": "tok",
        "DATABASE_URL": "sqlite://",
        "PYTHONPATH": str(ROOT),
    }
    refused = subprocess.run(
        [sys.executable, "-c", "from run_bot import wsgi_app; wsgi_app()"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("configuration error: WEBEX_WEBHOOK_SECRET is required to serve webhooks")
    )
    waived = subprocess.run(
        [sys.executable, "-c", "from run_bot import wsgi_app; print(wsgi_app(no_webhook_secret=True).name)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert waived.returncode == 0, waived.stderr
    assert waived.stdout.split() == ["servicedesk"]
    assert "--no-webhook-secret was given" in waived.stderr
