"""Small data sets and fast settings shared by the tests."""

import numpy as np
import pytest
import torch

# The tests train hundreds of tiny networks; on a small shared CPU one torch
# thread runs them several times faster than the default, which makes threads
# wait for each other on every tiny operation.
torch.set_num_threads(1)

#: A tiny network that trains in milliseconds on the CPU.
FAST = {"hidden_layer_sizes": (8,), "max_iter": 5, "device": "cpu", "random_state": 0}


@pytest.fixture
def fast():
    """Keyword arguments of a tiny, seeded, CPU-only estimator."""
    return dict(FAST)


@pytest.fixture
def regression_data():
    """60 rows, 3 features, a smooth noiseless target."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + np.sin(X[:, 0])


@pytest.fixture
def classification_data():
    """60 rows, 3 features, two linearly separable classes 0 and 1."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.fixture
def fit_before_and_after(monkeypatch):
    """``fit(make_estimator, X, y, switch, **fit_params)``: fit, then fit again.

    ``switch`` is ``(target, name, value)``: between the fits,
    ``target.name`` is set to ``value`` (undone after the test). Returns the
    two fitted estimators, the first fitted as the code stands.
    """
    def fit(make_estimator, X, y, switch, **fit_params):
        before = make_estimator().fit(X, y, **fit_params)
        monkeypatch.setattr(*switch)
        return before, make_estimator().fit(X, y, **fit_params)

    return fit


@pytest.fixture
def global_random_seed():
    """The seed scikit-learn's own tests take (its default, 42); see sklearn_mlp/."""
    return 42


def pytest_collection_modifyitems(items):
    """Mark the items of scikit-learn's MLP tests that differ (see sklearn_mlp/swap.py)."""
    from sklearn_mlp.swap import mark_differences

    for mode in ("off", "defaults"):
        mark_differences([item for item in items
                          if item.path.name == f"test_sklearn_mlp_extras_{mode}.py"], mode)
