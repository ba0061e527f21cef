"""The manager digest as text and Block Kit, in the reader's language, and the chart labels."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from zoneinfo import ZoneInfo

from bot import ids
from bot.i18n import t
from bot.views.training import gap_button_value
from feedback.digest import MIN_GROUP, BotStats, ChannelStats, ChartLabels, Digest
from feedback.surveys import localized


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pct(value: float | None, lang: str) -> str:
    return t("digest.na", lang) if value is None else f"{100 * value:.0f}%"


def _trend(current: float | None, previous: float | None, lang: str, unit: str = "") -> str:
    if current is None:
        return ""
    if previous is None:
        return t("digest.trend_none", lang)
    delta = round(current - previous, 2)
    if abs(delta) < 0.005:
        return t("digest.trend_flat", lang)
    key = "digest.trend_up" if delta > 0 else "digest.trend_down"
    return t(key, lang, delta=f"{abs(delta):g}{unit}")


def chart_labels(lang: str, tz: str = "Asia/Shanghai") -> ChartLabels:
    return ChartLabels(
        trend_title=t("digest.chart_trend", lang),
        satisfaction=t("digest.chart_satisfaction", lang),
        nps=t("digest.chart_nps", lang),
        answer_rate=t("digest.chart_answer_rate", lang),
        training_title=t("digest.chart_training", lang),
        completed=t("digest.chart_completed", lang),
        overdue=t("digest.chart_overdue", lang),
        modules_title=t("digest.chart_modules", lang),
        lang=lang,
        tz=tz,
    )


def period_text(digest: Digest, tz: str, lang: str) -> str:
    zone = ZoneInfo(tz)
    last_day = (digest.until - dt.timedelta(seconds=1)).astimezone(zone)
    return t(
        "digest.period",
        lang,
        since=digest.since.astimezone(zone).strftime("%Y-%m-%d"),
        until=last_day.strftime("%Y-%m-%d"),
    )


TOP_CHANNELS = 5


def _channel_lines(channels: list[ChannelStats], lang: str) -> list[str]:
    """Where the questions came from: the channels that asked most, then the askers' own conversations
    with the bot (a DM's id starts with D, so a command used in one counts there too). Nothing when all
    came from one place: the totals above already say it."""

    def direct(c: ChannelStats) -> bool:
        return c.channel_id is None or c.channel_id.startswith("D")

    public = [c for c in channels if not direct(c)]
    private = [c.stats for c in channels if direct(c)]
    if len(public) + bool(private) < 2:
        return []
    rows = [(f"<#{c.channel_id}>", c.stats) for c in public[:TOP_CHANNELS]]
    if private:
        merged = BotStats(*(sum(getattr(b, f.name) for b in private) for f in fields(BotStats)))
        rows.append((t("digest.channel_private", lang), merged))
    out = [t("digest.by_channel", lang)]
    for name, b in rows:
        line = t(
            "digest.channel_line",
            lang,
            channel=name,
            questions=b.questions,
            answer_rate=_pct(b.answer_rate, lang),
            helpful_rate=_pct(b.helpful_rate, lang),
            rated=b.rated,
        )
        out.append(f"• {line}{_colleague_suffix(b, lang)}")
    others = public[TOP_CHANNELS:]
    if others:
        questions = sum(c.stats.questions for c in others)
        out.append("   " + t("digest.channel_others", lang, count=len(others), questions=questions))
    return out


def _colleague_suffix(b: BotStats, lang: str) -> str:
    """A channel's colleague ratings after its own numbers; nothing where nobody gave one."""
    if not (b.colleague_helpful or b.colleague_not_helpful):
        return ""
    return t(
        "digest.channel_colleague_ratings",
        lang,
        helpful=b.colleague_helpful,
        not_helpful=b.colleague_not_helpful,
    )


def digest_text(digest: Digest, lang: str, tz: str) -> str:
    """The digest as mrkdwn text (also what `erp-coach digest --preview` prints)."""
    lines = [f"*{t('digest.title', lang)}*  {period_text(digest, tz, lang)}", ""]

    lines.append(f"*{t('digest.surveys_header', lang)}*")
    if not digest.surveys:
        lines.append(t("digest.no_surveys", lang))
    hidden = t("digest.hidden", lang, min=MIN_GROUP)
    for s in digest.surveys:
        lines.append(
            "• "
            + t(
                "digest.survey_line",
                lang,
                title=_escape(localized(s.title, lang)),
                respondents=s.respondents,
                invited=s.invited,
                rate=_pct(s.response_rate, lang),
            )
        )
        sat = (
            t(
                "digest.satisfaction",
                lang,
                value=f"{s.satisfaction:g}",
                trend=_trend(s.satisfaction, s.previous_satisfaction, lang),
            )
            if s.satisfaction is not None
            else t("digest.satisfaction", lang, value="–", trend=hidden)
        )
        nps = (
            t("digest.nps", lang, value=f"{s.nps:g}", trend=_trend(s.nps, s.previous_nps, lang))
            if s.nps is not None
            else t("digest.nps", lang, value="–", trend=hidden)
        )
        lines.append(f"   {sat.strip()} · {nps.strip()}")
        if s.by_role:
            items = ", ".join(f"{role} {value:g}" for role, value in sorted(s.by_role.items()))
            lines.append("   " + t("digest.by_role", lang, items=items))

    lines += ["", f"*{t('digest.bot_header', lang)}*"]
    b, p = digest.bot, digest.previous_bot
    answer_trend = ""
    if b.answer_rate is not None:
        answer_trend = " " + _trend(  # the catalog leaves no space for a trend that is not there
            round(100 * b.answer_rate),
            None if p.answer_rate is None else round(100 * p.answer_rate),
            lang,
            " pt",
        )
    lines.append(
        t(
            "digest.bot_line",
            lang,
            questions=b.questions,
            answer_rate=_pct(b.answer_rate, lang),
            answer_trend=answer_trend,
            helpful_rate=_pct(b.helpful_rate, lang),
            rated=b.rated,
        )
    )
    if b.colleague_helpful or b.colleague_not_helpful:
        lines.append(
            t(
                "digest.colleague_ratings",
                lang,
                helpful=b.colleague_helpful,
                not_helpful=b.colleague_not_helpful,
                rate=_pct(b.colleague_helpful / (b.colleague_helpful + b.colleague_not_helpful), lang),
            )
        )
    if digest.top_topics:
        items = ", ".join(f"{_escape(topic)} ({count})" for topic, count in digest.top_topics)
        lines.append(t("digest.top_topics", lang, items=items))
    lines += _channel_lines(digest.channels, lang)

    lines += ["", f"*{t('digest.gaps_header', lang)}*"]
    if not digest.unanswered and not digest.gaps:
        lines.append(t("digest.no_gaps", lang))
    for gap in digest.gaps:
        lines.append(
            "• "
            + t(
                "digest.gap_line",
                lang,
                role=gap.role,
                topic=_escape(gap.topic),
                count=gap.count,
                example=_escape(gap.examples[0][:80] if gap.examples else ""),
            )
        )
    for question in digest.unanswered[:5]:
        lines.append(f"   › {_escape(question[:120])}")

    lines += ["", f"*{t('digest.tickets_header', lang)}*"]
    tk = digest.tickets
    median = (
        t("digest.na", lang)
        if tk.median_hours_to_resolve is None
        else t("digest.hours", lang, value=f"{tk.median_hours_to_resolve:.1f}")
    )
    lines.append(
        t(
            "digest.tickets_line",
            lang,
            opened=tk.opened,
            resolved=tk.resolved,
            median=median,
            overdue=tk.overdue,
        )
    )
    if tk.csat_satisfied is not None:
        share = t("digest.csat_share", lang, value=_pct(tk.csat_satisfied, lang))
    elif tk.csat_ratings:
        share = hidden  # the surveys' rule and words: too few ratings to show a score
    else:
        share = t("digest.na", lang)
    lines.append(
        t(
            "digest.tickets_csat",
            lang,
            share=share,
            ratings=tk.csat_ratings,
            rate=_pct(tk.csat_response_rate, lang),
            answered=tk.csat_answered,
            asked=tk.csat_asked,
        )
    )

    lines += ["", f"*{t('digest.training_header', lang)}*"]
    if not digest.training:
        lines.append(t("digest.no_training", lang))
    for r in digest.training:
        lines.append(
            "• "
            + t(
                "digest.training_line",
                lang,
                role=r.role,
                completed=r.completed,
                assigned=r.assigned,
                rate=_pct(r.rate, lang),
                overdue=r.overdue,
            )
        )
    return "\n".join(lines)


def digest_blocks(digest: Digest, lang: str, tz: str) -> list[dict]:
    """The digest text in sections (≤3,000 characters each) plus a button per knowledge gap."""
    text = digest_text(digest, lang, tz)
    blocks: list[dict] = []
    chunk: list[str] = []
    for paragraph in text.split("\n\n"):
        if sum(len(c) for c in chunk) + len(paragraph) > 2800 and chunk:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n\n".join(chunk)}})
            chunk = []
        chunk.append(paragraph[:2900])
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n\n".join(chunk)}})
    if digest.gaps:
        blocks.append(
            {
                "type": "actions",
                "block_id": "digest_gaps",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{ids.GAP_TO_TRAINING}:{i}",
                        "text": {
                            "type": "plain_text",
                            "text": f"{t('digest.gap_button', lang)}: {gap.topic}"[:75],
                        },
                        "value": gap_button_value(gap),
                    }
                    for i, gap in enumerate(digest.gaps[:5])
                ],
            }
        )
    return blocks[:50]
