"""The torch model: an encoder with a BIO head on every token and a span technique head."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..span_features import N_SURFACE, SpanHead


class SpanTagger(nn.Module):
    def __init__(self, encoder: nn.Module, n_techniques: int, span_hidden: int = 256) -> None:
        super().__init__()
        self.encoder = encoder
        hid = encoder.config.hidden_size
        self.dropout = nn.Dropout(0.1)
        self.bio = nn.Linear(hid, 3)
        self.tech = nn.Linear(hid, n_techniques)  # per-token, multi-label
        self.span1 = nn.Linear(3 * hid + N_SURFACE, span_hidden)
        self.span2 = nn.Linear(span_hidden, n_techniques)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        dropped = self.dropout(states)
        return self.bio(dropped), states, self.tech(dropped)

    def span_logits(self, states: torch.Tensor, spans: torch.Tensor,
                    feats: torch.Tensor) -> torch.Tensor:
        """``spans`` rows are (batch row, first token, end token) in window coordinates."""
        vecs = []
        for b, i, j in spans.tolist():
            h = states[b, i:j]
            vecs.append(torch.cat([h.mean(0), h[0], h[-1]]))
        x = torch.cat([torch.stack(vecs), feats], dim=-1)
        h = nn.functional.gelu(self.span1(self.dropout(x)), approximate="tanh")
        return self.span2(h)

    def numpy_head(self) -> SpanHead:
        def arr(t: torch.Tensor) -> np.ndarray:
            return t.detach().float().cpu().numpy()

        return SpanHead(arr(self.span1.weight), arr(self.span1.bias),
                        arr(self.span2.weight), arr(self.span2.bias))

    def torch_runner(self):
        """A ``Runner`` over this model, for evaluation with the shared decoding code."""

        def run(ids: np.ndarray, mask: np.ndarray):
            was = self.training
            self.eval()
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                outputs = self(torch.from_numpy(ids), torch.from_numpy(mask))
            self.train(was)
            return tuple(o.float().numpy() for o in outputs)

        return run
