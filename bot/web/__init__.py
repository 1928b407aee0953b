"""The supervisors' web dashboard, served by the bot's own process."""
