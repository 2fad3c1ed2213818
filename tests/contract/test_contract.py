"""The contract itself: the committed copy of Webex's OpenAPI document is a fresh reduction of the
official one, each correction is needed and does what it says, and a wrong request or a wrong
answer is reported (so the check that runs after every sandbox test cannot pass silently)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import requests
from openapi_core import OpenAPI

from sandbox.demo import ACME_ROOM, BOT_TOKEN
from sandbox.ids import new_id
from tests.contract import reduce_spec, webex_contract

OFFICIAL = Path(__file__).resolve().parents[3] / "shared" / "webex" / "webex-messaging.json"
CARD = {
    "contentType": "application/vnd.microsoft.card.adaptive",
    "content": {"type": "AdaptiveCard", "version": "1.3", "body": []},
}
MESSAGE = {
    "id": "M",
    "roomId": "R",
    "roomType": "group",
    "text": "hi",
    "personId": "P",
    "personEmail": "p@x",
    "created": "2026-11-23T09:00:00.000Z",
}


def _exchange(
    method: str,
    path: str,
    *,
    query: str = "",
    body=None,
    status: int = 200,
    answer=None,
    content_type: str = "application/json",
    answer_headers: dict | None = None,
) -> dict:
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    data = answer if isinstance(answer, bytes) else (json.dumps(answer).encode() if answer is not None else b"")
    return {
        "method": method,
        "path": path,
        "query": query,
        "headers": {"Authorization": "Bearer t"},
        "content_type": content_type,
        "body": raw,
        "status": status,
        "response_headers": {"TrackingID": "SANDBOX_1", **(answer_headers or {})},
        "response_content_type": "application/json" if answer is not None and not isinstance(answer, bytes) else "",
        "response_body": data,
    }


def _problems(exchange: dict, *, strict_requests: bool = True) -> list[str]:
    return [m.problem for m in webex_contract.validate(exchange, strict_requests=strict_requests)]


def test_the_committed_copy_is_a_fresh_reduction_of_the_official_document():
    if not OFFICIAL.exists():
        pytest.skip(f"{OFFICIAL} is not next to this checkout")
    committed = reduce_spec.REDUCED.read_text(encoding="utf-8")
    assert committed == reduce_spec.render(reduce_spec.reduce(json.loads(OFFICIAL.read_text(encoding="utf-8"))))


def test_the_reduction_keeps_structure_and_drops_prose():
    reduced = json.loads(reduce_spec.REDUCED.read_text(encoding="utf-8"))
    assert set(reduced["paths"]) == set(reduce_spec.PATHS)
    text = json.dumps(reduced)
    assert '"example"' not in text and '"summary"' not in text
    # Every reference resolves within the copy.
    assert {ref.removeprefix(reduce_spec.SCHEMA_PREFIX) for ref in reduce_spec._refs(reduced)} <= set(
        reduced["components"]["schemas"]
    )


def test_the_corrected_document_is_valid_openapi():
    OpenAPI.from_dict(webex_contract.document())  # checks the document, as contract() leaves out


def test_exchanges_that_differ_in_ids_and_tracking_ids_only_share_a_shape():
    def fetched(message_id: str, room_id: str, tracking_id: str, text: str = "hi") -> dict:
        answer = {**MESSAGE, "id": message_id, "roomId": room_id, "text": text}
        exchange = _exchange("GET", f"/v1/messages/{message_id}", answer=answer)
        exchange["response_headers"]["TrackingID"] = tracking_id
        return exchange

    first, second = (fetched(new_id("MESSAGE"), new_id("ROOM"), f"SANDBOX_{uuid.uuid4()}") for _ in range(2))
    assert webex_contract._shape(first, strict_requests=True) == webex_contract._shape(second, strict_requests=True)
    other_text = fetched(new_id("MESSAGE"), new_id("ROOM"), f"SANDBOX_{uuid.uuid4()}", text="bye")
    assert webex_contract._shape(first, strict_requests=True) != webex_contract._shape(other_text, strict_requests=True)
    # One id in two places is another shape than two ids.
    same_room = fetched(same := new_id("MESSAGE"), same, f"SANDBOX_{uuid.uuid4()}")
    assert webex_contract._shape(first, strict_requests=True) != webex_contract._shape(same_room, strict_requests=True)


def test_a_good_exchange_passes():
    assert _problems(_exchange("POST", "/v1/messages", body={"roomId": "R", "text": "hi"}, answer=MESSAGE)) == []


def test_a_wrong_request_is_reported():
    # roomId must be a string; the answer is fine.
    [problem] = _problems(_exchange("POST", "/v1/messages", body={"roomId": 7, "text": "hi"}, answer=MESSAGE))
    assert problem.startswith("request:") and "roomId" in problem
    # A refused wrong request is what a sandbox test may send on purpose; the bot never may.
    refused = _exchange(
        "PUT",
        "/v1/webhooks/W",
        body={"name": "n", "targetUrl": "u", "status": "inactive"},
        status=400,
        answer={"message": "no", "errors": [{"description": "no"}], "trackingId": "SANDBOX_1"},
    )
    assert _problems(refused, strict_requests=False) == []
    assert [p.split(":")[0] for p in _problems(refused)] == ["request"]
    # Accepting it is the sandbox being more lenient than Webex.
    accepted = {**refused, "status": 200, "response_body": json.dumps({"id": "W", "status": "inactive"}).encode()}
    assert [p.split(":")[0] for p in _problems(accepted, strict_requests=False)] == ["request"]


def test_a_wrong_answer_is_reported():
    [problem] = _problems(_exchange("GET", "/v1/messages/M", answer={**MESSAGE, "roomType": "channel"}))
    assert problem.startswith("response:") and "channel" in problem
    # Errors have Webex's shape.
    [problem] = _problems(_exchange("GET", "/v1/messages/M", status=404, answer={"error": "not found"}))
    assert "message" in problem
    # Every answer carries a TrackingID.
    no_tracking = _exchange("GET", "/v1/messages/M", answer=MESSAGE)
    no_tracking["response_headers"] = {}
    [problem] = _problems(no_tracking)
    assert "TrackingID" in problem
    # A 429 tells when to retry.
    [problem] = _problems(
        _exchange("GET", "/v1/people/me", status=429, answer={"message": "slow", "errors": [], "trackingId": "T"})
    )
    assert "Retry-After" in problem


def test_the_fixture_reports_what_a_served_sandbox_answered_wrongly(server, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = state.post_message("anna@acme-logistics.example", room_id=room_id, text="hi")
    state.messages[sent["id"]]["roomType"] = "channel"  # the sandbox now answers what Webex never would
    reply = requests.get(
        f"{server.url}/v1/messages/{sent['id']}", headers={"Authorization": "Bearer sandbox-token-anna"}, timeout=10
    )
    assert reply.status_code == 200
    mismatches = webex_contract.end()  # what the autouse fixture does when the test ends
    assert [m.exchange.split(" → ")[0] for m in mismatches] == [f"GET /v1/messages/{sent['id']}"]
    assert "channel" in webex_contract.report(mismatches)


def test_unknown_paths_and_methods_need_only_be_refused(server):
    for reply in (
        requests.get(f"{server.url}/v1/nothing", headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10),
        requests.patch(f"{server.url}/v1/messages", headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10),
    ):
        assert reply.status_code in (404, 405)
    assert webex_contract.end() == []
    # A made-up path the sandbox answered 200 would not pass.
    assert _problems(_exchange("GET", "/v1/nothing", answer={"items": []}), strict_requests=False)


# Each correction: the official document refuses what Webex does, the corrected one accepts it.


def _uncorrected() -> OpenAPI:
    return OpenAPI.from_dict(json.loads(reduce_spec.REDUCED.read_text(encoding="utf-8")))


def _passes(openapi: OpenAPI, exchange: dict) -> bool:
    request, response = webex_contract._request(exchange), webex_contract._response(exchange)
    try:
        openapi.validate_request(request)
        openapi.validate_response(request, response)
    except Exception:
        return False
    return True


@pytest.mark.parametrize(
    "exchange",
    [
        pytest.param(
            _exchange(
                "POST",
                "/v1/messages",
                body={"roomId": "R", "text": "x", "attachments": [CARD]},
                answer={**MESSAGE, "attachments": [CARD]},
            ),
            id="card-attachment",
        ),
        pytest.param(
            _exchange(
                "POST",
                "/v1/webhooks",
                body={"name": "n", "targetUrl": "u", "resource": "messages", "event": "all"},
                answer={"id": "W", "event": "all"},
            ),
            id="event-all",
        ),
        pytest.param(
            _exchange(
                "POST",
                "/v1/attachment/actions",
                body={"type": "submit", "messageId": "M", "inputs": {}},
                answer={"id": "A", "type": "submit", "messageId": "M"},
            ),
            id="actions-200",
        ),
        pytest.param(
            _exchange(
                "POST",
                "/v1/messages",
                body=b'--b\r\nContent-Disposition: form-data; name="roomId"\r\n\r\nR\r\n'
                b'--b\r\nContent-Disposition: form-data; name="files"; filename="r.csv"\r\nContent-Type: text/csv\r\n\r\n'
                b"a;b\r\n--b--\r\n",
                content_type="multipart/form-data; boundary=b",
                answer={**MESSAGE, "files": ["https://webexapis.com/v1/contents/C"]},
            ),
            id="multipart-upload",
        ),
        pytest.param(
            _exchange(
                "GET",
                "/v1/contents/C",
                answer=b"a;b",
                answer_headers={"Content-Disposition": 'attachment; filename="r.csv"', "Content-Type": "text/csv"},
            ),
            id="contents",
        ),
        pytest.param(_exchange("DELETE", "/v1/messages/M", status=204), id="empty-204"),
    ],
)
def test_each_correction_is_needed_and_works(exchange):
    assert not _passes(_uncorrected(), exchange)
    assert _passes(webex_contract.contract(), exchange)
