"""Training (needs the ``train`` extra: torch and transformers). Inference never imports this."""
