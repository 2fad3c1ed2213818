"""/v1/messages and /v1/contents: list, send (with one file, uploaded or by URL), read, edit, delete; files."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

import requests
from flask import Blueprint, Response, jsonify, request

from sandbox.problems import NOT_FOUND, ApiProblem
from sandbox.routes.plumbing import LARGEST_MAX, body, file_response, me, page, sandbox_state
from sandbox.state import MAX_FILE_BYTES

MAX_MENTIONED = 100  # `max` with mentionedPeople
# Webex downloads a file given by URL itself; a sandbox that waits long would hang the test that gave it.
DOWNLOAD_TIMEOUT_S = 5
MESSAGE_FIELDS = ("roomId", "toPersonId", "toPersonEmail", "text", "markdown", "parentId")

messages = Blueprint("messages", __name__)


@messages.get("/v1/messages")
def messages_list() -> Response:
    """A space's messages, newest first, as the caller may see them."""
    state = sandbox_state()
    room_id = request.args.get("roomId")
    if not room_id:
        raise ApiProblem(400, "roomId is required")
    if not state.is_member(room_id, me()["id"]):
        raise ApiProblem(404, NOT_FOUND)
    mentioned = request.args.get("mentionedPeople")
    if me()["type"] == "bot" and state.rooms[room_id]["type"] == "group" and mentioned is None:
        # Webex shows a bot the messages of a group space only where they mention it.
        raise ApiProblem(403, "Failed to get activity.")
    if mentioned is not None and mentioned not in ("me", me()["id"]):
        raise ApiProblem(400, "mentionedPeople can only be 'me' or the person ID of the caller")
    items = list(reversed(state.messages_in(room_id)))
    if "parentId" in request.args:
        items = [m for m in items if m.get("parentId") == request.args["parentId"]]
    if mentioned is not None:
        items = [m for m in items if me()["id"] in m.get("mentionedPeople", [])]
    if "before" in request.args:
        items = [m for m in items if m["created"] < request.args["before"]]
    if "beforeMessage" in request.args:
        ids = [m["id"] for m in items]
        if request.args["beforeMessage"] in ids:
            items = items[ids.index(request.args["beforeMessage"]) + 1 :]
    return page(items, "messages", largest=MAX_MENTIONED if mentioned is not None else LARGEST_MAX)


@messages.get("/v1/messages/direct")
def messages_direct() -> Response:
    """A 1:1 space's messages named by the other person, newest first (without creating the space)."""
    state = sandbox_state()
    person_id, email = request.args.get("personId"), request.args.get("personEmail")
    if bool(person_id) == bool(email):
        raise ApiProblem(400, "Provide only one destination in the personId and personEmail fields")
    other = state.people.get(person_id) if person_id else state.person_by_email(email or "")
    if other is None:
        raise ApiProblem(404, NOT_FOUND)
    with state.lock:
        room = next(
            (
                r
                for r in state.rooms.values()
                if r["type"] == "direct" and set(state.members(r["id"])) == {me()["id"], other["id"]}
            ),
            None,
        )
        items = [] if room is None else list(reversed(state.messages_in(room["id"])))
    if "parentId" in request.args:
        items = [m for m in items if m.get("parentId") == request.args["parentId"]]
    return jsonify(items=items)


@messages.post("/v1/messages")
def messages_create() -> Response:
    """Send a message as the caller."""
    data, files = message_request()
    message = sandbox_state().post_message(
        me()["emails"][0],
        room_id=data.get("roomId"),
        to_person_email=data.get("toPersonEmail"),
        to_person_id=data.get("toPersonId"),
        text=data.get("text"),
        markdown=data.get("markdown"),
        parent_id=data.get("parentId"),
        attachments=data.get("attachments"),
        files=files,
    )
    return jsonify(message)


@messages.get("/v1/messages/<message_id>")
def messages_get(message_id: str) -> Response:
    """One message the caller may see."""
    return jsonify(sandbox_state().visible_message(me()["id"], message_id))


@messages.put("/v1/messages/<message_id>")
def messages_update(message_id: str) -> Response:
    """Edit the caller's own message."""
    data = body()
    return jsonify(
        sandbox_state().update_message(
            me()["emails"][0],
            message_id,
            room_id=data.get("roomId"),
            text=data.get("text"),
            markdown=data.get("markdown"),
        )
    )


@messages.delete("/v1/messages/<message_id>")
def messages_delete(message_id: str) -> Response:
    """Delete the caller's own message."""
    sandbox_state().delete_message(me()["emails"][0], message_id)
    return Response(status=204)


@messages.get("/v1/contents/<content_id>")
def contents_get(content_id: str) -> Response:
    """A message's file, for a caller who may read the message."""
    return file_response(*sandbox_state().visible_content(me()["id"], content_id))


def message_request() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The fields and the file of a POST /messages: a JSON body (a file by URL, which is
    downloaded) or a multipart/form-data upload, as the SDK sends a local file."""
    if request.mimetype == "multipart/form-data":
        unknown = set(request.form) - set(MESSAGE_FIELDS)
        if unknown or set(request.files) - {"files"}:
            raise ApiProblem(
                400, f"Unknown or unsupported multipart fields: {', '.join(sorted(unknown | set(request.files)))}"
            )
        uploads = request.files.getlist("files")
        if len(uploads) > 1:
            raise ApiProblem(400, "Only one file may be included with a message")
        return dict(request.form), [{"name": u.filename or "", "type": u.mimetype, "data": u.read()} for u in uploads]
    data = body()
    urls = data.get("files")
    if urls is None:
        return data, []
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls) or not urls:
        raise ApiProblem(400, "files must be a list of one URL")
    if len(urls) > 1:
        raise ApiProblem(400, "Only one file may be included with a message")
    return data, [download(urls[0])]


def download(url: str) -> dict[str, Any]:
    """The file at an http(s) URL, as Webex fetches a `files` URL; 400 when it cannot be had."""
    if urlparse(url).scheme not in ("http", "https"):
        raise ApiProblem(400, "files must be http or https URLs, or a multipart upload")
    try:
        with requests.get(url, timeout=DOWNLOAD_TIMEOUT_S, stream=True) as reply:
            if reply.status_code != 200:
                raise ApiProblem(400, f"The file at {url} could not be downloaded: {reply.status_code}")
            data = reply.raw.read(MAX_FILE_BYTES + 1, decode_content=True)
            content_type = (reply.headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip()
            disposition = reply.headers.get("Content-Disposition", "")
    except requests.RequestException as exc:
        raise ApiProblem(400, f"The file at {url} could not be downloaded: {type(exc).__name__}") from exc
    name = ""
    if "filename=" in disposition:
        name = disposition.split("filename=", 1)[1].split(";")[0].strip().strip('"')
    name = name or unquote(urlparse(url).path.rsplit("/", 1)[-1]) or "file"
    return {"name": name, "type": content_type, "data": data}
