"""The bot and the sandbox Webex, wired for tests (in process or over HTTP), and the steps tests take."""

from tests.harness.harness import DELIVERY_TIMEOUT_S, HTTP, IN_PROCESS, SECRET, Harness, command_router
from tests.harness.steps import answer, ask, local, race, tick

__all__ = [
    "DELIVERY_TIMEOUT_S",
    "HTTP",
    "IN_PROCESS",
    "SECRET",
    "Harness",
    "answer",
    "command_router",
    "ask",
    "local",
    "race",
    "tick",
]
