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
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, value, fragment):
    with pytest.raises(ConfigError) as err:
        load_settings({name: value}, cwd=tmp_path)
    assert str(err.value).startswith(name)
    assert fragment in str(err.value)


def test_start_up_stops_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "BOT_PORT": "nope", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["configuration error: BOT_PORT must be a whole number, got 'nope'"]


def test_serve_without_token_is_refused(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "WEBEX_ACCESS_TOKEN" in result.stderr
    assert not (tmp_path / "servicedesk.db").exists()


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["worker", "--help"], ["sandbox", "--help"],
                                  ["webhooks", "--help"], ["webhooks", "register", "--help"], ["db", "upgrade", "--help"]])
def test_every_subcommand_has_help(argv):
    result = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "usage: run_bot.py" in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "db", "upgrade"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "x.db").execute("select name from sqlite_master where type='table'")}
    assert {"inbox_events", "outbox_messages", "timers", "alembic_version"} <= tables


def test_rate_limit_setting(tmp_path):
    from bot.config import ConfigError, load_settings

    assert load_settings({}, cwd=tmp_path).rate_limit == 20
    assert load_settings({"BOT_RATE_LIMIT": "0"}, cwd=tmp_path).rate_limit == 0
    import pytest

    with pytest.raises(ConfigError, match="BOT_RATE_LIMIT must be a whole number"):
        load_settings({"BOT_RATE_LIMIT": "lots"}, cwd=tmp_path)
