"""People, rooms and memberships of the sandbox's Webex, with Webex's rules for each."""

from __future__ import annotations

from typing import Any

from sandbox.core import StateCore
from sandbox.ids import membership_id, new_id
from sandbox.problems import NOT_FOUND, ApiProblem


class Spaces(StateCore):
    """Who exists, which spaces there are, and who is in which."""

    def org(self, name: str) -> str:
        """The id of a named organisation, created on first use."""
        with self.lock:
            return self.orgs.setdefault(name, new_id("ORGANIZATION"))

    def add_person(
        self, email: str, display_name: str, *, bot: bool = False, token: str | None = None, org: str | None = None
    ) -> dict[str, Any]:
        """Create a person (or bot) with an optional API token, in the named org (default: the sandbox's own)."""
        first, _, last = display_name.partition(" ")
        person: dict[str, Any] = {
            "id": new_id("PEOPLE"),
            "emails": [email.lower()],
            "displayName": display_name,
            "nickName": first,
            "firstName": first,
            "lastName": last,
            "orgId": self.org(org) if org else self.org_id,
            "type": "bot" if bot else "person",
            "created": self.stamp(),
        }
        with self.lock:
            if self.person_by_email(email) is not None:
                raise ApiProblem(409, f"A person with email {email} exists already")
            self.people[person["id"]] = person
            if token:
                self.tokens[token] = person["id"]
        return person

    def person_by_email(self, email: str) -> dict[str, Any] | None:
        """A person by email, case-insensitive."""
        email = email.lower()
        with self.lock:
            return next((p for p in self.people.values() if email in p["emails"]), None)

    def person_by_token(self, token: str) -> dict[str, Any] | None:
        """The person a token belongs to (None for an unknown or revoked token)."""
        with self.lock:
            if token in self.revoked:
                return None
            person_id = self.tokens.get(token)
            return self.people.get(person_id) if person_id else None

    def revoke_token(self, token: str) -> None:
        """From now on every call with `token` answers 401, as when Webex revokes a bot's token."""
        with self.lock:
            if token not in self.tokens:
                raise KeyError(token)
            self.revoked.add(token)

    def restore_token(self, token: str) -> None:
        """Let a revoked token work again."""
        with self.lock:
            self.revoked.discard(token)

    def _person(self, email: str) -> dict[str, Any]:
        person = self.person_by_email(email)
        if person is None:
            raise ApiProblem(404, f"No person with email {email}")
        return person

    def add_room(
        self, title: str, members: list[str], *, creator_email: str, room_type: str = "group"
    ) -> dict[str, Any]:
        """Create a room with members (by email); each membership is announced to webhooks."""
        creator = self._person(creator_email)
        room = {
            "id": new_id("ROOM"),
            "title": title,
            "type": room_type,
            "isLocked": False,
            "lastActivity": self.stamp(),
            "created": self.stamp(),
            "creatorId": creator["id"],
        }
        with self.lock:
            self.rooms[room["id"]] = room
            for email in dict.fromkeys([creator_email, *members]):
                self.add_member(room["id"], email, actor_email=creator_email)
        return room

    def add_member(
        self, room_id: str, email: str, *, actor_email: str | None = None, moderator: bool = False
    ) -> dict[str, Any]:
        """Add a person to a room (idempotent); `actor_email` is who added them. The membership's
        id is derived from person and room, so the same person joining again gets the same id."""
        person = self._person(email)
        actor = self._person(actor_email) if actor_email else person
        with self.lock:
            if room_id not in self.rooms:
                raise ApiProblem(404, NOT_FOUND)
            existing = self.memberships.get(membership_id(person["id"], room_id))
            if existing:
                return existing
            membership = {
                "id": membership_id(person["id"], room_id),
                "roomId": room_id,
                "roomType": self.rooms[room_id]["type"],
                "personId": person["id"],
                "personEmail": person["emails"][0],
                "personDisplayName": person["displayName"],
                "personOrgId": person["orgId"],
                "isModerator": moderator,
                "isMonitor": False,
                "created": self.stamp(),
            }
            self.memberships[membership["id"]] = membership
            self.revision += 1
            self.delivery.membership_created(membership, actor_id=actor["id"])
            return membership

    def remove_member(self, room_id: str, email: str, *, actor_email: str | None = None) -> dict[str, Any]:
        """Take a person out of a room (they left, or `actor_email` removed them); webhook owners
        in the room and the removed person hear memberships/deleted. Returns the membership that was."""
        person = self._person(email)
        actor = self._person(actor_email) if actor_email else person
        with self.lock:
            membership = self.memberships.get(membership_id(person["id"], room_id))
            if membership is None:
                raise ApiProblem(404, NOT_FOUND)
            audience = set(self.members(room_id))
            del self.memberships[membership["id"]]
            self.revision += 1
            self.delivery.membership_deleted(membership, actor_id=actor["id"], audience=audience)
            return dict(membership)

    def membership_of(self, room_id: str, person_id: str) -> dict[str, Any] | None:
        """A person's membership of a room, if any."""
        with self.lock:
            return self.memberships.get(membership_id(person_id, room_id))

    def set_moderator(self, room_id: str, email: str, moderator: bool = True) -> dict[str, Any]:
        """Make a member a moderator of the room (or not)."""
        person = self._person(email)
        with self.lock:
            membership = self.membership_of(room_id, person["id"])
            if membership is None:
                raise ApiProblem(404, NOT_FOUND)
            membership["isModerator"] = moderator
            self.revision += 1
            return dict(membership)

    def set_announcement_only(self, room_id: str, announcement_only: bool = True) -> dict[str, Any]:
        """Make a group room announcement-only: from then on only its moderators may post."""
        with self.lock:
            room = self.rooms.get(room_id)
            if room is None or room["type"] != "group":
                raise ApiProblem(404, NOT_FOUND)
            if announcement_only:
                room["isAnnouncementOnly"] = True
            else:
                room.pop("isAnnouncementOnly", None)
            self.revision += 1
            return dict(room)

    def visible_membership(self, person_id: str, membership_id_: str) -> dict[str, Any]:
        """A membership of a room the person is in, or 404."""
        with self.lock:
            membership = self.memberships.get(membership_id_)
            if membership is None or not self.is_member(membership["roomId"], person_id):
                raise ApiProblem(404, NOT_FOUND)
            return dict(membership)

    def delete_membership(self, as_email: str, membership_id_: str) -> dict[str, Any]:
        """DELETE /memberships/{id}: a member leaves, or removes someone; in a space with
        moderators only a moderator removes others; nobody leaves a 1:1 space."""
        caller = self._person(as_email)
        with self.lock:
            membership = self.visible_membership(caller["id"], membership_id_)
            if membership["roomType"] == "direct":
                raise ApiProblem(403, "A member cannot be removed from a 1:1 space.")
            if membership["personId"] != caller["id"]:
                moderated = any(
                    m["isModerator"] for m in self.memberships.values() if m["roomId"] == membership["roomId"]
                )
                mine = self.membership_of(membership["roomId"], caller["id"])
                if moderated and not (mine and mine["isModerator"]):
                    raise ApiProblem(403, "Only a moderator can remove members from this space.")
            return self.remove_member(membership["roomId"], membership["personEmail"], actor_email=as_email)

    def members(self, room_id: str) -> list[str]:
        """Person ids of a room's members."""
        with self.lock:
            return [m["personId"] for m in self.memberships.values() if m["roomId"] == room_id]

    def is_member(self, room_id: str, person_id: str) -> bool:
        """Whether a person belongs to a room."""
        with self.lock:
            return membership_id(person_id, room_id) in self.memberships

    def room_by_title(self, title: str) -> dict[str, Any]:
        """A room by its exact title."""
        with self.lock:
            room = next((r for r in self.rooms.values() if r["title"] == title), None)
        if room is None:
            raise KeyError(title)
        return room

    def direct_room(self, email_a: str, email_b: str) -> dict[str, Any]:
        """The 1:1 room of two people, created when missing."""
        a, b = self._person(email_a), self._person(email_b)
        with self.lock:
            for room in self.rooms.values():
                if room["type"] == "direct" and set(self.members(room["id"])) == {a["id"], b["id"]}:
                    return room
            return self.add_room(b["displayName"], [email_b], creator_email=email_a, room_type="direct")

    def directory(self) -> dict[str, Any]:
        """The bot, the people (with their demo role and organisation) and every room, for the chat page."""
        with self.lock:
            org_names = {org_id: name for name, org_id in self.orgs.items()}
            bots = [p for p in self.people.values() if p["type"] == "bot"]
            humans = [p for p in self.people.values() if p["type"] != "bot"]

            def entry(person: dict[str, Any]) -> dict[str, Any]:
                email = person["emails"][0]
                return {
                    "id": person["id"],
                    "email": email,
                    "displayName": person["displayName"],
                    "type": person["type"],
                    "org": org_names.get(person["orgId"]),
                    "role": self.roles.get(email, "person"),
                }

            rooms = []
            for room in sorted(self.rooms.values(), key=lambda r: r["created"]):
                members = [self.people[m]["emails"][0] for m in self.members(room["id"])]
                if room["type"] == "direct":
                    kind = "direct"
                else:
                    kind = "customer" if any(self.roles.get(e) == "customer" for e in members) else "staff"
                rooms.append(
                    {"id": room["id"], "title": room["title"], "type": room["type"], "kind": kind, "members": members}
                )
            return {"bot": entry(bots[0]) if bots else None, "people": [entry(p) for p in humans], "rooms": rooms}
