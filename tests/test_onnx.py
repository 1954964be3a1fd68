"""export_onnx: onnxruntime predicts what predict / predict_proba predict."""

import copy
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris, make_multilabel_classification
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import QuantileTransformer

from skorchless import TorchMLPClassifier, TorchMLPRegressor, export_onnx

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden_layer_sizes": (16, 8), "max_iter": 25, "learning_rate_init": 0.01,
        "random_state": 0, "device": "cpu"}
RTOL = 1e-5


def _export(estimator, tmp_path, input_dtype="float32"):
    """Export, and return a function running the model on X: {output name: array}."""
    path = export_onnx(estimator, tmp_path / "model.onnx", input_dtype=input_dtype)
    session = ort.InferenceSession(path)
    names = [output.name for output in session.get_outputs()]
    return lambda X: dict(zip(names, session.run(None, {"X": X}), strict=True))


def _run(estimator, X, tmp_path, input_dtype="float32"):
    return _export(estimator, tmp_path, input_dtype)(X)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    X = X * 100 + 50  # inputs far from unit scale, so the scaling matters
    X[0, 0] = 1e6  # an outlier that smooth clipping squashes
    return X, y


@pytest.mark.parametrize(
    "params, input_dtype",
    [
        ({"input_scaling": "robust"}, "float32"),
        ({"input_scaling": "standard", "loss": "poisson"}, "float64"),
        ({"input_scaling": None, "loss": "huber"}, "float64"),
    ],
)
def test_regressor_matches_predict(diabetes, tmp_path, params, input_dtype):
    X, y = diabetes
    if params["input_scaling"] is None:
        X = load_diabetes().data  # unscaled inputs must be of unit scale already
    reg = TorchMLPRegressor(**FAST, **params).fit(X, y)
    X = X.astype(input_dtype)
    run = _export(reg, tmp_path, input_dtype)
    outputs = run(X)
    assert list(outputs) == ["prediction"]
    assert outputs["prediction"].dtype == np.float64
    np.testing.assert_allclose(outputs["prediction"], reg.predict(X), rtol=RTOL)
    # any number of rows: the batch axis is dynamic
    np.testing.assert_allclose(run(X[:1])["prediction"], reg.predict(X[:1]), rtol=RTOL)


def test_quantile_bins_are_exported(tmp_path):
    # n_bins="auto" turns on the piecewise-linear encoding from 2,500 rows.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    reg = TorchMLPRegressor(**FAST).fit(X, y)
    assert linear_in_features(reg) > X.shape[1]  # the bins widened the input layer
    outputs = _run(reg, X[:200], tmp_path, "float64")
    np.testing.assert_allclose(outputs["prediction"], reg.predict(X[:200]), rtol=RTOL,
                               atol=1e-5)  # the bar: 1e-5


def linear_in_features(estimator):
    return next(m for m in estimator.module_.modules() if hasattr(m, "in_features")).in_features


def test_multi_output_regressor(diabetes, tmp_path):
    X, y = diabetes
    Y = np.column_stack([y, np.sqrt(y)])
    reg = TorchMLPRegressor(**FAST).fit(X, Y)
    prediction = _run(reg, X.astype(np.float32), tmp_path)["prediction"]
    assert prediction.shape == (len(X), 2)
    np.testing.assert_allclose(prediction, reg.predict(X.astype(np.float32)), rtol=RTOL)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_matches_predict_proba(tmp_path, n_classes):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    if n_classes == 2:
        names = np.where(names == "setosa", "setosa", "other")
    clf = TorchMLPClassifier(**FAST).fit(X, names)
    X = X.astype(np.float32)
    outputs = _run(clf, X, tmp_path)
    assert list(outputs) == ["class_index", "probabilities"]
    assert outputs["probabilities"].shape == (len(X), n_classes)
    np.testing.assert_allclose(outputs["probabilities"], clf.predict_proba(X),
                               rtol=RTOL, atol=1e-7)
    np.testing.assert_array_equal(clf.classes_[outputs["class_index"]], clf.predict(X))


def test_multilabel_classifier(tmp_path):
    X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    clf = TorchMLPClassifier(**FAST).fit(X, Y)
    X = X.astype(np.float32)
    outputs = _run(clf, X, tmp_path)
    assert list(outputs) == ["indicator", "probabilities"]
    np.testing.assert_allclose(outputs["probabilities"], clf.predict_proba(X),
                               rtol=RTOL, atol=1e-7)
    np.testing.assert_array_equal(outputs["indicator"], clf.predict(X))


