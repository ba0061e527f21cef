"""Action ids, callback ids and block ids: the names Slack echoes back to the app, in one place."""

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
