"""Data entry: devices, float32 tensors, the validation split, and bad input.

Every kind of bad input gets a scikit-learn style ValueError/TypeError that
names the problem, from ``fit`` as from ``predict``; never a torch error.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skorchless import TorchMLPClassifier, TorchMLPRegressor
from skorchless._inputs import split_validation
from skorchless._tensors import resolve_device, to_tensor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ESTIMATORS = [TorchMLPRegressor, TorchMLPClassifier]
CPU = torch.device("cpu")


# --------------------------------------------------------------- resolve_device
def test_resolve_device_auto_picks_cuda_only_when_present():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_resolve_device_cpu(device):
    assert resolve_device(device) == CPU


@pytest.mark.parametrize("device", ["gpu", "cuda:-1x", 1.5, None])
def test_resolve_device_rejects_what_is_not_a_device(device):
    with pytest.raises(ValueError, match=r"'device' parameter must be .* Got"):
        resolve_device(device)


# -------------------------------------------------------------------- to_tensor
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int8,
                                   np.uint8, np.uint16, np.uint64, bool, ">f8", "<i4"])
@pytest.mark.parametrize("writeable", [True, False])
def test_to_tensor_casts_any_numeric_dtype_to_float32(dtype, writeable):
    array = (np.arange(6).reshape(2, 3) * 1.37).astype(dtype)
    array.flags.writeable = writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "non-writable array" warning from torch
        tensor = to_tensor(array, CPU)
    assert tensor.dtype == torch.float32 and tensor.is_contiguous()
    np.testing.assert_array_equal(tensor.numpy(), array.astype(np.float32))


def test_to_tensor_rounds_as_numpy_does():
    array = np.random.default_rng(0).standard_normal((1000, 7)) * 1e3
    np.testing.assert_array_equal(to_tensor(array, CPU).numpy(), array.astype(np.float32))


def test_to_tensor_keeps_integer_targets_integer():
    tensor = to_tensor(np.array([0, 2, 1]), CPU, dtype=torch.int64, name="y")
    assert tensor.dtype == torch.int64
    assert tensor.tolist() == [0, 2, 1]


def test_to_tensor_accepts_non_contiguous_input():
    array = np.arange(12.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(to_tensor(array, CPU).numpy(), array)


def test_to_tensor_rejects_values_beyond_float32():
    with pytest.raises(ValueError, match=r"y contains values larger than float32 .*1e\+39"):
        to_tensor(np.array([1.0, 1e39]), CPU, name="y")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_to_tensor_rejects_non_finite_values(bad):
    with pytest.raises(ValueError, match="X holds values too extreme to scale"):
        to_tensor(np.array([[1.0, bad]]), CPU)


# ------------------------------------------------------------- split_validation
def test_to_tensor_turns_device_out_of_memory_into_a_clear_error(monkeypatch):
    to = torch.Tensor.to

    def out_of_memory(self, *args, **kwargs):
        if isinstance(args[0], torch.device) and args[0].type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return to(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", out_of_memory)
    with pytest.raises(MemoryError, match=r"X \(1000 x 50 values, 0.00 GB as float32\) "
                       r"does not fit in the free memory of device 'cuda:0'.*partial_fit"):
        to_tensor(np.zeros((1000, 50)), torch.device("cuda", 0), name="X")


def test_predict_works_in_chunks_from_host_memory(fast):
    # predict converts X on the host and moves one chunk at a time to the device.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10_000, 3))
    reg = TorchMLPRegressor(**fast).fit(X[:200], X[:200, 0])
    whole = reg.predict(X)
    np.testing.assert_array_equal(whole[:5000], reg.predict(X[:5000]))
    np.testing.assert_array_equal(whole[5000:], reg.predict(X[5000:]))


def test_split_is_a_seeded_partition():
    y = np.arange(50) % 3
    train, valid = split_validation(y, 0.2, stratify=False, random_state=1)
    assert len(valid) == 10 and len(train) == 40
    assert sorted(np.concatenate([train, valid])) == list(range(50))
    again = split_validation(y, 0.2, stratify=False, random_state=1)
    np.testing.assert_array_equal(valid, again[1])
    other = split_validation(y, 0.2, stratify=False, random_state=2)
    assert not np.array_equal(valid, other[1])


def test_split_rounds_the_validation_size_up():
    train, valid = split_validation(np.zeros(11), 0.1, stratify=False, random_state=0)
    assert (len(train), len(valid)) == (9, 2)


def test_stratified_split_keeps_class_proportions():
    y = np.array([0] * 80 + [1] * 20)
    for seed in range(5):
        _, valid = split_validation(y, 0.2, stratify=True, random_state=seed)
        assert np.bincount(y[valid]).tolist() == [16, 4]


def test_stratification_falls_back_when_a_class_has_one_member():
    y = np.array([0] * 19 + [1])
    train, valid = split_validation(y, 0.2, stratify=True, random_state=0)
    assert len(valid) == 4 and len(train) == 16


@pytest.mark.parametrize("n, fraction", [(1, 0.1), (2, 0.1), (2, 0.9), (10, 0.99)])
def test_split_that_leaves_too_few_rows_on_a_side_is_refused(n, fraction):
    with pytest.raises(ValueError, match="The validation set is too small"):
        split_validation(np.zeros(n), fraction, stratify=False, random_state=0)


def test_early_stopping_true_on_one_row_is_a_clear_error(fast):
    with pytest.raises(ValueError, match="The validation set is too small.*validation_fraction"
                                         "=0.1 of 1 samples"):
        TorchMLPRegressor(**fast, early_stopping=True).fit([[1.0]], [1.0])


# -------------------------------------------------------------------- bad input
def _fit(Estimator, X, y, fast):
    return Estimator(**fast).fit(X, y)


def _labels(Estimator, n):
    return np.arange(n) % 2 if Estimator is TorchMLPClassifier else np.linspace(0, 1, n)


def _with(X, row, col, value):
    X = np.array(X, dtype=float)
    X[row, col] = value
    return X


BAD_X = [
    ("inf", lambda X: _with(X, 1, 1, np.inf), ValueError, "Input X contains infinity"),
    ("-inf", lambda X: _with(X, 1, 1, -np.inf), ValueError, "Input X contains infinity"),
    ("1-D", lambda X: X[:, 0], ValueError, "Expected 2D array, got 1D array"),
    ("3-D", lambda X: X[:, :, None], ValueError, "Found array with dim 3"),
    ("strings", lambda X: np.full(X.shape, "a"), ValueError, "could not convert string"),
    ("objects", lambda X: np.full(X.shape, object()), TypeError, "float"),
    ("complex", lambda X: X + 1j, ValueError, "Complex data not supported"),
    ("no features", lambda X: X[:, :0], ValueError, r"0 feature\(s\)"),
]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("name, make_X, error, message", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X_in_fit(Estimator, name, make_X, error, message, fast):
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(error, match=message):
        _fit(Estimator, make_X(X), _labels(Estimator, 20), fast)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("name, make_X, error, message", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X_in_predict(Estimator, name, make_X, error, message, fast):
    X = np.random.RandomState(0).normal(size=(20, 3))
    est = _fit(Estimator, X, _labels(Estimator, 20), fast)
    methods = [est.predict] + ([est.predict_proba] if hasattr(est, "predict_proba") else [])
    for method in methods:
        with pytest.raises(error, match=message):
            method(make_X(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_empty_X(Estimator, fast):
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        _fit(Estimator, np.empty((0, 3)), _labels(Estimator, 0), fast)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_y_length_mismatch(Estimator, fast):
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[20, 19\]"):
        _fit(Estimator, X, _labels(Estimator, 19), fast)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad, message", [(np.nan, "Input y contains NaN"),
                                          (np.inf, "Input y contains infinity")])
def test_non_finite_y(Estimator, bad, message, fast):
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = _labels(Estimator, 20).astype(float)
    y[3] = bad
    with pytest.raises(ValueError, match=message):
        _fit(Estimator, X, y, fast)


def test_regressor_rejects_non_numeric_y(fast):
    X = np.random.RandomState(0).normal(size=(4, 3))
    with pytest.raises(ValueError, match="could not convert string to float"):
        _fit(TorchMLPRegressor, X, ["a", "b", "c", "d"], fast)


def test_regressor_rejects_y_beyond_float32(fast):
    X = np.random.RandomState(0).normal(size=(4, 3))
    with pytest.raises(ValueError, match=r"y contains values larger than float32 .*1e\+300"):
        _fit(TorchMLPRegressor, X, [0.0, 1.0, 2.0, 1e300], fast)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_wrong_number_of_features_at_predict(Estimator, fast):
    X = np.random.RandomState(0).normal(size=(20, 3))
    est = _fit(Estimator, X, _labels(Estimator, 20), fast)
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3 features"):
        est.predict(X[:, :2])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_before_fit(Estimator):
    X = np.zeros((3, 2))
    methods = ["predict", "predict_proba"] if Estimator is TorchMLPClassifier else ["predict"]
    for method in methods:
        with pytest.raises(NotFittedError, match=f"This {Estimator.__name__} instance is "
                                                 "not fitted yet"):
            getattr(Estimator(), method)(X)
    with pytest.raises(NotFittedError):
        _ = Estimator().coefs_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("weights, message", [
    (-np.ones(20), "Negative values in data passed to `sample_weight`"),
    (np.zeros(20), "must contain at least one non-zero|must not be all zero"),
    (np.ones(19), r"sample_weight.shape == \(19,\), expected \(20,\)"),
    (np.full(20, np.nan), "Input sample_weight contains NaN"),
])
def test_bad_sample_weight(Estimator, weights, message, fast):
    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=message):
        Estimator(**fast).fit(X, _labels(Estimator, 20), sample_weight=weights)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pandas_string_column_is_a_clear_error(Estimator, fast):
    # A string column is encoded when the model is fitted on it (see
    # test_categorical.py), not at predict after a fit on numbers only.
    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0)})
    est = _fit(Estimator, X, _labels(Estimator, 20), fast)
    with pytest.raises(ValueError, match="could not convert string to float: '[xy]'"):
        est.predict(X.assign(b=["x", "y"] * 10))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pandas_missing_values_are_filled(Estimator, fast):
    # missing values are learned from (tests/test_tables.py), not an error
    X = pd.DataFrame({"a": pd.array([1, None] * 10, dtype="Int64"), "b": np.ones(20)})
    est = _fit(Estimator, X, _labels(Estimator, 20), fast)
    assert len(est.predict(X)) == 20


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_extreme_magnitudes_give_finite_predictions_or_a_clear_error(Estimator, fast):
    X = np.random.RandomState(0).normal(size=(20, 3)) * 1e300
    est = _fit(Estimator, X, _labels(Estimator, 20), fast)
    output = est.predict_proba(X) if Estimator is TorchMLPClassifier else est.predict(X)
    assert np.isfinite(output).all()
    unscaled = Estimator(**fast, input_scaling=None)
    with pytest.raises(ValueError, match="X contains values larger than float32"):
        unscaled.fit(X, _labels(Estimator, 20))


def test_far_outlier_is_clipped(fast):
    X = np.array([0.0] * 8 + [1e-10] * 8)[:, None]
    reg = TorchMLPRegressor(**fast).fit(X, np.arange(16.0))
    far = reg.predict([[1e300]])
    assert np.isfinite(far).all()
    np.testing.assert_allclose(far, reg.predict([[1e250]]))  # both clipped to the bound


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_any_numeric_dtype_and_lists_are_accepted(Estimator, fast):
    X = np.random.RandomState(0).normal(size=(20, 3))
    y = _labels(Estimator, 20)
    reference = _fit(Estimator, X.astype(np.float32), y, fast).predict(X.astype(np.float32))
    for data in (X.astype(np.float32).astype(np.float64), X.astype(np.float32).tolist()):
        np.testing.assert_allclose(_fit(Estimator, data, y, fast).predict(data), reference,
                                   rtol=1e-6, atol=1e-6)
    for dtype in (np.int8, np.int64, np.uint16, bool, np.float16):
        est = _fit(Estimator, X.astype(dtype), y, fast)
        assert est.predict(X.astype(dtype)).shape == (20,)
