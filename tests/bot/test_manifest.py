"""The app manifest (manifest.yml) declares every entry point the code listens on: an app created from
it must show each shortcut, or users never see it."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot import ids

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text(encoding="utf-8"))


def test_every_shortcut_the_app_handles_is_declared_with_its_kind():
    declared = {s["callback_id"]: s["type"] for s in MANIFEST["features"]["shortcuts"]}
    assert declared == {
        ids.ASK_SHORTCUT: "message",
        ids.ASK_GLOBAL_SHORTCUT: "global",
        ids.TICKET_SHORTCUT: "message",
    }
    handled = {value for name, value in vars(ids).items() if name.endswith("_SHORTCUT")}
    assert handled == set(declared)


def test_the_slash_command_and_events_are_declared():
    assert [c["command"] for c in MANIFEST["features"]["slash_commands"]] == ["/erp"]
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "reaction_added", "app_home_opened"} <= events
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "reactions:read", "im:history"} <= scopes
