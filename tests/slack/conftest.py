from tests.slack.harness import *  # noqa: F403  (fixtures: fake_slack, slack_app, ...)
