"""The chat page (GET /) and its /_sandbox/ helpers; tests, the bench and the demo use them too
(no token: the sandbox is local only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.problems import ApiProblem
from sandbox.routes.plumbing import body, file_response, sandbox_state

MAX_POLL_S = 30.0

helpers = Blueprint("helpers", __name__)


@helpers.get("/")
def chat_page() -> Response:
    """The chat page, never cached (it changes with the sandbox)."""
    response = current_app.send_static_file("index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@helpers.get("/_sandbox/directory")
def helper_directory() -> Response:
    """The bot, the people and the spaces, for the page."""
    return jsonify(sandbox_state().directory())


@helpers.post("/_sandbox/post")
def helper_post() -> Response:
    """Post a message as any person (`as`: their email)."""
    data = body()
    return jsonify(
        sandbox_state().post_message(
            data.get("as", ""),
            room_id=data.get("roomId"),
            to_person_email=data.get("toPersonEmail"),
            text=data.get("text"),
            markdown=data.get("markdown"),
            parent_id=data.get("parentId"),
            attachments=data.get("attachments"),
        )
    )


@helpers.post("/_sandbox/submit")
def helper_submit() -> Response:
    """Submit a card as any person."""
    data = body()
    return jsonify(sandbox_state().submit_card(data.get("as", ""), data.get("messageId", ""), data.get("inputs") or {}))


@helpers.get("/_sandbox/events")
def helper_events() -> Response:
    """Message events after `since` (a long poll of at most MAX_POLL_S), optionally of one space."""
    since = request.args.get("since", default=0, type=int)
    timeout = min(max(request.args.get("timeout", default=25.0, type=float), 0.0), MAX_POLL_S)
    events, cursor = sandbox_state().wait_events(since, request.args.get("roomId"), timeout=timeout)
    return jsonify(seq=cursor, events=[with_downloads(e) for e in events])


def with_downloads(event: dict[str, Any]) -> dict[str, Any]:
    """The event, its message's files offered through /_sandbox/contents/ (the page has no token)."""
    message = event["message"]
    if not message.get("files"):
        return event
    files = [sandbox_state().file_of(url) for url in message["files"]]
    downloads = [{"url": f"/_sandbox/contents/{f['id']}", "name": f["name"], "size": f["size"]} for f in files if f]
    return {**event, "message": {**message, "sandboxFiles": downloads}}


@helpers.get("/_sandbox/contents/<content_id>")
def helper_contents(content_id: str) -> Response:
    """Any message's file, for the page."""
    return file_response(*sandbox_state().visible_content(None, content_id))


@helpers.post("/_sandbox/faults")
def helper_faults() -> Response:
    """Queue a canned failure for the next matching API requests."""
    data = body()
    try:
        sandbox_state().faults.add(
            str(data["method"]),
            str(data["path"]),
            int(data["status"]),
            headers=data.get("headers"),
            body=data.get("body"),
            times=int(data.get("times", 1)),
            after=bool(data.get("after", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiProblem(400, f"method, path and status are required: {exc}") from exc
    return jsonify(ok=True)


@helpers.get("/_sandbox/people")
def helper_people() -> Response:
    """Every person, bots included."""
    state = sandbox_state()
    with state.lock:
        return jsonify(items=list(state.people.values()))


@helpers.get("/_sandbox/stats")
def stats() -> Response:
    """Message count and the rate limit's tallies, for the bench."""
    state = sandbox_state()
    return jsonify(
        messages=len(state.messages), rate_limited=state.rate_limit.refused, allowed=state.rate_limit.allowed
    )


@helpers.get("/_sandbox/rooms")
def helper_rooms() -> Response:
    """Every space with its members' emails."""
    state = sandbox_state()
    with state.lock:
        return jsonify(
            items=[
                {**r, "members": [state.people[p]["emails"][0] for p in state.members(r["id"])]}
                for r in state.rooms.values()
            ]
        )


@helpers.post("/_sandbox/rooms")
def helper_create_room() -> Response:
    """A space with members, without the rate limit a person's token has (many at once for a bench)."""
    data = body()
    members = data.get("members") or []
    if not data.get("title") or not isinstance(members, list):
        raise ApiProblem(400, "title and a list of members are required")
    return jsonify(
        sandbox_state().add_room(str(data["title"]), [str(m) for m in members], creator_email=str(data.get("as", "")))
    )
