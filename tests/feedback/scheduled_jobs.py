"""Job functions for scheduler tests, importable by textual reference like bot.jobs' are.

They run a real survey round (open_round + fan_out) against the database named in their kwargs and
record each send in SENT, standing in for Slack.
"""

from __future__ import annotations

import threading
import time

from feedback.db import Database
from feedback.scheduler import SendWindow, current_run_time
from feedback.surveys import Sent, fan_out, open_round, parse_survey

SENT: list[tuple[str, int]] = []
_lock = threading.Lock()

SURVEY = {
    "id": "pulse",
    "title": {"zh-CN": "满意度", "en": "Pulse"},
    "schedule": "0 10 * * fri",
    "questions": [{"id": "overall", "type": "satisfaction", "text": "总体满意度？"}],
}
ANY_TIME = SendWindow(tz="Asia/Shanghai", quiet_hours=None, working_days=frozenset(range(7)))


def _record(item) -> Sent:
    time.sleep(0.002)  # a Slack call takes time; widens any race between the two schedulers
    with _lock:
        SENT.append((item.slack_user_id, item.round_id))
    return Sent("D" + item.slack_user_id, f"{time.time():.6f}")


def send_round(db_url: str) -> None:
    db = Database(db_url)
    try:
        round_ = open_round(db, parse_survey(SURVEY), current_run_time(), ANY_TIME)
        fan_out(db, round_.id, _record, ANY_TIME)
    finally:
        db.dispose()
