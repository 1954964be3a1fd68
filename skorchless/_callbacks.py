"""What the training loop reports each epoch, and the callbacks that read it.

Torch only. A callback is any object with the no-op hooks of ``Callback``; the
loop calls ``on_train_begin`` once, ``on_epoch_end`` after every epoch (in the
order of the list), and ``on_train_end`` once, even when training is stopped
early, diverges or is interrupted.
"""

import math
import sys
from dataclasses import asdict, dataclass


@dataclass
class EpochState:
    """The state of one finished epoch, as the loop hands it to callbacks.

    Attributes
    ----------
    epoch : int
        1-based epoch number, counted over the estimator's whole life (so it
        keeps counting across ``partial_fit`` and ``warm_start`` calls).
    train_loss : float
        Mean training loss over the epoch, as optimised (weighted by
        ``sample_weight``, in the units of the scaled target).
    valid_loss : float or None
        Loss on the validation set after the epoch; None without one.
    valid_score : float or None
        Score (accuracy or R²) on the validation set; None without one.
    learning_rate : float
        Learning rate used during the epoch.
    seconds : float
        Wall time of the epoch, validation included.
    is_best : bool
        Whether this epoch is the best so far by the monitored loss.

    Examples
    --------
    >>> from skorchless import EpochState
    >>> EpochState(epoch=1, train_loss=0.5, valid_loss=None, valid_score=None,
    ...            learning_rate=1e-3, seconds=0.01).monitored_loss
    0.5
    """

    epoch: int
    train_loss: float
    valid_loss: float | None
    valid_score: float | None
    learning_rate: float
    seconds: float
    is_best: bool = False

    @property
    def monitored_loss(self):
        """The validation loss when there is a validation set, else the train loss."""
        return self.train_loss if self.valid_loss is None else self.valid_loss

    def as_dict(self):
        """Return the state as a plain ``dict`` (one row of ``history_``)."""
        return asdict(self)


class Callback:
    """Base class of training callbacks: every hook does nothing.

    Examples
    --------
    >>> from skorchless import Callback
    >>> class CountEpochs(Callback):
    ...     def __init__(self):
    ...         self.n = 0
    ...     def on_epoch_end(self, state):
    ...         self.n += 1
    >>> CountEpochs().n
    0
    """

    def on_train_begin(self, max_epochs):
        """Run once before the first epoch, given the epoch budget."""

    def on_epoch_end(self, state):
        """Run after every epoch, given its ``EpochState``."""

    def on_train_end(self, result):
        """Run once after the last epoch, given the ``TrainResult``."""


class EarlyStopping:
    """Track the best epoch, snapshot its weights and decide when to stop.

    An epoch *improves* when its monitored loss is below the best so far; the
    weights are then copied (detached clones) and the epoch becomes the best
    one. Ties keep the earlier epoch. The patience counter is reset only by an
    improvement greater than ``tol``; training stops once ``patience``
    consecutive epochs have passed without one.

    Parameters
    ----------
    patience : int or float
        Number of epochs without an improvement greater than ``tol`` after
        which to stop (``math.inf`` never stops).
    tol : float
        Minimum decrease of the monitored loss that counts as progress.

    Examples
    --------
    >>> import torch
    >>> from skorchless import EarlyStopping, EpochState
    >>> net = torch.nn.Linear(1, 1)
    >>> stopper = EarlyStopping(patience=2, tol=0.0)
    >>> stopper.start(net)
    >>> [stopper.update(EpochState(e, loss, None, None, 0.1, 0.0), net)
    ...  for e, loss in enumerate([1.0, 0.5, 0.7, 0.6], start=1)]
    [False, False, False, True]
    >>> stopper.best_epoch, stopper.best_loss
    (2, 0.5)
    """

    def __init__(self, patience, tol):
        self.patience = patience
        self.tol = tol

    def start(self, module, epoch=0):
        """Reset the tracker and snapshot the starting weights of ``module``."""
        self.best_loss = math.inf
        self.best_epoch = epoch
        self.best_state = _snapshot(module)
        self.bad_epochs = 0

    def update(self, state, module):
        """Record ``state``; return True when patience has run out."""
        loss = state.monitored_loss
        if loss < self.best_loss - self.tol:
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if loss < self.best_loss:
            self.best_loss = loss
            self.best_epoch = state.epoch
            self.best_state = _snapshot(module)
            state.is_best = True
        return self.bad_epochs >= self.patience

    def reset_patience(self):
        """Start counting epochs without improvement afresh."""
        self.bad_epochs = 0

    def restore(self, module):
        """Load the best weights seen into ``module``."""
        module.load_state_dict(self.best_state)


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class EpochLogger(Callback):
    """Print one line per epoch: losses, score, time and a mark on the best.

    Parameters
    ----------
    file : file-like, default=sys.stdout
        Where to write.

    Examples
    --------
    >>> from skorchless import EpochLogger, EpochState
    >>> EpochLogger().on_epoch_end(EpochState(3, 0.25, 0.3, 0.9, 1e-3, 0.02, True))
    epoch   3  train_loss 0.25000  valid_loss 0.30000  valid_score 0.9000  0.02s  *
    """

    def __init__(self, file=None):
        self.file = file

    def on_epoch_end(self, state):
        """Print the line of ``state``."""
        parts = [f"epoch {state.epoch:3d}", f"train_loss {state.train_loss:.5f}"]
        if state.valid_loss is not None:
            parts.append(f"valid_loss {state.valid_loss:.5f}")
        if state.valid_score is not None:
            parts.append(f"valid_score {state.valid_score:.4f}")
        parts.append(f"{state.seconds:.2f}s")
        if state.is_best:
            parts.append("*")
        print("  ".join(parts), file=self.file or sys.stdout, flush=True)
