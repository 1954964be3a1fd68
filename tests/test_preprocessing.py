"""The input transformers: smooth clipping, scalers, quantile bins, the frame encoder."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import StandardScaler

from skorchless import TorchMLPClassifier, TorchMLPRegressor
from skorchless._inputs import (
    AUTO_BINS,
    AUTO_BINS_MAX_COLUMNS,
    AUTO_BINS_MIN_SAMPLES,
    MAX_CATEGORIES,
    InputEncoder,
    categorical_columns,
    make_frame_encoder,
    resolve_n_bins,
)
from skorchless._preprocessing import (
    PiecewiseLinearEncoder,
    WeightedRobustScaler,
    make_input_scaler,
    smooth_clip,
    weighted_quantile,
)


def fit_input_transformer(X, input_scaling, n_bins):
    # The fitted encoding of ``X`` and its width, as the estimators fit it.
    encoder = InputEncoder(input_scaling, n_bins)
    X, _ = encoder.validate(BaseEstimator(), X, reset=True)
    encoder.fit_transform(X)
    return encoder.transformer_, encoder.n_columns_


def validate_frame(estimator, X, y="no_validation", *, reset, y_numeric=False, encoder=None):
    encoder = encoder or InputEncoder(None, None)
    return encoder.validate(estimator, X, y, reset=reset, y_numeric=y_numeric)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------------ smooth_clip
def test_smooth_clip_is_odd_monotone_and_bounded():
    x = np.linspace(-1e6, 1e6, 2001)
    y = smooth_clip(x, bound=3.0)
    assert np.all(np.abs(y) < 3.0)
    assert np.all(np.diff(y) > 0)
    np.testing.assert_allclose(smooth_clip(-x), -y)


def test_smooth_clip_is_nearly_the_identity_near_zero():
    x = np.array([-0.1, 0.0, 0.05, 0.1])
    np.testing.assert_allclose(smooth_clip(x), x, atol=1e-3)


def test_smooth_clip_never_overflows():
    assert np.isfinite(smooth_clip(np.array([1e308, -1e308]))).all()


# ----------------------------------------------------------- make_input_scaler
def test_robust_scaling_ignores_an_outlier():
    X = np.r_[np.arange(20.0), 1e9][:, None]
    scaled = make_input_scaler("robust").fit_transform(X)
    assert np.abs(scaled).max() < 3.0
    # the bulk keeps its spread: the outlier did not squash it to zero
    assert np.ptp(scaled[:20]) > 1.0  # a standard scaler would give about 1e-7


def test_standard_and_no_scaling():
    assert isinstance(make_input_scaler("standard"), StandardScaler)
    assert make_input_scaler(None) is None


# ------------------------------------------------------ PiecewiseLinearEncoder
def test_piecewise_linear_encoding_of_a_value():
    X = np.arange(9.0)[:, None]  # quartile edges 0, 2, 4, 6, 8
    encoder = PiecewiseLinearEncoder(n_bins=4).fit(X)
    np.testing.assert_array_equal(encoder.edges_[0], [0, 2, 4, 6, 8])
    np.testing.assert_allclose(encoder.transform([[5.0], [-3.0], [100.0]]), [
        [5.0, 1, 1, 0.5, 0],  # the value itself, then full, full, half, empty bins
        [-3.0, 0, 0, 0, 0],  # beyond the training range: clipped
        [100.0, 1, 1, 1, 1],
    ])


def test_piecewise_linear_encoding_is_monotone_and_bounded():
    rng = np.random.RandomState(0)
    X = rng.lognormal(size=(500, 2))
    encoder = PiecewiseLinearEncoder(n_bins=16).fit(X)
    grid = np.column_stack([np.linspace(-1, 50, 300)] * 2)
    bins = encoder.transform(grid)[:, 2:]
    assert bins.shape[1] == 32 and bins.min() == 0 and bins.max() == 1
    assert np.all(np.diff(bins, axis=0) >= 0)


def test_binary_features_get_no_bins():
    X = np.column_stack([np.arange(100.0) % 2, np.arange(100.0)])
    out = PiecewiseLinearEncoder(n_bins=8).fit_transform(X)
    assert out.shape == (100, 2 + 8)


@pytest.mark.parametrize("n_bins, n_samples, n_features, expected", [
    (None, 10**6, 3, 0),
    (16, 10, 3, 16),
    ("auto", AUTO_BINS_MIN_SAMPLES - 1, 3, 0),
    ("auto", AUTO_BINS_MIN_SAMPLES, 3, AUTO_BINS),
    ("auto", 10**6, 0, 0),
    ("auto", 10**6, AUTO_BINS_MAX_COLUMNS // 8, 8),
    ("auto", 10**6, AUTO_BINS_MAX_COLUMNS, 0),
])
def test_resolve_n_bins(n_bins, n_samples, n_features, expected):
    assert resolve_n_bins(n_bins, n_samples, n_features) == expected


def test_auto_bins_count_only_continuous_features():
    rng = np.random.RandomState(0)
    n = AUTO_BINS_MIN_SAMPLES
    X = np.column_stack([rng.normal(size=n), rng.randint(0, 2, n), rng.randint(0, 2, n)])
    transformer, n_inputs = fit_input_transformer(X, "robust", "auto")
    assert n_inputs == 3 + AUTO_BINS
    assert transformer.transform(X).shape == (n, n_inputs)
    assert fit_input_transformer(X[:100], "robust", "auto")[1] == 3


# ---------------------------------------------------------- categorical_columns
def test_categorical_columns_by_dtype():
    X = pd.DataFrame({
        "float": [1.0, 2.0], "int": [1, 2], "nullable_int": pd.array([1, None], "Int64"),
        "object": ["a", "b"], "category": pd.Categorical(["a", "b"]),
        "string": pd.array(["a", None], "string"), "bool": [True, False],
        "nullable_bool": pd.array([True, None], "boolean"),
    })
    assert categorical_columns(X) == [
        "object", "category", "string", "bool", "nullable_bool"]


def test_categorical_columns_of_arrays_is_empty():
    assert categorical_columns(np.array([["a", "b"]], dtype=object)) == []
    assert categorical_columns(pd.DataFrame({"x": [1.0]})) == []


# ------------------------------------------------------------ the frame encoder
def _frame():
    return pd.DataFrame({
        "x": [1.0, 2.0, 3.0, 4.0, 100.0],
        "colour": ["red", "blue", "red", np.nan, "green"],
    })


def test_frame_encoder_scales_numbers_and_one_hot_encodes_categories():
    X = _frame()
    encoder, n_inputs = fit_input_transformer(X, "robust", None)
    assert isinstance(encoder, ColumnTransformer)
    out = encoder.transform(X)
    assert out.shape == (5, n_inputs) == (5, 1 + 4)  # x; blue, green, red, missing
    assert np.abs(out[:, 0]).max() < 3.0  # the robust scaler with smooth clipping
    np.testing.assert_array_equal(out[:, 1:].sum(axis=1), 1.0)
    np.testing.assert_array_equal(out[3, 1:], [0, 0, 0, 1])  # missing is a category


def test_frame_encoder_encodes_unseen_categories_as_zeros():
    encoder, _ = fit_input_transformer(_frame(), None, None)
    new = pd.DataFrame({"x": [1.0], "colour": ["purple"]})
    np.testing.assert_array_equal(encoder.transform(new), [[1.0, 0, 0, 0, 0]])


def test_frame_encoder_caps_the_columns_of_a_high_cardinality_feature():
    n = 3 * MAX_CATEGORIES
    X = pd.DataFrame({"id": [f"level{i}" for i in range(n)] + ["common"] * n})
    encoder = make_frame_encoder(X.columns, ["id"], None).fit(X)
    out = encoder.transform(pd.DataFrame({"id": ["common", "level0", "never seen"]}))
    assert out.shape[1] == MAX_CATEGORIES
    # rare and unseen categories share the "infrequent" column
    np.testing.assert_array_equal(out[1], out[2])
    assert not np.array_equal(out[0], out[1])


def test_numeric_input_keeps_its_width():
    scaler, n_inputs = fit_input_transformer(np.ones((4, 3)), "standard", "auto")
    assert isinstance(scaler, StandardScaler) and n_inputs == 3
    assert fit_input_transformer(np.ones((4, 3)), None, "auto") == (None, 3)


# -------------------------------------------------------------- validate_frame
def test_validate_frame_turns_every_categorical_dtype_into_strings():
    X = pd.DataFrame({
        "x": [0.5, 1.5, 2.5],
        "category": pd.Categorical([1, 2, None]),
        "bool": [True, False, True],
        "mixed": pd.Series(["a", 3, None], dtype=object),
        "string": pd.array(["a", pd.NA, "b"], "string"),
    })
    out, _ = validate_frame(BaseEstimator(), X, reset=True)
    assert out["category"].tolist()[:2] == ["1", "2"] and pd.isna(out["category"][2])
    assert out["bool"].tolist() == ["True", "False", "True"]
    assert out["mixed"].tolist()[:2] == ["a", "3"] and pd.isna(out["mixed"][2])
    assert pd.isna(out["string"][1])
    assert X["bool"].dtype == bool  # the caller's frame is left alone
    # the prepared frame encodes without error, missing values as a category
    encoder = InputEncoder(None, None)
    encoder.validate(BaseEstimator(), X, reset=True)
    assert np.isfinite(encoder.fit_transform(out)).all()


def test_validate_frame_sets_and_checks_feature_names():
    est, encoder = BaseEstimator(), InputEncoder(None, None)
    validate_frame(est, _frame(), reset=True, encoder=encoder)
    assert est.n_features_in_ == 2
    assert list(est.feature_names_in_) == ["x", "colour"]
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        validate_frame(est, _frame().rename(columns={"x": "z"}), reset=False, encoder=encoder)


def test_validate_frame_keeps_missing_numbers_and_rejects_infinity():
    X = _frame()
    X.loc[0, "x"] = np.nan
    out, _ = validate_frame(BaseEstimator(), X, reset=True)
    assert np.isnan(out["x"][0])
    X.loc[0, "x"] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity in column 'x'"):
        validate_frame(BaseEstimator(), X, reset=True)


def test_validate_frame_checks_y():
    with pytest.raises(ValueError, match="Input y contains NaN"):
        validate_frame(BaseEstimator(), _frame(), [1.0, np.nan, 2, 3, 4], reset=True,
                       y_numeric=True)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        validate_frame(BaseEstimator(), _frame(), [1.0, 2.0], reset=True)


def test_validate_frame_rejects_an_empty_frame():
    with pytest.raises(ValueError, match="0 sample"):
        validate_frame(BaseEstimator(), _frame().iloc[:0], reset=True)


# ------------------------------------------------------------ through the estimators
@pytest.mark.parametrize("Estimator", [TorchMLPRegressor, TorchMLPClassifier])
@pytest.mark.parametrize("n_bins", [1, 0, -3, "many", 2.5])
def test_invalid_n_bins_is_rejected(Estimator, n_bins):
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=f"The 'n_bins' parameter of {Estimator.__name__}"):
        Estimator(n_bins=n_bins, max_iter=2, device="cpu").fit(X, np.arange(20) % 2)


def test_n_bins_sets_the_width_of_the_first_layer():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=200), rng.normal(size=200), rng.randint(0, 2, 200)])
    y = X[:, 0] + (X[:, 1] > 0)
    params = {"max_iter": 2, "device": "cpu", "random_state": 0}
    assert TorchMLPRegressor(**params).fit(X, y).module_[0].in_features == 3  # "auto": small
    binned = TorchMLPRegressor(n_bins=8, **params).fit(X, y)
    assert binned.module_[0].in_features == 3 + 2 * 8  # the binary column gets no bins
    assert np.isfinite(binned.predict(X)).all()


def test_resolve_n_bins_counts_features_only_when_auto_needs_them():
    def count():
        raise AssertionError("the features were counted")

    assert resolve_n_bins(None, 10**6, count) == 0
    assert resolve_n_bins(16, 10**6, count) == 16
    assert resolve_n_bins("auto", AUTO_BINS_MIN_SAMPLES - 1, count) == 0
    assert resolve_n_bins("auto", AUTO_BINS_MIN_SAMPLES, lambda: 3) == AUTO_BINS


# ------------------------------------------------------------ weighted quantiles
@pytest.mark.parametrize("seed", range(5))
def test_a_weight_is_a_repeated_row_in_the_quantiles(seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=17).round(1)  # ties too
    weight = rng.integers(0, 4, size=17)
    weight[0] = 1
    q = np.linspace(0, 1, 33)
    repeated = weighted_quantile(values.repeat(weight), q)
    np.testing.assert_array_equal(weighted_quantile(values, q, weight), repeated)
    np.testing.assert_array_equal(repeated, np.quantile(values.repeat(weight), q,
                                                        method="averaged_inverted_cdf"))


def test_weighted_encoders_fit_as_repeated_rows():
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(40, 3))
    weight = rng.integers(0, 3, size=40)
    for encoder in (WeightedRobustScaler(), PiecewiseLinearEncoder(n_bins=8)):
        weighted = encoder.fit(X, sample_weight=weight).transform(X)
        repeated = encoder.fit(X.repeat(weight, axis=0)).transform(X)
        np.testing.assert_array_equal(weighted, repeated)


def test_robust_scaler_has_the_median_and_survives_extreme_values():
    X = np.array([[1.0], [2.0], [4.0], [100.0]])
    scaler = WeightedRobustScaler().fit(X)
    assert scaler.center_.tolist() == [3.0] and scaler.scale_.tolist() == [52.0 - 1.5]
    huge = np.finfo(np.float64).max * np.array([[-1.0], [-0.5], [0.5], [1.0]])
    scaler = WeightedRobustScaler().fit(huge)
    assert np.isfinite(scaler.transform(huge)).all()
