"""Tables as users have them: missing values, dates, nullable and pyarrow dtypes, polars.

Each table is built here, shaped like a real one. Both estimators fit and
predict it with finite output, or raise one error that names the column.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline

import skorchless
from skorchless import TorchMLPClassifier, TorchMLPRegressor

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ESTIMATORS = [TorchMLPRegressor, TorchMLPClassifier]
FAST = {"max_iter": 60, "learning_rate_init": 0.01, "random_state": 0, "device": "cpu",
        "hidden_layer_sizes": (32,)}


def _target(Estimator, y):
    return y if Estimator is TorchMLPRegressor else np.where(y > np.median(y), "high", "low")


def _fit(Estimator, X, y, **params):
    return Estimator(**{**FAST, **params}).fit(X, _target(Estimator, y))


def _check_predictions(est, X):
    prediction = est.predict(X)
    assert len(prediction) == len(X)
    if isinstance(est, TorchMLPClassifier):
        assert np.isfinite(est.predict_proba(X)).all()
    else:
        assert np.isfinite(prediction).all()
    return prediction


def _with_missing(values, rng, fraction=0.2):
    values = pd.Series(values, dtype=object)
    values[rng.rand(len(values)) < fraction] = None
    return values


def _clinic(n=300, seed=0):
    """Patients: a lab value often not measured, a visit date, a ward, a flag."""
    rng = np.random.RandomState(seed)
    age = rng.uniform(20, 90, n)
    glucose = rng.normal(100, 20, n)
    glucose[rng.rand(n) < 0.25] = np.nan
    X = pd.DataFrame({
        "age": age,
        "glucose": glucose,
        "visits": pd.array(_with_missing(rng.randint(0, 10, n), rng), dtype="Int64"),
        "bmi": pd.array(_with_missing(rng.normal(25, 4, n), rng), dtype="Float64"),
        "smoker": pd.array(_with_missing(rng.rand(n) > 0.7, rng), dtype="boolean"),
        "ward": _with_missing(rng.choice(["A", "B", "C"], n), rng),
        "insurer": pd.array(_with_missing(rng.choice(["x", "y"], n), rng), dtype="string"),
        "seen": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.randint(0, 365 * 24, n),
                                                             unit="h"),
    })
    X.loc[rng.rand(n) < 0.1, "seen"] = pd.NaT
    y = age / 10 + np.nan_to_num(glucose - 100) / 20 + (X["ward"] == "A") * 2.0
    return X, np.array(y, dtype=float)


# ------------------------------------------------------------- missing values
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_clinical_table_with_every_kind_of_missing_value(Estimator):
    X, y = _clinic()
    est = _fit(Estimator, X, y)
    _check_predictions(est, X)
    kinds = est._inputs.kinds_
    assert kinds == {"age": "numeric", "glucose": "numeric", "visits": "numeric",
                     "bmi": "numeric", "smoker": "categorical", "ward": "categorical",
                     "insurer": "categorical", "seen": "datetime"}
    names = est._inputs.columns_.names_
    assert {"glucose__missing", "visits__missing", "bmi__missing",
            "seen__missing"} <= set(names)
    assert "age__missing" not in names
    assert list(est.feature_names_in_) == list(X.columns)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_missing_numbers_in_an_array(Estimator):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, 2.0, -1.0]
    X[rng.rand(200) < 0.2, 1] = np.nan
    est = _fit(Estimator, X, y)
    assert est.module_[0].in_features == 3 + 1  # one indicator: column 1
    _check_predictions(est, X)
    _check_predictions(est, np.full((2, 3), np.nan))


def test_a_value_missing_only_at_predict_time_is_the_training_median():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 2))
    reg = _fit(TorchMLPRegressor, X, X[:, 0] + X[:, 1], early_stopping=False)
    assert reg.module_[0].in_features == 2  # no indicator: nothing missing in training
    row = np.array([[0.3, np.nan]])
    median = np.array([[0.3, np.median(X[:, 1])]])
    np.testing.assert_allclose(reg.predict(row), reg.predict(median))


def test_the_fill_value_is_learned_on_the_training_rows_only():
    X, y = _clinic()
    X_val = X.iloc[:60].copy()
    X_val["glucose"] = 1e4  # far from the training rows: must not move the median
    reg = TorchMLPRegressor(**FAST).fit(X, y, X_val=X_val, y_val=y[:60])
    columns = reg._inputs.columns_
    glucose = columns.names_.index("glucose")
    assert columns.fill_[glucose] == pytest.approx(np.nanmedian(X["glucose"]))


def test_the_missing_indicator_learns_from_informative_missingness():
    # An unmeasured value means a different outcome: filling it alone cannot tell.
    rng = np.random.RandomState(0)
    n = 600
    X = pd.DataFrame({"dose": rng.uniform(0, 1, n)})
    missing = rng.rand(n) < 0.3
    y = np.where(missing, 3.0, X["dose"])
    X.loc[missing, "dose"] = np.nan
    train, test = slice(0, 450), slice(450, None)
    native = _fit(TorchMLPRegressor, X[train], y[train])
    filled = make_pipeline(SimpleImputer(strategy="median"),
                           TorchMLPRegressor(**FAST)).fit(X[train], y[train])
    native_r2 = r2_score(y[test], native.predict(X[test]))
    filled_r2 = r2_score(y[test], filled.predict(X[test]))
    # filled alone, the network can only learn a narrow spike at the fill value
    # (0.88 with 16 steps per epoch); with the indicator it is a step (1.00)
    assert native_r2 > 0.99 and filled_r2 < native_r2 - 0.05


def test_missing_targets_are_an_error():
    X, y = _clinic(n=40)
    y[3] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        TorchMLPRegressor(**FAST).fit(X, y)
    labels = pd.Series(["a", "b"] * 20, dtype="string")
    labels[3] = pd.NA
    with pytest.raises(ValueError, match=r"Input y contains NaN \(a missing label\) in row 3"):
        TorchMLPClassifier(**FAST).fit(X, labels)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_infinity_is_an_error_naming_the_column(Estimator):
    X, y = _clinic(n=40)
    X["bmi"] = X["bmi"].astype("Float64")
    X.loc[5, "bmi"] = np.inf
    with pytest.raises(ValueError, match=r"infinity in column 'bmi' \(row 5\)"):
        _fit(Estimator, X, y)


def test_nan_in_a_sparse_matrix_is_an_error_naming_the_column():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, np.nan]] * 10))
    with pytest.raises(ValueError, match="sparse matrix with NaN in column 1"):
        TorchMLPRegressor(**FAST).fit(X, np.arange(20.0))


# ----------------------------------------------------------------- column kinds
def _readings(n=400, seed=0):
    """A sensor's readings; the target is a smooth function of the reading."""
    rng = np.random.RandomState(seed)
    reading = rng.uniform(0, 100, n)
    return reading, 0.05 * reading + np.sin(reading / 15)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_numbers_in_an_object_column_are_numbers(Estimator):
    reading, y = _readings()
    as_objects = pd.DataFrame({"reading": pd.Series(reading, dtype=object)})
    as_text = pd.DataFrame({"reading": reading.round(6).astype(str)})
    train, test = slice(0, 300), slice(300, None)
    numbers = _fit(Estimator, as_objects[train], y[train], max_iter=150)
    assert numbers._inputs.kinds_ == {"reading": "numeric"}
    assert numbers.module_[0].in_features == 1
    if Estimator is TorchMLPRegressor:
        assert r2_score(y[test], numbers.predict(as_objects[test])) > 0.9
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the high-cardinality warning
            categories = _fit(Estimator, as_text[train], y[train], max_iter=150)
        # one-hot encoded, unique values can say nothing about new rows
        assert r2_score(y[test], categories.predict(as_text[test])) < 0.2
    else:
        assert numbers.score(as_objects[test], _target(Estimator, y)[test]) > 0.9


