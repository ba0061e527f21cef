"""The manager digest: numbers for one period, compared with the period before, and PNG charts.

`build_digest` computes plain numbers; the bot turns them into text in the manager's language
(`bot/views/digest.py`) and `render_charts` draws PNGs with labels it is given, in a font that has
Chinese glyphs (Noto Sans SC, shipped as a wheel), headless (Agg).

Anonymity: any survey number or breakdown resting on fewer than `MIN_GROUP` respondents is None, and
so is the ticket satisfaction (CSAT) share resting on fewer than `MIN_GROUP` ratings: one rule,
`shown_for`. Ticket numbers come from `feedback.tickets` (see `_ticket_stats`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from feedback import tickets
from feedback.colleague_ratings import ColleagueRating
from feedback.questions import QuestionLog
from feedback.surveys import SurveyDelivery, SurveyResponse, SurveyRound, localized
from feedback.training import KnowledgeGap, RoleCompletion, completion_by_role, knowledge_gaps

MIN_GROUP = 5  # Officevibe's threshold: smaller groups could be identified
TREND_PERIODS = 8


def shown_for(group: int) -> bool:
    """The anonymity rule for every figure in the digest: at least MIN_GROUP answers behind it."""
    return group >= MIN_GROUP


@dataclass(frozen=True)
class SurveySummary:
    survey_id: str
    title: dict[str, str]
    rounds: int
    invited: int
    respondents: int
    satisfaction: float | None  # mean of 1-5 answers; None below MIN_GROUP respondents
    nps: float | None  # -100..100; None below MIN_GROUP
    modules: dict[str, float]  # module id -> mean rating, only with enough respondents
    module_labels: dict[str, dict[str, str]]
    by_role: dict[str, float]  # role -> mean satisfaction, only roles with >= MIN_GROUP respondents
    previous_satisfaction: float | None = None
    previous_nps: float | None = None

    @property
    def response_rate(self) -> float | None:
        return self.respondents / self.invited if self.invited else None


@dataclass(frozen=True)
class BotStats:
    """The assistant's questions of a period. `rated` and `helpful` are the askers' own ratings; the
    colleague ratings (👍/👎 from colleagues on answers shared to a channel) are counted apart, on the
    same questions, and never enter `helpful_rate`."""

    questions: int
    answered: int
    rated: int
    helpful: int
    colleague_helpful: int = 0
    colleague_not_helpful: int = 0

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.questions if self.questions else None

    @property
    def helpful_rate(self) -> float | None:
        return self.helpful / self.rated if self.rated else None


@dataclass(frozen=True)
class ChannelStats:
    """The assistant's questions from one conversation: a channel id, or None for the asker's own
    conversations with the bot (direct messages and the App Home)."""

    channel_id: str | None
    stats: BotStats


@dataclass(frozen=True)
class TicketStats:
    """The tickets of one period, from `feedback.tickets`."""

    opened: int
    resolved: int
    median_hours_to_resolve: float | None
    overdue: int
    # Satisfaction after a ticket (the closure notice's 1-5 rating): ratings given in the period, the
    # share of them that are 4 or 5 (None below MIN_GROUP ratings), and the rating requests sent in the
    # period with how many of those are rated so far.
    csat_ratings: int = 0
    csat_satisfied: float | None = None
    csat_asked: int = 0
    csat_answered: int = 0

    @property
    def csat_response_rate(self) -> float | None:
        return self.csat_answered / self.csat_asked if self.csat_asked else None


@dataclass(frozen=True)
class TrendPoint:
    since: dt.datetime
    satisfaction: float | None
    nps: float | None
    answer_rate: float | None


@dataclass
class Digest:
    since: dt.datetime
    until: dt.datetime
    surveys: list[SurveySummary]
    bot: BotStats
    previous_bot: BotStats
    top_topics: list[tuple[str, int]]
    unanswered: list[str]
    gaps: list[KnowledgeGap]
    tickets: TicketStats
    training: list[RoleCompletion]
    channels: list[ChannelStats] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)

    def numbers(self) -> dict[str, Any]:
        """Everything a chart or a test may check, JSON-ready."""

        def plain(value: Any) -> Any:
            return json.loads(json.dumps(value, default=str))

        return plain(
            {
                "since": self.since.isoformat(),
                "until": self.until.isoformat(),
                "surveys": [asdict(s) | {"response_rate": s.response_rate} for s in self.surveys],
                "bot": asdict(self.bot)
                | {"answer_rate": self.bot.answer_rate, "helpful_rate": self.bot.helpful_rate},
                "tickets": asdict(self.tickets) | {"csat_response_rate": self.tickets.csat_response_rate},
                "training": [asdict(r) | {"rate": r.rate} for r in self.training],
                "channels": [
                    {"channel_id": c.channel_id}
                    | asdict(c.stats)
                    | {"answer_rate": c.stats.answer_rate, "helpful_rate": c.stats.helpful_rate}
                    for c in self.channels
                ],
                "trend": [asdict(p) for p in self.trend],
            }
        )


# ---------------------------------------------------------------------------------------------------
# Numbers


def nps_score(scores: list[int]) -> float | None:
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100.0 * (promoters - detractors) / len(scores), 1)


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _survey_summaries(session: Session, since: dt.datetime, until: dt.datetime) -> list[SurveySummary]:
    rounds = list(
        session.scalars(
            select(SurveyRound)
            .where(SurveyRound.send_after >= since, SurveyRound.send_after < until)
            .order_by(SurveyRound.id)
        )
    )
    by_survey: dict[str, list[SurveyRound]] = defaultdict(list)
    for r in rounds:
        by_survey[r.survey_id].append(r)
    out = []
    for survey_id, its_rounds in by_survey.items():
        ids = [r.id for r in its_rounds]
        invited = session.scalar(
            select(func.count())
            .select_from(SurveyDelivery)
            .where(SurveyDelivery.round_id.in_(ids), SurveyDelivery.status.in_(["sent", "uncertain"]))
        )
        responses = list(session.scalars(select(SurveyResponse).where(SurveyResponse.round_id.in_(ids))))
        questions = its_rounds[-1].questions
        sat_ids = {q.id for q in questions if q.type == "satisfaction"}
        nps_ids = {q.id for q in questions if q.type == "nps"}
        module_ids = {q.id for q in questions if q.type == "module_rating"}
        labels = {m: label for q in questions for m, label in q.modules}
        sats, npss, roles = [], [], defaultdict(list)
        modules: dict[str, list[int]] = defaultdict(list)
        for resp in responses:
            for qid, value in resp.answers.items():
                if qid in sat_ids:
                    sats.append(value)
                    roles[resp.role or "-"].append(value)
                elif qid in nps_ids:
                    npss.append(value)
                elif qid in module_ids:
                    for module, score in value.items():
                        modules[module].append(score)
        enough = shown_for(len(responses))
        out.append(
            SurveySummary(
                survey_id=survey_id,
                title=its_rounds[-1].title,
                rounds=len(its_rounds),
                invited=invited,
                respondents=len(responses),
                satisfaction=_mean(sats) if enough and shown_for(len(sats)) else None,
                nps=nps_score(npss) if enough and shown_for(len(npss)) else None,
                modules={m: _mean(v) for m, v in modules.items() if shown_for(len(v))},
                module_labels=labels,
                by_role={r: _mean(v) for r, v in _shown_groups(roles, len(sats)).items()},
            )
        )
    return out


def _shown_groups(groups: dict[str, list[int]], total: int) -> dict[str, list[int]]:
    """The groups a breakdown may show: each of MIN_GROUP or more, and so many that the rest (hidden
    groups and answers without a role) are none or MIN_GROUP or more too. Otherwise the one hr answer
    could be worked out from the overall mean and the finance mean; the smallest shown groups are hidden
    until it cannot."""
    shown = {k: v for k, v in groups.items() if k != "-" and shown_for(len(v))}
    while shown:
        rest = total - sum(len(v) for v in shown.values())
        if rest == 0 or shown_for(rest):
            break
        del shown[min(shown, key=lambda k: (len(shown[k]), k))]
    return shown


def _bot_stats(session: Session, since: dt.datetime, until: dt.datetime) -> BotStats:
    window = (QuestionLog.created_at >= since, QuestionLog.created_at < until)
    counts = session.execute(select(*_bot_counts()).where(*window)).one()
    colleagues = session.execute(
        select(*_colleague_counts())
        .join(QuestionLog, ColleagueRating.question_id == QuestionLog.id)
        .where(*window)
    ).one()
    return BotStats(*counts, *colleagues)


def _bot_counts() -> tuple:
    """BotStats' fields, in order, as SQL aggregates over QuestionLog."""
    return (
        func.count(),
        func.count().filter(QuestionLog.answered.is_(True)),
        func.count(QuestionLog.rating),
        func.count().filter(QuestionLog.rating == 1),
    )


