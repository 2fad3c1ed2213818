"""Keeping the sandbox's Webex between starts: a JSON file next to the bot's sandbox database.

`run_bot.py sandbox` continues where the last start stopped (the same spaces, messages and
tickets); `--reset` starts clean. The file is written atomically a moment after changes and
once more at shutdown, so a hard kill loses at most the last couple of seconds.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from sandbox.state import SandboxState

log = logging.getLogger(__name__)

SAVE_EVERY_S = 2.0


def load(path: Path) -> SandboxState | None:
    """The state kept in `path`, or None when there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SandboxState.restore(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("sandbox: could not read %s (%s); starting clean", path, exc)
        return None


def save(state: SandboxState, path: Path) -> None:
    """Write the state to `path` atomically."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state.snapshot()), encoding="utf-8")
    os.replace(temporary, path)


class Keeper:
    """Saves the state to a file shortly after it changes, and at stop()."""

    def __init__(self, state: SandboxState, path: Path, *, every_s: float = SAVE_EVERY_S) -> None:
        self.state = state
        self.path = path
        self.every_s = every_s
        self._stopping = threading.Event()
        self._saved: tuple[object, ...] | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox-keeper", daemon=True)

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def save_if_changed(self) -> bool:
        """Save when anything changed since the last save; True when it wrote."""
        fingerprint = self.state.fingerprint()
        if fingerprint == self._saved:
            return False
        save(self.state, self.path)
        self._saved = fingerprint
        return True

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.save_if_changed()

    def _run(self) -> None:
        while not self._stopping.wait(self.every_s):
            try:
                self.save_if_changed()
            except OSError as exc:
                log.warning("sandbox: could not save %s: %s", self.path, exc)
