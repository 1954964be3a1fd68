"""The moving average of the weights: what it computes and where it is used."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_regression

from skorchless import TorchMLPClassifier, TorchMLPRegressor
from skorchless._engine.averaging import WARMUP, WeightAverage
from skorchless._engine.callbacks import EarlyStopping
from skorchless._engine.loop import TensorData, train
from skorchless._engine.schedules import LearningRateSchedule


def test_average_follows_the_warmed_up_exponential_formula():
    net = torch.nn.Linear(2, 1)
    average = WeightAverage(net, decay=0.9)
    expected = [p.detach().clone() for p in net.parameters()]
    g = torch.Generator().manual_seed(0)
    for t in range(1, 40):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn(p.shape, generator=g))
        average.update()
        decay = min(0.9, (1 + t) / (WARMUP + t))
        expected = [decay * e + (1 - decay) * p.detach() for e, p in
                    zip(expected, net.parameters(), strict=True)]
    trained = [p.detach().clone() for p in net.parameters()]
    average.use_average()
    for p, e in zip(net.parameters(), expected, strict=True):
        torch.testing.assert_close(p.detach(), e)
    average.use_average()  # idempotent
    average.use_trained()
    average.use_trained()
    for p, t in zip(net.parameters(), trained, strict=True):
        torch.testing.assert_close(p.detach(), t)


def _trajectory_and_result(average_decay):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 3, generator=g)
    data = TensorData(X, X.sum(1, keepdim=True))
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    seen = []
    original_step = optimizer.step

    def recording_step(*args, **kwargs):
        out = original_step(*args, **kwargs)
        seen.append([p.detach().clone() for p in net.parameters()])
        return out

    optimizer.step = recording_step
    initial = [p.detach().clone() for p in net.parameters()]
    average = None if average_decay is None else WeightAverage(net, average_decay)
    train(net, data, data, loss_fn=lambda out, y: ((out - y) ** 2).mean(1),
          optimizer=optimizer,
          schedule=LearningRateSchedule(optimizer, "constant", 0.05, 0.5),
          batch_size=16, max_epochs=3, shuffle=True, generator=g,
          early_stopping=EarlyStopping(patience=np.inf, tol=0.0), select_best=False,
          average=average)
    return initial, seen, [p.detach() for p in net.parameters()]


def test_training_leaves_the_average_of_the_steps_in_the_module():
    initial, seen, final = _trajectory_and_result(0.9)
    assert len(seen) == 12  # 64 rows / 16 per batch x 3 epochs
    expected = initial
    for t, params in enumerate(seen, start=1):
        decay = min(0.9, (1 + t) / (WARMUP + t))
        expected = [decay * e + (1 - decay) * p for e, p in
                    zip(expected, params, strict=True)]
    for got, want in zip(final, expected, strict=True):
        torch.testing.assert_close(got, want)
    assert not all(torch.equal(a, b) for a, b in zip(seen[-1], final, strict=True))


def test_training_without_average_leaves_the_last_step():
    _, seen, final = _trajectory_and_result(None)
    for a, b in zip(seen[-1], final, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("off", [None, 0.0])
def test_zero_or_none_turns_averaging_off(off):
    X, y = make_regression(n_samples=120, n_features=4, random_state=0)
    params = dict(hidden_layer_sizes=(8,), max_iter=5, early_stopping=False,
                  learning_rate_init=0.01, random_state=0)
    plain = TorchMLPRegressor(ema_decay=off, **params).fit(X, y)
    averaged = TorchMLPRegressor(ema_decay=0.9, **params).fit(X, y)
    np.testing.assert_array_equal(plain.loss_curve_, averaged.loss_curve_)
    assert not np.allclose(plain.predict(X), averaged.predict(X))


def test_the_best_epoch_is_chosen_and_restored_on_averaged_weights():
    X, y = make_regression(n_samples=500, n_features=4, noise=20.0, random_state=0)
    X_val, y_val = X[400:], y[400:]
    reg = TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=15, random_state=0,
                            ema_decay=0.95).fit(X[:400], y[:400], X_val=X_val, y_val=y_val)
    # The module holds the weights whose validation score was recorded as best.
    assert reg.score(X_val, y_val) == pytest.approx(reg.best_validation_score_, abs=1e-6)
    plain = TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=15, random_state=0,
                              ema_decay=None).fit(X[:400], y[:400], X_val=X_val, y_val=y_val)
    assert plain.best_validation_score_ != reg.best_validation_score_


def test_partial_fit_does_not_average():
    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    a = TorchMLPClassifier(hidden_layer_sizes=(8,), random_state=0, ema_decay=0.9)
    b = TorchMLPClassifier(hidden_layer_sizes=(8,), random_state=0, ema_decay=None)
    labels = (y > 0).astype(int)
    for est in (a, b):
        for _ in range(3):
            est.partial_fit(X, labels, classes=[0, 1])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("bad", [1.0, -0.1, "yes"])
def test_bad_decay_is_refused_by_name(bad):
    X, y = make_regression(n_samples=20, n_features=2, random_state=0)
    with pytest.raises(ValueError, match="ema_decay"):
        TorchMLPRegressor(ema_decay=bad).fit(X, y)


@pytest.mark.parametrize(("steps_per_epoch", "expected"), [
    (None, 0.99), (1000, 0.99), (50, 0.98), (4, 0.9), (1, 0.9)])
def test_the_average_spans_at_most_an_epoch_of_ten_steps_or_more(steps_per_epoch,
                                                                 expected):
    average = WeightAverage(torch.nn.Linear(1, 1), 0.99, steps_per_epoch=steps_per_epoch)
    assert average.decay == pytest.approx(expected)
