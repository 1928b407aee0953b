"""Who gets a ticket, and where it stands in that engineer's queue."""
