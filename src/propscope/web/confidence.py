"""What the page and the API say about confidence and the model: the high / medium / low
cut-offs (defined here once, served to the page), the reader threshold, and the model's
public facts (name, version, profile). The levels themselves live in ``config`` and
``results.confidence_level``, shared with the other renderers."""

from __future__ import annotations

from typing import Any

from ..config import CONFIDENCE_LEVELS, PROFILES
from ..reader import MODES
from ..results import confidence_level

__all__ = ["CONFIDENCE_LEVELS", "confidence_level", "model_facts", "public_model_info",
           "served_profile"]

#: Model facts a client may see (never the folder the model was loaded from).
PUBLIC_MODEL_KEYS = ("name", "version", "created", "kind", "profile")


def public_model_info(info: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (info or {}).items() if k in PUBLIC_MODEL_KEYS}


def served_profile(model_arg: str | None) -> str | None:
    """The profile a ``--model``/``--profile`` value selects: none given is the shipped
    default (the first profile); a path selects none."""
    if model_arg is None:
        return next(iter(PROFILES))
    return model_arg if model_arg in PROFILES else None


def model_facts(predictor: Any, profile: str | None) -> dict[str, Any]:
    """The model's public facts, with the profile it was loaded for (if any)."""
    facts = public_model_info(getattr(predictor, "info", None))
    if profile:
        facts["profile"] = profile
    return facts


def reader_threshold(predictor: Any) -> float | None:
    """The model's reader threshold (None when it has no reader configuration)."""
    reader = getattr(predictor, "reader", None)
    threshold = getattr(reader, "threshold", None)
    return float(threshold) if isinstance(threshold, int | float) else None


def page_config(predictor: Any, profile: str | None) -> dict[str, Any]:
    """What the page needs before its first analysis (``GET /api/v1/config``)."""
    return {"modes": list(MODES), "default_mode": MODES[0],
            "reader_threshold": reader_threshold(predictor),
            "confidence_levels": [{"level": k, "min": v} for k, v in CONFIDENCE_LEVELS],
            "model": model_facts(predictor, profile) if predictor is not None else None}
