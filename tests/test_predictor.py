"""predict's prepared path (``_predictor``) gives what the general path gives.

The general path (validation, the fitted transformers, the network converted
per call) is the reference: with the predictor switched off (``Predictor.build``
returning None) every estimator predicts the general way. Compared on small
batches (numpy) and large ones (torch, chunks, the bins as a gather), for the
encodings and networks the estimators make; the checks of bad input keep
their messages; a predictor never outlives the weights it copied.
"""

import gc
import pickle
import warnings
import weakref

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError

import skorchless
from skorchless import TorchMLPClassifier, TorchMLPRegressor
from skorchless._predictor import (
    _PREDICTORS,
    CHUNK_ROWS,
    NUMPY_ROWS,
    Predictor,
    current_predictor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
SMALL = {"hidden_layer_sizes": (16, 8), "max_iter": 3, "device": "cpu", "random_state": 0,
         "n_bins": 8}
#: Batch sizes: one row, the largest numpy batch, torch with a short last chunk.
SIZES = [1, 3, NUMPY_ROWS, NUMPY_ROWS + 1, CHUNK_ROWS + 5]


def _data(n_rows=CHUNK_ROWS + 200, n_features=5, missing=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features)) * [1, 10, 0.1, 1, 1][:n_features]
    X[:, -1] = rng.integers(0, 2, n_rows)  # a binary column: no bins
    y = np.sin(X[:, 0]) + X[:, 1] / 10 + X[:, 2] * 5
    if missing:
        X[rng.random(X.shape) < 0.1] = np.nan
    return X, y


def _general(monkeypatch, est, method, X):
    with monkeypatch.context() as patch:
        patch.setattr(Predictor, "build", classmethod(lambda cls, estimator: None))
        patch.setitem(_PREDICTORS, est, None)
        return getattr(est, method)(X)


def _assert_same(monkeypatch, est, method, X, rtol=1e-12):
    expected = _general(monkeypatch, est, method, X)
    got = getattr(est, method)(X)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
    return got


@pytest.mark.parametrize("params", [
    {},                                                    # robust scaling, clip, bins
    {"input_scaling": "standard"},
    {"input_scaling": None},
    {"n_bins": None},
    {"input_scaling": None, "n_bins": None},
    {"activation": "tanh", "hidden_layer_sizes": (8,)},
    {"activation": "gelu"},                                # torch at every size
    {"activation": "logistic", "dropout": 0.2},
], ids=str)
def test_the_regressor_predicts_as_the_general_path(monkeypatch, params):
    X, y = _data()
    reg = TorchMLPRegressor(**{**SMALL, **params}).fit(X, y)
    for n_rows in SIZES:
        _assert_same(monkeypatch, reg, "predict", X[:n_rows])
    predictor = current_predictor(reg)
    assert isinstance(predictor, Predictor)
    reg.predict(X[:1])
    assert current_predictor(reg) is predictor  # kept while the weights stand


def test_blocks_and_chunks_of_other_sizes_predict_as_the_general_path(monkeypatch):
    X, y = _data(missing=True)
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    frame, y_frame = _frame()
    clf = TorchMLPClassifier(**SMALL).fit(frame, y_frame > 0)
    monkeypatch.setattr("skorchless._predictor.CHUNK_ROWS", 512)
    monkeypatch.setattr("skorchless._engine.inference.BLOCK_ROWS", 1500)
    _assert_same(monkeypatch, reg, "predict", X)  # blocks of 1500, 1500, 1300 rows
    _assert_same(monkeypatch, clf, "predict_proba", frame)


@pytest.mark.parametrize("missing_in_fit", [True, False])
def test_missing_values_are_filled_and_indicated_as_in_the_general_path(
        monkeypatch, missing_in_fit):
    X, y = _data(missing=missing_in_fit)
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    X_new, _ = _data(missing=True, seed=1)
    for n_rows in SIZES:
        _assert_same(monkeypatch, reg, "predict", X_new[:n_rows])
    X_new[0] = np.nan  # a row of nothing but missing values
    _assert_same(monkeypatch, reg, "predict", X_new[:1])


def test_values_that_scale_to_infinity_are_clipped_as_in_the_general_path(monkeypatch):
    X, y = _data()
    X[:, 2] = np.round(X[:, 2], 1) * 1e-300  # a tiny inter-quartile range
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    X_new = X.copy()
    X_new[::7, 2] = 1e308  # finite, but infinite once divided by the range
    X_new[::11, 2] = -1e308
    for n_rows in SIZES:
        _assert_same(monkeypatch, reg, "predict", X_new[:n_rows])


