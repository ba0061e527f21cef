"""Sending the manager digest: text to the managers' channel and to each manager's DM, charts as PNG
files (files upload v2), each in the reader's language."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n import t
from bot.views.digest import chart_labels, digest_blocks, digest_text, period_text
from feedback.db import utcnow
from feedback.digest import Digest, build_digest, previous_week, render_charts
from feedback.people import users_with_roles

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("erp_coach.digest")


def compute_digest(
    services: Services,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Digest:
    now = now or utcnow()
    if since is None or until is None:
        default_since, default_until = previous_week(now, services.settings.timezone)
        since, until = since or default_since, until or default_until
    # TICKET_SLA_HOURS belongs to the tickets feature; without it the digest counts no overdue tickets.
    sla_hours = getattr(services.settings, "sla_hours", None)
    with services.db.begin() as session:
        return build_digest(session, since, until, now=now, ticket_sla_hours=sla_hours)


def render_preview(services: Services, out_dir: Path, lang: str, **period) -> tuple[str, list[Path]]:
    """`erp-coach digest --preview`: the digest text and its PNG files, without Slack."""
    settings = services.settings
    digest = compute_digest(services, **period)
    text = digest_text(digest, lang, services.settings.timezone)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, png in render_charts(digest, chart_labels(lang, settings.timezone)).items():
        path = out_dir / name
        path.write_bytes(png)
        paths.append(path)
    (out_dir / f"digest.{lang}.md").write_text(text, encoding="utf-8")
    return text, paths


def deliver_digest(
    services: Services,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Post the digest to MANAGERS_CHANNEL (in zh-CN) and DM it to every MANAGER_ROLE user in their language."""
    settings = services.settings
    digest = compute_digest(services, since, until, now)
    with services.db.begin() as session:
        managers = [(u.slack_user_id, u.language) for u in users_with_roles(session, [settings.manager_role])]
    targets: list[tuple[str, str]] = []
    if settings.managers_channel:
        targets.append((settings.managers_channel, "zh-CN"))
    targets += managers
    charts_by_lang: dict[str, dict[str, bytes]] = {}
    client = services.slack_client
    delivered = 0
    for conversation, lang in targets:
        try:
            if conversation.startswith(("U", "W")):
                conversation = client.conversations_open(users=conversation)["channel"]["id"]
            text = digest_text(digest, lang, settings.timezone)
            posted = client.chat_postMessage(
                channel=conversation, text=text[:3000], blocks=digest_blocks(digest, lang, settings.timezone)
            )
            if lang not in charts_by_lang:
                charts_by_lang[lang] = render_charts(digest, chart_labels(lang, settings.timezone))
            uploads = [
                {"content": png, "filename": name, "title": name}
                for name, png in charts_by_lang[lang].items()
            ]
            if uploads:
                client.files_upload_v2(
                    file_uploads=uploads,
                    channel=conversation,
                    thread_ts=posted["ts"],
                    initial_comment=t(
                        "digest.charts_comment", lang, period=period_text(digest, settings.timezone, lang)
                    ),
                )
            delivered += 1
        except Exception:  # noqa: BLE001 - one unreachable manager must not stop the others
            log.exception("digest to %s failed", conversation)
    return delivered
