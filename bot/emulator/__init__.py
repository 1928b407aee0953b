"""Local stand-ins for the outside services the bot talks to, for the demo and the tests."""
