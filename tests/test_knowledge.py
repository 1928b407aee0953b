"""Knowledge base: index terms, and suggestions and search over a real database."""

import asyncio
import unicodedata

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.knowledge.terms import leading_terms, pick_retrieval_terms, score, term_weights, terms
from bot.models import KbArticle, KbTerm, Staff
from bot.services import knowledge
from bot.services.knowledge import KnowledgeService, Match
from tests.conftest import FakeClock

HP = "HP LaserJet M404"
CANON = "Canon LBP6030"


async def article(
    kb: KnowledgeService,
    symptom: str,
    *,
    title: str | None = None,
    action: str = "점검 후 정상 작동 확인",
    model: str | None = None,
    asset_type: str | None = None,
    self_service: bool = False,
) -> KbArticle:
    return await kb.add(
        title=title or symptom,
        symptom=symptom,
        action=action,
        model=model,
        asset_type=asset_type,
        self_service=self_service,
    )


# terms()


def test_hangul_is_indexed_as_syllable_bigrams() -> None:
    assert terms("프린터 용지 걸림") == {"프린", "린터", "프ㄹ", "용지", "용ㅈ", "걸림", "걸ㄹ"}


def test_particles_leave_the_word_bigrams_in_place() -> None:
    assert terms("프린터") <= terms("프린터가") & terms("프린터를")
    assert terms("스캐너") <= terms("바코드 스캐너가 인식이 안 돼요")


def test_verb_endings_keep_the_stem_and_next_initial() -> None:
    assert "걸ㄹ" in terms("걸림") & terms("걸렸어요") & terms("걸려서")
    assert "켜ㅈ" in terms("켜짐") & terms("안 켜져요")


def test_single_syllable_words_stay_but_single_letters_go() -> None:
    assert terms("팬 a 1 소음") == {"팬", "소음", "소ㅇ"}


def test_english_is_lowercased_stemmed_and_prefixed() -> None:
    found = terms("Paper JAMMED while printing")
    assert {"paper", "jammed", "jam", "printing", "print", "prin"} <= found
    assert "jam" in terms("paper jams")
    assert "print" in terms("printer")
    assert terms("batteries") >= {"battery", "batteries"}
    assert "pc" in terms("PC가 꺼져요")


def test_decomposed_hangul_and_full_width_letters_are_normalised() -> None:
    assert terms(unicodedata.normalize("NFD", "모니터가 안 켜져요")) == terms("모니터가 안 켜져요")
    assert terms("ＵＳＢ 포트") == terms("usb 포트")


def test_terms_fit_the_column_and_punctuation_is_no_term() -> None:
    assert terms("!!! ... ??") == set()
    assert max(map(len, terms("x" * 100 + " 프린터"))) == 40


def test_leading_terms_keep_the_opening() -> None:
    assert leading_terms("용지 걸림, 프린터 M404", 4) == ["용ㅈ", "용지", "걸ㄹ", "걸림"]
    assert leading_terms("용지 용지 용지", 10) == ["용ㅈ", "용지"]
    assert set(leading_terms("프린터 용지 걸림", 100)) == terms("프린터 용지 걸림")


def test_retrieval_reads_rare_terms_first_within_budget() -> None:
    frequencies = {"드럼": 3, "프린": 900, "린터": 800, "교체": 40, "없음": 0}
    assert pick_retrieval_terms(frequencies, per_term=100, budget=200) == ["드럼", "교체", "린터"]
    assert pick_retrieval_terms(frequencies, per_term=1000, budget=50) == ["드럼", "교체"]
    assert pick_retrieval_terms({"프린": 900, "린터": 800}, per_term=1000, budget=10) == ["린터"]
    assert pick_retrieval_terms({"없음": 0}, per_term=1000, budget=1000) == []


def test_score_is_zero_without_a_shared_term_and_favours_the_symptom() -> None:
    weights = term_weights(terms("용지 걸림"), {}, documents=100, counted=2000)
    in_symptom = score(weights, "용지 걸림", "용지 걸림", "롤러 청소")
    in_action = score(weights, "용지 걸림", "출력 불량", "걸린 용지 제거")
    assert in_symptom > in_action > 0
    assert score(weights, "용지 걸림", "모니터 깜빡임", "케이블 교체") == 0


def test_rare_terms_weigh_more() -> None:
    weights = term_weights(
        ["드럼", "프린"], {"드럼": 2, "프린": 2000}, documents=5000, counted=2000
    )
    assert weights["드럼"] > 5 * weights["프린"] > 0


# KnowledgeService


