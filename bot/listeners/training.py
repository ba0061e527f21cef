"""Training: `/erp training` shows the plan, "Mark as done" in DMs, the plan and App Home, and the digest's
"Make it a training" button for managers and admins."""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import ids
from bot.i18n import t
from bot.listeners.erp_command import CommandRequest, subcommand
from bot.services import Services
from bot.views.answers import Message
from bot.views.training import gap_from_button, plan_blocks
from feedback.surveys import localized
from feedback.training import mark_done, module_from_gap, training_plan

log = logging.getLogger("erp_coach.training")


def register(app: App, services: Services) -> None:
    def ack_only(ack: Ack) -> None:
        ack()

    def done(body: dict, client: WebClient, respond) -> None:
        user_id = body["user"]["id"]
        person = services.directory.person(user_id, client)
        try:
            assignment_id = int(body["actions"][0]["value"])
        except (KeyError, ValueError):
            return
        with services.db.begin() as session:
            changed = mark_done(session, user_id, assignment_id)
            items = training_plan(session, user_id)
        title = next((localized(i.title, person.lang) for i in items if i.assignment_id == assignment_id), "")
        note = (
            t("training.marked_done", person.lang, title=title)
            if changed
            else t("training.already_done", person.lang)
        )
        if body.get("container", {}).get("type") == "view":  # App Home
            from bot.listeners.home import publish_home

            publish_home(services, client, user_id)
            return
        # A DM reminder or the /erp training reply: show the updated plan in place, with the note on top.
        blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]
        blocks += plan_blocks(items, person.lang, services.settings.timezone, services.settings.docs_base_url)
        respond(text=note, blocks=blocks[:50], replace_original=True)

    def gap_to_training(body: dict, client: WebClient, respond) -> None:
        user_id = body["user"]["id"]
        person = services.directory.person(user_id, client)
        if not (person.is_admin or person.role == services.settings.manager_role):
            respond(
                text=t("training.not_admin", person.lang), response_type="ephemeral", replace_original=False
            )
            return
        try:
            gap = gap_from_button(body["actions"][0]["value"])
        except (KeyError, ValueError):
            respond(
                text=t("training.gap_unknown", person.lang), response_type="ephemeral", replace_original=False
            )
            return
        module, assigned = module_from_gap(
            services.db, gap, created_by=user_id, timezone=services.settings.timezone
        )
        respond(
            text=t(
                "training.gap_created",
                person.lang,
                title=localized(module.title, person.lang),
                role=gap.role,
                count=assigned,
            ),
            response_type="ephemeral",
            replace_original=False,
        )

    app.action(re.compile(rf"^{ids.TRAINING_DONE}:\d+$"))(ack=ack_only, lazy=[done])
    app.action(re.compile(rf"^{ids.TRAINING_MANUAL}:\d+$"))(ack_only)  # a link button: Slack opens the URL
    app.action(re.compile(rf"^{ids.GAP_TO_TRAINING}:\d+$"))(ack=ack_only, lazy=[gap_to_training])


@subcommand(ids.TRAINING_COMMAND, "trainings", "培训", takes_args=False)
def training_command(req: CommandRequest) -> Message:
    """`/erp training`: the person's plan, pending first, with "Mark as done" buttons."""
    with req.services.db.begin() as session:
        items = training_plan(session, req.person.user_id)
    settings = req.services.settings
    blocks = plan_blocks(items, req.person.lang, settings.timezone, settings.docs_base_url)
    return Message(text=t("training.plan_header", req.person.lang), blocks=blocks[:50])
