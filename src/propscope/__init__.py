"""propscope: find and explain propaganda techniques in news articles."""

__version__ = "0.1.0"

from .core import Result, analyze, classify_spans  # noqa: E402
from .spans import Article, Span  # noqa: E402
from .techniques import TECHNIQUE_NAMES, TECHNIQUES  # noqa: E402

__all__ = ["Article", "Result", "Span", "TECHNIQUES", "TECHNIQUE_NAMES", "analyze",
           "classify_spans", "__version__"]
