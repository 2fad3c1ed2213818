"""The endpoint: signature on the raw body, storing once, answering without calling Webex."""

import hashlib
import hmac
import json

import pytest
from sqlalchemy import func, select

from bot.app import Runtime, create_app
from bot.config import Settings
from bot.webex import WebexClient
from storage.models.runtime import InboxEvent

SECRET = "webhook-secret"


@pytest.fixture
def client(db, clock):
    # Webex is unreachable on purpose: the endpoint must never call it.
    webex = WebexClient(access_token="t", base_url="http://127.0.0.1:9/v1/")
    runtime = Runtime(settings=Settings(webex_webhook_secret=SECRET), db=db, webex=webex, clock=clock)
    app = create_app(runtime)
    return app.test_client(), runtime


def _body(data_id="MSG1", resource="messages"):
    return json.dumps(
        {
            "id": "WH",
            "resource": resource,
            "event": "created",
            "data": {"id": data_id, "roomId": "R", "personId": "P", "personEmail": "p@example.com"},
        }
    ).encode()


def _sig(body, secret=SECRET):
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def _stored(db):
    with db.scope() as s:
        return s.scalar(select(func.count()).select_from(InboxEvent))


def test_valid_signature_is_stored(client, db):
    c, runtime = client
    body = _body()
    resp = c.post(
        "/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body), "Content-Type": "application/json"}
    )
    assert resp.status_code == 200
    assert resp.json == {"accepted": True, "duplicate": False}
    assert _stored(db) == 1
    assert runtime.inbox_bell.is_set()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Spark-Signature": ""},
        {"X-Spark-Signature": "0" * 40},
        {"X-Spark-Signature": _sig(_body(), "other-secret")},
        {"X-Spark-Signature": "\x80é" + "0" * 38},
    ],
    ids=["missing", "empty", "wrong", "other-secret", "non-ascii"],
)
def test_bad_signature_is_rejected_and_nothing_stored(client, db, headers):
    c, runtime = client
    resp = c.post("/webhooks/webex", data=_body(), headers=headers)
    assert resp.status_code == 401
    assert _stored(db) == 0
    assert runtime.metrics.value("servicedesk_webhooks_total", outcome="bad_signature") == 1


def test_body_tampered_after_signing(client, db):
    c, _ = client
    body = _body()
    signature = _sig(body)
    tampered = body.replace(b'"MSG1"', b'"MSG2"')
    assert c.post("/webhooks/webex", data=tampered, headers={"X-Spark-Signature": signature}).status_code == 401
    # Re-serialising the same JSON differently also breaks the signature: it is on the raw bytes.
    reformatted = json.dumps(json.loads(body), indent=2).encode()
    assert c.post("/webhooks/webex", data=reformatted, headers={"X-Spark-Signature": signature}).status_code == 401
    assert _stored(db) == 0


def test_duplicate_delivery_is_accepted_once(client, db):
    c, _ = client
    body = _body()
    first = c.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body)})
    second = c.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body)})
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json == {"accepted": True, "duplicate": True}
    assert _stored(db) == 1


def test_same_id_different_resource_are_two_events(client, db):
    c, _ = client
    for resource in ("messages", "attachmentActions"):
        body = _body(resource=resource)
        assert c.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body)}).status_code == 200
    assert _stored(db) == 2


def _membership(event: str, created: str) -> bytes:
    return json.dumps(
        {
            "id": "WH",
            "resource": "memberships",
            "event": event,
            "actorId": "P",
            "data": {"id": "MEMBERSHIP1", "roomId": "R", "personId": "BOT", "created": created},
        }
    ).encode()


