"""Small tables train with the defaults: the tutorials' own tiny networks reach their fit.

On a table of 10 or 80 rows an epoch used to be one optimizer step, and 200
of them left a network of 2 or 5 units nearly untrained (XOR blobs: accuracy
0.52; ice cream: R² -0.44). ``batch_size="auto"`` now makes at least 16 steps
per epoch and ``max_iter="auto"`` at least 10,000 steps in all.
"""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skorchless import TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# weekday, temperature (°C) and revenue (thousands) of ten days of an ice-cream stand
DAY = [2, 6, 1, 3, 2, 5, 7, 4, 3, 1]
TEMPERATURE = [22, 33, 20, 25, 24, 30, 35, 28, 26, 21]
REVENUE = [1.51, 2.22, 1.37, 1.77, 1.64, 2.04, 2.42, 1.90, 1.75, 1.45]


def xor_blobs(n_rows, seed):
    """Four blobs around (±1, ±1); the label is 1 where the coordinates differ in sign."""
    X, blob = make_blobs(n_samples=n_rows, centers=[[1, 1], [-1, -1], [1, -1], [-1, 1]],
                         cluster_std=0.3, random_state=seed)
    return X, (blob >= 2).astype(int)


@pytest.mark.parametrize("seed", [1, 2])
def test_xor_blobs_are_learned_by_five_units(seed):
    X, y = xor_blobs(80, seed)
    X_test, y_test = xor_blobs(200, seed + 1000)
    clf = TorchMLPClassifier(hidden_layer_sizes=(5,), random_state=seed, device="cpu")
    clf.fit(X, y)
    assert clf.score(X_test, y_test) >= 0.95
    assert clf.do_early_stopping_  # 80 rows: 8 held out, stratified


def test_the_ice_cream_table_is_fitted_by_two_units():
    X = np.column_stack([DAY, TEMPERATURE]).astype(float)
    y = np.array(REVENUE)
    reg = TorchMLPRegressor(hidden_layer_sizes=(2,), random_state=0, device="cpu").fit(X, y)
    assert reg.score(X, y) >= 0.9
    assert not reg.do_early_stopping_  # 10 rows: no validation set
    assert reg.n_iter_ <= 1000 and len(reg.loss_curve_) == reg.n_iter_  # epochs, as before


def test_an_explicit_max_iter_keeps_the_previous_budget():
    # max_iter=200 with 10 rows in one batch: 200 steps, as scikit-learn's MLP trains
    X = np.column_stack([DAY, TEMPERATURE]).astype(float)
    reg = TorchMLPRegressor(hidden_layer_sizes=(2,), batch_size=10, max_iter=200, tol=0.0,
                            n_iter_no_change=200, random_state=0, device="cpu")
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(200\)"):
        reg.fit(X, np.array(REVENUE))
    assert reg.n_iter_ == 200 and reg.t_ == 200 * 10
