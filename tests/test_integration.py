"""With scikit-learn's tools: clone, Pipeline, GridSearchCV, cross_val_score, pandas."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skorchless import TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_estimator_kinds():
    assert is_regressor(TorchMLPRegressor()) and not is_classifier(TorchMLPRegressor())
    assert is_classifier(TorchMLPClassifier()) and not is_regressor(TorchMLPClassifier())


def test_clone_of_a_fitted_model_is_unfitted_and_refits_identically(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**fast).fit(X, y)
    cloned = clone(reg)
    assert not hasattr(cloned, "module_") and cloned.get_params() == reg.get_params()
    np.testing.assert_array_equal(cloned.fit(X, y).predict(X), reg.predict(X))


def test_pipeline_with_standard_scaler_float64(regression_data, fast):
    X, y = regression_data
    pipe = make_pipeline(StandardScaler(), TorchMLPRegressor(**{**fast, "max_iter": 100},
                                                             learning_rate_init=0.01))
    pipe.fit(X * 1000 + 5, y)  # StandardScaler hands float64 to the network
    assert pipe.score(X * 1000 + 5, y) > 0.8


def test_grid_search(classification_data, fast):
    X, y = classification_data
    grid = GridSearchCV(
        TorchMLPClassifier(**fast),
        {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-2]},
        cv=3,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_estimator_.hidden_layer_sizes in [(4,), (8,)]
    assert grid.predict(X).shape == (60,)


def test_grid_over_scikit_learn_mlp_names(regression_data, fast):
    X, y = regression_data
    grid = {"solver": ["adam", "sgd"], "learning_rate": ["constant", "adaptive"],
            "activation": ["relu", "tanh"]}
    search = GridSearchCV(TorchMLPRegressor(**fast), grid, cv=2).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("Estimator, scoring", [(TorchMLPRegressor, "r2"),
                                                (TorchMLPClassifier, "accuracy")])
def test_cross_val_score(Estimator, scoring, regression_data, fast):
    X, y = regression_data
    target = y > np.median(y) if Estimator is TorchMLPClassifier else y
    scores = cross_val_score(Estimator(**fast), X, target, cv=3, scoring=scoring)
    assert scores.shape == (3,) and np.isfinite(scores).all()


def _frame(X):
    return pd.DataFrame(X, columns=["alpha", "beta", "gamma"])


@pytest.mark.parametrize("Estimator", [TorchMLPRegressor, TorchMLPClassifier])
def test_pandas_input(Estimator, regression_data, fast):
    X, y = regression_data
    target = pd.Series(y > 0 if Estimator is TorchMLPClassifier else y, name="target")
    est = Estimator(**fast).fit(_frame(X), target)
    np.testing.assert_array_equal(est.feature_names_in_, ["alpha", "beta", "gamma"])
    from_numpy = Estimator(**fast).fit(X, target.to_numpy())
    assert not hasattr(from_numpy, "feature_names_in_")
    np.testing.assert_array_equal(est.predict(_frame(X)), from_numpy.predict(X))


def test_mixed_pandas_dtypes_are_converted(fast):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"f": rng.normal(size=40), "i": rng.randint(0, 5, 40),
                      "b": rng.rand(40) > 0.5, "f32": rng.normal(size=40).astype("float32")})
    reg = TorchMLPRegressor(**fast).fit(X, rng.normal(size=40))
    assert np.isfinite(reg.predict(X)).all() and reg.n_features_in_ == 4


def test_predict_without_names_warns(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**fast).fit(_frame(X), y)
    with pytest.warns(UserWarning, match="X does not have valid feature names, but "
                                         "TorchMLPRegressor was fitted with feature names"):
        reg.predict(X)


def test_predict_with_names_after_a_fit_without_warns(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**fast).fit(X, y)
    with pytest.warns(UserWarning, match="X has feature names, but TorchMLPRegressor was "
                                         "fitted without feature names"):
        reg.predict(_frame(X))


@pytest.mark.parametrize("columns, message", [
    (["beta", "alpha", "gamma"], "Feature names must be in the same order as they were in fit"),
    (["alpha", "beta", "delta"], "Feature names unseen at fit time:\n- delta"),
])
def test_predict_with_other_columns_is_an_error(columns, message, regression_data, fast):
    X, y = regression_data
    clf = TorchMLPClassifier(**fast).fit(_frame(X), y > 0)
    with pytest.raises(ValueError, match=message):
        clf.predict_proba(pd.DataFrame(X, columns=columns))


def test_same_columns_do_not_warn(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**fast).fit(_frame(X), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.predict(_frame(X))
