"""Callbacks that act: stop training, see the module, and EarlyStopping as one of them."""

import math

import numpy as np
import pytest
import torch

from skorchless import Callback, EarlyStopping, EpochState, TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class StopAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, state):
        return state.epoch >= self.epoch


class Checkpoint(Callback):
    """Keep a copy of the weights of every epoch."""

    def __init__(self):
        self.saved = {}

    def on_epoch_end(self, state):
        self.saved[state.epoch] = {k: v.clone() for k, v in state.module.state_dict().items()}


@pytest.mark.parametrize("Estimator", [TorchMLPRegressor, TorchMLPClassifier])
def test_a_callback_returning_true_stops_training(Estimator, regression_data, fast):
    X, y = regression_data
    y = y if Estimator is TorchMLPRegressor else y > 0
    est = Estimator(**{**fast, "max_iter": 50}, callbacks=[StopAt(3)]).fit(X, y)
    assert est.stop_reason_ == "callback" and est.n_iter_ == 3 and len(est.history_) == 3


def test_every_callback_runs_in_the_epoch_one_of_them_stops(regression_data, fast):
    X, y = regression_data
    checkpoint = Checkpoint()
    TorchMLPRegressor(**{**fast, "max_iter": 50}, callbacks=[StopAt(2), checkpoint]).fit(X, y)
    assert sorted(checkpoint.saved) == [1, 2]


def test_the_state_holds_the_module_for_checkpointing(regression_data, fast):
    X, y = regression_data
    checkpoint = Checkpoint()
    est = TorchMLPRegressor(**{**fast, "max_iter": 6, "early_stopping": True,
                               "validation_fraction": 0.2}, callbacks=[checkpoint]).fit(X, y)
    assert sorted(checkpoint.saved) == list(range(1, 7))
    # the checkpoint of the best epoch holds the weights the estimator restored
    for key, tensor in est.module_.state_dict().items():
        assert torch.equal(checkpoint.saved[est.best_epoch_][key], tensor)
    assert "module" not in est.history_[0]  # the history holds plain values only


def test_early_stopping_as_a_callback_adds_a_stopping_rule(regression_data, fast):
    X, y = regression_data
    params = {**fast, "max_iter": 200, "early_stopping": True, "n_iter_no_change": 1000,
              "learning_rate_init": 0.05}
    without = TorchMLPRegressor(**params).fit(X, y)
    stopper = EarlyStopping(patience=2, tol=0.5)  # a large tol: patience runs out soon
    with_it = TorchMLPRegressor(**params, callbacks=[stopper]).fit(X, y)
    assert without.stop_reason_ == "max_iter"
    assert with_it.stop_reason_ == "callback" and with_it.n_iter_ < without.n_iter_
    # the estimator still restores the best epoch it tracked
    best = 1 + int(np.argmin(with_it.validation_loss_curve_))
    assert with_it.best_epoch_ == best


def test_early_stopping_counts_patience_from_improvements_greater_than_tol():
    stopper = EarlyStopping(patience=2, tol=0.1)
    stopper.on_train_begin(max_epochs=10)
    decisions = [stopper.on_epoch_end(EpochState(e, loss, None, None, 0.1, 0.0))
                 for e, loss in enumerate([1.0, 0.95, 0.7, 0.65, 0.62], start=1)]
    assert decisions == [False, False, False, False, True]
    assert (stopper.best_epoch, stopper.best_loss) == (5, 0.62)
    stopper.on_train_begin(max_epochs=10)  # a new fit starts afresh
    assert stopper.best_loss == math.inf and stopper.best_state is None
