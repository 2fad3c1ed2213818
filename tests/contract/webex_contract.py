"""Webex's OpenAPI document as the contract of the sandbox: load it once, correct its known
defects, and validate recorded /v1 exchanges (request and answer) with openapi-core.

The sandbox records every /v1 exchange while `state.exchanges` is a list. `watch(state)`
turns that on for a test; the autouse fixture in tests/conftest.py validates what was watched
when the test ends and fails it with the mismatches.

A request the document calls invalid is a mismatch when the sandbox accepted it (the sandbox
must be at least as strict as Webex) and, for the bot's harness, always (the bot must send only
what Webex documents). A sandbox test may send invalid requests on purpose: their refusal (a
4xx) is what it tests.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.testing import MockRequest, MockResponse

from sandbox.state import SandboxState

REDUCED = Path(__file__).resolve().parent / "webex-messaging.reduced.json"
HOST = "https://webexapis.com"  # where the document's paths live; the sandbox's own address does not matter
ERROR = {
    "type": "object",
    "required": ["message", "errors", "trackingId"],
    "properties": {
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "required": ["description"], "properties": {"description": {"type": "string"}}},
        },
        "trackingId": {"type": "string"},
    },
}


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def corrected(spec: dict) -> dict:
    """The document with its known defects corrected, each where Webex is known to differ."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]

    # A message's `attachments` hold Adaptive Cards: `content` is the card object and
    # `contentType` names it. The document points `content` at the file schema (required fileId,
    # type, contentUrl), so every card message would fail, although the document's own
    # POST /messages example sends a card (NOTES.md; Webex's Buttons and Cards guide).
    schemas["Attachment"] = {
        "type": "object",
        "required": ["contentType", "content"],
        "properties": {"contentType": {"type": "string"}, "content": {"type": "object"}},
    }

    # The webhook `event` enum lacks "all", which Webex's webhooks guide documents (a firehose
    # of every event of a resource) and the sandbox accepts.
    for events in (
        schemas["Webhook"]["properties"]["event"],
        spec["paths"]["/webhooks"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"][
            "event"
        ],
    ):
        events["enum"] = [*events["enum"], "all"]

    # POST /attachment/actions documents only 202, but Webex answers 200: webexpythonsdk
    # (EXPECTED_RESPONSE_CODE["POST"] == 200) raises on anything else, and works (NOTES.md).
    actions = spec["paths"]["/attachment/actions"]["post"]["responses"]
    actions["200"] = copy.deepcopy(actions["202"])

    # A local file goes to POST /messages as multipart/form-data (Webex's Message Attachments
    # guide; webexpythonsdk's messages.create sends a MultipartEncoder for a local path), which
    # the document leaves out: it has only the JSON body with `files` as URLs.
    spec["paths"]["/messages"]["post"]["requestBody"]["content"]["multipart/form-data"] = {
        "schema": {
            "type": "object",
            "properties": {
                **{
                    name: {"type": "string"}
                    for name in ("roomId", "parentId", "toPersonId", "toPersonEmail", "text", "markdown")
                },
                "files": {"type": "string", "format": "binary"},
            },
        }
    }

    # The file behind a message's `files` URL: GET /contents/{contentId} answers its bytes with
    # Content-Disposition naming it (Webex's Message Attachments guide); the document has no such path.
    spec["paths"]["/contents/{contentId}"] = {
        "get": {
            "parameters": [{"name": "contentId", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "",
                    "headers": {
                        "Content-Disposition": {
                            "required": True,
                            "schema": {"type": "string", "pattern": '^attachment; filename="'},
                        }
                    },
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                }
            },
        }
    }

    for _path, _method, operation in _operations(spec):
        responses = operation["responses"]
        # Errors carry Webex's JSON body (message, errors, trackingId: Webex's API Errors page and
        # every captured error body) on every endpoint, also for statuses an operation does not
        # list (the document describes the error statuses without a body).
        responses.setdefault("default", {"description": ""})
        # 429 tells when to retry: "A Retry-After header should be present" (the document's own
        # 429 text); every endpoint is rate limited, also those that do not list 429.
        responses.setdefault("429", {"description": ""})
        responses["429"]["headers"] = {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}}
        for status, response in responses.items():
            if response.get("content") == {}:
                # An empty content map means "no body" (the 204s of DELETE); openapi-core reads
                # it as a body that must be there.
                del response["content"]
            if status == "default" or int(status) >= 400:
                response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            # Webex answers every request with a TrackingID header (NOTES.md; public captures show it).
            response.setdefault("headers", {})["TrackingID"] = {
                "required": True,
                "schema": {"type": "string", "minLength": 1},
            }
    schemas["Error"] = ERROR
    return spec


