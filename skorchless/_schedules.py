"""Learning-rate schedules: how the rate moves during training. Torch only."""


class LearningRateSchedule:
    """Set the learning rate of an optimizer during training.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    kind : {"constant", "invscaling", "adaptive"}
        As in scikit-learn's MLP: ``"invscaling"`` sets
        ``lr = lr_init / (t + 1) ** power_t`` after each epoch (``t`` = samples
        seen); ``"adaptive"`` divides the rate by 5 each time the patience of
        early stopping runs out, and stops only once it is below 1e-6.
    lr_init : float
    power_t : float

    Examples
    --------
    >>> import torch
    >>> from skorchless._schedules import LearningRateSchedule
    >>> opt = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    >>> schedule = LearningRateSchedule(opt, "adaptive", 0.1, 0.5)
    >>> schedule.plateau(), round(schedule.lr, 6)
    (True, 0.02)
    """

    def __init__(self, optimizer, kind, lr_init, power_t):
        self.optimizer = optimizer
        self.kind = kind
        self.power_t = power_t
        self._set(lr_init)

    def _set(self, lr):
        self.lr = lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def epoch_end(self, samples_seen):
        """Update the rate after an epoch."""
        if self.kind == "invscaling":
            lr_init = self.optimizer.defaults["lr"]
            self._set(lr_init / (samples_seen + 1) ** self.power_t)

    def plateau(self):
        """React to a plateau; return True if training should go on."""
        if self.kind == "adaptive" and self.lr > 1e-6:
            self._set(self.lr / 5.0)
            return True
        return False
