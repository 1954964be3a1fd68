"""Learning-rate schedules: how the rate moves during training. Torch only."""

import math

#: Schedules that follow scikit-learn's MLP, used by ``solver="sgd"`` only.
SGD_SCHEDULES = ("constant", "invscaling", "adaptive")
#: Schedules over a fixed budget of epochs, used by every stochastic solver.
BUDGET_SCHEDULES = ("cosine",)


class LearningRateSchedule:
    """Set the learning rate of an optimizer during training.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    kind : {"constant", "invscaling", "adaptive", "cosine"}
        As in scikit-learn's MLP: ``"invscaling"`` sets
        ``lr = lr_init / (t + 1) ** power_t`` after each epoch (``t`` = samples
        seen); ``"adaptive"`` divides the rate by 5 each time the patience of
        early stopping runs out, and stops only once it is below 1e-6.
        ``"cosine"`` decays the rate from ``lr_init`` towards 0 along half a
        cosine over ``max_epochs`` epochs, changing it after every epoch.
    lr_init : float
    power_t : float
    max_epochs : int, default=1
        Budget of epochs of ``"cosine"``.
    samples_seen : int, default=0
        Training samples seen before this schedule starts (``t_``): the
        schedule lives as long as its optimizer, across ``partial_fit``
        calls, and counts on from here.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.schedules import LearningRateSchedule
    >>> opt = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    >>> schedule = LearningRateSchedule(opt, "adaptive", 0.1, 0.5)
    >>> schedule.plateau(), round(schedule.lr, 6)
    (True, 0.02)
    >>> cosine = LearningRateSchedule(opt, "cosine", 0.1, 0.5, max_epochs=4)
    >>> rates = [cosine.lr]
    >>> for _ in range(3):
    ...     cosine.epoch_end(n_samples=0)
    ...     rates.append(round(cosine.lr, 4))
    >>> rates
    [0.1, 0.0854, 0.05, 0.0146]
    """

    def __init__(self, optimizer, kind, lr_init, power_t, max_epochs=1, samples_seen=0):
        self.optimizer = optimizer
        self.kind = kind
        self.lr_init = lr_init
        self.power_t = power_t
        self.max_epochs = max_epochs
        self.epochs_done = 0
        self.samples_seen = samples_seen
        self._set(lr_init)

    def _set(self, lr):
        self.lr = lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def epoch_end(self, n_samples):
        """Update the rate after an epoch over ``n_samples`` training samples."""
        self.epochs_done += 1
        self.samples_seen += n_samples
        if self.kind == "invscaling":
            self._set(self.lr_init / (self.samples_seen + 1) ** self.power_t)
        elif self.kind == "cosine":
            progress = min(self.epochs_done / self.max_epochs, 1.0)
            self._set(self.lr_init * 0.5 * (1.0 + math.cos(math.pi * progress)))

    def plateau(self):
        """React to a plateau; return True if training should go on."""
        if self.kind == "adaptive" and self.lr > 1e-6:
            self._set(self.lr / 5.0)
            return True
        return False
