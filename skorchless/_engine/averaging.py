"""An exponential moving average of a module's weights over the optimizer steps.

Torch only. The training loop updates the average after every step and swaps
it into the module to evaluate, keep and return it; the optimizer goes on from
the trained weights. The swap exchanges values in place, a slice at a time:
the module's parameters keep their storage (which an optimizer's state and a
recorded CUDA graph point to), and the average costs one copy of the weights,
not two.
"""

import torch

#: ``decay_t = min(decay, (1 + t) / (WARMUP + t))`` after ``t`` steps: early on
#: the average follows the weights closely instead of remembering their
#: (random) starting point; later it weighs about the last ``t / (WARMUP - 1)``
#: steps, until that reaches ``1 / (1 - decay)``.
WARMUP = 10
#: With few steps per epoch the average spans at most one epoch (but at least
#: this many steps), so that each epoch's validation loss judges that epoch's
#: weights and early stopping reacts as fast as without averaging.
MIN_SPAN_STEPS = 10
#: Values exchanged at a time by a swap (4 MB of float32).
SWAP_CHUNK = 2**20


class WeightAverage:
    """Exponential moving average of the parameters of ``module``.

    Parameters
    ----------
    module : torch.nn.Module
    decay : float in (0, 1)
        Weight of the old average at each update (once warmed up).
    steps_per_epoch : int or None
        Caps ``decay`` at ``max(1 - 1 / steps_per_epoch, 1 - 1 / MIN_SPAN_STEPS)``.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.averaging import WeightAverage
    >>> net = torch.nn.Linear(1, 1, bias=False)
    >>> _ = torch.nn.init.zeros_(net.weight)  # not the global RNG's draw
    >>> average = WeightAverage(net, decay=0.5)
    >>> with torch.no_grad():
    ...     _ = net.weight.fill_(1.0)
    >>> average.update()
    >>> average.use_average()
    >>> round(net.weight.item(), 3) < 1.0
    True
    >>> average.use_trained()
    >>> net.weight.item()
    1.0
    """

    def __init__(self, module, decay, steps_per_epoch=None):
        if steps_per_epoch is not None:
            decay = min(decay, 1.0 - 1.0 / max(steps_per_epoch, MIN_SPAN_STEPS))
        self.decay = decay
        self.params = [p for p in module.parameters() if p.requires_grad]
        with torch.no_grad():
            # the average, or the trained weights while the module holds the average
            self.other = [p.detach().clone() for p in self.params]
        self.steps = 0
        self.holds_average = False

    def update(self):
        """Move the average towards the current weights (after an optimizer step)."""
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (WARMUP + self.steps))
        with torch.no_grad():
            torch._foreach_lerp_(self.other, [p.detach() for p in self.params],
                                 1.0 - decay)

    def use_average(self):
        """Put the averaged weights in the module, keeping the trained ones aside."""
        if not self.holds_average:
            self._swap()
            self.holds_average = True

    def use_trained(self):
        """Put the trained weights back, to go on training."""
        if self.holds_average:
            self._swap()
            self.holds_average = False

    def _swap(self):
        with torch.no_grad():
            for param, other in zip(self.params, self.other, strict=True):
                a, b = param.detach().view(-1), other.view(-1)
                buffer = torch.empty(min(SWAP_CHUNK, a.numel()), dtype=a.dtype, device=a.device)
                for start in range(0, a.numel(), SWAP_CHUNK):
                    part = buffer[: min(SWAP_CHUNK, a.numel() - start)]
                    stop = start + part.numel()
                    part.copy_(a[start:stop])
                    a[start:stop].copy_(b[start:stop])
                    b[start:stop].copy_(part)
