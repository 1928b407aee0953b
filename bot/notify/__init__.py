"""Turning notices into Telegram messages and getting them delivered."""
