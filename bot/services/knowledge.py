"""The knowledge base over the database: articles from past fixes, suggested, searched, reused.

Retrieval is plain portable SQL, the same on SQLite and PostgreSQL: index range reads of
kb_terms for the query's terms, summed per article, and the indexed model and type columns,
narrow the articles to a few hundred; `bot.knowledge.terms` then scores those in Python.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Executable,
    Float,
    bindparam,
    case,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.knowledge.terms import leading_terms, pick_retrieval_terms, score, term_weights, terms
from bot.models import KbArticle, KbTerm

CANDIDATES = 200  # articles scored in Python per query and group
QUERY_TERMS = 64
PER_TERM = 1_000  # a query term's articles counted and read, newest first: a common word's cost
POSTINGS_BUDGET = 10_000  # term rows one lookup may read


class Match(StrEnum):
    """Why an article was suggested: same device model, same kind of device, or text alone."""

    MODEL = "model"
    TYPE = "type"
    TEXT = "text"


@dataclass(frozen=True)
class Suggestion:
    article: KbArticle
    score: float  # text similarity, 0 (none: suggested for its model or type only) to 1
    match: Match


@dataclass(frozen=True)
class _Query:
    text: str
    weights: dict[str, float]  # every query term, by rarity
    retrieval: dict[str, float]  # the ones the candidate lookup reads


# similarity, times the article solved a problem, article id: the best sorts last
_Scored = tuple[float, int, int]
_GROUP_COLUMNS = {Match.MODEL: KbArticle.model, Match.TYPE: KbArticle.asset_type}
_TEXTS = (KbArticle.id, KbArticle.title, KbArticle.symptom, KbArticle.action, KbArticle.self_solved)


def _label(value: str | None, length: int) -> str | None:
    """Model and type names compared as written on the asset, but blind to stray spaces."""
    cleaned = " ".join((value or "").split())[:length]
    return cleaned or None


# Statements are built once per shape and bound to values on each call: building a select of
# twenty subqueries costs more than SQLite takes to run it.


@lru_cache(maxsize=QUERY_TERMS)
def _frequencies_sql(count: int) -> Executable:
    """The highest article id, and how many articles (up to `per_term`) hold terms t0, t1..."""
    counts = [
        select(func.count())
        .select_from(
            select(KbTerm.article_id)
            .where(KbTerm.term == bindparam(f"t{i}"))
            .limit(bindparam("per_term"))
            .subquery()
        )
        .scalar_subquery()
        for i in range(count)
    ]
    return select(select(func.max(KbArticle.id)).scalar_subquery(), *counts)


@lru_cache(maxsize=4 * QUERY_TERMS)
def _retrieval_sql(count: int, group: Match, excluding: bool) -> Executable:
    """The CANDIDATES articles (of `group`) with the greatest weight w0, w1... of terms t0, t1...

    Each term brings at most its `per_term` newest articles, read backwards along the
    (term, article_id) key, so a common word costs a bounded index range and no more.
    """
    wanted = [bindparam(f"t{i}", type_=KbTerm.term.type) for i in range(count)]
    newest = [
        select(KbTerm.term, KbTerm.article_id)
        .where(KbTerm.term == term)
        .order_by(KbTerm.article_id.desc())
        .limit(bindparam("per_term"))
        .subquery()
        for term in wanted
    ]
    postings = union_all(*(select(sub.c.term, sub.c.article_id) for sub in newest)).subquery()
    weights = [
        (postings.c.term == term, bindparam(f"w{i}", type_=Float()))
        for i, term in enumerate(wanted)
    ]
    hits = func.sum(case(*weights, else_=0.0)).label("hits")
    found = select(postings.c.article_id.label("id"), hits)
    if group in _GROUP_COLUMNS:
        found = found.join(KbArticle, KbArticle.id == postings.c.article_id).where(
            _GROUP_COLUMNS[group] == bindparam("group")
        )
    if excluding:
        found = found.where(postings.c.article_id.not_in(bindparam("exclude", expanding=True)))
    best = (
        found.group_by(postings.c.article_id)
        .order_by(hits.desc(), postings.c.article_id.desc())
        .limit(CANDIDATES)
        .subquery()
    )
    return select(*_TEXTS).join(best, best.c.id == KbArticle.id)


@lru_cache(maxsize=8)
def _group_sql(group: Match, excluding: bool) -> Executable:
    """The CANDIDATES articles of a model or type that most often solved a problem."""
    found = select(KbArticle.id).where(_GROUP_COLUMNS[group] == bindparam("group"))
    if excluding:
        found = found.where(KbArticle.id.not_in(bindparam("exclude", expanding=True)))
    best = (
        found.order_by(KbArticle.self_solved.desc(), KbArticle.id.desc())
        .limit(CANDIDATES)
        .subquery()
    )
    return select(*_TEXTS).join(best, best.c.id == KbArticle.id)


class KnowledgeService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def add(
        self,
        *,
        title: str,
        symptom: str,
        action: str,
        model: str | None,
        asset_type: str | None,
        self_service: bool,
        ticket_id: int | None = None,
        author_id: int | None = None,
    ) -> KbArticle:
        title, symptom, action = title.strip(), symptom.strip(), action.strip()
        if not (title and symptom and action):
            raise ValueError("an article needs a title, a symptom and an action")
        article = KbArticle(
            title=title[:200],
            symptom=symptom,
            action=action,
            model=_label(model, 120),
            asset_type=_label(asset_type, 60),
            self_service=self_service,
            ticket_id=ticket_id,
            author_id=author_id,
            created_at=self.clock.now(),
            self_solved=0,
            suggested=0,
        )
        self.session.add(article)
        await self.session.flush()
        index = terms(article.title) | terms(symptom) | terms(action)
        await self.session.execute(
            insert(KbTerm), [{"term": term, "article_id": article.id} for term in sorted(index)]
        )
        return article

    async def suggest(
        self, *, text: str, model: str | None, asset_type: str | None, limit: int = 3
    ) -> list[Suggestion]:
        """The articles most like a new job: same model first, then same type, then any.

        Within a group the most similar text comes first; articles of the same model or type
        are suggested even with no word in common, other articles only when something matches.
        """
        query = await self._query(text)
        groups = [
            (Match.MODEL, _label(model, 120)),
            (Match.TYPE, _label(asset_type, 60)),
            (Match.TEXT, None),
        ]
        picked: dict[int, tuple[float, Match]] = {}
        for match, value in groups:
            wanted = limit - len(picked)
            if wanted <= 0:
                break
            if match is not Match.TEXT and value is None:
                continue
            found = {row[2]: row for row in await self._retrieved(query, match, value, picked)}
            if match is not Match.TEXT and len(found) < wanted:
                # Its words may all be too common to look up: score the group's best-used whole.
                for row in await self._group(query, match, value, picked):
                    found.setdefault(row[2], row)
            for similarity, _, article_id in sorted(found.values(), reverse=True)[:wanted]:
                picked[article_id] = (similarity, match)
        articles = await self._load(picked)
        return [
            Suggestion(articles[i], similarity, match) for i, (similarity, match) in picked.items()
        ]

    async def search(self, words: str, limit: int = 5) -> list[Suggestion]:
        """Free-text search over every article, best match first."""
        query = await self._query(words)
        ranked = sorted(await self._retrieved(query, Match.TEXT, None, ()), reverse=True)
        articles = await self._load([article_id for _, _, article_id in ranked[:limit]])
        return [
            Suggestion(articles[i], similarity, Match.TEXT) for similarity, _, i in ranked[:limit]
        ]

    async def self_help(
        self, *, model: str | None, asset_type: str | None, limit: int = 3
    ) -> list[KbArticle]:
        """What a ward may try before filing a ticket: this model's tips, then this type's.

        Within each, the tips that most often fixed the problem for someone come first.
        """
        found: list[KbArticle] = []
        for column, value in (
            (KbArticle.model, _label(model, 120)),
            (KbArticle.asset_type, _label(asset_type, 60)),
        ):
            if value is None or len(found) >= limit:
                continue
            stmt = select(KbArticle).where(KbArticle.self_service, column == value)
            if found:
                stmt = stmt.where(KbArticle.id.not_in([a.id for a in found]))
            rows = await self.session.scalars(
                stmt.order_by(KbArticle.self_solved.desc(), KbArticle.id.desc()).limit(
                    limit - len(found)
                )
            )
            found.extend(rows)
        return found

    async def record_self_solved(self, article_id: int) -> KbArticle | None:
        """A ward user said this article fixed it; counted in SQL so concurrent taps all count."""
        stmt = (
            update(KbArticle)
            .where(KbArticle.id == article_id)
            .values(self_solved=KbArticle.self_solved + 1)
            .returning(KbArticle)
        )
        return await self.session.scalar(stmt, execution_options={"populate_existing": True})

    async def record_suggested(self, article_ids: Collection[int]) -> None:
        """Count articles shown to an engineer, to set beside how often they fixed things."""
        if article_ids:
            await self.session.execute(
                update(KbArticle)
                .where(KbArticle.id.in_(article_ids))
                .values(suggested=KbArticle.suggested + 1)
            )

    async def _query(self, text: str) -> _Query | None:
        """Weigh the query's terms by how rare they are, in one round trip.

        The highest article id stands in for the number of articles (they are seldom deleted,
        and idf barely moves): it is an index lookup, where count(*) reads a whole index.
        """
        wanted = leading_terms(text, QUERY_TERMS)
        if not wanted:
            return None
        params: dict[str, Any] = {f"t{i}": term for i, term in enumerate(wanted)}
        params["per_term"] = PER_TERM
        documents, *found = (
            await self.session.execute(_frequencies_sql(len(wanted)), params)
        ).one()
        if not documents:
            return None
        frequencies = dict(zip(wanted, found, strict=True))
        weights = term_weights(wanted, frequencies, documents=documents, counted=PER_TERM)
        picked = pick_retrieval_terms(frequencies, per_term=PER_TERM, budget=POSTINGS_BUDGET)
        return _Query(text, weights, {term: weights[term] for term in picked})

    async def _retrieved(
        self, query: _Query | None, group: Match, value: str | None, exclude: Collection[int]
    ) -> list[_Scored]:
        """Articles sharing a term with the query (and of the group), scored; none at 0."""
        if query is None or not query.retrieval:
            return []
        params: dict[str, Any] = {"group": value, "exclude": list(exclude), "per_term": PER_TERM}
        for i, (term, weight) in enumerate(query.retrieval.items()):
            params |= {f"t{i}": term, f"w{i}": weight}
        rows = await self.session.execute(
            _retrieval_sql(len(query.retrieval), group, bool(exclude)), params
        )
        return [row for row in self._scored(query, rows) if row[0] > 0]

    async def _group(
        self, query: _Query | None, group: Match, value: str | None, exclude: Collection[int]
    ) -> list[_Scored]:
        """The model's or type's articles that most often helped, whatever their text."""
        rows = await self.session.execute(
            _group_sql(group, bool(exclude)), {"group": value, "exclude": list(exclude)}
        )
        return self._scored(query, rows)

    @staticmethod
    def _scored(query: _Query | None, rows: Iterable[Sequence[Any]]) -> list[_Scored]:
        return [
            (
                score(query.weights, query.text, f"{title}\n{symptom}", action) if query else 0.0,
                solved,
                article_id,
            )
            for article_id, title, symptom, action, solved in rows
        ]

    async def _load(self, article_ids: Collection[int]) -> dict[int, KbArticle]:
        if not article_ids:
            return {}
        rows = await self.session.scalars(select(KbArticle).where(KbArticle.id.in_(article_ids)))
        return {article.id: article for article in rows}