@pytest.fixture(scope="module")
def small_regressor(diabetes):
    return TorchMLPRegressor(**{**FAST, "max_iter": 2}).fit(*diabetes)


def test_unknown_input_preprocessing_is_refused(small_regressor, tmp_path):
    reg = copy.deepcopy(small_regressor)
    quantiles = QuantileTransformer(n_quantiles=10).fit(np.arange(20.0).reshape(-1, 1))
    reg._inputs.transformer_ = quantiles
    with pytest.raises(NotImplementedError, match="cannot translate.*QuantileTransformer"):
        export_onnx(reg, tmp_path / "model.onnx")


def test_categorical_encoding_is_refused(diabetes, tmp_path):
    X, y = diabetes
    frame = pd.DataFrame(X[:, :3], columns=["age", "bmi", "bp"])
    frame["smoker"] = np.where(X[:, 3] > np.median(X[:, 3]), "yes", "no")
    reg = TorchMLPRegressor(**{**FAST, "max_iter": 2}).fit(frame, y)
    with pytest.raises(NotImplementedError, match=r"categorical columns \(smoker\)"):
        export_onnx(reg, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize("params", [{"input_scaling": "robust", "n_bins": 8},
                                    {"input_scaling": None, "n_bins": None}])
def test_missing_values_are_filled_and_indicated_as_in_predict(diabetes, tmp_path, params):
    X, y = diabetes
    X = X.copy()
    rng = np.random.RandomState(0)
    X[rng.rand(len(X)) < 0.2, 2] = np.nan  # an indicator for column 2
    reg = TorchMLPRegressor(**FAST, **params).fit(X, y)
    assert reg._inputs.columns_.indicated_ == [2]
    new = X[:20].copy()
    new[:5, 0] = np.nan  # missing where training had no missing value: filled only
    outputs = _run(reg, new, tmp_path, "float64")
    np.testing.assert_allclose(outputs["prediction"], reg.predict(new), rtol=RTOL)


def test_a_frame_of_nullable_numbers_exports(diabetes, tmp_path):
    X, y = diabetes
    frame = pd.DataFrame(X[:, :3], columns=["age", "bmi", "bp"]).astype("Float64")
    frame.loc[:40, "bmi"] = pd.NA
    clf = TorchMLPClassifier(**FAST).fit(frame, y > np.median(y))
    matrix = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    outputs = _run(clf, matrix, tmp_path, "float64")
    np.testing.assert_allclose(outputs["probabilities"], clf.predict_proba(frame), rtol=RTOL)


def test_datetime_encoding_is_refused(diabetes, tmp_path):
    X, y = diabetes
    frame = pd.DataFrame({"age": X[:, 0],
                          "visit": pd.date_range("2024-01-01", periods=len(X), freq="D")})
    reg = TorchMLPRegressor(**{**FAST, "max_iter": 2}).fit(frame, y)
    with pytest.raises(NotImplementedError, match=r"datetime columns \(visit\).*days since"):
        export_onnx(reg, tmp_path / "model.onnx")


def test_bad_arguments(small_regressor, tmp_path):
    with pytest.raises(ValueError, match="'input_dtype' parameter.*'float16'"):
        export_onnx(small_regressor, tmp_path / "m.onnx", input_dtype="float16")
    with pytest.raises(NotFittedError):
        export_onnx(TorchMLPRegressor(), tmp_path / "m.onnx")


def test_clear_import_error_without_the_exporter(small_regressor, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if not installed
    with pytest.raises(ImportError, match=r"requires onnxscript.*skorchless\[onnx\]"):
        export_onnx(small_regressor, tmp_path / "m.onnx")


def test_a_fitted_pipeline_exports_whole(tmp_path):
    import warnings

    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler


    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(200, 3)) * [1.0, 10.0, 100.0]) + 1
    y = X.sum(1)
    X[::9, 1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe = make_pipeline(SimpleImputer(), FunctionTransformer(np.log1p), MinMaxScaler(),
                             StandardScaler(), TorchMLPRegressor(max_iter=5, random_state=0,
                                                                 device="cpu")).fit(X, y)
    path = export_onnx(pipe, tmp_path / "pipe.onnx", input_dtype="float64")
    (prediction,) = ort.InferenceSession(path).run(None, {"X": X})
    np.testing.assert_allclose(prediction, pipe.predict(X), rtol=1e-5, atol=1e-4)
