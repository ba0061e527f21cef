"""App Home, /erp role, /erp lang, /erp help, driven by signed requests; asserted on what Slack received."""

from __future__ import annotations

from bot import ids
from feedback.people import get_user, set_role


def _ephemeral_text(response) -> str:
    assert response.status == 200, response.text
    return response.json().get("text", "")


def test_home_shows_role_language_and_empty_states_in_chinese(slack_app):
    fake = slack_app.fake
    fake.add_user("U1", locale="zh-CN")
    with slack_app.db.begin() as s:
        set_role(s, "U1", "finance", slack_app.services.settings.roles)
    r = slack_app.sender.home_opened("U1")
    assert r.status == 200
    call = fake.wait_for("views.publish")
    assert call.args["user_id"] == "U1"
    text = call.text
    assert "finance" in text
    assert "你最近的问题" in text and "你还没有提过问题" in text
    assert "没有未关闭的工单" in text and "没有待完成的培训" in text
    assert "home_ask" in call.action_ids()


def test_home_ask_button_opens_the_ask_modal(slack_app):
    fake = slack_app.fake
    fake.add_user("U2", locale="en-US")
    r = slack_app.sender.block_action("home_ask", user_id="U2", view={"id": "VHOME", "type": "home"})
    assert r.status == 200
    opened = fake.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "ask_modal"
    assert "Ask erp-coach" in opened.text


def test_role_command_requires_an_admin(slack_app):
    fake = slack_app.fake
    fake.add_user("UEMP", locale="en-US")
    fake.add_user("UWH", locale="zh-CN")
    r = slack_app.sender.command("/erp", "role <@UWH|wang> warehouse", user_id="UEMP")
    assert "Only erp-coach admins" in _ephemeral_text(r)
    with slack_app.db.begin() as s:
        assert get_user(s, "UWH") is None or get_user(s, "UWH").role is None


def test_admin_sets_and_clears_a_role(slack_app):
    fake = slack_app.fake
    fake.add_user("UADM", locale="zh-CN")
    with slack_app.db.begin() as s:
        set_role(s, "UADM", "admin", slack_app.services.settings.roles)
    r = slack_app.sender.command("/erp", "role <@UWH|wang> warehouse", user_id="UADM")
    assert "warehouse" in _ephemeral_text(r) and "<@UWH>" in r.json()["text"]
    with slack_app.db.begin() as s:
        assert get_user(s, "UWH").role == "warehouse"
    r = slack_app.sender.command("/erp", "role <@UWH|wang> astronaut", user_id="UADM")
    assert "astronaut" in _ephemeral_text(r) and "finance" in r.json()["text"]  # lists the valid roles
    r = slack_app.sender.command("/erp", "role <@UWH|wang> none", user_id="UADM")
    assert "已清除" in _ephemeral_text(r)
    with slack_app.db.begin() as s:
        assert get_user(s, "UWH").role is None


def test_workspace_admins_from_settings_may_set_roles(slack_app):
    slack_app.services.directory.admins.add("UBOSS")
    r = slack_app.sender.command("/erp", "role <@U7> sales", user_id="UBOSS")
    assert "sales" in _ephemeral_text(r)
    r = slack_app.sender.command("/erp", "role", user_id="U7")
    assert "sales" in _ephemeral_text(r)


def test_usergroup_mapping_gives_a_role(slack_app):
    fake = slack_app.fake
    fake.add_user("UFIN", locale="en-US")
    fake.add_usergroup("S0FIN", ["UFIN", "UOTHER"], handle="finance-team")
    slack_app.services.directory.usergroup_roles["S0FIN"] = "finance"
    slack_app.sender.home_opened("UFIN")
    call = fake.wait_for("views.publish")
    assert "finance" in call.text
    assert fake.calls("usergroups.users.list")[0].args["usergroup"] == "S0FIN"


def test_language_override_beats_the_slack_locale(slack_app):
    fake = slack_app.fake
    fake.add_user("U3", locale="zh-CN")
    r = slack_app.sender.command("/erp", "lang en", user_id="U3")
    assert "English" in _ephemeral_text(r)
    r = slack_app.sender.command("/erp", "help", user_id="U3")
    assert "How to use erp-coach" in _ephemeral_text(r)
    r = slack_app.sender.command("/erp", "lang auto", user_id="U3")
    assert "跟随" in _ephemeral_text(r)
    r = slack_app.sender.command("/erp", "", user_id="U3")
    assert "如何使用" in _ephemeral_text(r)
    r = slack_app.sender.command("/erp", "lang klingon", user_id="U3")
    assert "用法" in _ephemeral_text(r)


def test_slack_locale_comes_from_users_info_with_include_locale(slack_app):
    fake = slack_app.fake
    fake.add_user("U4", locale="en-US", tz="Europe/Berlin")
    slack_app.sender.home_opened("U4")
    call = fake.wait_for("views.publish")
    assert "Your recent questions" in call.text
    info = fake.calls("users.info")[0]
    assert info.args["user"] == "U4" and info.args["include_locale"] in ("true", "1", True)
    with slack_app.db.begin() as s:
        user = get_user(s, "U4")
        assert (user.slack_locale, user.tz) == ("en-US", "Europe/Berlin")


def test_a_rate_limited_profile_lookup_does_not_hold_up_the_ack(slack_app):
    """Before an ack the bot asks Slack who the person is once, and never waits out a Retry-After: the
    reply comes from what it knows (the company's default language for someone new)."""
    fake = slack_app.fake
    fake.add_user("U9", locale="en-US")
    fake.rate_limit(0, methods=["users.info"], retry_after=30)  # every users.info: 429, retry in 30 s
    r = slack_app.sender.command("/erp", "help", user_id="U9")
    assert "如何使用" in _ephemeral_text(r)
    assert [c.method for c in fake.calls() if c.method.startswith("users.info")] == ["users.info:429"]


def test_a_modal_slack_refuses_to_open_still_acks_the_click(slack_app):
    """The Ask button acks, then opens the modal; when Slack refuses the modal (an expired trigger), the
    click was still answered: 200, not a 500 that makes Slack show the user its own error."""
    slack_app.fake.add_user("U5", locale="zh-CN")
    slack_app.fake.respond_with("views.open", {"ok": False, "error": "expired_trigger_id"})
    r = slack_app.sender.block_action(ids.HOME_ASK, user_id="U5", value="ask")
    assert r.status == 200
