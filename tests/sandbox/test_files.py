"""Files on messages: one per message, uploaded as multipart/form-data (the SDK's way for a local
file) or given as a URL the sandbox downloads; served at /v1/contents/{id} to members only, kept
between starts, and offered to the chat page for download."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask, Response
from webexpythonsdk import ApiError

from bot.serving import RunningServer, serve_in_thread
from sandbox import keeper
from sandbox import state as sandbox_state
from sandbox.demo import ACME_ROOM, ANNA_EMAIL, BOT_EMAIL, BOT_TOKEN, BRAM_EMAIL, token_for

CSV = b"organisation;tickets\nAcme;3\n"


def _status(call) -> int:
    with pytest.raises(ApiError) as exc:
        call()
    return exc.value.status_code


def _content_id(message) -> str:
    return message.files[0].rsplit("/", 1)[-1]


@pytest.fixture
def file_server() -> Iterator[RunningServer]:
    """A web server with a file to download, and one answer that is not a file."""
    app = Flask("files")

    @app.get("/report.csv")
    def report():
        return Response(CSV, mimetype="text/csv")

    @app.get("/missing.csv")
    def missing():
        return Response("gone", status=404)

    running = serve_in_thread(app)
    yield running
    running.stop()


def test_a_local_file_is_uploaded_as_multipart_and_served_to_members(tmp_path, server, api_for, bot_api, state):
    path = tmp_path / "report-2026-11.csv"
    path.write_bytes(CSV)
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = bot_api.messages.create(roomId=room_id, markdown="The month's report", files=[str(path)])
    [url] = sent.files
    assert url == f"{server.url}/v1/contents/{_content_id(sent)}"
    assert sent.text == "The month's report"
    reply = requests.get(url, headers={"Authorization": f"Bearer {token_for(ANNA_EMAIL)}"}, timeout=10)
    assert reply.status_code == 200 and reply.content == CSV
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert reply.headers["Content-Disposition"] == 'attachment; filename="report-2026-11.csv"'
    assert api_for(ANNA_EMAIL).messages.get(sent.id).files == [url]
    # Someone outside the space finds nothing.
    outsider = requests.get(url, headers={"Authorization": f"Bearer {token_for(BRAM_EMAIL)}"}, timeout=10)
    assert outsider.status_code == 404


def test_a_file_by_url_is_downloaded_and_a_file_may_come_without_text(server, file_server, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = bot_api.messages.create(roomId=room_id, files=[f"{file_server.url}/report.csv"])
    assert sent.text is None and sent.markdown is None
    reply = requests.get(sent.files[0], headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10)
    assert reply.content == CSV and reply.headers["Content-Disposition"] == 'attachment; filename="report.csv"'


def test_bad_files_are_refused_and_nothing_is_stored(tmp_path, server, file_server, bot_api, state):
    room_id = state.room_by_title(ACME_ROOM)["id"]
    auth = {"Authorization": f"Bearer {BOT_TOKEN}"}

    def post_json(files) -> int:
        return requests.post(
            f"{server.url}/v1/messages", json={"roomId": room_id, "text": "x", "files": files}, headers=auth, timeout=10
        ).status_code

    assert post_json([f"{file_server.url}/report.csv", f"{file_server.url}/report.csv"]) == 400
    assert post_json(["file:///etc/passwd"]) == 400
    assert post_json(["ftp://example.org/x.csv"]) == 400
    assert post_json([f"{file_server.url}/missing.csv"]) == 400
    assert post_json("https://example.org/x.csv") == 400
    assert post_json([]) == 400
    two = requests.post(
        f"{server.url}/v1/messages",
        data={"roomId": room_id},
        headers=auth,
        timeout=10,
        files=[("files", ("a.csv", CSV, "text/csv")), ("files", ("b.csv", CSV, "text/csv"))],
    )
    assert two.status_code == 400
    odd = requests.post(
        f"{server.url}/v1/messages",
        data={"roomId": room_id, "attachments": "[]"},
        headers=auth,
        timeout=10,
        files=[("files", ("a.csv", CSV, "text/csv"))],
    )
    assert odd.status_code == 400
    assert state.messages == {} and state.files == {}


def test_a_file_over_the_size_limit_is_refused(monkeypatch, tmp_path, bot_api, state):
    monkeypatch.setattr(sandbox_state, "MAX_FILE_BYTES", len(CSV) - 1)
    path = tmp_path / "big.csv"
    path.write_bytes(CSV)
    assert (
        _status(lambda: bot_api.messages.create(roomId=state.room_by_title(ACME_ROOM)["id"], files=[str(path)])) == 413
    )
    assert state.messages == {} and state.files == {}


def test_a_message_with_a_file_cannot_be_edited(tmp_path, bot_api, state):
    path = tmp_path / "r.csv"
    path.write_bytes(CSV)
    room_id = state.room_by_title(ACME_ROOM)["id"]
    sent = bot_api.messages.create(roomId=room_id, text="report", files=[str(path)])
    assert _status(lambda: bot_api.messages.update(sent.id, roomId=room_id, text="edited")) == 400
    assert bot_api.messages.get(sent.id).text == "report"


def test_a_bot_reads_no_file_of_a_group_message_it_may_not_read(tmp_path, server, api_for, bot_api, state):
    path = tmp_path / "private.txt"
    path.write_bytes(b"between us")
    sent = api_for(ANNA_EMAIL).messages.create(
        roomId=state.room_by_title(ACME_ROOM)["id"], text="no mention", files=[str(path)]
    )
    assert requests.get(sent.files[0], headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10).status_code == 404
    # Deleted with its message.
    api_for(ANNA_EMAIL).messages.delete(sent.id)
    assert (
        requests.get(
            sent.files[0], headers={"Authorization": f"Bearer {token_for(ANNA_EMAIL)}"}, timeout=10
        ).status_code
        == 404
    )


def test_the_page_offers_a_file_for_download_through_a_helper(tmp_path, server, bot_api, state):
    path = tmp_path / "Rapport é.csv"
    path.write_bytes(CSV)
    sent = bot_api.messages.create(roomId=state.room_by_title(ACME_ROOM)["id"], text="report", files=[str(path)])
    feed = requests.get(f"{server.url}/_sandbox/events", params={"since": 0, "timeout": 0}, timeout=10).json()
    [event] = [e for e in feed["events"] if e["message"]["id"] == sent.id]
    [offered] = event["message"]["sandboxFiles"]
    assert offered == {"url": f"/_sandbox/contents/{_content_id(sent)}", "name": "Rapport é.csv", "size": len(CSV)}
    download = requests.get(f"{server.url}{offered['url']}", timeout=10)
    assert download.content == CSV
    assert (
        download.headers["Content-Disposition"]
        == "attachment; filename=\"Rapport _.csv\"; filename*=UTF-8''Rapport%20%C3%A9.csv"
    )
    assert requests.get(f"{server.url}/_sandbox/contents/unknown", timeout=10).status_code == 404


def test_files_are_kept_between_starts(tmp_path, bot_api, state):
    path = tmp_path / "r.csv"
    path.write_bytes(CSV)
    sent = bot_api.messages.create(roomId=state.room_by_title(ACME_ROOM)["id"], text="report", files=[str(path)])
    kept = tmp_path / "sandbox.json"
    keeper.save(state, kept)
    again = keeper.load(kept)
    try:
        meta, data = again.visible_content(again.person_by_email(BOT_EMAIL)["id"], _content_id(sent))
        assert (meta["name"], data) == ("r.csv", CSV)
        assert again.messages[sent.id]["files"] == sent.files
    finally:
        again.close()