def test_text_in_a_numeric_column_at_predict_time_names_the_column():
    reading, y = _readings(n=60)
    X = pd.DataFrame({"reading": pd.Series(reading, dtype=object)})
    reg = _fit(TorchMLPRegressor, X, y)
    new = X.iloc[:3].copy()
    new["reading"] = ["12.5", "n/a", None]
    with pytest.raises(ValueError, match=r"Column 'reading' holds numbers.*'n/a' in row 1"):
        reg.predict(new)
    new["reading"] = ["12.5", "7", None]  # numbers as text are read as numbers
    assert np.isfinite(reg.predict(new)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_nullable_and_pyarrow_dtypes_give_the_numpy_results(Estimator):
    X, y = _clinic()
    X = X.drop(columns=["seen"])
    nullable = X.convert_dtypes()
    arrow = X.convert_dtypes(dtype_backend="pyarrow")
    assert "int64[pyarrow]" in map(str, arrow.dtypes)
    expected = _fit(Estimator, X, y).predict(X)
    for frame in (nullable, arrow):
        est = _fit(Estimator, frame, y)
        np.testing.assert_array_equal(_check_predictions(est, frame), expected)


def test_bool_columns_are_categories_with_missing_as_their_own():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"flag": pd.array(_with_missing(rng.rand(100) > 0.5, rng),
                                       dtype="boolean")})
    reg = _fit(TorchMLPRegressor, X, rng.normal(size=100))
    assert reg._inputs.kinds_ == {"flag": "categorical"}
    assert reg.module_[0].in_features == 3  # False, True, missing


