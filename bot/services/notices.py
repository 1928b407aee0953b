"""What a service wants people to be told; rendering and delivery happen elsewhere."""

from dataclasses import dataclass, field
from typing import Any

from bot.models import Staff

URGENCY_ROW = "urgency"
"""Pseudo-button in a Notice: the row of urgency choices under a fresh report."""
ATTACHMENTS = "attachments"
"""Pseudo-button in a Notice: show the ticket's photos and voice messages."""
STAGE_OF = "@"
"""Joins a reminder's answer and the stage it is about in a pseudo-button (`on_it@loan`): the
press names the stage, so the server checks it against whoever that reminder went to."""


@dataclass(frozen=True)
class Notice:
    """A message for one staff member: a catalog key, its parameters, and ticket buttons."""

    recipient: Staff
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    ticket_id: int | None = None
    buttons: tuple[str, ...] = ()