async def test_add_indexes_every_field_and_deleting_drops_the_terms(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    engineer = await hospital.scalar(select(Staff).where(Staff.telegram_id == 9001))
    assert engineer is not None
    kb = KnowledgeService(hospital, clock)
    added = await kb.add(
        title="  프린터 용지 걸림 ",
        symptom="용지가 자주 걸림",
        action="Pickup roller 교체",
        model="  HP   LaserJet M404 ",
        asset_type="printer",
        self_service=False,
        author_id=engineer.id,
    )
    await hospital.commit()
    assert (added.title, added.model, added.created_at) == ("프린터 용지 걸림", HP, clock.now())
    stored = set(await hospital.scalars(select(KbTerm.term).where(KbTerm.article_id == added.id)))
    assert stored == terms("프린터 용지 걸림 용지가 자주 걸림 Pickup roller 교체")

    await hospital.delete(added)
    await hospital.commit()
    assert await hospital.scalar(select(func.count()).select_from(KbTerm)) == 0


async def test_add_refuses_an_empty_article(session: AsyncSession, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="action"):
        await article(KnowledgeService(session, clock), "용지 걸림", action="   ")


async def test_korean_particles_and_endings_still_match(
    session: AsyncSession, clock: FakeClock
) -> None:
    kb = KnowledgeService(session, clock)
    jam = await article(kb, "프린터 용지 걸림", action="걸린 용지 제거, 롤러 청소")
    await article(kb, "모니터 화면 깜빡임", action="케이블 교체")
    await article(kb, "바코드 스캐너 인식 불량", action="스캐너 초기화 바코드 스캔")

    found = await kb.search("프린터가 종이가 걸렸어요")
    assert [(s.article.id, s.match) for s in found] == [(jam.id, Match.TEXT)]
    assert 0 < found[0].score < 1
    suggested = await kb.suggest(text="프린터가 종이가 걸렸어요", model=None, asset_type=None)
    assert [s.article.id for s in suggested] == [jam.id]
    scanner = await kb.search("스캐너가 바코드를 못 읽어요")
    assert [s.article.symptom for s in scanner] == ["바코드 스캐너 인식 불량"]


async def test_same_model_first_then_same_type_then_text(
    session: AsyncSession, clock: FakeClock
) -> None:
    kb = KnowledgeService(session, clock)
    other_printer = await article(kb, "프린터 용지 걸림", model=CANON, asset_type="printer")
    anywhere = await article(kb, "프린터 용지 걸림 반복")
    same_model_toner = await article(kb, "토너 부족 표시", model=HP, asset_type="printer")
    same_model_jam = await article(kb, "용지가 자꾸 걸림", model=HP, asset_type="printer")
    await article(kb, "모니터 화면 깜빡임", model="Dell P2419H", asset_type="monitor")

    found = await kb.suggest(
        text="프린터가 종이가 걸렸어요", model=HP, asset_type="printer", limit=10
    )
    assert [(s.article.id, s.match) for s in found] == [
        (same_model_jam.id, Match.MODEL),
        (same_model_toner.id, Match.MODEL),
        (other_printer.id, Match.TYPE),
        (anywhere.id, Match.TEXT),
    ]
    assert found[0].score > 0 and found[1].score == 0, "same model, even with no word in common"
    top = await kb.suggest(text="프린터가 종이가 걸렸어요", model=HP, asset_type="printer")
    assert [s.article.id for s in top] == [same_model_jam.id, same_model_toner.id, other_printer.id]

    no_words = await kb.suggest(text="", model=HP, asset_type=None)
    assert [(s.article.id, s.score) for s in no_words] == [
        (same_model_jam.id, 0.0),
        (same_model_toner.id, 0.0),
    ], "newest first when nothing else tells them apart"

    unknown_model = await kb.suggest(
        text="프린터가 종이가 걸렸어요", model="Epson L3150", asset_type="printer", limit=10
    )
    assert [(s.article.id, s.match) for s in unknown_model] == [
        (other_printer.id, Match.TYPE),
        (same_model_jam.id, Match.TYPE),
        (same_model_toner.id, Match.TYPE),
        (anywhere.id, Match.TEXT),
    ]


async def test_unrelated_text_finds_nothing(session: AsyncSession, clock: FakeClock) -> None:
    kb = KnowledgeService(session, clock)
    await article(kb, "프린터 용지 걸림", model=HP, asset_type="printer")
    await article(kb, "Monitor flickers", action="Replaced the DP cable", asset_type="monitor")

    assert await kb.search("네트워크 연결 끊김") == []
    assert (
        await kb.suggest(text="네트워크 연결 끊김", model="Cisco 2960", asset_type="switch") == []
    )
    assert await kb.suggest(text="", model=None, asset_type=None) == []
    assert await kb.search("   ") == []


async def test_search_on_an_empty_base(session: AsyncSession, clock: FakeClock) -> None:
    kb = KnowledgeService(session, clock)
    assert await kb.search("프린터") == []
    assert await kb.suggest(text="프린터", model=HP, asset_type="printer") == []


async def test_english_text(session: AsyncSession, clock: FakeClock) -> None:
    kb = KnowledgeService(session, clock)
    jam = await article(
        kb, "Paper jammed in tray 2", action="Cleaned the pickup roller", asset_type="printer"
    )
    flicker = await article(kb, "Monitor flickers", action="Replaced the DP cable")
    korean = await article(kb, "모니터 케이블 불량", action="DP cable 교체")

    assert [s.article.id for s in await kb.search("printer jams")] == [jam.id]
    assert [s.article.id for s in await kb.search("PAPER JAM")] == [jam.id]
    assert [s.article.id for s in await kb.search("monitor flickering")] == [flicker.id]
    cable = [s.article.id for s in await kb.search("dp cable")]
    assert sorted(cable) == sorted([flicker.id, korean.id])


async def test_a_rare_word_beats_a_common_one(session: AsyncSession, clock: FakeClock) -> None:
    """Terms in most articles are not used to retrieve, so they cannot crowd out rare ones."""
    kb = KnowledgeService(session, clock)
    for n in range(60):
        await article(kb, f"프린터 출력 안 됨 {n}번")
    drum = await article(kb, "프린터 드럼 수명 경고", action="드럼 유닛 교체")

    found = await kb.search("프린터 드럼", limit=3)
    assert found[0].article.id == drum.id
    only_common = await kb.search("프린터", limit=5)
    assert len(only_common) == 5, "a query of common words still finds something"


async def test_common_words_read_only_their_newest_articles(
    session: AsyncSession, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PER_TERM articles a word is common: counted no further, read newest first."""
    monkeypatch.setattr(knowledge, "PER_TERM", 5)
    kb = KnowledgeService(session, clock)
    drum = await article(kb, "프린터 드럼 수명 경고", action="드럼 유닛 교체")
    jams = [await article(kb, f"프린터 용지 걸림 {n}번") for n in range(20)]

    assert [s.article.id for s in await kb.search("프린터 드럼", limit=1)] == [drum.id]
    newest = await kb.search("프린터 걸림", limit=20)
    assert {s.article.id for s in newest} == {a.id for a in jams[-5:]}


async def test_a_long_description_is_looked_up_by_its_opening(
    session: AsyncSession, clock: FakeClock
) -> None:
    kb = KnowledgeService(session, clock)
    jam = await article(kb, "프린터 용지 걸림")
    log = " ".join(f"line{n}" for n in range(200))
    assert [s.article.id for s in await kb.search(f"용지가 걸렸어요 {log}")] == [jam.id]
    assert await kb.search(f"{log} 용지가 걸렸어요") == []


async def test_self_help_lists_self_service_tips_by_model_then_type(
    session: AsyncSession, clock: FakeClock
) -> None:
    kb = KnowledgeService(session, clock)
    tip = await article(kb, "용지 걸림", model=HP, asset_type="printer", self_service=True)
    popular = await article(kb, "전원 재시작", model=HP, asset_type="printer", self_service=True)
    await article(kb, "퓨저 교체", model=HP, asset_type="printer")  # engineers only
    generic = await article(kb, "토너 흔들기", asset_type="printer", self_service=True)
    await article(kb, "모니터 전원 확인", asset_type="monitor", self_service=True)
    for _ in range(2):
        await kb.record_self_solved(popular.id)
    await kb.record_self_solved(generic.id)

    found = await kb.self_help(model=HP, asset_type="printer", limit=5)
    assert [a.id for a in found] == [popular.id, tip.id, generic.id]
    assert [a.id for a in await kb.self_help(model=HP, asset_type="printer", limit=1)] == [
        popular.id
    ]
    assert [a.id for a in await kb.self_help(model=None, asset_type="printer")] == [
        popular.id,
        generic.id,
        tip.id,
    ]
    assert await kb.self_help(model="Epson L3150", asset_type=None) == []


async def test_record_self_solved_counts_concurrent_taps(
    session: AsyncSession, clock: FakeClock, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    kb = KnowledgeService(session, clock)
    tip = await article(kb, "전원 재시작", model=HP, self_service=True)
    await session.commit()

    async def tap() -> None:
        async with sessionmaker() as own:
            solved = await KnowledgeService(own, clock).record_self_solved(tip.id)
            assert solved is not None and solved.self_solved >= 1
            await own.commit()

    await asyncio.gather(*(tap() for _ in range(5)))
    await session.refresh(tip)
    assert tip.self_solved == 5
    again = await kb.record_self_solved(tip.id)
    assert again is tip and tip.self_solved == 6
    assert await kb.record_self_solved(tip.id + 1000) is None


async def test_record_suggested(session: AsyncSession, clock: FakeClock) -> None:
    kb = KnowledgeService(session, clock)
    shown = await article(kb, "용지 걸림")
    hidden = await article(kb, "토너 부족")
    await kb.record_suggested([shown.id])
    await kb.record_suggested([])
    assert (shown.suggested, hidden.suggested) == (1, 0)
