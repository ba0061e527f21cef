"""The scheduled ticket jobs, called directly (the scheduler only decides when)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.ticket_messages import close_stale_tickets, send_sla_reminders
from feedback.tickets import Ticket, assign, create_ticket, set_status, set_triage_message


@pytest.fixture
def slack_overrides():
    return {"TRIAGE_CHANNEL": "C0TRIAGE", "TICKET_WAITING_CLOSE_DAYS": 3}


def test_overdue_reminder_to_assignee_once_and_stale_waiting_closed_with_notice(slack_services, fake_slack):
    db = slack_services.db
    with db.begin() as s:
        urgent = create_ticket(s, reporter="U1", description="无法登录 ERP", priority="urgent").ticket
        waiting = create_ticket(s, reporter="U2", description="报表数字不对").ticket
        assign(s, urgent.id, "U_SUP", "U_SUP")
        set_triage_message(s, urgent.id, "C0TRIAGE", "1700.5")
        set_status(s, waiting.id, "waiting_on_reporter", "U_SUP")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    assert send_sla_reminders(slack_services, later) == 1
    assert send_sla_reminders(slack_services, later + dt.timedelta(hours=1)) == 0  # not twice a day
    [dm] = [c for c in fake_slack.calls("chat.postMessage") if c.args["channel"] != "C0TRIAGE"]
    assert "ERP-1" in dm.text and "4" in dm.text
    flagged = fake_slack.calls("chat.update")[-1]
    assert flagged.args["ts"] == "1700.5" and ":alarm_clock:" in flagged.text

    assert close_stale_tickets(slack_services, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == 0
    assert close_stale_tickets(slack_services, dt.datetime.now(dt.UTC) + dt.timedelta(days=4)) == 1
    notice = fake_slack.calls("chat.postMessage")[-1]
    assert "ERP-2" in notice.text and "3" in notice.text
    with db.begin() as s:
        assert s.get(Ticket, waiting.id).status == "closed"


def test_the_scheduled_job_functions_send_reminders_and_close_stale_tickets(slack_services, fake_slack):
    """What APScheduler runs: the registered references `bot.jobs:...`, bound to the services."""
    from apscheduler.util import ref_to_obj

    from bot import jobs

    db = slack_services.db
    with db.begin() as s:
        late = create_ticket(s, reporter="U1", description="采购订单无法确认", priority="urgent").ticket
        assign(s, late.id, "U_SUP", "U_SUP")
        waiting = create_ticket(s, reporter="U2", description="报表数字不对").ticket
        set_status(s, waiting.id, "waiting_on_reporter", "U_SUP")
    with db.begin() as s:  # as if the clock had moved on: 6 h past the 4 h SLA, 4 days without a reply
        s.get(Ticket, late.id).created_at -= dt.timedelta(hours=6)
        s.get(Ticket, waiting.id).status_changed_at -= dt.timedelta(days=4)
    specs = {job_id: ref for job_id, ref, _trigger, _kw in jobs.job_specs(slack_services)}
    jobs.bind(slack_services)
    try:
        assert ref_to_obj(specs[jobs.TICKET_SLA_JOB])() == 1
        assert ref_to_obj(specs[jobs.TICKET_STALE_JOB])() == 1
        assert ref_to_obj(specs[jobs.TICKET_SLA_JOB])() == 0  # one reminder a day, not every 15 minutes
    finally:
        jobs._binding.clear()
    dms = [c for c in fake_slack.calls("chat.postMessage") if c.args["channel"] != "C0TRIAGE"]
    assert any("ERP-1" in c.text for c in dms) and any("ERP-2" in c.text for c in dms)
    with db.begin() as s:
        assert s.get(Ticket, waiting.id).status == "closed"
