"""The sandbox's HTTP face: the Webex REST subset under /v1/, and /_sandbox/ helpers.

As Webex does: every /v1 answer carries a TrackingID header (and errors the same id as
`trackingId`), lists honour `max` and page with `Link: <…>; rel="next"`, every token is rate
limited per method and endpoint, a revoked token answers 401 everywhere, and a message may
carry one file (a multipart upload, or a URL the sandbox downloads) served at /v1/contents/.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlparse

import requests
from flask import Flask, Response, g, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox.delivery import EVENTS, RESOURCES
from sandbox.ids import new_id
from sandbox.state import INVALID_TOKEN, MAX_FILE_BYTES, NOT_FOUND, ApiProblem, SandboxState

STATIC = Path(__file__).resolve().parent / "static"

log = logging.getLogger(__name__)

MAX_POLL_S = 30.0
WEBHOOK_FIELDS = ("id", "name", "targetUrl", "resource", "event", "filter", "secret", "orgId", "createdBy", "appId", "ownedBy", "status", "created")
# Webex's page sizes when `max` is absent (the OpenAPI document's defaults) and the largest it allows.
DEFAULT_MAX = {"messages": 50, "rooms": 100, "memberships": 100, "webhooks": 100, "people": 100}
LARGEST_MAX = 1000
MAX_MENTIONED = 100  # `max` with mentionedPeople
# Webex downloads a file given by URL itself; a sandbox that waits long would hang the test that gave it.
DOWNLOAD_TIMEOUT_S = 5
MESSAGE_FIELDS = ("roomId", "toPersonId", "toPersonEmail", "text", "markdown", "parentId")


def error_body(message: str) -> dict:
    """A Webex-shaped error body (its trackingId the same as the answer's TrackingID header)."""
    tracking_id = g.get("tracking_id") if has_request_context() else None
    return {"message": message, "errors": [{"description": message}], "trackingId": tracking_id or _tracking_id()}


def _tracking_id() -> str:
    return f"SANDBOX_{uuid.uuid4()}"


def _error(status: int, message: str) -> Response:
    response = jsonify(error_body(message))
    response.status_code = status
    return response


def _public_hook(hook: dict) -> dict:
    return {k: hook[k] for k in WEBHOOK_FIELDS if hook.get(k) is not None}


def _collection(path: str) -> str:
    """The endpoint collection of a /v1 path, for rate limiting: "messages", "people", "attachment/actions", …"""
    parts = path.removeprefix("/v1/").split("/")
    return "/".join(parts[:2]) if parts[0] == "attachment" else parts[0]


def _page(items: list[dict], collection: str, *, largest: int = LARGEST_MAX) -> Response:
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
    page = items[start:start + limit]
    response = jsonify(items=page)
    if start + limit < len(items):
        query = [(key, value) for key, value in request.args.items(multi=True) if key != "cursor"]
        query.append(("cursor", page[-1]["id"]))
        response.headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    return response


def _content_disposition(name: str) -> str:
    """`attachment; filename="…"`, with an RFC 5987 `filename*` where the name is not plain ASCII."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    header = f'attachment; filename="{plain}"'
    if plain != name:
        header += f"; filename*=UTF-8''{quote(name)}"
    return header


def _download(url: str) -> dict:
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


def create_sandbox_app(state: SandboxState) -> Flask:
    """A Flask app imitating Webex for `state`."""
    app = Flask("sandbox", static_folder=str(STATIC), static_url_path="/_sandbox/static")
    app.extensions["sandbox"] = state
    # Room for one file of Webex's largest size and the fields around it; larger bodies answer 413.
    app.config["MAX_CONTENT_LENGTH"] = MAX_FILE_BYTES + 1024 * 1024

    @app.errorhandler(ApiProblem)
    def problem(exc: ApiProblem):
        return _error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_problem(exc: HTTPException):
        # Unknown paths and wrong methods answer in Webex's error shape, not Flask's HTML.
        response = _error(exc.code or 500, exc.description or exc.name)
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.before_request
    def authenticate_and_inject():
        path = request.path
        state.base_url = request.host_url.rstrip("/")
        if not path.startswith("/v1/"):
            return None
        g.tracking_id = _tracking_id()
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
            return _fault_response(fault)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        person = state.person_by_token(token) if token else None
        if person is None:
            return _error(401, INVALID_TOKEN)
        g.person = person
        wait = state.rate_limit.take((token, request.method, _collection(path)), state.now())
        if wait:
            response = _error(429, "Too many requests; retry later.")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        return None

    def _fault_response(fault: dict) -> Response:
        body = fault["body"] or error_body(f"Injected fault {fault['status']}")
        if isinstance(body, dict) and "message" in body:
            # A test names the message; the rest of Webex's error shape is the sandbox's to fill in.
            body = {**error_body(str(body["message"])), **body}
        response = jsonify(body)
        response.status_code = fault["status"]
        for key, value in fault["headers"].items():
            response.headers[key] = value
        return response

    @app.after_request
    def record(response: Response):
        if not request.path.startswith("/v1/"):
            return response
        after_fault = g.pop("after_fault", None)
        if after_fault is not None and response.status_code < 400:
            response = _fault_response(after_fault)
        response.headers["TrackingID"] = g.get("tracking_id") or _tracking_id()
        state.requests.append({"method": request.method, "path": request.path, "status": response.status_code, "at": state.now()})
        exchanges = state.exchanges
        if exchanges is not None:
            exchanges.append({
                "method": request.method, "path": request.path, "query": request.query_string.decode("latin-1"),
                "headers": dict(request.headers), "content_type": request.content_type or "", "body": g.get("request_body", b""),
                "status": response.status_code, "response_headers": dict(response.headers),
                "response_content_type": response.content_type or "", "response_body": response.get_data(),
            })
        return response

    def me() -> dict:
        return g.person

    def body() -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiProblem(400, "The request body must be a JSON object")
        return data

    # People

    @app.get("/v1/people/me")
    def people_me():
        return jsonify(me())

    @app.get("/v1/people/<person_id>")
    def people_get(person_id: str):
        person = state.people.get(person_id)
        if person is None:
            raise ApiProblem(404, NOT_FOUND)
        return jsonify(person)

    @app.get("/v1/people")
    def people_list():
        email, name, ids = request.args.get("email"), request.args.get("displayName"), request.args.get("id")
        if not (email or name or ids):
            raise ApiProblem(400, "email, displayName or id is required")
        with state.lock:
            people = list(state.people.values())
        if email or name:
            # Webex no longer looks people up across organisations by email or name (its People
            # API update of September 2022): only the caller's own organisation's are found.
            people = [p for p in people if p["orgId"] == me()["orgId"]]
        if email:
            people = [p for p in people if email.lower() in p["emails"]]
        if name:
            people = [p for p in people if p["displayName"].lower().startswith(name.lower())]
        if ids:
            wanted = ids.split(",")
            people = [p for p in people if p["id"] in wanted]
        return _page(people, "people")

    # Rooms and memberships

    @app.get("/v1/rooms")
    def rooms_list():
        kind = request.args.get("type")
        if kind not in (None, "direct", "group"):
            raise ApiProblem(400, "type must be direct or group")
        with state.lock:
            rooms = [dict(r) for r in state.rooms.values() if state.is_member(r["id"], me()["id"])]
        return _page([r for r in rooms if kind is None or r["type"] == kind], "rooms")

    @app.post("/v1/rooms")
    def rooms_create():
        title = body().get("title")
        if not title:
            raise ApiProblem(400, "title is required")
        return jsonify(state.add_room(title, [], creator_email=me()["emails"][0]))

    @app.get("/v1/rooms/<room_id>")
    def rooms_get(room_id: str):
        room = state.rooms.get(room_id)
        if room is None or not state.is_member(room_id, me()["id"]):
            raise ApiProblem(404, NOT_FOUND)
        return jsonify(room)

    @app.get("/v1/memberships")
    def memberships_list():
        room_id, person_id, email = request.args.get("roomId"), request.args.get("personId"), request.args.get("personEmail")
        if (person_id or email) and not room_id:
            raise ApiProblem(400, "roomId is required with personId or personEmail")
        with state.lock:
            if room_id is None:
                # Without a room: the caller's own memberships, one per space.
                items = [dict(m) for m in state.memberships.values() if m["personId"] == me()["id"]]
            else:
                if not state.is_member(room_id, me()["id"]):
                    raise ApiProblem(404, NOT_FOUND)
                items = [dict(m) for m in state.memberships.values() if m["roomId"] == room_id
                         and (person_id is None or m["personId"] == person_id)
                         and (email is None or m["personEmail"] == email.lower())]
        return _page(items, "memberships")

    @app.post("/v1/memberships")
    def memberships_create():
        data = body()
        room_id, email, person_id = data.get("roomId"), data.get("personEmail"), data.get("personId")
        moderator = data.get("isModerator", False)
        if not room_id or not (email or person_id) or not isinstance(moderator, bool):
            raise ApiProblem(400, "roomId and personId or personEmail are required; isModerator is true or false")
        with state.lock:
            if not state.is_member(room_id, me()["id"]):
                raise ApiProblem(404, NOT_FOUND)
            person = state.people.get(person_id) if person_id else state.person_by_email(email)
            if person is None:
                raise ApiProblem(404, NOT_FOUND)
            if state.is_member(room_id, person["id"]):
                raise ApiProblem(409, "The person is already a member of the room")
            return jsonify(state.add_member(room_id, person["emails"][0], actor_email=me()["emails"][0], moderator=moderator))

    @app.get("/v1/memberships/<membership_id>")
    def memberships_get(membership_id: str):
        return jsonify(state.visible_membership(me()["id"], membership_id))

    @app.put("/v1/memberships/<membership_id>")
    def memberships_update(membership_id: str):
        data = body()
        if not isinstance(data.get("isModerator"), bool) or not isinstance(data.get("isRoomHidden"), bool):
            raise ApiProblem(400, "isModerator and isRoomHidden are required")
        with state.lock:
            membership = state.visible_membership(me()["id"], membership_id)
            mine = state.membership_of(membership["roomId"], me()["id"])
            moderated = any(m["isModerator"] for m in state.memberships.values() if m["roomId"] == membership["roomId"])
            if moderated and not mine["isModerator"]:
                raise ApiProblem(403, "Only a moderator can change moderators of this space.")
            return jsonify(state.set_moderator(membership["roomId"], membership["personEmail"], data["isModerator"]))

    @app.delete("/v1/memberships/<membership_id>")
    def memberships_delete(membership_id: str):
        state.delete_membership(me()["emails"][0], membership_id)
        return Response(status=204)

    # Messages

    @app.get("/v1/messages")
    def messages_list():
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
                items = items[ids.index(request.args["beforeMessage"]) + 1:]
        return _page(items, "messages", largest=MAX_MENTIONED if mentioned is not None else LARGEST_MAX)

    @app.get("/v1/messages/direct")
    def messages_direct():
        """A 1:1 space's messages named by the other person, newest first (without creating the space)."""
        person_id, email = request.args.get("personId"), request.args.get("personEmail")
        if bool(person_id) == bool(email):
            raise ApiProblem(400, "Provide only one destination in the personId and personEmail fields")
        other = state.people.get(person_id) if person_id else state.person_by_email(email)
        if other is None:
            raise ApiProblem(404, NOT_FOUND)
        with state.lock:
            room = next((r for r in state.rooms.values() if r["type"] == "direct"
                         and set(state.members(r["id"])) == {me()["id"], other["id"]}), None)
            items = [] if room is None else list(reversed(state.messages_in(room["id"])))
        if "parentId" in request.args:
            items = [m for m in items if m.get("parentId") == request.args["parentId"]]
        return jsonify(items=items)

    def message_request() -> tuple[dict, list[dict]]:
        """The fields and the file of a POST /messages: a JSON body (a file by URL, which is
        downloaded) or a multipart/form-data upload, as the SDK sends a local file."""
        if request.mimetype == "multipart/form-data":
            unknown = set(request.form) - set(MESSAGE_FIELDS)
            if unknown or set(request.files) - {"files"}:
                raise ApiProblem(400, f"Unknown or unsupported multipart fields: {', '.join(sorted(unknown | set(request.files)))}")
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
        return data, [_download(urls[0])]

    @app.post("/v1/messages")
    def messages_create():
        data, files = message_request()
        message = state.post_message(
            me()["emails"][0], room_id=data.get("roomId"), to_person_email=data.get("toPersonEmail"),
            to_person_id=data.get("toPersonId"), text=data.get("text"), markdown=data.get("markdown"),
            parent_id=data.get("parentId"), attachments=data.get("attachments"), files=files,
        )
        return jsonify(message)

    @app.get("/v1/messages/<message_id>")
    def messages_get(message_id: str):
        return jsonify(state.visible_message(me()["id"], message_id))

    @app.put("/v1/messages/<message_id>")
    def messages_update(message_id: str):
        data = body()
        return jsonify(state.update_message(me()["emails"][0], message_id, room_id=data.get("roomId"),
                                            text=data.get("text"), markdown=data.get("markdown")))

    @app.delete("/v1/messages/<message_id>")
    def messages_delete(message_id: str):
        state.delete_message(me()["emails"][0], message_id)
        return Response(status=204)

    def file_response(meta: dict, data: bytes) -> Response:
        return Response(data, mimetype=meta["type"], headers={"Content-Disposition": _content_disposition(meta["name"])})

    @app.get("/v1/contents/<content_id>")
    def contents_get(content_id: str):
        return file_response(*state.visible_content(me()["id"], content_id))

    # Card actions

    @app.post("/v1/attachment/actions")
    def actions_create():
        data = body()
        if data.get("type") != "submit" or not data.get("messageId") or not isinstance(data.get("inputs"), dict):
            raise ApiProblem(400, "type 'submit', messageId and inputs are required")
        return jsonify(state.submit_card(me()["emails"][0], data["messageId"], data["inputs"]))

    @app.get("/v1/attachment/actions/<action_id>")
    def actions_get(action_id: str):
        return jsonify(state.visible_action(me()["id"], action_id))

    # Webhooks

    @app.get("/v1/webhooks")
    def webhooks_list():
        with state.lock:
            hooks = [_public_hook(w) for w in state.webhooks.values() if w["ownerId"] == me()["id"]]
        return _page(hooks, "webhooks")

    @app.post("/v1/webhooks")
    def webhooks_create():
        data = body()
        missing = [k for k in ("name", "targetUrl", "resource", "event") if not data.get(k)]
        if missing:
            raise ApiProblem(400, f"{', '.join(missing)} required")
        if data["resource"] not in RESOURCES or data["event"] not in EVENTS:
            raise ApiProblem(400, f"resource must be one of {', '.join(RESOURCES)}; event one of {', '.join(EVENTS)}")
        hook = {"id": new_id("WEBHOOK"), "name": data["name"], "targetUrl": data["targetUrl"], "resource": data["resource"],
                "event": data["event"], "filter": data.get("filter"), "secret": data.get("secret"), "orgId": state.org_id,
                "createdBy": me()["id"], "appId": "SANDBOX", "ownedBy": "creator", "status": "active",
                "created": state.stamp(), "ownerId": me()["id"]}
        with state.lock:
            state.webhooks[hook["id"]] = hook
        return jsonify(_public_hook(hook))

    def own_hook(webhook_id: str) -> dict:
        hook = state.webhooks.get(webhook_id)
        if hook is None or hook["ownerId"] != me()["id"]:
            raise ApiProblem(404, NOT_FOUND)
        return hook

    @app.get("/v1/webhooks/<webhook_id>")
    def webhooks_get(webhook_id: str):
        return jsonify(_public_hook(own_hook(webhook_id)))

    @app.put("/v1/webhooks/<webhook_id>")
    def webhooks_update(webhook_id: str):
        data = body()
        with state.lock:
            hook = own_hook(webhook_id)
            if not data.get("name") or not data.get("targetUrl"):
                raise ApiProblem(400, "name and targetUrl are required")
            # Webex's PUT only re-activates ("active" is the one status it takes): a webhook is
            # disabled by Webex alone, after 100 failed deliveries in 5 minutes.
            if "status" in data and data["status"] != "active":
                raise ApiProblem(400, "status can only be set to active")
            hook.update(name=data["name"], targetUrl=data["targetUrl"])
            if "secret" in data:
                hook["secret"] = data["secret"]
            if data.get("status") == "active" and hook["status"] != "active":
                state.delivery.reactivated(webhook_id)
                hook["status"] = "active"
        return jsonify(_public_hook(hook))

    @app.delete("/v1/webhooks/<webhook_id>")
    def webhooks_delete(webhook_id: str):
        with state.lock:
            own_hook(webhook_id)
            del state.webhooks[webhook_id]
        return Response(status=204)

    # The chat page (GET /) and its helpers; tests, the bench and the demo use them too (no
    # token: the sandbox is local only).

    @app.get("/")
    def chat_page():
        response = app.send_static_file("index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/_sandbox/directory")
    def helper_directory():
        return jsonify(state.directory())

    @app.post("/_sandbox/post")
    def helper_post():
        data = body()
        return jsonify(state.post_message(data.get("as", ""), room_id=data.get("roomId"), to_person_email=data.get("toPersonEmail"),
                                          text=data.get("text"), markdown=data.get("markdown"), parent_id=data.get("parentId"),
                                          attachments=data.get("attachments")))

    @app.post("/_sandbox/submit")
    def helper_submit():
        data = body()
        return jsonify(state.submit_card(data.get("as", ""), data.get("messageId", ""), data.get("inputs") or {}))

    @app.get("/_sandbox/events")
    def helper_events():
        since = request.args.get("since", default=0, type=int)
        timeout = min(max(request.args.get("timeout", default=25.0, type=float), 0.0), MAX_POLL_S)
        events, cursor = state.wait_events(since, request.args.get("roomId"), timeout=timeout)
        return jsonify(seq=cursor, events=[_with_downloads(e) for e in events])

    def _with_downloads(event: dict) -> dict:
        # The page has no token: it offers a message's files through /_sandbox/contents/.
        message = event["message"]
        if not message.get("files"):
            return event
        files = [state.file_of(url) for url in message["files"]]
        downloads = [{"url": f"/_sandbox/contents/{f['id']}", "name": f["name"], "size": f["size"]} for f in files if f]
        return {**event, "message": {**message, "sandboxFiles": downloads}}

    @app.get("/_sandbox/contents/<content_id>")
    def helper_contents(content_id: str):
        return file_response(*state.visible_content(None, content_id))

    @app.post("/_sandbox/faults")
    def helper_faults():
        data = body()
        try:
            state.faults.add(str(data["method"]), str(data["path"]), int(data["status"]), headers=data.get("headers"),
                             body=data.get("body"), times=int(data.get("times", 1)), after=bool(data.get("after", False)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiProblem(400, f"method, path and status are required: {exc}") from exc
        return jsonify(ok=True)

    @app.get("/_sandbox/people")
    def helper_people():
        with state.lock:
            return jsonify(items=list(state.people.values()))

    @app.get("/_sandbox/stats")
    def stats():
        return jsonify(messages=len(state.messages), rate_limited=state.rate_limit.refused, allowed=state.rate_limit.allowed)

    @app.get("/_sandbox/rooms")
    def helper_rooms():
        with state.lock:
            return jsonify(items=[{**r, "members": [state.people[p]["emails"][0] for p in state.members(r["id"])]}
                                  for r in state.rooms.values()])

    @app.post("/_sandbox/rooms")
    def helper_create_room():
        # Many spaces at once for a bench, without the rate limit a person's token has.
        data = body()
        members = data.get("members") or []
        if not data.get("title") or not isinstance(members, list):
            raise ApiProblem(400, "title and a list of members are required")
        return jsonify(state.add_room(str(data["title"]), [str(m) for m in members], creator_email=str(data.get("as", ""))))

    return app
