"""All tables; importing this package registers them on Base.metadata."""

from bot.models.alert import AlertKind, SlaAlert
from bot.models.asset import Asset
from bot.models.attachment import Attachment, AttachmentKind
from bot.models.base import Base
from bot.models.org import Department, Staff, Zone, staff_zones
from bot.models.outbox import OutboxMessage, OutboxStatus, SummaryRun
from bot.models.ticket import Ticket, TicketEvent

__all__ = [
    "AlertKind",
    "Asset",
    "Attachment",
    "AttachmentKind",
    "Base",
    "Department",
    "OutboxMessage",
    "OutboxStatus",
    "SlaAlert",
    "Staff",
    "SummaryRun",
    "Ticket",
    "TicketEvent",
    "Zone",
    "staff_zones",
]
