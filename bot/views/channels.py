"""The `/erp channel` reply: a channel's answer mode and search scope, who changed them and when."""

from __future__ import annotations

from bot.i18n import t
from bot.views.answers import Message
from bot.views.text import escape, slack_time, truncate
from feedback.channels import ChannelConfig


def channel_settings_message(lang: str, config: ChannelConfig, *, note: str | None = None) -> Message:
    """The settings, with `note` (what just changed, or why nothing did) above them."""
    mode = t("slack.channel.mode_all" if config.answers_all else "slack.channel.mode_mention", lang)
    scope = folder_list(config.scope) if config.scope else t("slack.channel.scope_all", lang)
    lines = [
        t("slack.channel.title", lang, channel=config.channel_id),
        t("slack.channel.mode", lang, mode=mode),
        t("slack.channel.scope", lang, scope=scope),
    ]
    if config.updated_by and config.updated_at is not None:
        changed = t("slack.channel.changed", lang, user=config.updated_by, when=_when(config))
    else:
        changed = t("slack.channel.never_changed", lang)
    blocks: list[dict] = []
    if note:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate(note, 3000)}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": truncate("\n".join(lines), 3000)}})
    context = f"{changed}\n{t('slack.channel.usage', lang)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(context, 3000)}]})
    text = note or "\n".join(lines)
    return Message(text=truncate(text, 3000), blocks=blocks)


def note_message(text: str) -> Message:
    return Message(text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def folder_list(folders: list[str] | tuple[str, ...]) -> str:
    """`财务`, `仓库`: folder names as code, escaped (they may come from what someone typed)."""
    return truncate(", ".join(f"`{escape(f)}`" for f in folders), 1500)


def _when(config: ChannelConfig) -> str:
    """Slack's date token: each reader sees it in their own time zone and language."""
    return slack_time(config.updated_at, "UTC", "{date_short_pretty} {time}", name_zone=True)
