"""The knowledge base in chat: suggestions, `/kb words`, adding a fix, and ward self-help."""

from collections.abc import Sequence

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import Role, TicketStatus
from bot.domain.ticket_flow import DomainError, NotAllowed
from bot.filters import RoleIs
from bot.handlers.replies import set_buttons
from bot.i18n import Translator
from bot.keyboards import KbCb, KbOp, SelfHelpCb, self_help_keyboard
from bot.models import Asset, KbArticle, RepairReport, Staff
from bot.services.knowledge import KnowledgeService, Suggestion
from bot.services.tickets import TicketService
from bot.unit_of_work import UnitOfWork

SNIPPET = 160
IT_STAFF = (Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN)


class AlreadyInKnowledgeBase(DomainError):
    code = "already_in_kb"


def _line(t: Translator, index: int, article: KbArticle) -> str:
    return t(
        "kb.item",
        index=index,
        title=article.title,
        action=article.action[:SNIPPET],
        model=article.model or article.asset_type or t("common.none"),
        solved=article.self_solved,
    )


def suggestions_text(t: Translator, number: int, found: Sequence[Suggestion]) -> str:
    lines = [t("kb.suggest_header", number=number)]
    lines += [_line(t, i, s.article) for i, s in enumerate(found, start=1)]
    return "\n".join(lines)


async def search(
    message: Message, command: CommandObject, t: Translator, knowledge: KnowledgeService
) -> None:
    words = (command.args or "").strip()
    if not words:
        await message.answer(t("kb.usage"))
        return
    found = await knowledge.search(words[:200])
    if not found:
        await message.answer(t("kb.none", words=words[:200]))
        return
    lines = [t("kb.search_header", words=words[:200])]
    lines += [_line(t, i, s.article) for i, s in enumerate(found, start=1)]
    await message.answer("\n".join(lines))


async def add_article(
    callback: CallbackQuery,
    callback_data: KbCb,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
    knowledge: KnowledgeService,
    uow: UnitOfWork,
) -> None:
    """Only someone who worked the job (or a supervisor) files it, once, after it is fixed."""
    ticket = await tickets.get(callback_data.ticket_id)
    worked = staff.id in {ticket.assignee_id, *ticket.helper_ids}
    if not (worked or staff.role in {Role.SUPERVISOR, Role.ADMIN}):
        raise NotAllowed(ticket.number, action="kb")
    report = await session.scalar(
        select(RepairReport)
        .where(RepairReport.ticket_id == ticket.id)
        .order_by(RepairReport.id.desc())
        .limit(1)
    )
    if report is None or ticket.status not in {TicketStatus.RESOLVED, TicketStatus.CLOSED}:
        raise NotAllowed(ticket.number, action="kb")
    if await session.scalar(select(KbArticle.id).where(KbArticle.ticket_id == ticket.id)):
        raise AlreadyInKnowledgeBase(ticket.number)
    action = report.action if not report.parts else f"{report.action} ({report.parts})"
    article = await knowledge.add(
        title=ticket.description.splitlines()[0][:200],
        symptom=ticket.description,
        action=action,
        model=ticket.asset.model if ticket.asset else None,
        asset_type=ticket.device_type,
        self_service=callback_data.op is KbOp.ADD_SELF,
        ticket_id=ticket.id,
        author_id=staff.id,
    )
    await uow.commit()
    key = "kb.added_self" if article.self_service else "kb.added"
    await callback.answer(t(key, number=ticket.number), show_alert=True)
    await set_buttons(callback, None)


async def offer_self_help(
    message: Message, t: Translator, knowledge: KnowledgeService, asset: Asset
) -> bool:
    """Before a ward files a ticket for a scanned device, the fixes they can do themselves."""
    articles = await knowledge.self_help(model=asset.model, asset_type=asset.type)
    if not articles:
        return False
    lines = [t("selfhelp.header", asset=asset.code, model=asset.model)]
    lines += [
        t("selfhelp.item", index=i, title=a.title, action=a.action[:SNIPPET])
        for i, a in enumerate(articles, start=1)
    ]
    await message.answer(
        "\n".join(lines), reply_markup=self_help_keyboard(t, asset.id, [a.id for a in articles])
    )
    return True


async def self_solved(
    callback: CallbackQuery,
    callback_data: SelfHelpCb,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
    knowledge: KnowledgeService,
    uow: UnitOfWork,
) -> None:
    asset = await session.get(Asset, callback_data.asset_id)
    article = await session.get(KbArticle, callback_data.article_id)
    if asset is None or article is None or not article.self_service:
        await callback.answer(t("error.stale_button"), show_alert=True)
        return
    ticket = await tickets.record_self_solved(staff, asset, article)
    await knowledge.record_self_solved(article.id)
    await uow.commit()
    await state.clear()
    await callback.answer()
    await set_buttons(callback, None)
    if isinstance(callback.message, Message):
        await callback.message.answer(t("selfhelp.thanks", number=ticket.number))


def build_router() -> Router:
    router = Router(name=__name__)
    it_router = Router(name=f"{__name__}.it")
    it_router.message.filter(RoleIs(*IT_STAFF))
    it_router.callback_query.filter(RoleIs(*IT_STAFF))
    it_router.message.register(search, Command("kb"))
    it_router.callback_query.register(add_article, KbCb.filter())
    ward_router = Router(name=f"{__name__}.ward")
    ward_router.callback_query.filter(RoleIs(Role.REPORTER))
    ward_router.callback_query.register(self_solved, SelfHelpCb.filter())
    router.include_routers(it_router, ward_router)
    return router
