"""The score scales of DESIGN's metrics, in one place."""

from __future__ import annotations

from feedback.choices import CsatBand, NpsCategory

NPS_RANGE = (0, 10)
CSAT_RANGE = (1, 5)
CES_RANGE = (1, 7)


def nps_category(nps: int | None) -> str | None:
    """Promoter 9–10, passive 7–8, detractor 0–6."""
    if nps is None:
        return None
    if nps >= 9:
        return NpsCategory.PROMOTER
    if nps >= 7:
        return NpsCategory.PASSIVE
    return NpsCategory.DETRACTOR


def csat_band(csat: int | None) -> str | None:
    """Satisfied 4–5 (counts towards CSAT %), neutral 3, dissatisfied 1–2."""
    if csat is None:
        return None
    if csat >= 4:
        return CsatBand.SATISFIED
    if csat == 3:
        return CsatBand.NEUTRAL
    return CsatBand.DISSATISFIED