def test_an_identifier_column_draws_one_warning():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=300),
                      "order_id": [f"A{i:05d}" for i in range(300)],
                      "comment": [f"note {i}" for i in rng.permutation(300)]})
    with pytest.warns(UserWarning, match=r"'order_id' \(270 distinct values in 270 rows\)"
                                         r".*'comment'") as record:
        _fit(TorchMLPRegressor, X, X["x"].to_numpy())
    assert len([w for w in record if "identifiers" in str(w.message)]) == 1


# --------------------------------------------------------------------- dates
def _shop(n=800, tz=None, seed=0):
    """Hourly sales: a trend and a daily cycle, with the timestamp as the only feature."""
    rng = np.random.RandomState(seed)
    when = pd.Timestamp("2024-03-01", tz=tz) + pd.to_timedelta(
        np.sort(rng.randint(0, 90 * 24, n)), unit="h")
    X = pd.DataFrame({"when": when})
    hour = X["when"].dt.hour.to_numpy()
    y = np.sin(2 * np.pi * hour / 24) * 2 + np.arange(n) / n
    return X, y


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("tz", [None, "America/New_York"])
def test_dates_are_learned_as_elapsed_time_and_cycles(Estimator, tz):
    X, y = _shop(tz=tz)
    est = _fit(Estimator, X, y, max_iter=150)
    assert est._inputs.kinds_ == {"when": "datetime"}
    assert est._inputs.columns_.dates_["when"].parts_ == [
        "time_of_day", "day_of_week", "day_of_year"]
    _check_predictions(est, X)
    # the daily cycle, in the local clock, is what the target follows
    assert est.score(X, _target(Estimator, y)) > 0.85


def test_aware_dates_are_read_in_the_training_timezone():
    X, y = _shop(tz="Europe/Paris")
    reg = _fit(TorchMLPRegressor, X, y)
    in_utc = X.assign(when=X["when"].dt.tz_convert("UTC"))
    np.testing.assert_allclose(reg.predict(in_utc), reg.predict(X))


def test_naive_dates_where_fit_had_aware_ones_name_the_column():
    X, y = _shop(n=100, tz="UTC")
    reg = _fit(TorchMLPRegressor, X, y)
    with pytest.raises(ValueError, match=r"Column 'when' held dates in UTC.*tz_localize"):
        reg.predict(X.assign(when=X["when"].dt.tz_localize(None)))


def test_dates_as_text_at_predict_time_are_parsed_or_named():
    X, y = _shop(n=100)
    reg = _fit(TorchMLPRegressor, X, y)
    as_text = X.assign(when=X["when"].dt.strftime("%Y-%m-%d %H:%M:%S"))
    np.testing.assert_allclose(reg.predict(as_text), reg.predict(X))
    as_text.loc[2, "when"] = "soon"
    with pytest.raises(ValueError, match=r"Column 'when' holds dates, but 'soon' in row 2"):
        reg.predict(as_text)


