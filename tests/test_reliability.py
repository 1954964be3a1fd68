"""Reliability: divergence, Ctrl-C, memory and globals, threads and processes, determinism."""

import gc
import os
import pickle
import signal
import threading
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

from skorchless import Callback, TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ESTIMATORS = [TorchMLPRegressor, TorchMLPClassifier]


#: The restored weights are compared with the best epoch's: no temperature
#: folded into the classifier's last layer after training.
UNCALIBRATED = {"calibration": None}


def _uncalibrated(Estimator):
    return UNCALIBRATED if Estimator is TorchMLPClassifier else {}


def _data(Estimator, n=300, seed=0):
    X = np.random.RandomState(seed).normal(size=(n, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    return X, (np.digitize(y, [-1.0, 1.0]) if Estimator is TorchMLPClassifier else y)


def _outputs(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


class WeightRecorder(Callback):
    """Keep the weights of every epoch; optionally act at one epoch."""

    def __init__(self, estimator, at=None, action=None):
        self.estimator, self.at, self.action = estimator, at, action
        self.weights = {}

    def on_epoch_end(self, state):
        module = self.estimator.module_
        self.weights[state.epoch] = {k: v.clone() for k, v in module.state_dict().items()}
        if state.epoch == self.at:
            self.action(self.estimator)


def _assert_holds(est, weights):
    for key, value in est.module_.state_dict().items():
        assert torch.equal(value, weights[key]), key


def _initial_weights(est, X, y):
    """The weights ``est`` starts from: Adam's first step is about the learning rate."""
    untrained = clone(est).set_params(solver="adam", learning_rate_init=1e-30, max_iter=1,
                                      callbacks=None)
    return untrained.fit(X, y).module_.state_dict()


def _blow_up_learning_rate(est):
    for group in est._optimizer.param_groups:
        group["lr"] = 1e12


# ------------------------------------------------------------------ divergence
def test_a_learning_rate_that_blows_up_at_once_is_a_clear_error(fast):
    # No epoch ends with a finite loss: scikit-learn's error, not a model that
    # never trained returned as fitted.
    X, y = _data(TorchMLPRegressor)
    est = TorchMLPRegressor(**{**fast, "solver": "sgd", "max_iter": 20,
                               "learning_rate_init": 1e8})
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        est.fit(X, y)
    assert not hasattr(est, "stop_reason_")
    assert all(torch.isfinite(p).all() for p in est.module_.parameters())
    _assert_holds(est, _initial_weights(est, X, y))


def test_a_learning_rate_that_blows_up_later_stops_warns_and_keeps_finite_weights(fast):
    X, y = _data(TorchMLPClassifier)
    # two steps per epoch: the first epoch ends finite, a later one diverges
    est = TorchMLPClassifier(**{**fast, **UNCALIBRATED, "solver": "sgd", "max_iter": 20,
                                "learning_rate_init": 1e8, "batch_size": 256})
    recorder = WeightRecorder(est)
    est.set_params(callbacks=[recorder])
    with pytest.warns(RuntimeWarning, match=r"training diverged \(the loss became NaN or "
                                            r"infinite\) .*Lower 'learning_rate_init'"):
        est.fit(X, y)
    assert est.stop_reason_ == "diverged" and est.n_iter_ < 20 and est.best_epoch_ >= 1
    assert np.isfinite(_outputs(est, X)).all()
    _assert_holds(est, recorder.weights[est.best_epoch_])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_divergence_mid_training_restores_the_best_epoch_so_far(Estimator, fast):
    X, y = _data(Estimator)
    est = Estimator(**{**fast, **_uncalibrated(Estimator), "max_iter": 30, "solver": "sgd",
                       "learning_rate_init": 0.01})
    recorder = WeightRecorder(est, at=4, action=_blow_up_learning_rate)
    est.set_params(callbacks=[recorder])
    with pytest.warns(RuntimeWarning, match="training diverged"):
        est.fit(X, y)
    assert est.stop_reason_ == "diverged"
    assert est.n_iter_ <= 5 and 1 <= est.best_epoch_ <= 4
    # the diverged epoch is recorded (NaN), as scikit-learn records it
    assert not np.isfinite(est.validation_loss_curve_[-1])
    assert np.isnan(est.validation_scores_[-1])
    assert est.best_epoch_ == 1 + int(np.nanargmin(est.validation_loss_curve_))
    _assert_holds(est, recorder.weights[est.best_epoch_])
    assert np.isfinite(_outputs(est, X)).all()


def test_best_weights_that_overflow_give_way_to_the_starting_weights(fast):
    # Unscaled inputs of 1e16: the first SGD epoch leaves weights whose outputs
    # overflow; the second epoch's loss is infinite. Without a validation set
    # the first epoch's weights were never evaluated, so they cannot be kept.
    X = np.array([[5.5e16], [-5e-7], [1.0]])
    y = np.array([0.5, 0.0, 1.0])
    params = {**fast, "hidden_layer_sizes": (3,), "solver": "sgd", "input_scaling": None,
              "early_stopping": False, "max_iter": 3}
    est = TorchMLPRegressor(**params)
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        est.fit(X, y)
    # the starting weights are back (nothing was learned, so nothing is kept)
    _assert_holds(est, _initial_weights(est, X, y))


# ---------------------------------------------------------------- interruption
def _interrupt(est):
    raise KeyboardInterrupt


def _send_sigint(est):
    signal.raise_signal(signal.SIGINT)  # as Ctrl-C in a terminal does


@pytest.fixture
def default_sigint_handler():
    # A background job of a non-interactive shell starts with SIGINT ignored;
    # Ctrl-C reaches Python as KeyboardInterrupt only under the default handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("action", [_interrupt, _send_sigint], ids=["raise", "SIGINT"])
def test_ctrl_c_keeps_a_usable_model_with_the_best_weights_then_reraises(
        Estimator, action, fast, request):
    if action is _send_sigint:
        if threading.current_thread() is not threading.main_thread():
            pytest.skip("signals reach the main thread only")
        request.getfixturevalue("default_sigint_handler")
    X, y = _data(Estimator)
    est = Estimator(**{**fast, **_uncalibrated(Estimator), "max_iter": 50,
                       "learning_rate_init": 0.05})
    recorder = WeightRecorder(est, at=4, action=action)
    est.set_params(callbacks=[recorder])
    with pytest.warns(UserWarning, match=r"training interrupted by the user after 4 "
                                         r"epoch\(s\); the model holds the weights of epoch"):
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
    assert est.stop_reason_ == "interrupted" and est.n_iter_ == 4
    assert est.best_epoch_ == 1 + int(np.argmin(est.validation_loss_curve_))
    _assert_holds(est, recorder.weights[est.best_epoch_])
    assert np.isfinite(_outputs(est, X)).all()
    assert est.score(X, y) > 0.5
    est.set_params(callbacks=None, max_iter=2).fit(X, y)  # and it trains again
    assert est.stop_reason_ == "max_iter"


# ------------------------------------------------------- memory and globals
def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_200_fits_do_not_grow_memory(capsys):
    X, y = _data(TorchMLPRegressor, n=40)
    labels = y > 0
    params = {"hidden_layer_sizes": (16,), "max_iter": 3, "device": "cpu",
              "early_stopping": True}

    def fit(i):
        if i % 2:
            return TorchMLPClassifier(**params, random_state=i).fit(X, labels)
        return TorchMLPRegressor(**params, random_state=i).fit(X, y)

    for i in range(30):  # warm up allocators and caches
        fit(i)
    gc.collect()
    before = _resident_bytes()
    for i in range(200):
        fit(i)
    gc.collect()
    growth = (_resident_bytes() - before) / 2**20
    with capsys.disabled():
        print(f"\nresident memory growth over 200 fits: {growth:.1f} MiB")
    assert growth < 50


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_fitted_model_holds_no_graph_and_is_freed(Estimator, fast):
    X, y = _data(Estimator, n=60)
    est = Estimator(**fast).fit(X, y)
    for row in est.history_:
        assert all(isinstance(v, (int, float, bool, type(None))) for v in row.values())
    assert all(not p.grad_fn for p in est.module_.parameters())
    outputs = est.predict(X)
    assert not isinstance(outputs, torch.Tensor)
    module = weakref.ref(est.module_)
    del est
    gc.collect()
    assert module() is None


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_and_predict_leave_globals_as_they_were(Estimator, fast):
    X, y = _data(Estimator, n=250)
    before = (torch.get_num_threads(), torch.is_grad_enabled(), torch.get_default_dtype(),
              np.geterr(), torch.initial_seed(), warnings.filters[:])
    rng_state = torch.get_rng_state()
    est = Estimator(**{**fast, "dropout": 0.2}).fit(X, y)
    est.predict(X)
    est.partial_fit(X, y)
    after = (torch.get_num_threads(), torch.is_grad_enabled(), torch.get_default_dtype(),
             np.geterr(), torch.initial_seed(), warnings.filters[:])
    assert after == before
    assert torch.equal(torch.get_rng_state(), rng_state)


# ----------------------------------------------------------------- concurrency
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_from_many_threads_at_once(Estimator, fast):
    X, y = _data(Estimator, n=300)
    est = Estimator(**{**fast, "dropout": 0.5}).fit(X, y)
    expected = _outputs(est, X)
    start = threading.Barrier(8)

    def work(seed):
        start.wait()
        rows = np.random.RandomState(seed).permutation(300)[:50 + seed]
        return rows, [_outputs(est, X[rows]) for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for rows, outputs in results:
        for output in outputs:
            np.testing.assert_allclose(output, expected[rows], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_fits_inside_joblib_backends(backend, fast):
    X, y = _data(TorchMLPClassifier, n=120)
    est = TorchMLPClassifier(**fast)
    sequential = cross_val_score(est, X, y, cv=3)
    with joblib.parallel_config(backend=backend, n_jobs=2):
        parallel = cross_val_score(est, X, y, cv=3)
    np.testing.assert_allclose(parallel, sequential, atol=1e-12)


def test_concurrent_fits_in_threads_match_sequential_fits(fast):
    X, y = _data(TorchMLPRegressor, n=100)

    def fit(seed):
        return TorchMLPRegressor(**{**fast, "random_state": seed}).fit(X, y).predict(X)

    sequential = [fit(seed) for seed in range(4)]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(fit, range(4)))
    for a, b in zip(sequential, threaded, strict=True):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------- determinism
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fixed_random_state_gives_identical_models_every_way(Estimator, fast):
    X, y = _data(Estimator, n=250)  # early stopping on: the split is seeded too
    est = Estimator(**{**fast, "dropout": 0.1, "max_iter": 6})
    reference = _outputs(est.fit(X, y), X)
    np.testing.assert_array_equal(_outputs(est.fit(X, y), X), reference)  # refit
    np.testing.assert_array_equal(_outputs(clone(est).fit(X, y), X), reference)
    unpickled = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_outputs(unpickled, X), reference)
    np.testing.assert_array_equal(_outputs(unpickled.fit(X, y), X), reference)
    original = est.get_params()
    est.set_params(alpha=0.5, dropout=0.3, hidden_layer_sizes=(3,)).fit(X, y)
    assert not np.array_equal(_outputs(est, X), reference)
    np.testing.assert_array_equal(_outputs(est.set_params(**original).fit(X, y), X), reference)


def test_lbfgs_on_inputs_near_the_float32_maximum_trains_in_float64(fast):
    # torch's line search stepped the float32 weights past float32 on inputs near
    # its largest value (found by the property tests: a RuntimeError from inside
    # torch). L-BFGS now trains in the data's float64, where the same fit is finite.
    X = pd.DataFrame({"x": [3.402824e38, 0.0, 0.0], "a": [False] * 3, "b": [False] * 3,
                      "n": pd.array([0, 0, 0], dtype="Int64")})
    est = TorchMLPClassifier(**{**fast, "hidden_layer_sizes": (3,), "max_iter": 3,
                                "input_scaling": None, "solver": "lbfgs"})
    est.fit(X, np.zeros((3, 2), dtype=int))
    assert np.isfinite(est.predict_proba(X)).all()
