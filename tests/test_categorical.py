"""DataFrames with categorical columns, given to the estimators as they are."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import cross_val_score

from skorchless import TorchMLPClassifier, TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ESTIMATORS = [TorchMLPRegressor, TorchMLPClassifier]
CITY_EFFECT = {"Seoul": 3.0, "Busan": 0.0, "Daegu": -3.0}


def _houses(n=240, seed=0):
    """A frame whose target depends mostly on a string column."""
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({
        "size": rng.uniform(1, 3, n),
        "city": rng.choice(list(CITY_EFFECT), n),
        "garden": rng.rand(n) > 0.5,
        "kind": pd.Categorical(rng.choice(["flat", "house", None], n)),
    })
    y = X["size"] + X["city"].map(CITY_EFFECT) + 0.5 * X["garden"]
    return X, y.to_numpy()


def _target(Estimator, y):
    return y if Estimator is TorchMLPRegressor else np.where(y > np.median(y), "high", "low")


def _fit(Estimator, X, y, **params):
    settings = {"max_iter": 40, "learning_rate_init": 0.01, "random_state": 0,
                "device": "cpu", "hidden_layer_sizes": (16,), **params}
    return Estimator(**settings).fit(X, _target(Estimator, y))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_categorical_frame_is_learned(Estimator):
    X, y = _houses()
    est = _fit(Estimator, X, y)
    # the city is most of the signal: a model that ignored it would score poorly
    assert est.score(X, _target(Estimator, y)) > 0.9
    assert est.n_features_in_ == 4
    assert list(est.feature_names_in_) == ["size", "city", "garden", "kind"]
    # size; 3 cities; 2 garden values; flat, house, missing
    assert est.module_[0].in_features == 1 + 3 + 2 + 3


def test_prediction_follows_the_category():
    X, y = _houses()
    reg = _fit(TorchMLPRegressor, X, y, max_iter=100)
    row = X.iloc[[0] * 3].copy()
    row["city"] = ["Seoul", "Busan", "Daegu"]
    seoul, busan, daegu = reg.predict(row)
    assert seoul > busan + 1.5 and busan > daegu + 1.5


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_unseen_and_missing_categories_at_predict_do_not_crash(Estimator):
    X, y = _houses()
    est = _fit(Estimator, X, y)
    new = X.iloc[:4].copy()
    new["city"] = ["Incheon", None, np.nan, "Seoul"]
    new["kind"] = pd.Categorical(["castle", None, "flat", "flat"])
    prediction = est.predict(new)
    assert len(prediction) == 4
    if Estimator is TorchMLPClassifier:
        assert np.isfinite(est.predict_proba(new)).all()
    else:
        assert np.isfinite(prediction).all()


def test_an_unseen_category_is_encoded_as_no_known_category():
    X, y = _houses()
    reg = _fit(TorchMLPRegressor, X, y)
    new = X.iloc[[0, 0]].copy()
    new["city"] = ["Incheon", "Ulsan"]  # both unseen: the same all-zero encoding
    first, second = reg.predict(new)
    assert first == second


def test_encoding_does_not_depend_on_the_other_rows():
    # A categorical column of integer categories holding a missing value must
    # encode its categories the same way as one without (1, not 1.0).
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=200),
                      "level": pd.Categorical(rng.choice([1, 2, 3], 200))})
    y = X["x"].to_numpy() + X["level"].astype(int).to_numpy()
    reg = _fit(TorchMLPRegressor, X, y)
    with_missing = X.iloc[:3].copy()
    with_missing["level"] = pd.Categorical([1, 2, None], categories=[1, 2, 3])
    without = X.iloc[:2].copy()
    without["level"] = pd.Categorical([1, 2], categories=[1, 2, 3])
    np.testing.assert_allclose(reg.predict(with_missing)[:2], reg.predict(without))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_infinity_raises_naming_the_column(Estimator):
    X, y = _houses(n=40)
    X.loc[3, "size"] = np.inf
    with pytest.raises(ValueError, match=r"infinity in column 'size' \(row 3\)"):
        _fit(Estimator, X, y)
    with pytest.raises(ValueError, match=r"infinity in column 0 \(row 3\)"):
        _fit(Estimator, X[["size"]].to_numpy(), y)
    est = _fit(Estimator, *_houses(n=40))
    with pytest.raises(ValueError, match="infinity in column 'size'"):
        est.predict(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_missing_numbers_in_a_frame_are_filled(Estimator):
    X, y = _houses(n=40)
    X.loc[3, "size"] = np.nan
    est = _fit(Estimator, X, y)
    assert est.module_[0].in_features == 1 + 3 + 2 + 3 + 1  # and the missing indicator
    assert len(est.predict(X)) == 40


def test_a_frame_is_required_after_a_categorical_fit():
    reg = _fit(TorchMLPRegressor, *_houses())
    with pytest.raises(TypeError, match=r"fitted on a pandas DataFrame with categorical "
                                        r"columns \['city', 'garden', 'kind'\]; X must be"):
        reg.predict(_houses()[0].to_numpy())


def test_other_columns_are_an_error():
    reg = _fit(TorchMLPRegressor, *_houses())
    with pytest.raises(ValueError, match="Feature names"):
        reg.predict(_houses()[0].rename(columns={"city": "town"}))


def test_the_encoder_is_fitted_on_the_training_rows_only():
    X, y = _houses()
    X_val = X.iloc[:30].copy()
    X_val["city"] = "Incheon"  # only in the validation rows
    reg = TorchMLPRegressor(max_iter=5, device="cpu", random_state=0, hidden_layer_sizes=(8,))
    reg.fit(X, y, X_val=X_val, y_val=y[:30])
    encoder = reg._inputs.transformer_
    assert isinstance(encoder, ColumnTransformer)
    one_hot = encoder.named_transformers_["categorical"]
    assert "Incheon" not in one_hot.categories_[0]
    robust = encoder.named_transformers_["numeric"][0]
    np.testing.assert_allclose(robust.center_, [np.median(X["size"])])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_internal_validation_split_of_a_frame(Estimator):
    X, y = _houses()
    est = _fit(Estimator, X, y, early_stopping=True, validation_fraction=0.25)
    assert est.do_early_stopping_ and len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ > 0.8


def test_numeric_frames_keep_the_numeric_path():
    X, y = _houses()
    from_frame = _fit(TorchMLPRegressor, X[["size"]], y)
    from_array = _fit(TorchMLPRegressor, X[["size"]].to_numpy(), y)
    assert not isinstance(from_frame._inputs.transformer_, ColumnTransformer)
    np.testing.assert_array_equal(from_frame.predict(X[["size"]]),
                                  from_array.predict(X[["size"]].to_numpy()))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickle_round_trip(Estimator):
    X, y = _houses()
    est = _fit(Estimator, X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


def test_warm_start_and_partial_fit_reuse_the_encoder():
    X, y = _houses()
    reg = _fit(TorchMLPRegressor, X, y, warm_start=True)
    encoder = reg._inputs.transformer_
    reg.fit(X.iloc[:50], y[:50])
    assert reg._inputs.transformer_ is encoder
    reg = TorchMLPRegressor(hidden_layer_sizes=(8,), device="cpu", random_state=0)
    reg.partial_fit(X, y)
    encoder = reg._inputs.transformer_
    reg.partial_fit(X.iloc[:10], y[:10])
    assert reg._inputs.transformer_ is encoder and len(reg.history_) == 2


def test_refit_on_arrays_forgets_the_frame():
    X, y = _houses()
    reg = _fit(TorchMLPRegressor, X, y)
    reg.fit(X[["size"]].to_numpy(), y)
    assert np.isfinite(reg.predict(X[["size"]].to_numpy())).all()


def test_clone_and_cross_validation():
    X, y = _houses()
    reg = TorchMLPRegressor(max_iter=30, learning_rate_init=0.01, hidden_layer_sizes=(16,),
                            device="cpu", random_state=0)
    scores = cross_val_score(clone(reg), X, y, cv=3)
    assert scores.min() > 0.8
