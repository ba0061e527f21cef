"""Everything that knows Slack: the Bolt app, listeners, Block Kit views, i18n catalogs and the CLI."""
