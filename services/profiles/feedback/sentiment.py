"""Pure sentiment and feedback arithmetic: VADER scores and labels, negative-feedback terms, response-time and
sentiment summaries. No database, no I/O."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["positive", "negative", "neutral"]
LABELS: tuple[Label, ...] = ("positive", "negative", "neutral")
POSITIVE, NEGATIVE = 0.05, -0.05  # VADER's published thresholds on the compound score
# Contraction stems left by the tokenizer ("don't" → "don") and filler that says nothing about a product.
EXTRA_STOP_WORDS = frozenset({"don", "doesn", "didn", "isn", "wasn", "won", "ve", "ll", "im", "amp", "just", "really"})
_WORD = re.compile(r"[a-z][a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True, slots=True)
class Sentiment:
    """VADER's compound score in [-1, 1] and its label."""

    compound: float
    label: Label


@dataclass(frozen=True, slots=True)
class FeedbackFact:
    """What the summaries need of one feedback item."""

    received_at: datetime
    responded_at: datetime | None
    compound: float | None
    label: str | None


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: loading the lexicon is the expensive part."""
    return SentimentIntensityAnalyzer()


def label_of(compound: float) -> Label:
    """positive at 0.05 and above, negative at -0.05 and below, else neutral."""
    if compound >= POSITIVE:
        return "positive"
    return "negative" if compound <= NEGATIVE else "neutral"


def analyse(text: str) -> Sentiment:
    """The sentiment of a text (negation, emoji, capitals, "but" and "!!!" handled by VADER)."""
    compound = round(float(_analyzer().polarity_scores(text)["compound"]), 4)
    return Sentiment(compound, label_of(compound))


def terms(text: str) -> set[str]:
    """Lowercased words and adjacent word pairs of a text, stop words removed."""
    words = [w.split("'")[0] for w in _WORD.findall(text.lower())]
    kept = [w if len(w) > 1 and w not in ENGLISH_STOP_WORDS and w not in EXTRA_STOP_WORDS else None for w in words]
    pairs = {f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False) if a and b}
    return {w for w in kept if w} | pairs


def top_terms(texts: Iterable[str], limit: int = 10) -> list[dict[str, Any]]:
    """The terms found in the most texts (each text counts a term once), most frequent first."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms(text))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"term": term, "count": count} for term, count in ranked[:limit]]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def response_summary(facts: Sequence[FeedbackFact]) -> dict[str, Any]:
    """Answered count, mean and median response time in hours, and the share of items answered within 1 h / 24 h."""
    hours = [(f.responded_at - f.received_at).total_seconds() / 3600 for f in facts if f.responded_at]
    return {
        "answered": len(hours),
        "response_rate": _share(len(hours), len(facts)),
        "mean_response_hours": round(statistics.fmean(hours), 4) if hours else None,
        "median_response_hours": round(statistics.median(hours), 4) if hours else None,
        "answered_within_1h": _share(sum(h <= 1 for h in hours), len(facts)),
        "answered_within_24h": _share(sum(h <= 24 for h in hours), len(facts)),
    }


def sentiment_summary(facts: Sequence[FeedbackFact]) -> dict[str, Any]:
    """Count and share of each label among scored items, and their mean compound score."""
    scored = [f for f in facts if f.compound is not None]
    counts = Counter(f.label for f in scored)
    mean = round(statistics.fmean(f.compound for f in scored if f.compound is not None), 4) if scored else None
    return {
        "scored": len(scored),
        "mean_compound": mean,
        "sentiment": {label: {"count": counts[label], "share": _share(counts[label], len(scored))} for label in LABELS},
    }


def daily_trend(facts: Sequence[FeedbackFact]) -> list[dict[str, Any]]:
    """Per day received (UTC): how many items and their mean compound score."""
    days: dict[date, list[float | None]] = {}
    for fact in facts:
        days.setdefault(fact.received_at.date(), []).append(fact.compound)
    trend = []
    for day in sorted(days):
        scores = [c for c in days[day] if c is not None]
        mean = round(statistics.fmean(scores), 4) if scores else None
        trend.append({"day": day.isoformat(), "count": len(days[day]), "mean_compound": mean})
    return trend


def summarize(facts: Sequence[FeedbackFact]) -> dict[str, Any]:
    """Everything the feedback report shows for one set of items."""
    return {"items": len(facts)} | response_summary(facts) | sentiment_summary(facts) | {"daily": daily_trend(facts)}
