"""Plain-Python rules of the repair desk: no aiogram, no database."""
