"""coefs_ / intercepts_ are the real weights, in the dtype of the data; predict follows it."""

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import make_classification, make_regression

from skorchless import TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
OFF = {"input_scaling": None, "n_bins": None, "hidden_layer_sizes": (8, 4), "max_iter": 5,
       "device": "cpu", "random_state": 0}
ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "logistic": expit,
               "identity": lambda z: z}


def _forward(est, X):
    # scikit-learn's forward pass, in numpy, through coefs_ and intercepts_
    h = X
    for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        h = h @ w + b
        if i < len(est.coefs_) - 1:
            h = ACTIVATIONS[est.activation](h)
    return h


@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_numpy_forward_pass_through_coefs_gives_predict(loss, activation):
    X, y = make_regression(n_samples=120, n_features=4, n_targets=2, random_state=0)
    if loss == "poisson":
        y = np.random.RandomState(0).poisson(np.exp(np.tanh(y / 100)))
    # y far from mean 0 / unit variance: the internal scaling must be folded in
    reg = TorchMLPRegressor(loss=loss, activation=activation, **OFF).fit(X, 1000 + y)
    out = _forward(reg, X)
    expected = np.exp(out) if reg.out_activation_ == "exp" else out
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_numpy_forward_pass_through_coefs_gives_predict_proba(n_classes):
    X, y = make_classification(n_samples=120, n_features=4, n_classes=n_classes,
                               n_informative=3, n_redundant=0, random_state=0)
    clf = TorchMLPClassifier(label_smoothing=0.0, **OFF).fit(X, y)
    out = _forward(clf, X)
    proba = softmax(out, axis=1) if n_classes > 2 else np.column_stack(
        [1 - expit(out[:, 0]), expit(out[:, 0])])
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("Estimator", [TorchMLPRegressor, TorchMLPClassifier])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_and_predictions_take_the_dtype_of_the_data(Estimator, dtype):
    X, y = make_regression(n_samples=80, n_features=3, random_state=0)
    y = y if Estimator is TorchMLPRegressor else y > 0
    est = Estimator(hidden_layer_sizes=(5, 3), max_iter=5, random_state=0,
                    device="cpu").fit(X.astype(dtype), y)
    assert {c.dtype for c in est.coefs_} == {np.dtype(dtype)}
    assert {b.dtype for b in est.intercepts_} == {np.dtype(dtype)}
    output = est.predict(X.astype(dtype)) if Estimator is TorchMLPRegressor else \
        est.predict_proba(X.astype(dtype))
    assert output.dtype == dtype
    # float64 data on a float32-fitted model: float64, as numpy promotes
    if Estimator is TorchMLPRegressor:
        assert est.predict(X).dtype == np.float64


def test_float64_predictions_do_not_depend_on_the_rows_predicted_with_them():
    X, y = make_regression(n_samples=300, n_features=6, random_state=0)
    reg = TorchMLPRegressor(hidden_layer_sizes=(64, 64), max_iter=5, random_state=0,
                            device="cpu").fit(X, y)
    together = reg.predict(X[:40])
    alone = np.array([reg.predict(X[i:i + 1])[0] for i in range(40)])
    np.testing.assert_allclose(alone, together, rtol=1e-12, atol=1e-12)
