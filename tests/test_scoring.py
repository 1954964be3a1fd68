"""scoring: what early stopping monitors, as in HistGradientBoosting."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_regression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skorchless import TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
PARAMS = {"hidden_layer_sizes": (16,), "max_iter": 40, "device": "cpu", "random_state": 0,
          "n_iter_no_change": 5}


def test_a_scorer_name_is_recorded_and_maximised():
    X, y = load_breast_cancer(return_X_y=True)
    X, X_val, y, y_val = train_test_split(X, y, random_state=0)
    clf = TorchMLPClassifier(scoring="roc_auc", **PARAMS).fit(X, y, X_val=X_val, y_val=y_val)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_
    assert clf.best_epoch_ == 1 + int(np.argmax(scores))  # the first of the highest
    # the restored model scores what was recorded for its epoch
    assert clf.best_validation_score_ == pytest.approx(
        roc_auc_score(y_val, clf.predict_proba(X_val)[:, 1]), abs=1e-12)
    assert clf.best_validation_loss_ == clf.validation_loss_curve_[clf.best_epoch_ - 1]


def test_a_callable_scorer_is_called_once_per_epoch_on_the_validation_rows():
    X, y = make_regression(n_samples=300, n_features=4, noise=5.0, random_state=0)
    calls = []

    def neg_max_error(estimator, X_val, y_val):
        calls.append(len(X_val))
        return -float(np.max(np.abs(estimator.predict(X_val) - y_val)))

    reg = TorchMLPRegressor(scoring=neg_max_error, **PARAMS).fit(X, y)
    assert calls == [30] * reg.n_iter_  # validation_fraction=0.1 of 300 rows
    assert reg.best_validation_score_ == max(reg.validation_scores_)


def test_the_default_monitors_the_loss():
    X, y = make_regression(n_samples=300, n_features=4, noise=5.0, random_state=0)
    reg = TorchMLPRegressor(**PARAMS).fit(X, y)
    assert reg.scoring == "loss"
    assert reg.best_validation_loss_ == min(reg.validation_loss_curve_)
    assert reg.best_epoch_ == 1 + int(np.argmin(reg.validation_loss_curve_))


def test_an_unknown_scorer_is_refused_naming_it():
    X, y = make_regression(n_samples=300, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="no_such_score"):
        TorchMLPRegressor(scoring="no_such_score", **PARAMS).fit(X, y)
