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

# Rating an answer
FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
FEEDBACK_REASON_MODAL = "feedback_reason_modal"
FEEDBACK_REASON_BLOCK = "feedback_reason"
FEEDBACK_REASON_INPUT = "reason"
FEEDBACK_COMMENT_BLOCK = "feedback_comment"
FEEDBACK_COMMENT_INPUT = "comment"
NOT_HELPFUL_REASONS = ("wrong", "outdated", "not_my_role", "unclear")

# Tickets (the handler belongs to the tickets feature). The button's value is JSON:
# {"q": question_log_id or null, "question": text, "sources": [citation, ...]}
OPEN_TICKET = "open_ticket"

# App Home
HOME_REFRESH = "home_refresh"