def test_a_membership_is_one_event_per_beginning_and_end(client, db):
    # Webex gives the bot the same membership id each time it joins the same space.
    c, _ = client
    bodies = [
        _membership("created", "2026-11-23T09:00:00.000Z"),
        _membership("deleted", "2026-11-23T09:00:00.000Z"),
        _membership("created", "2026-11-23T09:05:00.000Z"),
        _membership("deleted", "2026-11-23T09:05:00.000Z"),
    ]
    for body in bodies + bodies:  # each delivered twice
        assert c.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body)}).status_code == 200
    with db.scope() as s:
        keys = s.scalars(select(InboxEvent.event_key).order_by(InboxEvent.id)).all()
    assert keys == [
        "memberships:created:MEMBERSHIP1:2026-11-23T09:00:00.000Z",
        "memberships:deleted:MEMBERSHIP1:2026-11-23T09:00:00.000Z",
        "memberships:created:MEMBERSHIP1:2026-11-23T09:05:00.000Z",
        "memberships:deleted:MEMBERSHIP1:2026-11-23T09:05:00.000Z",
    ]


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"resource": "m" * 41, "event": "created", "data": {"id": "X"}}).encode(),
        json.dumps({"resource": "messages", "event": "e" * 41, "data": {"id": "X"}}).encode(),
        json.dumps({"resource": "messages", "event": "created", "data": {"id": "X" * 290}}).encode(),
        json.dumps(
            {"resource": "memberships", "event": "created", "data": {"id": "X" * 260, "created": "2" * 30}}
        ).encode(),
    ],
    ids=["resource", "event", "id", "id-and-created"],
)
def test_identifiers_longer_than_webex_gives_are_refused(client, db, body):
    c, _ = client
    assert c.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body)}).status_code == 400
    assert _stored(db) == 0


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"resource": "messages"}', b'{"resource":"messages","event":"created","data":{}}']
)
def test_malformed_signed_body_is_refused(client, db, body):
    c, _ = client
    assert c.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body)}).status_code == 400
    assert _stored(db) == 0


def test_a_body_declared_too_large_is_refused_before_it_is_read_or_its_signature_checked(client, db):
    c, runtime = client
    big = b"x" * (64 * 1024 + 1)
    for headers in ({}, {"X-Spark-Signature": _sig(big)}):
        assert c.post("/webhooks/webex", data=big, headers=headers).status_code == 413
    assert _stored(db) == 0
    assert runtime.metrics.value("servicedesk_webhooks_total", outcome="too_large") == 2
    assert runtime.metrics.value("servicedesk_webhooks_total", outcome="bad_signature") == 0


def test_without_a_secret_signatures_are_not_required(db, clock):
    webex = WebexClient(access_token="t", base_url="http://127.0.0.1:9/v1/")
    app = create_app(Runtime(settings=Settings(), db=db, webex=webex, clock=clock))
    assert app.test_client().post("/webhooks/webex", data=_body()).status_code == 200


def test_healthz(client):
    c, _ = client
    resp = c.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok"


def _envelope(**fields):
    payload = {
        "id": "WH",
        "resource": "messages",
        "event": "created",
        "createdBy": "BOT",
        "data": {"id": "MSG9", "roomId": "R", "personId": "P", "personEmail": "p@example.com"},
    }
    payload.update(fields)
    return json.dumps(payload).encode()


@pytest.mark.parametrize("resource", ["messages", "memberships"], ids=["its-message", "a-space-it-opened"])
def test_the_bots_own_doing_is_answered_and_not_stored(client, db, resource):
    c, runtime = client
    body = _envelope(actorId="BOT", resource=resource)
    resp = c.post(
        "/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body), "Content-Type": "application/json"}
    )
    assert resp.status_code == 200
    assert resp.json == {"accepted": True, "duplicate": False, "own": True}
    assert _stored(db) == 0
    assert not runtime.inbox_bell.is_set()
    assert runtime.metrics.webhooks.labels(outcome="own")._value.get() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"actorId": "P"},
        {"createdBy": None, "actorId": None},
        {"createdBy": "", "actorId": ""},
        {"createdBy": 7, "actorId": 7},
        {"actorId": "BOT", "createdBy": ["BOT"]},
    ],
    ids=["someone-else", "no-creator", "empty-creator", "not-a-string", "creator-a-list"],
)
def test_events_of_others_or_without_a_creator_are_stored(client, db, fields):
    c, _ = client
    body = _envelope(**fields)
    resp = c.post(
        "/webhooks/webex", data=body, headers={"X-Spark-Signature": _sig(body), "Content-Type": "application/json"}
    )
    assert resp.status_code == 200
    assert resp.json == {"accepted": True, "duplicate": False}
    assert _stored(db) == 1


def test_a_forged_own_event_without_the_signature_is_still_refused(client, db):
    c, _ = client
    body = _envelope(actorId="BOT")
    resp = c.post("/webhooks/webex", data=body, headers={"X-Spark-Signature": "0" * 40})
    assert resp.status_code == 401
    assert _stored(db) == 0
