"""The score scales of the metrics (docs/architecture.md), in one place: the
range of each score and the bands that categorise and count it. Everything
that validates a score (API, survey form, model constraints, routing rule
bounds), categorises it (`nps_category`, `csat_band`), counts it (the score
figures and their summary, `feedback.analytics.raw_counters`), recovers it
(a follow-up no longer a detractor / dissatisfied) or labels it on a page
reads these names; none of them writes the numbers again."""

from __future__ import annotations

from feedback.choices import CsatBand, NpsCategory

Band = tuple[int, int]  # lowest and highest score, both included

NPS_RANGE: Band = (0, 10)
CSAT_RANGE: Band = (1, 5)
CES_RANGE: Band = (1, 7)  # 7 = least effort: high effort is a LOW score
VES_RANGE: Band = (1, 5)  # "after this, I am better able to ...": 5 = strongly agree

# NPS: detractor 0–6, passive 7–8, promoter 9–10.
DETRACTOR_MAX = 6
PROMOTER_MIN = 9
# CSAT: dissatisfied 1–2, neutral 3, satisfied 4–5 (CSAT % is the satisfied share).
CSAT_DISSATISFIED_MAX = 2
CSAT_SATISFIED_MIN = 4
# CES: the low-effort share counts 5–7; the charts colour 1–3 as high effort.
CES_LOW_EFFORT_MIN = 5
CES_HIGH_EFFORT_MAX = 3
# VES: the enhanced share counts 4–5 (agree); 1–2 (disagree) is low value, coloured red.
VES_ENHANCED_MIN = 4
VES_LOW_MAX = 2

BANDS: dict[str, Band] = {
    "nps": NPS_RANGE,
    "csat": CSAT_RANGE,
    "ces": CES_RANGE,
    "detractor": (NPS_RANGE[0], DETRACTOR_MAX),
    "passive": (DETRACTOR_MAX + 1, PROMOTER_MIN - 1),
    "promoter": (PROMOTER_MIN, NPS_RANGE[1]),
    "dissatisfied": (CSAT_RANGE[0], CSAT_DISSATISFIED_MAX),
    "csat_neutral": (CSAT_DISSATISFIED_MAX + 1, CSAT_SATISFIED_MIN - 1),
    "satisfied": (CSAT_SATISFIED_MIN, CSAT_RANGE[1]),
    "high_effort": (CES_RANGE[0], CES_HIGH_EFFORT_MAX),
    "low_effort": (CES_LOW_EFFORT_MIN, CES_RANGE[1]),
    "ves": VES_RANGE,
    "ves_low": (VES_RANGE[0], VES_LOW_MAX),
    "ves_enhanced": (VES_ENHANCED_MIN, VES_RANGE[1]),
}


def scores_in(band: Band) -> range:
    """Every score of `band`, lowest first."""
    return range(band[0], band[1] + 1)


def band_text(name: str) -> str:
    """A band of `BANDS` as people read it: "0–6", or "3" for a single score."""
    low, high = BANDS[name]
    return str(low) if low == high else f"{low}–{high}"


def nps_category(nps: int | None) -> str | None:
    """Promoter, passive or detractor (see the bands above); None without a score."""
    if nps is None:
        return None
    if nps >= PROMOTER_MIN:
        return NpsCategory.PROMOTER
    if nps > DETRACTOR_MAX:
        return NpsCategory.PASSIVE
    return NpsCategory.DETRACTOR


def csat_band(csat: int | None) -> str | None:
    """Satisfied (counts towards CSAT %), neutral or dissatisfied; None without a score."""
    if csat is None:
        return None
    if csat >= CSAT_SATISFIED_MIN:
        return CsatBand.SATISFIED
    if csat > CSAT_DISSATISFIED_MAX:
        return CsatBand.NEUTRAL
    return CsatBand.DISSATISFIED
