"""What the sandbox answers when Webex would refuse a request: the error and Webex's own wording."""

from __future__ import annotations

NOT_FOUND = "The requested resource could not be found."
# What Webex answers to a token that is unknown, expired or revoked.
INVALID_TOKEN = "The request requires a valid access token set in the Authorization request header."
# What Webex answers to toPersonEmail for an address without a Webex account: the body of a
# public capture (jbogarin/go-cisco-webex-teams issue 19, a message to an outside address);
# the capture shows no status, so 404, as for other people and rooms that cannot be found.
NO_ONE_ON_ONE = "Failed to get one on one conversation"


class ApiProblem(Exception):
    """A request Webex would refuse; becomes a Webex-shaped error response."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