@pytest.mark.parametrize("loss", ["poisson", "huber"])
def test_other_losses_and_several_outputs_predict_as_the_general_path(monkeypatch, loss):
    X, y = _data()
    Y = np.column_stack([np.exp(y / 4), 1 + np.abs(y)])
    reg = TorchMLPRegressor(loss=loss, **SMALL).fit(X, Y)
    for n_rows in SIZES:
        _assert_same(monkeypatch, reg, "predict", X[:n_rows])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_classifier_predicts_as_the_general_path(monkeypatch, n_classes):
    X, y = make_classification(n_samples=CHUNK_ROWS + 100, n_features=6, n_informative=4,
                               n_classes=n_classes, random_state=0)
    clf = TorchMLPClassifier(early_stopping=True, **SMALL).fit(X, np.array(["a", "b", "c"])[y])
    for n_rows in SIZES:
        _assert_same(monkeypatch, clf, "predict_proba", X[:n_rows])
        _assert_same(monkeypatch, clf, "predict_log_proba", X[:n_rows])
        np.testing.assert_array_equal(clf.predict(X[:n_rows]),
                                      _general(monkeypatch, clf, "predict", X[:n_rows]))


def test_a_multilabel_classifier_predicts_as_the_general_path(monkeypatch):
    X, y = _data()
    Y = np.column_stack([y > 0, X[:, 0] > 0]).astype(int)
    clf = TorchMLPClassifier(**SMALL).fit(X, Y)
    for n_rows in SIZES:
        _assert_same(monkeypatch, clf, "predict_proba", X[:n_rows])


def test_numbers_of_other_dtypes_and_layouts_predict_as_float64(monkeypatch):
    X, y = _data()
    X[:, :3] = np.round(X[:, :3])
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    for X_new in (X.astype(np.int64), X.astype(bool), np.asfortranarray(X), X[::-1],
                  X.astype(np.float32), torch.as_tensor(X)):
        _assert_same(monkeypatch, reg, "predict", X_new[:NUMPY_ROWS + 7])
        _assert_same(monkeypatch, reg, "predict", X_new[:2])


def test_a_frame_of_numbers_predicts_as_the_general_path(monkeypatch):
    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["x4"] = frame["x4"].astype(int)
    reg = TorchMLPRegressor(**SMALL).fit(frame, y)
    for n_rows in SIZES:
        _assert_same(monkeypatch, reg, "predict", frame[:n_rows])
    assert isinstance(current_predictor(reg), Predictor)
    pl = pytest.importorskip("polars")
    _assert_same(monkeypatch, reg, "predict", pl.from_pandas(frame[:3]))
    assert current_predictor(reg).rows(frame[:1]) is not None
    # other columns, or the same in another order: the general path's checks
    assert current_predictor(reg).rows(frame[frame.columns[::-1]]) is None
    with pytest.raises(ValueError, match="The feature names should match"):
        reg.predict(frame[frame.columns[::-1]][:1])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        reg.predict(X[:1])


def _frame(n_rows=CHUNK_ROWS + 200, seed=0, missing=True):
    # numbers (float, int), and categories of every dtype the plan reads
    rng = np.random.default_rng(seed)
    X, y = _data(n_rows, seed=seed)
    frame = pd.DataFrame({"a": X[:, 0], "b": np.round(X[:, 1]).astype(int), "c": X[:, 2]})
    frame["colour"] = rng.choice(np.array(["red", "green", "blue", "grey"], dtype=object),
                                 n_rows, p=[0.5, 0.3, 0.15, 0.05])
    frame["size"] = pd.Categorical(rng.choice(["S", "M", "L"], n_rows), categories=["S", "M", "L"])
    frame["code"] = pd.Categorical(rng.integers(1, 4, n_rows))  # categories that are numbers
    frame["flag"] = rng.random(n_rows) > 0.5
    # many rare values: the encoder's column for infrequent categories
    frame["town"] = np.array([f"t{i}" for i in rng.zipf(1.5, n_rows) % 200], dtype=object)
    y = y + (frame["colour"] == "red") + frame["code"].astype(int) / 3
    if missing:
        frame.loc[frame.index[::13], "colour"] = None
        frame.loc[frame.index[::17], "a"] = np.nan
        frame.loc[frame.index[::19], "size"] = np.nan
    return frame, np.asarray(y)


