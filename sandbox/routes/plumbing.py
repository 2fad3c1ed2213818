"""What every sandbox request shares: the state, authentication, tracking ids, paging, errors, faults, recording.

As Webex does: every /v1 answer carries a TrackingID header (and errors the same id as
`trackingId`), lists honour `max` and page with `Link: <…>; rel="next"`, every token is rate
limited per method and endpoint, and a revoked token answers 401 everywhere.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any, cast
from urllib.parse import quote, urlencode

from flask import Response, current_app, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox.problems import INVALID_TOKEN, ApiProblem
from sandbox.state import SandboxState

# Webex's page sizes when `max` is absent (the OpenAPI document's defaults) and the largest it allows.
DEFAULT_MAX = {"messages": 50, "rooms": 100, "memberships": 100, "webhooks": 100, "people": 100}
LARGEST_MAX = 1000


def sandbox_state() -> SandboxState:
    """The state of the app serving this request."""
    return cast(SandboxState, current_app.extensions["sandbox"])


def me() -> dict[str, Any]:
    """The person whose token authenticated this request."""
    return cast(dict[str, Any], g.person)


def body() -> dict[str, Any]:
    """The request's JSON object; 400 when it is not one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiProblem(400, "The request body must be a JSON object")
    return data


def error_body(message: str) -> dict[str, Any]:
    """A Webex-shaped error body (its trackingId the same as the answer's TrackingID header)."""
    tracking_id = g.get("tracking_id") if has_request_context() else None
    return {"message": message, "errors": [{"description": message}], "trackingId": tracking_id or new_tracking_id()}


def new_tracking_id() -> str:
    """A fresh TrackingID, in the sandbox's own recognisable form."""
    return f"SANDBOX_{uuid.uuid4()}"


def error(status: int, message: str) -> Response:
    """A Webex-shaped error answer."""
    response = jsonify(error_body(message))
    response.status_code = status
    return response


def collection_of(path: str) -> str:
    """The endpoint collection of a /v1 path, for rate limiting: "messages", "people", "attachment/actions", …"""
    parts = path.removeprefix("/v1/").split("/")
    return "/".join(parts[:2]) if parts[0] == "attachment" else parts[0]


def page(items: list[dict[str, Any]], collection: str, *, largest: int = LARGEST_MAX) -> Response:
    """One page of `items` as Webex answers a list: at most `max` of them, and a Link to the next
    page (the request's own query with a cursor) when more follow."""
    raw = request.args.get("max")
    limit = DEFAULT_MAX[collection]
    if raw is not None:
        if not raw.isdigit() or not 1 <= int(raw) <= largest:
            raise ApiProblem(400, f"max must be an integer between 1 and {largest}")
        limit = int(raw)
    cursor = request.args.get("cursor")
    start = 0
    if cursor is not None:
        ids = [item["id"] for item in items]
        if cursor not in ids:
            raise ApiProblem(400, "The cursor is not valid for this list")
        start = ids.index(cursor) + 1
    chunk = items[start : start + limit]
    response = jsonify(items=chunk)
    if start + limit < len(items):
        query = [(key, value) for key, value in request.args.items(multi=True) if key != "cursor"]
        query.append(("cursor", chunk[-1]["id"]))
        response.headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    return response


def problem(exc: ApiProblem) -> Response:
    """A refused request, in Webex's error shape."""
    return error(exc.status, exc.message)


def http_problem(exc: HTTPException) -> Response:
    """Unknown paths and wrong methods, in Webex's error shape rather than Flask's HTML."""
    response = error(exc.code or 500, exc.description or exc.name)
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def authenticate() -> Response | None:
    """Before each request: injected faults, then the token, then the rate limit (for /v1 only)."""
    state = sandbox_state()
    path = request.path
    state.base_url = request.host_url.rstrip("/")
    if not path.startswith("/v1/"):
        return None
    g.tracking_id = new_tracking_id()
    if state.exchanges is not None:
        g.request_body = request.get_data()  # read before a multipart body is parsed, for the record
    fault = state.faults.take(request.method, path) or state.faults.roll()
    if fault is not None and "delay" in fault:
        time.sleep(fault["delay"])  # then handled as usual: a timeout that still takes effect
        fault = None
    if fault is not None and fault.get("after"):
        g.after_fault = fault  # the request takes effect; its answer is replaced afterwards
        fault = None
    if fault is not None:
        return fault_response(fault)
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    person = state.person_by_token(token) if token else None
    if person is None:
        return error(401, INVALID_TOKEN)
    g.person = person
    wait = state.rate_limit.take((token, request.method, collection_of(path)), state.now())
    if wait:
        response = error(429, "Too many requests; retry later.")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    return None


def fault_response(fault: dict[str, Any]) -> Response:
    """The answer an injected fault gives instead of the real one."""
    payload = fault["body"] or error_body(f"Injected fault {fault['status']}")
    if isinstance(payload, dict) and "message" in payload:
        # A test names the message; the rest of Webex's error shape is the sandbox's to fill in.
        payload = {**error_body(str(payload["message"])), **payload}
    response = jsonify(payload)
    response.status_code = fault["status"]
    for key, value in fault["headers"].items():
        response.headers[key] = value
    return response


def record(response: Response) -> Response:
    """After each /v1 request: a fault that replaces the answer, the TrackingID, and the request log."""
    if not request.path.startswith("/v1/"):
        return response
    state = sandbox_state()
    after_fault = g.pop("after_fault", None)
    if after_fault is not None and response.status_code < 400:
        response = fault_response(after_fault)
    response.headers["TrackingID"] = g.get("tracking_id") or new_tracking_id()
    state.requests.append(
        {"method": request.method, "path": request.path, "status": response.status_code, "at": state.now()}
    )
    exchanges = state.exchanges
    if exchanges is not None:
        exchanges.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode("latin-1"),
                "headers": dict(request.headers),
                "content_type": request.content_type or "",
                "body": g.get("request_body", b""),
                "status": response.status_code,
                "response_headers": dict(response.headers),
                "response_content_type": response.content_type or "",
                "response_body": response.get_data(),
            }
        )
    return response


def file_response(meta: dict[str, Any], data: bytes) -> Response:
    """A stored file as Webex serves contents: its type, and its name in Content-Disposition."""
    return Response(data, mimetype=meta["type"], headers={"Content-Disposition": content_disposition(meta["name"])})


def content_disposition(name: str) -> str:
    """`attachment; filename="…"`, with an RFC 5987 `filename*` where the name is not plain ASCII."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    header = f'attachment; filename="{plain}"'
    if plain != name:
        header += f"; filename*=UTF-8''{quote(name)}"
    return header
