"""Action ids, callback ids and block ids: the names Slack echoes back to the app, in one place."""

# Asking
ASK_COMMAND = "/erp"
ASK_SHORTCUT = "ask_erp_coach"  # message shortcut "Ask erp-coach"
ASK_GLOBAL_SHORTCUT = "ask_erp_coach_global"  # global shortcut: opens the ask modal
ASK_MODAL = "ask_modal"  # callback id of the "Ask a question" modal
ASK_BLOCK = "ask_question"  # input block of the ask modal
ASK_INPUT = "question"  # its plain_text_input
HOME_ASK = "home_ask"  # App Home "Ask a question" button
SHARE_ANSWER = "share_answer"  # "Share to channel" under an ephemeral /erp answer
# Image blocks of the screenshots quoted with an answer: "answer_screenshot:1", ":2", ... (left out again
# when Slack cannot download one and refuses the message).
SCREENSHOT_BLOCK = "answer_screenshot"

# Rating an answer
FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
FEEDBACK_REASON_MODAL = "feedback_reason_modal"
FEEDBACK_REASON_BLOCK = "feedback_reason"
FEEDBACK_REASON_INPUT = "reason"
NOT_HELPFUL_REASONS = ("wrong", "outdated", "not_my_role", "unclear")
# Under an answer shared to a channel: anyone there may rate it (colleague ratings; the asker's click is
# the asker's rating). Value = the question log id. The tally's context block id is
# "colleague_ratings:<message language>", so a click from anyone redraws it in the message's language.
SHARED_HELPFUL = "shared_answer_helpful"
SHARED_NOT_HELPFUL = "shared_answer_not_helpful"
COLLEAGUE_RATINGS_BLOCK = "colleague_ratings"

# Tickets (the handler belongs to the tickets feature). The button's value is JSON:
# {"q": question_log_id or null, "question": text, "sources": [citation, ...]}
OPEN_TICKET = "open_ticket"

# Ticket surfaces (bot/listeners/tickets.py)
TICKET_SUBCOMMAND = "ticket"  # `/erp ticket [text]` opens the report modal
TICKET_SHORTCUT = "report_erp_issue"  # message shortcut "Report an ERP issue"
TICKET_MODAL = "ticket_modal"
TICKET_TITLE_BLOCK = "ticket_title"
TICKET_TITLE_INPUT = "title"
TICKET_DESCRIPTION_BLOCK = "ticket_description"
TICKET_DESCRIPTION_INPUT = "description"
TICKET_CATEGORY_BLOCK = "ticket_category"
TICKET_CATEGORY_INPUT = "category"
TICKET_PRIORITY_BLOCK = "ticket_priority"
TICKET_PRIORITY_INPUT = "priority"
TICKET_MODULE_BLOCK = "ticket_module"
TICKET_MODULE_INPUT = "module"
# Triage card buttons; their value is the ticket's database id.
TICKET_ASSIGN_ME = "ticket_assign_me"
TICKET_SET_PRIORITY = "ticket_set_priority"
TICKET_SET_STATUS = "ticket_set_status"
TICKET_RESOLVE = "ticket_resolve"
TICKET_REOPEN = "ticket_reopen"
TICKET_MERGE = "ticket_merge"  # value JSON {"t": duplicate id, "into": original id}
# "Withdraw FAQ" under a FAQ entry made from the ticket: faq_withdraw_<entry id> (unique per card when a
# reopened ticket made two); value = the entry's database id.
FAQ_WITHDRAW_PREFIX = "faq_withdraw_"
# It opens the dialog asking why; private_metadata = JSON {"f": entry id}.
FAQ_WITHDRAW_MODAL = "faq_withdraw_modal"
FAQ_WITHDRAW_REASON_BLOCK = "faq_withdraw_reason"
FAQ_WITHDRAW_REASON_INPUT = "reason"
FAQ_WITHDRAWN_MODAL = "faq_withdrawn_modal"  # what the dialog shows when it was withdrawn already
TICKET_RESOLVE_MODAL = "ticket_resolve_modal"
RESOLVE_TEXT_BLOCK = "resolve_text"
RESOLVE_TEXT_INPUT = "resolution"
RESOLVE_FAQ_BLOCK = "resolve_faq"
RESOLVE_FAQ_INPUT = "add_faq"
RESOLVE_FAQ_QUESTION_BLOCK = "resolve_faq_question"
RESOLVE_FAQ_QUESTION_INPUT = "faq_question"
RESOLVE_FAQ_ANSWER_BLOCK = "resolve_faq_answer"
RESOLVE_FAQ_ANSWER_INPUT = "faq_answer"
RESOLVE_FAQ_ROLES_BLOCK = "resolve_faq_roles"
RESOLVE_FAQ_ROLES_INPUT = "faq_roles"
RESOLVE_FAQ_LANG_BLOCK = "resolve_faq_lang"
RESOLVE_FAQ_LANG_INPUT = "faq_lang"
# Closure notice (reporter's DM)
TICKET_FIXED = "ticket_fixed"
TICKET_STILL_PROBLEM = "ticket_still_problem"
TICKET_RATE_PREFIX = "ticket_rate_"  # ticket_rate_1 .. ticket_rate_5

# Surveys
SURVEY_OPEN = "survey_open"  # "Answer the survey" button in the DM; value = round id
SURVEY_MODAL = "survey_modal"  # callback id of the survey modal; private_metadata = JSON {round, channel, ts}
SURVEY_ANSWER = (
    "answer"  # prefix of answer elements: action id "answer:<question>[:<module>]", block id "q:..."
)

# Training
TRAINING_DONE = "training_done"  # "Mark as done"; value = assignment id
TRAINING_MANUAL = "training_manual"  # link button to the manual section
TRAINING_COMMAND = "training"  # `/erp training`
GAP_TO_TRAINING = "gap_to_training"  # digest button; value = JSON {role, source, heading, topic}