def test_frames_with_categories_predict_as_the_general_path(monkeypatch):
    frame, y = _frame()
    reg = TorchMLPRegressor(**SMALL).fit(frame, y)
    predictor = current_predictor(reg)
    assert predictor is not None and predictor.frame is not None
    assert len(reg._inputs.transformer_.named_transformers_["categorical"]
               .infrequent_categories_[-1])  # the town column has a column for rare values
    new, _ = _frame(seed=1)
    new.loc[new.index[::5], "colour"] = "purple"        # unknown
    new.loc[new.index[::7], "town"] = "nowhere"         # unknown, into the rare column
    new["size"] = pd.Categorical(new["size"], categories=["XL", "L", "M", "S"])  # reordered
    strings = new.astype({"colour": "string", "flag": object})
    for rows in (frame, new, strings):
        assert predictor.rows(rows) is not None  # the prepared path reads them
        for n_rows in SIZES:
            _assert_same(monkeypatch, reg, "predict", rows[:n_rows])
    assert current_predictor(reg) is predictor
    pl = pytest.importorskip("polars")
    _assert_same(monkeypatch, reg, "predict", pl.from_pandas(frame[:NUMPY_ROWS + 3]))


@pytest.mark.parametrize("params", [{"n_bins": None}, {"input_scaling": None, "n_bins": None},
                                    {"input_scaling": "standard"}], ids=str)
def test_frames_with_categories_and_other_encodings(monkeypatch, params):
    frame, y = _frame(missing=False)
    clf = TorchMLPClassifier(**{**SMALL, **params}).fit(frame, y > np.median(y))
    for n_rows in SIZES:
        _assert_same(monkeypatch, clf, "predict_proba", frame[:n_rows])


def test_frame_columns_the_plan_does_not_read_take_the_general_path(monkeypatch):
    frame, y = _frame(n_rows=300)
    reg = TorchMLPRegressor(**SMALL).fit(frame, y)
    predictor = current_predictor(reg)
    nullable = frame.astype({"b": "Int64"})
    nullable.loc[nullable.index[3], "b"] = pd.NA
    assert predictor.rows(nullable) is None
    _assert_same(monkeypatch, reg, "predict", nullable[:10])
    text = frame.astype({"a": object})
    text.loc[text.index[2], "a"] = "oops"
    assert predictor.rows(text) is None
    with pytest.raises(ValueError, match="Column 'a' holds numbers"):
        reg.predict(text)
    with pytest.raises(ValueError, match="infinity in column 'c'"):
        reg.predict(frame.assign(c=np.inf)[:1])
    with pytest.raises(ValueError, match="The feature names should match"):
        reg.predict(frame[frame.columns[::-1]][:1])
    with pytest.raises(TypeError, match="must be a DataFrame with the same columns"):
        reg.predict(frame.to_numpy()[:1])
    dated = frame.assign(when=pd.date_range("2024-01-01", periods=len(frame), freq="h"))
    dates = TorchMLPRegressor(**SMALL).fit(dated, y)
    assert dates._inputs.frame_plan() is None
    _assert_same(monkeypatch, dates, "predict", dated[:5])


def test_sparse_rows_take_the_general_path():
    X, y = _data(n_rows=300)
    sparse = TorchMLPRegressor(**{**SMALL, "n_bins": None}).fit(scipy.sparse.csr_matrix(X), y)
    assert sparse._inputs.numeric_plan() is None and current_predictor(sparse) is None
    assert sparse.predict(X[:3]).shape == (3,)


@pytest.mark.parametrize("X_bad, error, match", [
    (np.ones((2, 4)), ValueError, "X has 4 features, but TorchMLPRegressor is expecting 5"),
    (np.ones((0, 5)), ValueError, "0 sample"),
    (np.ones(5), ValueError, "Expected a 2-dimensional container|Expected 2D array"),
    (np.array([[1.0, np.inf, 0.0, 0.0, 1.0]]), ValueError, "infinity in column 1 \\(row 0\\)"),
    (np.array([["a", "b", "c", "d", "e"]]), ValueError, "could not convert|numeric"),
])
def test_bad_input_raises_the_messages_of_the_general_path(monkeypatch, X_bad, error, match):
    X, y = _data(n_rows=200)
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    reg.predict(X[:1])  # the predictor is built
    with pytest.raises(error, match=match) as raised:
        reg.predict(X_bad)
    with pytest.raises(error) as general:
        _general(monkeypatch, reg, "predict", X_bad)
    assert str(raised.value) == str(general.value)


def test_an_unfitted_estimator_still_says_so():
    with pytest.raises(NotFittedError):
        TorchMLPRegressor().predict(np.ones((1, 3)))


def test_outputs_out_of_range_raise_as_in_the_general_path():
    X, y = _data(n_rows=200)
    reg = TorchMLPRegressor(**{**SMALL, "input_scaling": None, "n_bins": None}).fit(X, y)
    with torch.no_grad():
        reg.module_[0].weight.fill_(10.0)
    for n_rows in (1, NUMPY_ROWS + 1):
        with pytest.raises(ValueError, match="outputs NaN or infinite"):
            reg.predict(np.full((n_rows, 5), 1e308))


