"""What the training loop reports each epoch, and the callbacks that read it.

Torch only. A callback is any object with the no-op hooks of ``Callback``; the
loop calls ``on_train_begin`` once, ``on_epoch_end`` after every epoch (in the
order of the list), and ``on_train_end`` once, even when training is stopped
early, diverges or is interrupted. An ``on_epoch_end`` that returns True
stops training after that epoch (``stop_reason_ == "callback"``); the state
it receives holds the module, for checkpointing.
"""

import math
import sys
from dataclasses import dataclass, field, fields

from .network import snapshot


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
    monitor_score : bool
        Whether early stopping monitors the score rather than the loss. Not
        part of ``as_dict()``.
    module : torch.nn.Module or None
        The network, holding the weights that were just validated (the
        averaged ones when weights are averaged). Read it, or copy its
        ``state_dict()``, to checkpoint; changing it changes the fit. Not part
        of ``as_dict()``.

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
    module: object = field(default=None, repr=False, compare=False)
    monitor_score: bool = field(default=False, repr=False, compare=False)

    @property
    def monitored_loss(self):
        """What early stopping minimises.

        The validation loss when there is a validation set, else the training
        loss; minus the validation score when the score is monitored
        (``monitor_score``, an estimator's ``scoring`` other than ``"loss"``).
        """
        if self.monitor_score and self.valid_score is not None:
            return -self.valid_score
        return self.train_loss if self.valid_loss is None else self.valid_loss

    def as_dict(self):
        """Return the state as a plain ``dict`` (one row of ``history_``), without the module."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("module", "monitor_score")}


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
        """Run after every epoch, given its ``EpochState``; return True to stop training."""

    def on_train_end(self, result):
        """Run once after the last epoch, given the ``TrainResult``."""


class EarlyStopping(Callback):
    """Track the best epoch, snapshot its weights and decide when to stop.

    An epoch *improves* when its monitored loss (``EpochState.monitored_loss``)
    is below the best so far; it then becomes the best epoch (ties keep the
    earlier one). The patience counter is reset only by an improvement
    greater than ``tol``; training stops once ``patience`` consecutive epochs
    have passed without one.

    The estimators build one from ``n_iter_no_change`` and ``tol``, and the
    loop uses it to snapshot the best weights and restore them. Passed in an
    estimator's ``callbacks``, an ``EarlyStopping`` is one more stopping rule
    (for example a shorter patience): it stops training when its own patience
    runs out, and the estimator still restores the best epoch it tracked.

    Parameters
    ----------
    patience : int or float, default=10
        Number of epochs without an improvement greater than ``tol`` after
        which to stop (``math.inf`` never stops).
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as progress.

    Examples
    --------
    >>> from skorchless import EarlyStopping, EpochState
    >>> stopper = EarlyStopping(patience=2, tol=0.0)
    >>> stopper.on_train_begin(max_epochs=10)
    >>> [stopper.on_epoch_end(EpochState(e, loss, None, None, 0.1, 0.0))
    ...  for e, loss in enumerate([1.0, 0.5, 0.7, 0.6], start=1)]
    [False, False, False, True]
    >>> stopper.best_epoch, stopper.best_loss
    (2, 0.5)
    """

    def __init__(self, patience=10, tol=1e-4):
        self.patience = patience
        self.tol = tol

    def start(self, module=None, epoch=0, keep_start=True):
        """Reset the tracker; with ``module``, snapshot its starting weights to restore.

        ``start_state`` holds the starting weights and ``best_state`` those of
        the best epoch (the same snapshot until the first improvement). With
        ``keep_start=False`` the first improvement overwrites the starting
        weights in place (``start_state`` becomes None): one copy of the
        weights instead of two.
        """
        self.best_loss = math.inf
        self.best_epoch = epoch
        self.bad_epochs = 0
        self.module = module
        self.keep_start = keep_start
        self.start_state = self.best_state = None if module is None else snapshot(module)

    def update(self, state):
        """Record ``state``; return True when patience has run out."""
        loss = state.monitored_loss
        if loss < self.best_loss - self.tol:
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if loss < self.best_loss:
            self.best_loss = loss
            self.best_epoch = state.epoch
            if self.module is not None:
                self._snapshot_best()
        return self.bad_epochs >= self.patience

    def _snapshot_best(self):
        if self.best_state is self.start_state and self.keep_start:
            self.best_state = snapshot(self.module)
            return
        for key, value in self.module.state_dict().items():
            self.best_state[key].copy_(value)
        if not self.keep_start:
            self.start_state = None

    def reset_patience(self):
        """Start counting epochs without improvement afresh."""
        self.bad_epochs = 0

    def restore(self, module, state=None):
        """Load the best weights seen (or ``state``, a snapshot) into ``module``."""
        module.load_state_dict(self.best_state if state is None else state)

    def on_train_begin(self, max_epochs):
        """Reset the tracker (as a callback it keeps no weights)."""
        self.start()

    def on_epoch_end(self, state):
        """Record ``state``; return True (stop) when patience has run out."""
        return self.update(state)


class EpochLogger(Callback):
    """Print one line per epoch: losses, score, time and a mark on the best.

    Each line starts as scikit-learn's MLP prints it (``Iteration N, loss =
    ...``), so that tools that read those lines read these.

    Parameters
    ----------
    file : file-like, default=sys.stdout
        Where to write.

    Examples
    --------
    >>> from skorchless import EpochLogger, EpochState
    >>> EpochLogger().on_epoch_end(EpochState(3, 0.25, None, None, 1e-3, 0.02, True))
    Iteration 3, loss = 0.25000000, 0.02 s *
    """

    def __init__(self, file=None):
        self.file = file

    def on_epoch_end(self, state):
        """Print the line of ``state``."""
        parts = [f"Iteration {state.epoch}", f"loss = {state.train_loss:.8f}"]
        if state.valid_loss is not None:
            parts.append(f"validation loss = {state.valid_loss:.8f}")
        if state.valid_score is not None:
            parts.append(f"validation score = {state.valid_score:.6f}")
        parts.append(f"{state.seconds:.2f} s" + (" *" if state.is_best else ""))
        print(", ".join(parts), file=self.file or sys.stdout, flush=True)
