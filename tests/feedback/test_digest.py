"""The manager digest: numbers, trend, anonymity threshold, ticket numbers, and CJK charts."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from PIL import Image
from sqlalchemy import select

from bot.views.digest import chart_labels, digest_blocks, digest_text
from feedback import tickets
from feedback.digest import MIN_GROUP, build_digest, cjk_font_path, nps_score, previous_week, render_charts
from feedback.people import ensure_user
from feedback.questions import QuestionLog, log_question, rate_answer
from feedback.scheduler import SendWindow
from feedback.surveys import Sent, fan_out, open_round, parse_survey, submit_response
from feedback.training import assign_plan, mark_done, pending_trainings

ANY_TIME = SendWindow(quiet_hours=None, working_days=frozenset(range(7)))
WEEK = dt.timedelta(days=7)
SINCE = dt.datetime(2026, 11, 15, 16, 0, tzinfo=dt.UTC)  # Monday 16 Nov 00:00 in Shanghai
UNTIL = SINCE + WEEK

SURVEY = {
    "id": "pulse",
    "title": {"zh-CN": "ERP 满意度", "en": "ERP pulse"},
    "schedule": "0 10 * * fri",
    "window": "5d",
    "questions": [
        {"id": "overall", "type": "satisfaction", "text": "总体满意度？"},
        {"id": "nps", "type": "nps", "text": "推荐意愿？"},
        {
            "id": "modules",
            "type": "module_rating",
            "text": "模块",
            "modules": [{"id": "inventory", "label": {"zh-CN": "库存", "en": "Inventory"}}],
        },
    ],
}


def _round(db, start, answers_by_role):
    """A round opened at `start`, sent to everyone listed, answered as given: {role: [(sat, nps), ...]}."""
    with db.begin() as session:
        for role, answers in answers_by_role.items():
            for i in range(len(answers) + 1):  # one more person than answers: a non-responder
                ensure_user(session, f"U{role}{i}", role=role)
    survey = parse_survey({**SURVEY, "audience": list(answers_by_role)})
    round_ = open_round(db, survey, start, ANY_TIME, now=start)
    fan_out(db, round_.id, lambda item: Sent("D", "1"), ANY_TIME, now=lambda: start)
    for role, answers in answers_by_role.items():
        for i, (sat, nps) in enumerate(answers):
            submit_response(
                db,
                round_.id,
                f"U{role}{i}",
                {"overall": sat, "nps": nps, "modules": {"inventory": sat}},
                now=start + dt.timedelta(hours=1),
            )
    return round_


@pytest.fixture
def seeded(db):
    # Previous week: 5 answers, satisfaction mean 3.0
    _round(db, SINCE - WEEK + dt.timedelta(days=4), {"finance": [(3, 7), (3, 7), (3, 8), (3, 9), (3, 6)]})
    # This week: finance 6 answers, warehouse 3 answers (too few for their own breakdown)
    _round(
        db,
        SINCE + dt.timedelta(days=4),
        {
            "finance": [(4, 9), (5, 10), (4, 9), (4, 8), (3, 6), (4, 9)],
            "warehouse": [(2, 3), (5, 10), (4, 7)],
        },
    )
    with db.begin() as session:
        at = SINCE + dt.timedelta(days=1)
        src = [{"source": "inventory/批次.md", "title": "批次管理", "heading": "批次号", "score": 0.8}]
        for i in range(8):
            q = log_question(
                session,
                slack_user_id="Ufinance0",
                role="finance",
                lang="zh-CN",
                question=f"问题{i}",
                top_sources=src,
                answered=i < 6,
                latency_ms=5.0,
                created_at=at,
            )
            if i < 4:
                rate_answer(session, q.id, 1 if i < 3 else -1)
        for uid in ("Ufinance0", "Ufinance1"):
            assign_plan(session, _catalog(), uid, "finance", now=SINCE)
        mark_done(session, "Ufinance0", pending_trainings(session, "Ufinance0", now=SINCE)[0].assignment_id)
    return db


def _catalog():

    from feedback.training import TrainingCatalog

    return TrainingCatalog(Path(__file__).resolve().parents[2] / "feedback" / "examples" / "training.yaml")


def test_nps_score():
    assert nps_score([10, 9, 8, 7, 6, 0]) == round(100 * (2 - 2) / 6, 1)
    assert nps_score([10, 10, 9, 3]) == 50.0
    assert nps_score([]) is None


def test_digest_numbers_trend_and_anonymity(seeded):
    with seeded.begin() as session:
        digest = build_digest(session, SINCE, UNTIL, now=UNTIL)
    [pulse] = digest.surveys
    assert (pulse.invited, pulse.respondents) == (11, 9)
    assert pulse.satisfaction == round((4 + 5 + 4 + 4 + 3 + 4 + 2 + 5 + 4) / 9, 2)
    assert pulse.nps == nps_score([9, 10, 9, 8, 6, 9, 3, 10, 7])
    assert pulse.previous_satisfaction == 3.0
    # Warehouse (3 answers) is hidden, and so is finance: with it and the overall mean shown, the
    # warehouse mean would be (9 x overall - 6 x finance) / 3.
    assert pulse.by_role == {}
    assert pulse.modules == {"inventory": pulse.satisfaction}
    assert (digest.bot.questions, digest.bot.answered, digest.bot.rated, digest.bot.helpful) == (8, 6, 4, 3)
    assert digest.top_topics == [("批次号", 6)]
    assert digest.unanswered == ["问题6", "问题7"]
    assert (digest.tickets.opened, digest.tickets.resolved, digest.tickets.median_hours_to_resolve) == (
        0,
        0,
        None,
    )
    [finance] = digest.training
    assert (finance.assigned, finance.completed) == (4, 1)
    assert [p.satisfaction for p in digest.trend][-2:] == [3.0, pulse.satisfaction]


def test_small_groups_are_hidden_everywhere(db):
    _round(db, SINCE + dt.timedelta(days=1), {"finance": [(1, 0)] * (MIN_GROUP - 1)})
    with db.begin() as session:
        digest = build_digest(session, SINCE, UNTIL)
    [s] = digest.surveys
    assert (s.respondents, s.satisfaction, s.nps, s.modules, s.by_role) == (MIN_GROUP - 1, None, None, {}, {})
    text = digest_text(digest, "zh-CN", "Asia/Shanghai")
    assert "已隐藏（回答少于 5 人）" in text
    assert "1/5" not in text.replace("4/5", "")  # no score leaks
    charts = render_charts(digest, chart_labels("zh-CN"))
    assert "modules.png" not in charts
    numbers = json.loads(Image.open(io.BytesIO(charts["trend.png"])).info["Description"])
    assert all(point["satisfaction"] is None for point in numbers["trend"])


def test_digest_text_in_the_managers_language(seeded):
    with seeded.begin() as session:
        digest = build_digest(session, SINCE, UNTIL)
    zh = digest_text(digest, "zh-CN", "Asia/Shanghai")
    en = digest_text(digest, "en", "Asia/Shanghai")
    assert "2026-11-16 至 2026-11-22" in zh and "ERP 满意度" in zh and "9/11" in zh
    assert "▲ 比上期高 0.89" in zh
    assert "0 opened, 0 resolved, median time to resolve n/a" in en and "ERP pulse" in en
    blocks = digest_blocks(digest, "en", "Asia/Shanghai")
    from slack_sdk.models.blocks import Block

    for block in blocks:
        Block.parse(block).validate_json()
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_charts_are_real_pngs_with_the_expected_numbers_and_chinese_glyphs(seeded, tmp_path):
    with seeded.begin() as session:
        digest = build_digest(session, SINCE, UNTIL)
    labels = chart_labels("zh-CN")
    charts = render_charts(digest, labels)
    assert set(charts) == {"trend.png", "training.png", "modules.png"}
    for name, png in charts.items():
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size[0] > 500 and image.size[1] > 100
        (tmp_path / name).write_bytes(png)
    trend = json.loads(Image.open(io.BytesIO(charts["trend.png"])).info["Description"])["trend"]
    assert trend[-1]["satisfaction"] == digest.surveys[0].satisfaction
    training = json.loads(Image.open(io.BytesIO(charts["training.png"])).info["Description"])["training"]
    assert training[0]["role"] == "finance" and training[0]["rate"] == 0.25
    modules = json.loads(Image.open(io.BytesIO(charts["modules.png"])).info["Description"])["modules"]
    assert modules == {"库存": digest.surveys[0].satisfaction}

    # No tofu: matplotlib resolves our family to the bundled Noto Sans SC, which has every glyph we draw.
    path = cjk_font_path()
    family = font_manager.FontProperties(fname=str(path)).get_name()
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert Path(str(found)).resolve() == path.resolve()
    cmap = TTFont(str(path), fontNumber=0, lazy=True).getBestCmap()
    drawn = "".join(getattr(labels, f) for f in labels.__dataclass_fields__ if f != "lang") + "库存"
    missing = {ch for ch in drawn if not ch.isspace() and ord(ch) not in cmap}
    assert not missing


def test_previous_week_is_the_last_full_week_in_the_company_zone():
    monday_9am = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai
    assert previous_week(monday_9am, "Asia/Shanghai") == (SINCE, UNTIL)


def test_ticket_numbers_come_from_the_tickets_tables(db):
    with db.begin() as session:
        for uid in ("UREP", "USUP"):
            ensure_user(session, uid, role="support")
    inside = SINCE + dt.timedelta(days=1)
    with db.begin() as session:
        made = [
            tickets.create_ticket(
                session, reporter="UREP", description=f"无法过账发票 {i}", priority="urgent"
            )
            for i in range(3)
        ]
        ids_ = [m.ticket.id for m in made]
        for t in session.scalars(select(tickets.Ticket)):
            t.created_at = inside
        for tid, hours in zip(ids_[:2], (2, 6), strict=True):
            tickets.resolve_ticket(
                session,
                tid,
                "已修复权限",
                "USUP",
                now=inside + dt.timedelta(hours=hours),
                csat_cooldown_days=0,
            )
        tickets.rate_ticket(session, ids_[0], "UREP", 4, now=inside + dt.timedelta(hours=3))
    with db.begin() as session:
        digest = build_digest(session, SINCE, UNTIL, now=UNTIL, ticket_sla_hours={"urgent": 4.0})
    tk = digest.tickets
    assert (tk.opened, tk.resolved, tk.median_hours_to_resolve, tk.overdue) == (3, 2, 4.0, 1)
    assert (tk.csat_ratings, tk.csat_satisfied, tk.csat_asked, tk.csat_answered) == (1, None, 2, 1)
    text = digest_text(digest, "en", "Asia/Shanghai")
    assert "3 opened, 2 resolved, median time to resolve 4.0 h, 1 overdue" in text
    # One rating: below the anonymity threshold, hidden with the surveys' words; the counts stay.
    assert "Satisfaction after a ticket: hidden (fewer than 5 answers) (1 ratings)" in text
    assert "response rate 50% (1 of 2 asked)" in text and "100%" not in text


def _rated_week(db, ratings: list[int], unrated: int, *, before: list[int] = ()) -> None:
    """Tickets resolved in the digest's week, one reporter each, rated as given; `unrated` more were
    asked and not answered; `before` were asked the week before and rated in this one."""
    inside = SINCE + dt.timedelta(days=2)
    plan = [(inside, inside + dt.timedelta(hours=5), r) for r in ratings]
    plan += [(inside, None, None)] * unrated
    plan += [(SINCE - dt.timedelta(days=2), inside, r) for r in before]
    with db.begin() as session:
        for i, (asked, rated, value) in enumerate(plan):
            reporter = f"UREP{i}"
            tid = tickets.create_ticket(
                session, reporter=reporter, description=f"凭证 {i} 无法审核"
            ).ticket.id
            tickets.resolve_ticket(session, tid, "已开通审核权限。", "USUP", now=asked)
            if rated is not None:
                tickets.rate_ticket(session, tid, reporter, value, now=rated)


def test_ticket_csat_share_of_four_and_five_ratings_and_response_rate(db):
    _rated_week(db, [5, 5, 4, 3, 1], unrated=3, before=[4])
    with db.begin() as session:
        digest = build_digest(session, SINCE, UNTIL, now=UNTIL)
    tk = digest.tickets
    # Ratings given this week: 5, 5, 4, 3, 1 and last week's ask rated now (4): 4 of 6 are 4-5.
    assert (tk.csat_ratings, tk.csat_satisfied) == (6, round(4 / 6, 4))
    # Asked this week: 8, of which 5 answered (last week's ask counts in last week's response rate).
    assert (tk.csat_asked, tk.csat_answered, tk.csat_response_rate) == (8, 5, 5 / 8)
    assert digest.numbers()["tickets"]["csat_response_rate"] == 0.625
    zh = digest_text(digest, "zh-CN", "Asia/Shanghai")
    en = digest_text(digest, "en", "Asia/Shanghai")
    assert "工单满意度：67% 评为 4–5 分（6 个评分）；回复率 62%（邀请 8 次，已评 5 次）" in zh
    assert "Satisfaction after a ticket: 67% rated 4–5 (6 ratings); response rate 62% (5 of 8 asked)" in en


def test_ticket_csat_below_the_minimum_group_is_hidden_like_surveys(db):
    _rated_week(db, [1] * (MIN_GROUP - 1), unrated=1)
    with db.begin() as session:
        digest = build_digest(session, SINCE, UNTIL, now=UNTIL)
    assert (digest.tickets.csat_ratings, digest.tickets.csat_satisfied) == (MIN_GROUP - 1, None)
    zh = digest_text(digest, "zh-CN", "Asia/Shanghai")
    assert "工单满意度：已隐藏（回答少于 5 人）（4 个评分）；回复率 80%（邀请 5 次，已评 4 次）" in zh
    assert "0%" not in zh.split("工单满意度")[1].split("回复率")[0]  # no share leaks


def _questions(db, where: list[tuple[str, str | None, bool, int | None]], at=SINCE + dt.timedelta(days=2)):
    """One logged question per (surface, channel_id, answered, rating)."""
    with db.begin() as session:
        ensure_user(session, "Uwh", role="warehouse")
        for i, (surface, channel, answered, rating) in enumerate(where):
            q = log_question(
                session,
                slack_user_id="Uwh",
                role="warehouse",
                lang="zh-CN",
                question=f"收货问题{i}",
                top_sources=[],
                answered=answered,
                latency_ms=5.0,
                surface=surface,
                channel_id=channel,
                created_at=at,
            )
            if rating is not None:
                rate_answer(session, q.id, rating)


def test_questions_by_channel_with_private_ones_on_one_line(db):
    _questions(
        db,
        [("mention", "C0WH", True, 1)] * 3
        + [("channel", "C0WH", False, None)]
        + [("slash", "C0FIN", True, -1)] * 2
        + [("dm", "D0U1", True, 1), ("slash", "D0U1", False, None), ("modal", None, True, None)]
        + [("mention", "C0WH", True, None)],  # last week's: not in this digest
    )
    with db.begin() as session:
        session.execute(
            QuestionLog.__table__.update()
            .where(QuestionLog.question == "收货问题9")
            .values(created_at=SINCE - dt.timedelta(days=1))
        )
        digest = build_digest(session, SINCE, UNTIL)
    by_channel = {c["channel_id"]: c for c in digest.numbers()["channels"]}
    assert [c["channel_id"] for c in digest.numbers()["channels"]] == ["C0WH", "C0FIN", None, "D0U1"]
    c0wh = by_channel["C0WH"]
    assert (c0wh["questions"], c0wh["answered"], c0wh["rated"], c0wh["helpful"]) == (4, 3, 3, 3)
    assert c0wh["answer_rate"] == 0.75 and c0wh["helpful_rate"] == 1.0
    assert by_channel[None]["questions"] == 2 and by_channel["D0U1"]["questions"] == 1

    zh = digest_text(digest, "zh-CN", "Asia/Shanghai")
    assert "按会话：" in zh
    lines = zh.splitlines()
    start = lines.index("按会话：")
    assert lines[start + 1] == "• <#C0WH>：4 个问题，已回答 75%；100% 被评为有帮助（3 个评价）"
    assert lines[start + 2] == "• <#C0FIN>：2 个问题，已回答 100%；0% 被评为有帮助（2 个评价）"
    # The DM, the command used in it and the Ask form: one private line, never a channel link to a DM.
    assert (
        lines[start + 3]
        == "• 私下提问（私信、提问表单）：3 个问题，已回答 67%；100% 被评为有帮助（1 个评价）"
    )
    assert "<#D0U1>" not in zh
    en = digest_text(digest, "en", "Asia/Shanghai")
    assert "• <#C0WH>: 4 questions, 75% answered; 100% rated helpful (3 ratings)" in en


def test_the_channel_breakdown_is_left_out_when_every_question_came_from_one_place(db):
    _questions(db, [("dm", "D0U1", True, None), ("modal", None, False, None)])
    with db.begin() as session:
        digest = build_digest(session, SINCE, UNTIL)
    assert "按会话" not in digest_text(digest, "zh-CN", "Asia/Shanghai")


def test_the_channel_breakdown_names_the_five_busiest_and_counts_the_rest(db):
    _questions(db, [("mention", f"C{n}", True, None) for n in range(7) for _ in range(n + 1)])
    with db.begin() as session:
        digest = build_digest(session, SINCE, UNTIL)
    en = digest_text(digest, "en", "Asia/Shanghai")
    assert [f"<#C{n}>" in en for n in range(7)] == [False, False, True, True, True, True, True]
    assert en.index("<#C6>") < en.index("<#C2>")
    assert "and 2 more channels with 3 questions" in en


@pytest.mark.parametrize(
    ("sizes", "shown"),
    [
        ({"finance": 6, "warehouse": 5}, {"finance", "warehouse"}),
        ({"finance": 6, "warehouse": 5, "hr": 1}, {"finance"}),  # hr's one answer stays unknowable
        ({"finance": 6, "warehouse": 5, "hr": 5}, {"finance", "warehouse", "hr"}),
        ({"finance": 5, "hr": 1}, set()),
    ],
)
def test_a_role_breakdown_never_lets_a_small_group_be_worked_out(db, sizes, shown):
    start = SINCE + dt.timedelta(days=1)
    _round(db, start, {role: [(1 + i % 5, 7) for i in range(n)] for role, n in sizes.items()})
    with db.begin() as session:
        [pulse] = build_digest(session, SINCE, UNTIL).surveys
    assert set(pulse.by_role) == shown
    hidden = sum(n for role, n in sizes.items() if role not in shown)
    assert hidden == 0 or hidden >= MIN_GROUP


def test_a_quiet_week_has_no_stray_space_before_the_semicolon(db):
    with db.begin() as session:
        digest = build_digest(session, SINCE, UNTIL)
    zh = digest_text(digest, "zh-CN", "Asia/Shanghai")
    en = digest_text(digest, "en", "Asia/Shanghai")
    assert " ；" not in zh and "共 0 个问题，" in zh
    assert " ;" not in en and "0 questions, n/a answered; n/a rated helpful" in en


def test_colleague_ratings_are_counted_apart_from_the_askers_helpful_rate(db):
    from feedback.colleague_ratings import rate_as_colleague

    _questions(
        db,
        [("slash", "C0WH", True, 1), ("slash", "C0WH", True, None), ("dm", "D0U1", True, -1)]
        + [("slash", "C0WH", True, None)],  # last week's: its colleague ratings are last week's too
    )
    with db.begin() as session:
        qids = [q.id for q in session.scalars(select(QuestionLog).order_by(QuestionLog.id))]
        session.execute(
            QuestionLog.__table__.update()
            .where(QuestionLog.id == qids[3])
            .values(created_at=SINCE - dt.timedelta(days=1))
        )
        quiet = build_digest(session, SINCE, UNTIL)
        before = quiet.numbers()
        for user, rating in (("U2", 1), ("U3", 1), ("U4", -1)):
            rate_as_colleague(session, qids[0], user, rating)
        rate_as_colleague(session, qids[1], "U2", 1)
        rate_as_colleague(session, qids[3], "U2", -1)
        digest = build_digest(session, SINCE, UNTIL)
    numbers = digest.numbers()
    bot = numbers["bot"]
    # The askers' numbers are what they were without colleague ratings.
    for key in ("questions", "answered", "rated", "helpful", "helpful_rate"):
        assert bot[key] == before["bot"][key], key
    assert (bot["rated"], bot["helpful"]) == (2, 1)
    assert (bot["colleague_helpful"], bot["colleague_not_helpful"]) == (3, 1)
    assert (digest.previous_bot.colleague_helpful, digest.previous_bot.colleague_not_helpful) == (0, 1)
    by_channel = {c["channel_id"]: c for c in numbers["channels"]}
    assert (by_channel["C0WH"]["colleague_helpful"], by_channel["C0WH"]["colleague_not_helpful"]) == (3, 1)
    assert by_channel[None]["colleague_helpful"] == 0  # the DM question had none

    zh = digest_text(digest, "zh-CN", "Asia/Shanghai")
    assert "同事评价（频道中的回答）：👍 3 · 👎 1（75% 有帮助）" in zh
    assert "• <#C0WH>：2 个问题，已回答 100%；100% 被评为有帮助（1 个评价）；同事评价 👍 3 · 👎 1" in zh
    en = digest_text(digest, "en", "Asia/Shanghai")
    assert "Colleague ratings of answers in channels: 👍 3 · 👎 1 (75% helpful)" in en
    assert "; 50% rated helpful (2 ratings)" in en  # the askers' rate, unmoved
    assert "同事评价" not in digest_text(quiet, "zh-CN", "Asia/Shanghai")  # none given: no line, as before
