"""Block Kit builders: plain data in, blocks out. Views never query the database or call Slack."""
