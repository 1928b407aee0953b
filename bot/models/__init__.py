"""All tables; importing this package registers them on Base.metadata."""

from bot.models.alert import AlertKind, SlaAlert
from bot.models.asset import Asset, AssetEvent
from bot.models.attachment import Attachment, AttachmentKind
from bot.models.audit import AuditEntry
from bot.models.base import Base
from bot.models.knowledge import KbArticle, KbTerm
from bot.models.org import Department, Staff, Zone, staff_zones
from bot.models.outbox import OutboxMessage, OutboxStatus, ProcessedUpdate, SummaryRun
from bot.models.repair import RepairReport, SpareLoan, VendorRepair
from bot.models.ticket import Ticket, TicketEvent, ticket_helpers
from bot.models.voice import VoiceNote

__all__ = [
    "AlertKind",
    "Asset",
    "AssetEvent",
    "Attachment",
    "AttachmentKind",
    "AuditEntry",
    "Base",
    "Department",
    "KbArticle",
    "KbTerm",
    "OutboxMessage",
    "OutboxStatus",
    "ProcessedUpdate",
    "RepairReport",
    "SlaAlert",
    "SpareLoan",
    "Staff",
    "SummaryRun",
    "Ticket",
    "TicketEvent",
    "VendorRepair",
    "VoiceNote",
    "Zone",
    "staff_zones",
    "ticket_helpers",
]