@pytest.mark.parametrize("numbers", ["int64", "float64", "object"])
def test_numbers_in_a_date_column_at_predict_time_are_named(numbers):
    # pandas would read them as nanoseconds since 1970: a silent wrong answer
    X, y = _shop(n=100)
    reg = _fit(TorchMLPRegressor, X, y)
    counted = X.assign(when=np.arange(len(X)).astype(numbers))
    with pytest.raises(ValueError, match=r"Column 'when' holds dates, but 0(\.0)? in row 0 is a "
                                         r"number.*pd.to_datetime\(column, unit=...\)"):
        reg.predict(counted)


def test_date_objects_with_different_offsets_are_dates():
    import datetime

    offsets = [datetime.timezone(datetime.timedelta(hours=h)) for h in (0, 1, 2)]
    days = [datetime.datetime(2024, 1, 1, tzinfo=offsets[i % 3]) + datetime.timedelta(days=i)
            for i in range(60)]
    X = pd.DataFrame({"when": pd.Series(days, dtype=object), "tags": [["a"]] * 60})
    reg = _fit(TorchMLPRegressor, X, np.arange(60.0))
    assert reg._inputs.kinds_ == {"when": "datetime", "tags": "categorical"}
    assert reg._inputs.columns_.dates_["when"].timezone_ == "UTC"
    _check_predictions(reg, X)


def test_a_date_only_column_has_no_time_of_day():
    dates = pd.DataFrame({"day": pd.date_range("2020-01-01", periods=500, freq="D")})
    reg = _fit(TorchMLPRegressor, dates, np.arange(500.0))
    assert reg._inputs.columns_.dates_["day"].parts_ == ["day_of_week", "day_of_year"]
    assert reg.module_[0].in_features == 1 + 2 * 2


def test_a_frame_with_dates_is_required_at_predict_time():
    X, y = _shop(n=100)
    reg = _fit(TorchMLPRegressor, X, y)
    with pytest.raises(TypeError, match=r"datetime columns \['when'\]; X must be a DataFrame"):
        reg.predict(np.zeros((2, 1)))


# ---------------------------------------------------------- other frame libraries
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_polars_and_pyarrow_tables_predict_as_pandas(Estimator):
    X, y = _clinic()
    X["seen"] = X["seen"].dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    expected = _fit(Estimator, X, y).predict(X)
    for table in (pl.from_pandas(X), pa.Table.from_pandas(X, preserve_index=False)):
        est = _fit(Estimator, table, y)
        assert list(est.feature_names_in_) == list(X.columns)
        np.testing.assert_array_equal(est.predict(table), expected)
        np.testing.assert_array_equal(est.predict(X), expected)


def test_polars_targets_and_lazy_frames():
    X, y = _clinic(n=60)
    reg = _fit(TorchMLPRegressor, pl.from_pandas(X), pl.Series("y", y))
    assert np.isfinite(reg.predict(X)).all()
    with pytest.raises(TypeError, match=r"X is a lazy LazyFrame; .*X\.collect\(\)"):
        reg.predict(pl.from_pandas(X).lazy())


# ------------------------------------------------------------------- persistence
def test_a_fitted_table_model_survives_pickle_and_the_safe_format(tmp_path):
    X, y = _clinic()
    clf = _fit(TorchMLPClassifier, X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    skorchless.save(clf, tmp_path / "model")
    loaded = skorchless.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)


def test_the_fill_value_is_the_weighted_median():
    X = np.array([[1.0], [2.0], [10.0], [np.nan]] * 10)
    weight = np.array([1.0, 1.0, 5.0, 1.0] * 10)
    reg = _fit(TorchMLPRegressor, X, np.arange(40.0), early_stopping=False)
    assert reg._inputs.columns_.fill_.tolist() == [2.0]
    reg.fit(X, np.arange(40.0), sample_weight=weight)
    assert reg._inputs.columns_.fill_.tolist() == [10.0]
