"""Each person's Slack do-not-disturb, for the scheduled DMs (the `dnd` of `SendWindow`).

`dnd.teamInfo` answers for up to 50 people a call at Tier 2 (about 20 calls a minute), and the jobs ask
about everyone still pending on every tick, so each person's next do-not-disturb period is kept for a few
minutes: it says when it starts and ends, so the cached answer stays right until the person changes it.
Without the `dnd:read` scope (an app installed before it was added) the check is switched off, with one
warning in the log, and DMs go out as they did before.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("erp_coach.dnd")

BATCH = 50  # users per dnd.teamInfo call (Slack's limit)
# Errors that say this app may not read do-not-disturb at all: asking again would not help.
_NOT_ALLOWED = {"missing_scope", "not_allowed_token_type", "no_permission", "invalid_auth", "not_authed"}


class SlackDnd:
    def __init__(
        self, client: Callable[[], WebClient], ttl: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._periods: dict[str, tuple[float, float, float]] = {}  # user -> (fetched, start, end) in epoch s
        self._off: str | None = None  # why the check is switched off
        self._lock = threading.Lock()

    def __call__(self, user_ids: Sequence[str], moment: dt.datetime) -> set[str]:
        if self._off:
            return set()
        now = self._clock()
        with self._lock:
            stale = [u for u in user_ids if u not in self._periods or now - self._periods[u][0] >= self._ttl]
        for start in range(0, len(stale), BATCH):
            if not self._fetch(stale[start : start + BATCH], now):
                break
        at = moment.timestamp()
        with self._lock:
            periods = {u: self._periods.get(u) for u in user_ids}
        return {u for u, p in periods.items() if p is not None and p[1] <= at < p[2]}

    def _fetch(self, users: list[str], now: float) -> bool:
        try:
            response = self._client().dnd_teamInfo(users=",".join(users))
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            if error in _NOT_ALLOWED:
                self._off = error
                log.warning(
                    "do-not-disturb is not checked before scheduled DMs: Slack says %s "
                    "(add the dnd:read scope and reinstall the app)",
                    error,
                )
            else:  # these people count as reachable until a later tick asks again
                log.warning("dnd.teamInfo failed (%s); sending without it this time", error or exc)
            return False
        except OSError as exc:  # the request did not get through
            log.warning("dnd.teamInfo failed (%s); sending without it this time", exc)
            return False
        answered = response.get("users") or {}
        with self._lock:
            for user in users:  # someone Slack leaves out (not visible to the app) counts as reachable
                info = answered.get(user)
                period = (0.0, 0.0)
                if isinstance(info, dict) and info.get("dnd_enabled"):
                    period = (_ts(info.get("next_dnd_start_ts")), _ts(info.get("next_dnd_end_ts")))
                self._periods[user] = (now, *period)
        return True


def _ts(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
