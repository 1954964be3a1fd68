"""The estimators' shared parameters: their constraints and the settings they imply.

``PARAMETER_CONSTRAINTS`` is checked by scikit-learn when ``fit`` starts;
``check_params`` adds what the dict cannot say. The small functions below turn
parameters into the settings the engine gets ("auto" resolved), in one place
for both estimators.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.metrics import get_scorer_names

from ._compat import Interval, Options, StrOptions
from ._engine.callbacks import Callback
from ._engine.network import ACTIVATIONS
from ._engine.schedules import BUDGET_SCHEDULES, SGD_SCHEDULES
from ._messages import plain
from ._preprocessing import INPUT_SCALINGS
from ._tensors import resolve_device

#: ``early_stopping="auto"`` holds out a validation set from this many samples on.
AUTO_EARLY_STOPPING_MIN_SAMPLES = 50
#: ``batch_size="auto"``: batches of at most this many rows ...
AUTO_BATCH_SIZE = 256
#: ... and at least this many steps per epoch: ``ceil(n / 16)`` rows below 4096.
AUTO_STEPS_PER_EPOCH = 16
#: ``max_iter="auto"``: this many epochs ...
AUTO_MAX_ITER = 200
#: ... or more, where they would make fewer optimizer steps than this.
AUTO_MIN_STEPS = 10_000

PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "solver": [StrOptions({"lbfgs", "sgd", "adam", "adamw"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({*SGD_SCHEDULES, *BUDGET_SCHEDULES})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": [StrOptions({"auto"}), "boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [
        Interval(Integral, 1, None, closed="left"),
        Options(Real, {np.inf}),
    ],
    "scoring": [StrOptions({"loss", *get_scorer_names()}), callable, None],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
    "input_scaling": [StrOptions(set(INPUT_SCALINGS)), None],
    "n_bins": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left"), None],
    "device": [str, torch.device],
    "callbacks": ["array-like", None],
}


def check_params(estimator):
    """Check what ``PARAMETER_CONSTRAINTS`` cannot say; raise naming the parameter.

    Examples
    --------
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._params import check_params
    >>> check_params(TorchMLPRegressor(hidden_layer_sizes=(8, 0)))
    Traceback (most recent call last):
    ...
    ValueError: The 'hidden_layer_sizes' parameter of TorchMLPRegressor must contain ...
    """
    sizes = estimator.hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
               for s in sizes):
        raise ValueError(
            f"The 'hidden_layer_sizes' parameter of {type(estimator).__name__} must "
            f"contain positive integers only. Got {plain(estimator.hidden_layer_sizes)!r} instead."
        )
    resolve_device(estimator.device)
    for callback in estimator.callbacks or ():
        if not isinstance(callback, Callback):
            raise TypeError(
                "The 'callbacks' parameter must be a list of skorchless.Callback "
                f"instances. Got {callback!r} instead."
            )


def hidden_sizes(estimator):
    """Return ``hidden_layer_sizes`` as a list of ints.

    Examples
    --------
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._params import hidden_sizes
    >>> hidden_sizes(TorchMLPRegressor(hidden_layer_sizes=5))
    [5]
    """
    sizes = estimator.hidden_layer_sizes
    return [int(sizes)] if isinstance(sizes, Integral) else [int(s) for s in sizes]


def early_stopping_on(estimator, n_samples):
    """Whether ``fit`` on ``n_samples`` rows holds out a validation set.

    Examples
    --------
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._params import early_stopping_on
    >>> early_stopping_on(TorchMLPRegressor(), 49), early_stopping_on(TorchMLPRegressor(), 50)
    (False, True)
    """
    if estimator.solver == "lbfgs":
        return False  # as in scikit-learn: L-BFGS is full-batch, without validation
    if estimator.early_stopping == "auto":
        return n_samples >= AUTO_EARLY_STOPPING_MIN_SAMPLES
    return bool(estimator.early_stopping)


def batch_size(estimator, n_samples):
    """Return the rows per mini-batch for ``n_samples`` training rows.

    ``"auto"``: 256 rows, fewer on small data so that an epoch makes at least
    ``AUTO_STEPS_PER_EPOCH`` optimizer steps (one row per batch below 17 rows).

    Examples
    --------
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._params import batch_size
    >>> [batch_size(TorchMLPRegressor(), n) for n in (10, 100, 1000, 10_000)]
    [1, 7, 63, 256]
    >>> batch_size(TorchMLPRegressor(batch_size=200), 100)
    100
    """
    if estimator.solver == "lbfgs":
        return n_samples
    if estimator.batch_size == "auto":
        return max(1, min(AUTO_BATCH_SIZE, math.ceil(n_samples / AUTO_STEPS_PER_EPOCH)))
    return min(estimator.batch_size, n_samples)


def max_epochs(estimator, n_samples, batch_size):
    """Return the most epochs ``fit`` runs on ``n_samples`` rows in batches of ``batch_size``.

    ``"auto"``: ``AUTO_MAX_ITER`` epochs, or as many as make ``AUTO_MIN_STEPS``
    optimizer steps where that is more (on small data, where an epoch is a few
    steps); for ``"lbfgs"``, ``AUTO_MAX_ITER`` iterations. An integer is used
    as it is. Early stopping and ``tol`` usually end training before.

    Examples
    --------
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._params import max_epochs
    >>> max_epochs(TorchMLPRegressor(), 10, 1), max_epochs(TorchMLPRegressor(), 100_000, 256)
    (1000, 200)
    >>> max_epochs(TorchMLPRegressor(max_iter=200), 10, 1)
    200
    """
    if estimator.max_iter != "auto":
        return estimator.max_iter
    if estimator.solver == "lbfgs":
        return AUTO_MAX_ITER
    steps_per_epoch = math.ceil(n_samples / batch_size)
    return max(AUTO_MAX_ITER, math.ceil(AUTO_MIN_STEPS / steps_per_epoch))


def schedule_kind(estimator, incremental):
    """Return the kind of ``LearningRateSchedule`` of a ``fit`` or ``partial_fit`` call.

    Examples
    --------
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._params import schedule_kind
    >>> schedule_kind(TorchMLPRegressor(learning_rate="invscaling"), incremental=False)
    'constant'
    """
    # Budget schedules serve every stochastic solver, except in partial_fit
    # (which has no budget); scikit-learn's schedules serve "sgd" only.
    if estimator.learning_rate in BUDGET_SCHEDULES:
        return "constant" if incremental else estimator.learning_rate
    return estimator.learning_rate if estimator.solver == "sgd" else "constant"