def _same_as_fresh(monkeypatch, est, X):
    # predict agrees with the general path on the weights as they are now
    _assert_same(monkeypatch, est, "predict", X[:1])
    _assert_same(monkeypatch, est, "predict", X[:NUMPY_ROWS + 10])


@pytest.mark.parametrize("change", ["refit", "warm_start", "partial_fit", "set_params_fit",
                                    "load_state_dict", "no_grad_update", "to_float64",
                                    "new_layer"])
def test_a_predictor_never_serves_stale_weights(monkeypatch, change):
    X, y = _data()
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    before = reg.predict(X[:NUMPY_ROWS + 10])
    predictor = current_predictor(reg)
    if change == "refit":
        reg.fit(X, -y)
    elif change == "warm_start":
        reg.set_params(warm_start=True).fit(X, -y)
    elif change == "partial_fit":
        reg.partial_fit(X, -y)
    elif change == "set_params_fit":
        reg.set_params(hidden_layer_sizes=(4,), random_state=1).fit(X, y)
    elif change == "load_state_dict":
        state = {k: v + 0.5 for k, v in reg.module_.state_dict().items()}
        reg.module_.load_state_dict(state)
    elif change == "no_grad_update":
        with torch.no_grad():
            reg.module_[0].weight.mul_(2.0)
    elif change == "to_float64":
        reg.module_.to(torch.float64)
    elif change == "new_layer":
        first = reg.module_[0]
        reg.module_[0] = torch.nn.Linear(first.in_features, first.out_features).double()
    after = reg.predict(X[:NUMPY_ROWS + 10])
    assert current_predictor(reg) is not predictor
    if change != "to_float64":  # the same values in another dtype
        assert not np.allclose(after, before)
    _same_as_fresh(monkeypatch, reg, X)


def test_a_scorer_predicting_between_epochs_sees_every_epoch(monkeypatch):
    # scoring="r2" predicts on the validation rows after each epoch, while the
    # fused optimizer changes the weights without advancing their versions.
    X, y = _data()
    params = {**SMALL, "max_iter": 4, "scoring": "r2", "early_stopping": True, "ema_decay": None,
              "n_iter_no_change": 10}
    scores = TorchMLPRegressor(**params).fit(X, y).validation_scores_
    with monkeypatch.context() as patch:
        patch.setattr(Predictor, "build", classmethod(lambda cls, estimator: None))
        general = TorchMLPRegressor(**params).fit(X, y).validation_scores_
    assert len(set(scores)) == len(scores)
    np.testing.assert_allclose(scores, general, rtol=1e-12)


def test_pickles_and_files_leave_the_predictor_behind(monkeypatch, tmp_path):
    X, y = _data()
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    expected = reg.predict(X[:NUMPY_ROWS + 10])
    assert reg in _PREDICTORS and not any(
        isinstance(value, Predictor) for value in reg.__getstate__().values())
    skorchless.save(reg, tmp_path / "model.skorchless")
    for loaded in (pickle.loads(pickle.dumps(reg)), skorchless.load(tmp_path / "model.skorchless")):
        np.testing.assert_allclose(loaded.predict(X[:NUMPY_ROWS + 10]), expected, rtol=1e-12)
        _same_as_fresh(monkeypatch, loaded, X)


def test_the_predictor_goes_with_its_estimator():
    X, y = _data(n_rows=200)
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    reg.predict(X[:1])
    gone = weakref.ref(reg)
    del reg
    gc.collect()
    assert gone() is None and not any(key is None for key in _PREDICTORS.keyrefs())


def test_one_row_predicts_as_in_a_small_batch():
    X, y = _data(n_rows=200)
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    batch = reg.predict(X[:NUMPY_ROWS])
    # as scikit-learn's invariance checks ask, to float64 rounding (BLAS may
    # take another kernel for one row than for 64)
    for i in (0, 5, NUMPY_ROWS - 1):
        np.testing.assert_allclose(reg.predict(X[i:i + 1])[0], batch[i], rtol=1e-12)
    large = reg.predict(X[:NUMPY_ROWS + 100])  # torch, in chunks
    np.testing.assert_array_equal(reg.predict(X[:NUMPY_ROWS + 50]), large[:NUMPY_ROWS + 50])


def test_no_warning_from_the_gather():
    X, y = _data()
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.predict(X)


def test_a_module_on_another_layout_takes_the_general_path(monkeypatch):
    X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    reg = TorchMLPRegressor(**SMALL).fit(X, y)
    reg.module_ = torch.nn.Sequential(reg.module_)  # nested: not build_mlp's layout
    assert Predictor.build(reg) is None
    assert reg.predict(X[:3]).shape == (3,)
