"""Learning-rate schedules, alone and through the estimators."""

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skorchless import TorchMLPClassifier, TorchMLPRegressor
from skorchless._engine.schedules import LearningRateSchedule


def _optimizer(lr=0.1):
    return torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=lr)


def _rates(schedule, epochs):
    rates = [schedule.lr]
    for _ in range(epochs - 1):
        schedule.epoch_end(n_samples=0)
        rates.append(schedule.lr)
    return rates


def test_cosine_follows_half_a_cosine_over_the_budget():
    schedule = LearningRateSchedule(_optimizer(), "cosine", 0.1, 0.5, max_epochs=10)
    rates = _rates(schedule, 10)
    expected = [0.05 * (1 + math.cos(math.pi * e / 10)) for e in range(10)]
    np.testing.assert_allclose(rates, expected)
    assert schedule.optimizer.param_groups[0]["lr"] == rates[-1]


def test_cosine_stays_at_zero_past_the_budget():
    schedule = LearningRateSchedule(_optimizer(), "cosine", 0.1, 0.5, max_epochs=2)
    assert _rates(schedule, 4)[2:] == [0.0, 0.0]


def test_cosine_does_not_react_to_a_plateau():
    schedule = LearningRateSchedule(_optimizer(), "cosine", 0.1, 0.5, max_epochs=5)
    assert schedule.plateau() is False and schedule.lr == 0.1


def test_invscaling_and_constant_are_unchanged():
    schedule = LearningRateSchedule(_optimizer(), "invscaling", 0.1, 0.5)
    schedule.epoch_end(n_samples=99)
    assert schedule.lr == pytest.approx(0.1 / 10)
    schedule.epoch_end(n_samples=300)  # counts on: 399 samples seen
    assert schedule.lr == pytest.approx(0.1 / 20)
    assert LearningRateSchedule(_optimizer(), "invscaling", 0.1, 0.5, samples_seen=99).lr == 0.1
    constant = LearningRateSchedule(_optimizer(), "constant", 0.1, 0.5)
    assert _rates(constant, 3) == [0.1] * 3


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd"])
def test_estimators_follow_the_cosine_without_a_convergence_warning(
        solver, regression_data, fast):
    X, y = regression_data
    params = {**fast, "max_iter": 6, "learning_rate": "cosine",
              "learning_rate_init": 0.01, "solver": solver, "early_stopping": False}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the budget is the plan
        reg = TorchMLPRegressor(**params).fit(X, y)
    rates = [h["learning_rate"] for h in reg.history_]
    assert reg.n_iter_ == 6 and rates[0] == 0.01
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))


def test_constant_schedule_still_warns_at_max_iter(classification_data, fast):
    X, y = classification_data
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        TorchMLPClassifier(**{**fast, "early_stopping": False, "tol": 0.0}).fit(X, y)


def test_partial_fit_with_cosine_keeps_the_rate(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**{**fast, "learning_rate": "cosine", "learning_rate_init": 0.01})
    for _ in range(3):
        reg.partial_fit(X, y)
    assert [h["learning_rate"] for h in reg.history_] == [0.01] * 3


def test_cosine_is_a_valid_value_and_others_are_not(regression_data, fast):
    X, y = regression_data
    with pytest.raises(ValueError, match="The 'learning_rate' parameter of "
                                         "TorchMLPRegressor must be a str among"):
        TorchMLPRegressor(**{**fast, "learning_rate": "linear"}).fit(X, y)
