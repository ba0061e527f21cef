"""App Home: the user's role and language, an Ask button, recent questions, open tickets, trainings.

Other features fill `open_tickets` / `pending_trainings` in `home_data` and call `publish_home` when
something the user sees there changes.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import t
from bot.services import Services
from bot.views.home import HomeData, HomeItem, home_view
from feedback.questions import recent_questions
from feedback.tickets import open_tickets_of

log = logging.getLogger("erp_coach.home")


def register(app: App, services: Services) -> None:
    def ack_event() -> None:
        return None

    def opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(services, client, event["user"])

    app.event("app_home_opened")(ack=ack_event, lazy=[opened])


def home_data(services: Services, client: WebClient | None, user_id: str) -> HomeData:
    person = services.directory.person(user_id, client)
    lang = person.lang
    with services.db.begin() as session:
        recent = [
            HomeItem(
                text=q.question,
                note=" · ".join(
                    part
                    for part in (
                        t("slack.home.answered" if q.answered else "slack.home.abstained", lang),
                        {1: t("slack.home.rated_up", lang), -1: t("slack.home.rated_down", lang)}.get(
                            q.rating or 0, ""
                        ),
                    )
                    if part
                ),
            )
            for q in recent_questions(session, user_id, limit=5)
        ]
        tickets = [
            HomeItem(
                text=f"{tk.key} · {tk.title}",
                note=t(f"tickets.status.{tk.status}", lang),
            )
            for tk in open_tickets_of(session, user_id)
        ]
    label = t(f"slack.lang.{lang}", lang)
    if not person.language_override:
        label += " (Slack)"
    trainings, training_buttons = _trainings(services, user_id, lang)
    return HomeData(
        lang=lang,
        role=person.role,
        language_label=label,
        recent_questions=recent,
        open_tickets=tickets,
        pending_trainings=trainings,
        extra_blocks=training_buttons,
    )


def _trainings(services: Services, user_id: str, lang: str) -> tuple[list[HomeItem], list[dict]]:
    """Pending trainings (feedback.training) as Home lines, plus their "Mark as done" buttons."""
    from bot.views.training import home_done_buttons, status_note
    from feedback.surveys import localized
    from feedback.training import module_link, pending_trainings

    settings = services.settings
    with services.db.begin() as session:
        pending = pending_trainings(session, user_id)
    lines = [
        HomeItem(
            text=localized(i.title, lang),
            note=status_note(i, lang, settings.timezone),
            url=module_link(settings.docs_base_url, i),
        )
        for i in pending
    ]
    return lines, home_done_buttons(pending, lang)


def publish_home(services: Services, client: WebClient, user_id: str) -> None:
    try:
        client.views_publish(user_id=user_id, view=home_view(home_data(services, client, user_id)))
    except SlackApiError as exc:
        log.warning("views.publish failed for %s: %s", user_id, exc.response.get("error"))
