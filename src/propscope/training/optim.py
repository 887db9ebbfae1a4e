"""The optimiser's step and learning-rate schedule shared by the trainings (the tagger's
loop, the marker classifier, the studies that fine-tune an encoder)."""

from __future__ import annotations

import torch


def update(model: torch.nn.Module, opt: torch.optim.Optimizer,
           sched: torch.optim.lr_scheduler.LRScheduler, loss: torch.Tensor) -> float:
    """One step on ``loss``: gradients clipped to a norm of 1, then the schedule's step.
    Returns the loss."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    return float(loss.detach())


def warmup_then_decay(opt: torch.optim.Optimizer, steps: int
                      ) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over a tenth of ``steps``, then linear decay to zero."""
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / max(1, 0.1 * steps)) * max(0.0, (steps - s) / steps))