def _colleague_counts() -> tuple:
    """BotStats' colleague fields, in order, as SQL aggregates over ColleagueRating."""
    return (
        func.count().filter(ColleagueRating.rating == 1),
        func.count().filter(ColleagueRating.rating == -1),
    )


PRIVATE_SURFACES = ("dm", "home", "modal", "cli")  # asked where only the asker sees the answer


def _by_channel(session: Session, since: dt.datetime, until: dt.datetime) -> list[ChannelStats]:
    """The assistant's numbers per conversation, most questions first: one line per channel id (a command
    or shortcut counts for the conversation it was used in) and one, channel None, for the private
    surfaces."""
    surface = func.coalesce(QuestionLog.surface, "")
    conversation = case((surface.in_(PRIVATE_SURFACES), None), else_=QuestionLog.channel_id)
    window = (QuestionLog.created_at >= since, QuestionLog.created_at < until)
    rows = session.execute(select(conversation, *_bot_counts()).where(*window).group_by(conversation)).all()
    colleagues = {
        channel: numbers
        for channel, *numbers in session.execute(
            select(conversation, *_colleague_counts())
            .join(QuestionLog, ColleagueRating.question_id == QuestionLog.id)
            .where(*window)
            .group_by(conversation)
        ).all()
    }
    out = [
        ChannelStats(channel, BotStats(*numbers, *colleagues.get(channel, (0, 0))))
        for channel, *numbers in rows
    ]
    return sorted(out, key=lambda c: (-c.stats.questions, c.channel_id is None, c.channel_id or ""))


