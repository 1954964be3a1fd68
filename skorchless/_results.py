"""From a ``TrainResult`` to fitted attributes: the history, the curves, the warnings.

``store_result`` is the last step of ``fit`` and ``partial_fit``: it names what
the engine returned as scikit-learn's MLP names it (``n_iter_``,
``loss_curve_``, ``validation_scores_``, ``best_loss_``, ...) and warns about
how training stopped.
"""

import math
import warnings

from sklearn.exceptions import ConvergenceWarning

from ._engine.schedules import BUDGET_SCHEDULES
from ._params import hidden_sizes


def store_result(estimator, result, incremental):
    """Set the fitted attributes of ``estimator`` from ``result``; warn; re-raise Ctrl-C.

    Parameters
    ----------
    estimator : TorchMLPRegressor or TorchMLPClassifier
        With ``history_`` and ``t_`` of its earlier calls.
    result : TrainResult
    incremental : bool
        Whether the call was ``partial_fit``.

    Raises
    ------
    KeyboardInterrupt
        After storing, when the user interrupted training.

    Examples
    --------
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._engine.loop import TrainResult
    >>> from skorchless._results import store_result
    >>> est = TorchMLPRegressor(hidden_layer_sizes=(4,))
    >>> est.history_, est.t_, est.do_early_stopping_ = [], 0, False
    >>> row = {"epoch": 1, "train_loss": 0.5, "valid_loss": None, "valid_score": None}
    >>> store_result(est, TrainResult([row], 1, 0.5, "no_improvement", 10), False)
    >>> est.n_iter_, est.loss_curve_, est.best_loss_, est.t_
    (1, [0.5], 0.5, 10)
    """
    estimator.history_ = estimator.history_ + result.history
    estimator.n_iter_ = len(result.history)
    estimator.t_ += result.samples_seen
    estimator.loss_curve_ = [h["train_loss"] for h in estimator.history_]
    estimator.loss_ = estimator.loss_curve_[-1] if estimator.loss_curve_ else math.nan
    estimator.n_layers_ = len(hidden_sizes(estimator)) + 2
    validated = estimator.do_early_stopping_
    estimator.validation_scores_ = [h["valid_score"] for h in result.history] if validated else None
    estimator.validation_loss_curve_ = (
        [h["valid_loss"] for h in result.history] if validated else None)
    best = next((h for h in result.history if h["epoch"] == result.best_epoch), {})
    estimator.best_validation_loss_ = best.get("valid_loss") if validated else None
    estimator.best_validation_score_ = best.get("valid_score") if validated else None
    estimator.best_loss_ = None if validated else (
        min(estimator.loss_curve_) if estimator.loss_curve_ else math.inf)
    estimator.best_epoch_ = result.best_epoch
    estimator.stop_reason_ = result.stop_reason
    _warn_about_stop(estimator, result, incremental)
    if result.stop_reason == "interrupted":
        raise KeyboardInterrupt


def _warn_about_stop(estimator, result, incremental):
    name = type(estimator).__name__
    if result.stop_reason == "diverged":
        warnings.warn(
            f"{name}: training diverged (the loss became NaN or infinite) at "
            f"epoch {len(estimator.history_) + 1}; stopped and restored the weights of "
            f"epoch {result.best_epoch}. Lower 'learning_rate_init' or scale the data.",
            RuntimeWarning, stacklevel=6,
        )
    elif result.stop_reason == "interrupted":
        warnings.warn(
            f"{name}: training interrupted by the user after "
            f"{len(result.history)} epoch(s); the model holds the weights of "
            f"epoch {result.best_epoch} and can be used.",
            UserWarning, stacklevel=6,
        )
    elif result.stop_reason == "max_fun":
        warnings.warn(
            f"{name}: lbfgs failed to converge: the maximum number of loss evaluations "
            f"(max_fun={estimator.max_fun}) was reached.",
            ConvergenceWarning, stacklevel=6,
        )
    elif (result.stop_reason == "max_iter" and not incremental
          and estimator.learning_rate not in BUDGET_SCHEDULES):
        warnings.warn(
            f"{name}: maximum iterations ({estimator.n_iter_}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning, stacklevel=6,
        )
