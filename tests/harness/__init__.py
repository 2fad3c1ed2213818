"""The bot and the sandbox Webex, wired for tests (in process or over HTTP), and the steps tests take."""

from tests.harness.harness import DELIVERY_TIMEOUT_S, HTTP, IN_PROCESS, SECRET, Harness
from tests.harness.steps import answer, ask, local, race, tick

__all__ = ["DELIVERY_TIMEOUT_S", "HTTP", "IN_PROCESS", "SECRET", "Harness", "answer", "ask", "local", "race", "tick"]
