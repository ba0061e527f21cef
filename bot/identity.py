"""Who is asking: role and language from our database, Slack's profile (locale, time zone) and user groups."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import language_of
from feedback.db import Database
from feedback.people import ensure_user, get_user

log = logging.getLogger("erp_coach.identity")
PROFILE_TTL = 24 * 3600.0  # refresh locale / time zone from Slack once a day per user
GROUP_TTL = 600.0  # user group membership is re-read every 10 minutes


@dataclass(frozen=True)
class Person:
    user_id: str
    role: str | None  # a known role, or None = general answers
    lang: str  # "zh-CN" | "en": the override, else the Slack locale
    language_override: str | None
    slack_locale: str | None
    tz: str | None
    is_admin: bool


class Directory:
    """Resolves Slack user ids to `Person`s; safe to share between threads."""

    def __init__(
        self,
        db: Database,
        *,
        roles: list[str],
        admins: list[str],
        usergroup_roles: dict[str, str],
    ) -> None:
        self.db = db
        self.roles = list(roles)
        self.admins = set(admins)
        self.usergroup_roles = dict(usergroup_roles)
        self._lock = threading.Lock()
        self._profile_fetched: dict[str, float] = {}
        self._slack_admins: set[str] = set()
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    def person(self, user_id: str, client: WebClient | None = None, *, quick: bool = False) -> Person:
        """The person, refreshing their Slack profile (users.info, include_locale) when stale. `quick`
        (before an ack): that one call at most; the role from user groups waits for a later lookup."""
        if client is not None and self._profile_stale(user_id):
            self._refresh_profile(user_id, client)
        with self.db.begin() as session:
            user = get_user(session, user_id)
            role = user.role if user else None
            if role is None and client is not None and self.usergroup_roles and not quick:
                role = self._role_from_groups(user_id, client)
                if role is not None:
                    # Fill in the group's role so digests and surveys see it; an admin's choice is never overwritten.
                    user = ensure_user(session, user_id)
                    user.role = role
            override = user.language_override if user else None
            locale = user.slack_locale if user else None
            tz = user.tz if user else None
        if role is not None and role not in self.roles:
            role = None  # a role removed from ROLES: general answers
        return Person(
            user_id=user_id,
            role=role,
            lang=language_of(override or locale),
            language_override=override,
            slack_locale=locale,
            tz=tz,
            is_admin=role == "admin" or user_id in self.admins or user_id in self._slack_admins,
        )

    def _profile_stale(self, user_id: str) -> bool:
        with self._lock:
            fetched = self._profile_fetched.get(user_id)
        return fetched is None or time.monotonic() - fetched > PROFILE_TTL

    def _refresh_profile(self, user_id: str, client: WebClient) -> None:
        try:
            info = client.users_info(user=user_id, include_locale=True)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return
        except OSError as exc:  # a timeout or a dropped connection: the stored profile will do
            log.warning("users.info failed for %s: %s", user_id, exc)
            return
        profile = info.get("profile") or {}
        with self.db.begin() as session:
            ensure_user(
                session,
                user_id,
                slack_locale=info.get("locale"),
                tz=info.get("tz"),
                display_name=(
                    profile.get("display_name") or info.get("real_name") or info.get("name") or None
                ),
            )
        with self._lock:
            self._profile_fetched[user_id] = time.monotonic()
            if info.get("is_admin") or info.get("is_owner"):
                self._slack_admins.add(user_id)
            else:
                self._slack_admins.discard(user_id)

    def _role_from_groups(self, user_id: str, client: WebClient) -> str | None:
        for group_id, role in self.usergroup_roles.items():
            if user_id in self._members(group_id, client):
                return role
        return None

    def _members(self, group_id: str, client: WebClient) -> frozenset[str]:
        with self._lock:
            cached = self._groups.get(group_id)
        if cached and time.monotonic() - cached[0] < GROUP_TTL:
            return cached[1]
        try:
            members = frozenset(client.usergroups_users_list(usergroup=group_id).get("users") or [])
        except (SlackApiError, OSError) as exc:
            # Not cached: an empty list kept for GROUP_TTL would take everyone's role away meanwhile.
            log.warning("usergroups.users.list failed for %s: %s", group_id, exc)
            return cached[1] if cached else frozenset()
        with self._lock:
            self._groups[group_id] = (time.monotonic(), members)
        return members
