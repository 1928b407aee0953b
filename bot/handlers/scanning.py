"""What happens once a device label has been read, from a photo or a deep link."""

from zoneinfo import ZoneInfo

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.handlers.assets import show_card
from bot.handlers.knowledge import offer_self_help
from bot.i18n import Translator
from bot.keyboards import bind_keyboard, new_report_keyboard
from bot.models import Asset, AttachmentKind, Staff, Ticket
from bot.notify.render import ticket_params
from bot.services.knowledge import KnowledgeService
from bot.services.tickets import TicketService
from bot.unit_of_work import UnitOfWork

PHOTO_KEY = "photo"


class ReportFor(StatesGroup):
    """A reporter has picked a device and is describing its fault."""

    describing = State()


def photo_attachments(photo_file_id: str | None) -> list[tuple[AttachmentKind, str]]:
    return [(AttachmentKind.PHOTO, photo_file_id)] if photo_file_id else []


def device_params(asset: Asset) -> dict[str, object]:
    return {"asset": asset.code, "model": asset.model, "location": asset.location}


async def offer_report(
    message: Message,
    state: FSMContext,
    t: Translator,
    tickets: TicketService,
    asset: Asset,
    photo_file_id: str | None = None,
    open_ticket: Ticket | None = None,
) -> None:
    """Show the device's open ticket instead of a duplicate; else ask what is wrong with it.
    Callers that already looked the open ticket up pass it in."""
    open_ticket = open_ticket or await tickets.open_ticket_for(asset)
    if open_ticket is not None:
        position = await tickets.position(open_ticket)
        params = {
            "number": open_ticket.number,
            "status": open_ticket.status,
            "engineer": open_ticket.assignee.name if open_ticket.assignee else None,
            "position": position,
            **device_params(asset),
        }
        await state.update_data({PHOTO_KEY: photo_file_id})
        await message.answer(
            t("scan.open_ticket", **ticket_params(t, params)),
            reply_markup=new_report_keyboard(t, asset.id),
        )
        return
    await ask_description(message, state, t, tickets, asset, photo_file_id)


async def ask_description(
    message: Message,
    state: FSMContext,
    t: Translator,
    tickets: TicketService,
    asset: Asset,
    photo_file_id: str | None = None,
) -> None:
    """Self-help first when the model has any; the reporter can still describe the fault."""
    await offer_self_help(message, t, KnowledgeService(tickets.session, tickets.clock), asset)
    await state.set_state(ReportFor.describing)
    await state.update_data({"asset_id": asset.id, PHOTO_KEY: photo_file_id})
    await message.answer(t("scan.describe", **ticket_params(t, device_params(asset))))


async def offer_binding(
    message: Message,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    uow: UnitOfWork,
    asset: Asset,
    zone: ZoneInfo,
) -> None:
    """An engineer's label scan names the device of the job in hand (asks when there are
    several); with no job in hand it shows the device's card."""
    jobs = await tickets.jobs_in_hand(staff)
    if not jobs:
        await show_card(message, tickets.session, t, asset, zone)
    elif len(jobs) == 1:
        outcome = await tickets.bind_asset(staff, jobs[0].id, asset)
        await uow.commit(outcome.notices)
        await message.answer(t("scan.bound", number=jobs[0].number, asset=asset.code))
    else:
        choices = [(job.id, job.description) for job in jobs]
        await message.answer(
            t("scan.pick_job", asset=asset.code), reply_markup=bind_keyboard(choices, asset.id)
        )
