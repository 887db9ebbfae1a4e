"""Predictors: objects that turn article texts into spans, behind one small protocol."""

from .base import Predictor

__all__ = ["Predictor"]
