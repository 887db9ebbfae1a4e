"""Output formats for analysis results: terminal text, JSON, PTC TSV and an HTML report."""
