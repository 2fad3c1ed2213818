"""The blueprints read the state of the app that serves the request, so two sandboxes in one process stay apart."""

from __future__ import annotations

from sandbox.api import create_sandbox_app
from sandbox.demo import build_demo_state


def test_two_sandboxes_in_one_process_each_answer_from_their_own_state():
    first, second = build_demo_state(bot_token="first-token"), build_demo_state(bot_token="second-token")
    try:
        one, two = create_sandbox_app(first).test_client(), create_sandbox_app(second).test_client()
        me_one = one.get("/v1/people/me", headers={"Authorization": "Bearer first-token"})
        me_two = two.get("/v1/people/me", headers={"Authorization": "Bearer second-token"})
        assert me_one.status_code == me_two.status_code == 200
        assert me_one.json["id"] in first.people and me_two.json["id"] in second.people
        assert one.get("/v1/people/me", headers={"Authorization": "Bearer second-token"}).status_code == 401
        assert [r["path"] for r in first.requests] == ["/v1/people/me", "/v1/people/me"]
        assert [r["path"] for r in second.requests] == ["/v1/people/me"]
    finally:
        first.close()
        second.close()
