"""A sandbox: the real bot against a local Telegram, with a sample hospital and a web page."""
