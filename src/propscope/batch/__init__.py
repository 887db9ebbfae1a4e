"""Corpus-scale runs: ``run_batch`` (Parquet tables, resumable) and ``build_report``."""

from __future__ import annotations

from .report import build_report
from .report_html import render_report_html
from .runner import run_batch, summary_line

__all__ = ["build_report", "render_report_html", "run_batch", "summary_line"]
