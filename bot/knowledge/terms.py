"""Index terms and text similarity for the knowledge base, portable to any SQL database.

Korean glues particles and endings onto words (프린터가, 프린터를), so whole words rarely match:
Hangul is indexed as syllable bigrams, plus a word's first syllable with only the initial
consonant of the second, which survives most verb endings (걸림, 걸렸어요 -> 걸ㄹ). Other scripts
are indexed as lowercased words, a crude English stem and short prefixes, so "jam" finds
"jammed" and "print" finds "printer".
"""

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from operator import add

from rapidfuzz import fuzz

TERM_LENGTH = 40
PREFIXES = range(4, 8)
ACTION_WEIGHT = 0.6
FUZZ_WEIGHT = 0.15

_RUN = re.compile(r"[가-힣]+|[^\W_가-힣]+")  # a word split where Hangul meets other letters
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_DOUBLED = re.compile(r"([b-df-hj-km-np-rtv-z])\1$")


def normalize(text: str) -> str:
    """NFKC also composes Hangul typed as separate jamo, as some phones send it."""
    return unicodedata.normalize("NFKC", text).casefold()


def terms(text: str) -> set[str]:
    """The index terms of a text; the same function serves articles and queries."""
    found: set[str] = set()
    for run in _RUN.findall(normalize(text)):
        found.update(_run_terms(run))
    return found


def leading_terms(text: str, limit: int) -> list[str]:
    """The first `limit` distinct terms of a text, in order: a description opens with the fault,
    and a pasted log further down should not cost a lookup per word."""
    found: dict[str, None] = {}
    for run in _RUN.findall(normalize(text)):
        found.update(dict.fromkeys(sorted(_run_terms(run))))
        if len(found) >= limit:
            break
    return list(found)[:limit]


@lru_cache(maxsize=65_536)
def _run_terms(run: str) -> frozenset[str]:
    """Cached: reranking re-reads candidate articles, whose words come from a small vocabulary."""
    if "가" <= run[0] <= "힣":
        if len(run) == 1:
            return frozenset([run])
        first = run[0] + _INITIALS[(ord(run[1]) - 0xAC00) // 588]
        return frozenset([first, *map(add, run, run[1:])])
    if len(run) == 1:
        return frozenset()
    prefixes = [run[:n] for n in PREFIXES if n < len(run)]
    return frozenset([run[:TERM_LENGTH], _stem(run)[:TERM_LENGTH], *prefixes])


def _stem(word: str) -> str:
    """Just enough English stemming to meet plurals and past tenses: jammed, jams -> jam."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            return stem[:-1] if _DOUBLED.search(stem) else stem
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def idf(document_frequency: int, documents: int) -> float:
    """BM25's inverse document frequency: rare terms weigh much more than common ones, never 0."""
    df = min(document_frequency, documents)
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


def pick_retrieval_terms(
    frequencies: Mapping[str, int], *, per_term: int, budget: int
) -> list[str]:
    """The terms to look articles up by: rarest first, while the rows read stay within `budget`.

    A term is read for at most `per_term` of its articles (the newest), so a very common word
    costs no more than that; absent terms cost nothing and find nothing.
    """
    ranked = sorted((df, term) for term, df in frequencies.items() if df > 0)
    picked: list[str] = []
    read = 0
    for df, term in ranked:
        read += min(df, per_term)
        if picked and read > budget:
            break
        picked.append(term)
    return picked


def score(weights: Mapping[str, float], query: str, heading: str, action: str) -> float:
    """How well an article answers a query, from 0 (no term in common) to 1.

    Mostly the share of the query's term weight the article covers, a term in the title or
    symptom counting fully and one only in the action partly; a little rapidfuzz string
    similarity to the title and symptom orders near-ties.
    """
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    head, body = terms(heading), terms(action)
    covered = sum(
        weight * (1.0 if term in head else ACTION_WEIGHT if term in body else 0.0)
        for term, weight in weights.items()
    )
    if covered <= 0:
        return 0.0
    closeness = fuzz.token_set_ratio(normalize(query), normalize(heading)) / 100
    return (1 - FUZZ_WEIGHT) * covered / total + FUZZ_WEIGHT * closeness


def term_weights(
    wanted: Iterable[str], frequencies: Mapping[str, int], *, documents: int, counted: int
) -> dict[str, float]:
    """idf per query term. A count that stopped at the `counted` cap only says "at least that
    many": such a term is taken to be in the geometric mean of the cap and all the articles."""
    weights = {}
    for term in wanted:
        df = frequencies.get(term, 0)
        if df >= counted:
            df = max(df, math.isqrt(counted * documents))
        weights[term] = idf(df, documents)
    return weights