def document() -> dict:
    """The committed reduction of Webex's document, corrected."""
    return corrected(json.loads(REDUCED.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def contract() -> OpenAPI:
    """The corrected document, parsed once per session; that it is valid OpenAPI is a test of its
    own (tests/contract/test_contract.py), not a cost every test process pays."""
    return OpenAPI.from_dict(document(), config=Config(spec_validator_cls=None))


@dataclass(frozen=True)
class Mismatch:
    """One way an exchange differs from the contract."""

    exchange: str
    problem: str

    def __str__(self) -> str:
        return f"{self.exchange}: {self.problem}"


def _describe(exc: BaseException) -> str:
    """openapi-core's error, with the schema errors it wraps (in itself or in its cause)."""
    errors = getattr(exc, "schema_errors", None) or getattr(exc.__cause__, "schema_errors", None) or ()
    lines = [str(exc)] + [f"  {'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}" for e in errors]
    if not errors and exc.__cause__ is not None:
        lines.append(f"  {exc.__cause__}")
    return "\n".join(lines)


def _request(exchange: dict) -> MockRequest:
    return MockRequest(
        HOST,
        exchange["method"],
        exchange["path"].removeprefix("/v1"),
        args=parse_qsl(exchange["query"], keep_blank_values=True),
        headers=exchange["headers"],
        data=exchange["body"],
        content_type=exchange["content_type"] or "application/json",
    )


def _response(exchange: dict) -> MockResponse:
    return MockResponse(
        exchange["response_body"],
        status_code=exchange["status"],
        headers=exchange["response_headers"],
        content_type=exchange["response_content_type"] or "application/json",
    )


def validate(exchange: dict, *, strict_requests: bool) -> list[Mismatch]:
    """What is wrong with one recorded exchange, by the contract: the request (when it should
    have been valid, see the module's text) and the answer, always."""
    name = f"{exchange['method']} {exchange['path']}{'?' + exchange['query'] if exchange['query'] else ''} → {exchange['status']}"
    openapi = contract()
    request = _request(exchange)
    found: list[Mismatch] = []
    try:
        openapi.validate_request(request)
    except Exception as exc:  # openapi-core's errors share no base beyond Exception
        if strict_requests or exchange["status"] < 400:
            found.append(Mismatch(name, "request: " + _describe(exc)))
        if exchange["status"] >= 400 and _unknown_operation(exc):
            # Unknown paths and methods are refused by the sandbox as by Webex; no operation to check the answer by.
            return found
    try:
        openapi.validate_response(request, _response(exchange))
    except Exception as exc:
        found.append(Mismatch(name, "response: " + _describe(exc)))
    return found


def _unknown_operation(exc: BaseException) -> bool:
    return isinstance(exc, PathError) or isinstance(exc.__cause__, PathError)


@dataclass
class Watched:
    """A sandbox whose exchanges a test validates."""

    state: SandboxState
    strict_requests: bool


_watched: list[Watched] = []


def watch(state: SandboxState, *, strict_requests: bool) -> None:
    """Record `state`'s /v1 exchanges for validation when the current test ends."""
    if state.exchanges is None:
        state.exchanges = []
    _watched.append(Watched(state, strict_requests))


def begin() -> None:
    """A test starts: nothing is watched yet."""
    _watched.clear()


# Exchanges found to match, by their shape (below): the same exchange with other ids is not checked again.
_matching: set[str] = set()
# A Webex id: base64 of ciscospark://us/<KIND>/<uuid>, as the sandbox makes them (sandbox/ids.py).
_ID = re.compile(r"Y2lzY29zcGFyazovL3Vz[A-Za-z0-9+/_-]{20,}")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID_VALUE = re.compile(rf"[A-Z_]+/{_UUID}(:{_UUID})?")


def _shape(exchange: dict, *, strict_requests: bool) -> str:
    """The exchange with what differs between two runs of the same steps made the same: each
    well-formed id numbered in order of appearance (its kind kept) and each tracking id blanked.
    Validity does not depend on those values (the document gives strings no pattern or format),
    so an exchange of a shape that matched once matches again."""
    plain = {key: value.decode("latin-1") if isinstance(value, bytes) else value for key, value in exchange.items()}
    text = json.dumps(plain, sort_keys=True, default=str)
    tracking = exchange["response_headers"].get("TrackingID") or ""
    if len(tracking) >= 16:  # long enough to stand for nothing else in the text
        text = text.replace(tracking, "TRACKING")
    numbers: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        found = match.group(0)
        padded, altchars = found + "=" * (-len(found) % 4), b"-_" if "-" in found or "_" in found else None
        try:
            decoded = base64.b64decode(padded, altchars=altchars, validate=True).decode("ascii")
        except (ValueError, UnicodeDecodeError):  # not an id after all (binascii.Error is a ValueError)
            return found
        value = decoded.removeprefix("ciscospark://us/")
        if not _ID_VALUE.fullmatch(value):
            return found
        return numbers.setdefault(found, f"<{value.partition('/')[0]}-{len(numbers)}>")

    return f"{strict_requests}:{_ID.sub(number, text)}"


def end() -> list[Mismatch]:
    """A test ends: the mismatches of every exchange of every watched sandbox."""
    found: list[Mismatch] = []
    for watched in _watched:
        for exchange in watched.state.exchanges or ():
            shape = _shape(exchange, strict_requests=watched.strict_requests)
            if shape in _matching:
                continue
            mismatches = validate(exchange, strict_requests=watched.strict_requests)
            if not mismatches:
                _matching.add(shape)
            found.extend(mismatches)
    _watched.clear()
    return found


def report(mismatches: list[Mismatch], *, limit: int = 20) -> str:
    """The mismatches as a failure message."""
    lines = [f"{len(mismatches)} exchange(s) differ from Webex's OpenAPI document:"]
    lines += [str(m) for m in mismatches[:limit]]
    if len(mismatches) > limit:
        lines.append(f"… and {len(mismatches) - limit} more")
    return "\n".join(lines)
