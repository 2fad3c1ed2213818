"""SQLite for tests: migrated once per test process, then restored from that copy before each test.

Migrating costs more than copying a file, and a fresh engine compiles every statement again (its
statement cache is its own), so each test process keeps one Database and puts the migrated file
back under it before each test. A test that adds a listener to the engine or its pool leaves the
Database to itself: the next test gets a new one, so no listener outlives its test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from storage.db import Database
from storage.migrate import upgrade


def migrated_file(path: Path) -> Path:
    """A SQLite file at `path` with the schema at head."""
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    database.dispose()  # the last connection closing folds the write-ahead log into the file
    return path


def _listeners(engine: Engine) -> tuple[int, ...]:
    dispatches: tuple[Any, ...] = (engine.dispatch, engine.pool.dispatch)
    return tuple(len(getattr(d, name)) for d in dispatches for name in d._event_names)


class RestoredSqlite:
    """One Database on one file, put back to the migrated template before each test."""

    def __init__(self, path: Path, template: Path) -> None:
        self.path = path
        self.template = template
        self._database: Database | None = None
        self._listeners: tuple[int, ...] = ()

    def fresh(self) -> Database:
        """The Database on an empty, migrated file."""
        if self._database is None:
            self._database = Database(f"sqlite:///{self.path}")
        self._database.dispose()
        for leftover in (self.path.with_name(self.path.name + "-wal"), self.path.with_name(self.path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        # A new file, not the old one overwritten: a connection a finished test left open keeps the old one.
        copy = self.path.with_name(self.path.name + ".new")
        shutil.copyfile(self.template, copy)
        os.replace(copy, self.path)
        self._listeners = _listeners(self._database.engine)
        return self._database

    def release(self) -> None:
        """The test is over: close its connections; forget an engine it added listeners to."""
        if self._database is None:
            return
        self._database.dispose()
        if _listeners(self._database.engine) != self._listeners:
            self._database = None