def _top_topics(
    session: Session, since: dt.datetime, until: dt.datetime, limit: int = 5
) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for sources in session.scalars(
        select(QuestionLog.top_sources).where(
            QuestionLog.created_at >= since, QuestionLog.created_at < until, QuestionLog.answered.is_(True)
        )
    ):
        if sources:
            best = sources[0]
            counts[best.get("heading") or best.get("title") or best.get("source") or "?"] += 1
    return counts.most_common(limit)


def _unanswered(session: Session, since: dt.datetime, until: dt.datetime, limit: int = 10) -> list[str]:
    rows = session.execute(
        select(QuestionLog.question, func.count())
        .where(
            QuestionLog.created_at >= since, QuestionLog.created_at < until, QuestionLog.answered.is_(False)
        )
        .group_by(QuestionLog.question)
        .order_by(func.count().desc(), QuestionLog.question)
        .limit(limit)
    ).all()
    return [q for q, _ in rows]


def _ticket_stats(
    session: Session, since: dt.datetime, until: dt.datetime, sla_hours: dict[str, float] | None
) -> TicketStats:
    """Ticket numbers: opened and resolved in the period, time to resolve, overdue at its end, CSAT."""
    ticket = tickets.Ticket
    opened = session.scalar(
        select(func.count()).select_from(ticket).where(ticket.created_at >= since, ticket.created_at < until)
    )
    resolved = session.execute(
        select(ticket.created_at, ticket.resolved_at).where(
            ticket.resolved_at >= since, ticket.resolved_at < until
        )
    ).all()
    hours = [(done - created).total_seconds() / 3600 for created, done in resolved]
    overdue = len(tickets.overdue_tickets(session, until, sla_hours)) if sla_hours else 0
    csat = tickets.rating_counts(session, since, until)
    satisfied = sum(1 for r in csat.ratings if r >= 4)
    return TicketStats(
        opened=opened,
        resolved=len(resolved),
        median_hours_to_resolve=round(statistics.median(hours), 1) if hours else None,
        overdue=overdue,
        csat_ratings=len(csat.ratings),
        csat_satisfied=round(satisfied / len(csat.ratings), 4) if shown_for(len(csat.ratings)) else None,
        csat_asked=csat.asked,
        csat_answered=csat.answered,
    )


def build_digest(
    session: Session,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime | None = None,
    trend: int = TREND_PERIODS,
    ticket_sla_hours: dict[str, float] | None = None,
) -> Digest:
    """The digest of [since, until), with the same-length period before it for comparison."""
    length = until - since
    prev_since = since - length
    surveys = _survey_summaries(session, since, until)
    previous = {s.survey_id: s for s in _survey_summaries(session, prev_since, since)}
    surveys = [
        SurveySummary(
            **{
                **asdict(s),
                "previous_satisfaction": previous[s.survey_id].satisfaction
                if s.survey_id in previous
                else None,
                "previous_nps": previous[s.survey_id].nps if s.survey_id in previous else None,
            }
        )
        for s in surveys
    ]
    points = []
    for i in range(trend - 1, -1, -1):
        start = since - i * length
        summaries = _survey_summaries(session, start, start + length)
        sats = [s.satisfaction for s in summaries if s.satisfaction is not None]
        npss = [s.nps for s in summaries if s.nps is not None]
        bot = _bot_stats(session, start, start + length)
        points.append(TrendPoint(start, _mean(sats), _mean(npss), bot.answer_rate))
    return Digest(
        since=since,
        until=until,
        surveys=surveys,
        bot=_bot_stats(session, since, until),
        previous_bot=_bot_stats(session, prev_since, since),
        top_topics=_top_topics(session, since, until),
        unanswered=_unanswered(session, since, until),
        gaps=knowledge_gaps(session, since, until),
        tickets=_ticket_stats(session, since, until, ticket_sla_hours),
        training=completion_by_role(session, now or until),
        trend=points,
        channels=_by_channel(session, since, until),
    )


