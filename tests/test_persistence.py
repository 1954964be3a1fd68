"""Pickling: round trips, the version stamp, weights on the CPU."""

import io
import pickle
import warnings

import cloudpickle
import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_regression

import skorchless
from skorchless import (
    InconsistentVersionWarning,
    TorchMLPClassifier,
    TorchMLPRegressor,
)
from skorchless._persistence import pickling

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _joblib_round_trip(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


ROUND_TRIPS = {
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
    "joblib": _joblib_round_trip,
    "cloudpickle": lambda obj: cloudpickle.loads(cloudpickle.dumps(obj)),
}


def _fitted(Estimator, fast, **params):
    X = np.random.RandomState(0).normal(size=(250, 3))
    y = X[:, 0] > 0 if Estimator is TorchMLPClassifier else X @ [1.0, 2.0, -1.0]
    return Estimator(**{**fast, **params}).fit(X, y), X, y


@pytest.mark.parametrize("Estimator", [TorchMLPRegressor, TorchMLPClassifier])
@pytest.mark.parametrize("method", ROUND_TRIPS)
def test_round_trip_gives_identical_predictions(Estimator, method, fast):
    est, X, _ = _fitted(Estimator, fast, dropout=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning
        loaded = ROUND_TRIPS[method](est)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    if Estimator is TorchMLPClassifier:
        np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
    assert loaded.history_ == est.history_ and loaded.get_params() == est.get_params()
    assert loaded.module_ is not est.module_


def test_unpickled_model_refits_and_continues(fast):
    est, X, y = _fitted(TorchMLPRegressor, fast)
    loaded = pickle.loads(pickle.dumps(est))
    loaded.partial_fit(X, y)
    assert len(loaded.history_) == len(est.history_) + 1
    np.testing.assert_array_equal(loaded.fit(X, y).predict(X), est.predict(X))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_goes_on_through_pickles_as_without(solver, fast):
    # What a dask Incremental does between blocks: the optimizer's moments and
    # the shuffling generator travel, so the result is the same to the bit.
    X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    params = {**fast, "solver": solver, "hidden_layer_sizes": (16,)}
    live, pickled = TorchMLPRegressor(**params), TorchMLPRegressor(**params)
    for _ in range(3):
        live.partial_fit(X, y)
        pickled = pickle.loads(pickle.dumps(pickled.partial_fit(X, y)))
    np.testing.assert_array_equal(pickled.predict(X), live.predict(X))


def test_a_pickled_optimizer_state_is_dropped_by_fit_and_by_another_solver(fast):
    X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    est = TorchMLPRegressor(**fast).partial_fit(X, y)
    fresh = pickle.loads(pickle.dumps(est)).fit(X, y)  # fit starts afresh
    np.testing.assert_array_equal(fresh.predict(X), clone(est).fit(X, y).predict(X))
    switched = pickle.loads(pickle.dumps(est)).set_params(solver="sgd").partial_fit(X, y)
    assert "momentum_buffer" in next(iter(switched._optimizer.state.values()))


def test_pickling_leaves_the_live_estimator_untouched(fast):
    est, X, y = _fitted(TorchMLPRegressor, fast)
    before = dict(vars(est))
    pickle.dumps(est)
    assert vars(est).keys() == before.keys()
    assert all(vars(est)[key] is value for key, value in before.items())
    assert isinstance(est.device_, torch.device)


def test_runtime_state_is_pickled_as_tensors(fast):
    est, _, _ = _fitted(TorchMLPRegressor, fast)
    state = est.__getstate__()
    assert not {"_optimizer", "_schedule", "_generator"} & set(state)
    assert state["_optimizer_state"][0] == "Adam"
    assert isinstance(state["_generator_state"], torch.Tensor)
    assert state["_skorchless_version"] == skorchless.__version__
    assert isinstance(state["device_"], str)
    assert hasattr(est, "_optimizer")  # the live estimator keeps them


def test_unfitted_estimator_round_trips(fast):
    loaded = pickle.loads(pickle.dumps(TorchMLPClassifier(**fast)))
    assert loaded.get_params() == TorchMLPClassifier(**fast).get_params()
    assert not hasattr(loaded, "module_")


def test_version_mismatch_warns(fast, monkeypatch):
    est, X, _ = _fitted(TorchMLPClassifier, fast)
    data = pickle.dumps(est)
    version = skorchless.__version__
    monkeypatch.setattr(pickling, "__version__", "999.0")
    with pytest.warns(InconsistentVersionWarning,
                      match=r"TorchMLPClassifier saved by skorchless 0\.\S+ with "
                            r"skorchless 999\.0") as record:
        loaded = pickle.loads(data)
    warning = record[0].message
    assert (warning.original_version, warning.current_version) == (version, "999.0")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_pickle_without_a_version_stamp_warns(fast):
    est, _, _ = _fitted(TorchMLPRegressor, fast)
    state = est.__getstate__()
    del state["_skorchless_version"]
    restored = TorchMLPRegressor.__new__(TorchMLPRegressor)
    with pytest.warns(InconsistentVersionWarning, match="saved by skorchless pre-0.1"):
        restored.__setstate__(state)


def test_module_on_another_device_is_pickled_on_the_cpu(fast, monkeypatch):
    est, X, _ = _fitted(TorchMLPRegressor, fast)
    moved = []
    original_to = torch.nn.Module.to

    def recording_to(module, *args, **kwargs):
        moved.append(args[0] if args else kwargs.get("device"))
        return original_to(module, *args, **kwargs)

    # Pretend the network lives on a GPU: __getstate__ must pickle a CPU copy.
    monkeypatch.setattr(pickling, "_device_of", lambda module: torch.device("cuda", 0))
    monkeypatch.setattr(torch.nn.Module, "to", recording_to)
    state = est.__getstate__()
    monkeypatch.undo()
    assert "cpu" in moved
    assert state["module_"] is not est.module_  # a copy: the live model is not moved
    assert all(p.device.type == "cpu" for p in state["module_"].parameters())
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_model_fitted_for_cuda_loads_on_the_cpu(fast):
    est, X, _ = _fitted(TorchMLPRegressor, fast)
    expected = est.predict(X)
    est.set_params(device="cuda")  # as if it had been fitted on a GPU machine
    with pytest.warns(UserWarning, match="device='cuda', which is not available here; it "
                                         "was loaded on the CPU"):
        loaded = pickle.loads(pickle.dumps(est))
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.predict(X), expected)
