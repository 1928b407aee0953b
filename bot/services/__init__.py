"""Use cases over the database: take a session, change rows, say whom to tell. Never commit."""