# ---------------------------------------------------------------------------------------------------
# Charts


def cjk_font_path() -> Path:
    """Noto Sans SC from the `pylopdf-fonts-zh-cn` wheel (SIL OFL): Chinese labels without system fonts."""
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


def _font_family() -> str:
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@dataclass(frozen=True)
class ChartLabels:
    """The texts on the charts, in the reader's language (given by the bot's i18n)."""

    trend_title: str
    satisfaction: str
    nps: str
    answer_rate: str
    training_title: str
    completed: str
    overdue: str
    modules_title: str
    lang: str = "zh-CN"
    tz: str = "Asia/Shanghai"  # week labels are dates in the company's zone


def render_charts(digest: Digest, labels: ChartLabels) -> dict[str, bytes]:
    """PNG charts: {"trend.png": ..., "training.png": ..., "modules.png"?: ...}. Each PNG carries the
    numbers it plots in its `Description` metadata, so tests and tools can check what is drawn."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    family = _font_family()
    charts: dict[str, bytes] = {}
    with matplotlib.rc_context({"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}):
        # Satisfaction / NPS / answer-rate trend
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), dpi=110)
        from zoneinfo import ZoneInfo

        xs = [p.since.astimezone(ZoneInfo(labels.tz)).strftime("%m-%d") for p in digest.trend]
        series = [
            (labels.satisfaction, [p.satisfaction for p in digest.trend], (1, 5), "#2e7d32"),
            (labels.nps, [p.nps for p in digest.trend], (-100, 100), "#1565c0"),
            (
                labels.answer_rate,
                [None if p.answer_rate is None else round(100 * p.answer_rate, 1) for p in digest.trend],
                (0, 100),
                "#ef6c00",
            ),
        ]
        for ax, (name, values, limits, color) in zip(axes, series, strict=True):
            # Numeric x positions: weeks without a figure leave a gap instead of shifting the line.
            points = [(i, v) for i, v in enumerate(values) if v is not None]
            if points:
                ax.plot([i for i, _ in points], [v for _, v in points], marker="o", color=color)
                for i, v in points:
                    ax.annotate(
                        f"{v:g}", (i, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8
                    )
            ax.set_xticks(range(len(xs)), xs, rotation=45, fontsize=7)
            ax.set_xlim(-0.5, len(xs) - 0.5)
            ax.set_ylim(*limits)
            ax.set_title(name)
            ax.grid(alpha=0.3)
        fig.suptitle(labels.trend_title)
        fig.tight_layout()
        charts["trend.png"] = _png(fig, {"trend": [asdict(p) for p in digest.trend]})
        plt.close(fig)

        if digest.training:
            fig, ax = plt.subplots(figsize=(7, 1.6 + 0.45 * len(digest.training)), dpi=110)
            roles = [r.role for r in digest.training]
            done = [round(100 * r.rate, 1) for r in digest.training]
            late = [round(100 * r.overdue / r.assigned, 1) if r.assigned else 0 for r in digest.training]
            ax.barh(roles, done, color="#2e7d32", label=labels.completed)
            ax.barh(roles, late, left=done, color="#c62828", label=labels.overdue)
            for y, value in enumerate(done):
                ax.text(value + 1, y, f"{value:g}%", va="center", fontsize=8)
            ax.set_xlim(0, 110)
            ax.set_title(labels.training_title)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=2, fontsize=8, frameon=False)
            fig.tight_layout()
            charts["training.png"] = _png(
                fig, {"training": [asdict(r) | {"rate": r.rate} for r in digest.training]}
            )
            plt.close(fig)

        modules = {
            localized(s.module_labels.get(m, m), labels.lang): v
            for s in digest.surveys
            for m, v in s.modules.items()
        }
        if modules:
            fig, ax = plt.subplots(figsize=(7, 1.4 + 0.45 * len(modules)), dpi=110)
            ax.barh(list(modules), list(modules.values()), color="#1565c0")
            for y, value in enumerate(modules.values()):
                ax.text(value + 0.05, y, f"{value:g}", va="center", fontsize=8)
            ax.set_xlim(0, 5.5)
            ax.set_title(labels.modules_title)
            fig.tight_layout()
            charts["modules.png"] = _png(fig, {"modules": modules})
            plt.close(fig)
    return charts


def _png(fig, numbers: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", metadata={"Description": json.dumps(numbers, ensure_ascii=False, default=str)}
    )
    return buffer.getvalue()


def previous_week(now: dt.datetime, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) of the last full week in `tz`, as UTC."""
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(tz))
    this_monday = dt.datetime.combine(
        local.date() - dt.timedelta(days=local.weekday()), dt.time(0), ZoneInfo(tz)
    )
    return (this_monday - dt.timedelta(days=7)).astimezone(dt.UTC), this_monday.astimezone(dt.UTC)
