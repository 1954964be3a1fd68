"""Inputs beyond arrays and frames: torch tensors, sparse matrices, and what is refused.

Each case fits and predicts finite values with both estimators, or raises one
TypeError / ValueError naming the argument.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skorchless import TorchMLPClassifier, TorchMLPRegressor
from skorchless._engine import loop
from skorchless._engine.sparse import SparseRows

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ESTIMATORS = [TorchMLPRegressor, TorchMLPClassifier]


def _data(n=120, d=6, seed=0):
    X = np.random.default_rng(seed).normal(size=(n, d))
    return X, X[:, 0] - X[:, 1]


def _target(cls, y):
    return y > 0 if cls is TorchMLPClassifier else y


def _fit_predict(cls, X, y, fast, **params):
    est = cls(**fast, **params).fit(X, y)
    out = est.predict(X)
    assert np.isfinite(np.asarray(out, dtype=float)).all()
    return est, out


# ------------------------------------------------------------- torch tensors
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("make", [
    lambda a: torch.tensor(a, dtype=torch.float32, requires_grad=True),
    lambda a: torch.tensor(a, dtype=torch.bfloat16),
    lambda a: torch.tensor(a, dtype=torch.float16),
    lambda a: torch.tensor(a, dtype=torch.float64).to_sparse(),
    lambda a: torch.tensor(a, dtype=torch.float32).to_sparse_csr(),
], ids=["grad", "bfloat16", "float16", "sparse-coo", "sparse-csr"])
def test_torch_tensors_are_taken_as_arrays(cls, make, fast):
    X, y = _data()
    y = _target(cls, y)
    _, from_tensor = _fit_predict(cls, make(X), torch.as_tensor(y), fast)
    assert len(from_tensor) == len(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_tensor_model_predicts_numpy_like_a_numpy_model(cls, fast):
    X, y = _data()
    y = _target(cls, y)
    from_numpy = cls(**fast).fit(X, y).predict(X)
    from_tensor = cls(**fast).fit(torch.tensor(X), torch.tensor(y)).predict(torch.tensor(X))
    np.testing.assert_array_equal(from_numpy, from_tensor)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("wrap", [
    lambda X, y: torch.utils.data.TensorDataset(X, y),
    lambda X, y: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y)),
], ids=["Dataset", "DataLoader"])
def test_dataset_and_dataloader_are_refused_with_what_to_pass(cls, wrap, fast):
    X, y = _data()
    data = wrap(torch.tensor(X), torch.tensor(y))
    with pytest.raises(TypeError, match=r"X is a torch (TensorDataset|DataLoader); pass the "
                                        r"data itself.*X, y = dataset.tensors"):
        cls(**fast).fit(data, None)


# ------------------------------------------------------------------- sparse
def _sparse(n=200, d=300, density=0.05):
    X = scipy.sparse.random(n, d, density=density, format="csr", random_state=0)
    return X, np.asarray(X[:, :20].sum(axis=1)).ravel()


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("input_scaling", ["robust", "standard", None])
def test_sparse_input_stays_sparse_until_a_batch(cls, solver, input_scaling, fast,
                                                 monkeypatch):
    X, y = _sparse()
    y = _target(cls, y > np.median(y)) if cls is TorchMLPClassifier else y
    seen = []
    gather = loop.gather_rows
    monkeypatch.setattr(loop, "gather_rows",
                        lambda X, *a, **kw: seen.append(type(X)) or gather(X, *a, **kw))
    est, _ = _fit_predict(cls, X, y, fast, solver=solver, input_scaling=input_scaling)
    assert SparseRows in seen
    assert est._inputs.sparse_input_
    assert est.predict(X.toarray()).shape == est.predict(X).shape


def test_sparse_rows_train_like_the_same_dense_rows(fast):
    X, y = _sparse()
    sparse = TorchMLPRegressor(**fast, input_scaling=None, n_bins=None).fit(X, y)
    dense = TorchMLPRegressor(**fast, input_scaling=None, n_bins=None).fit(X.toarray(), y)
    np.testing.assert_allclose(sparse.predict(X), dense.predict(X.toarray()), atol=1e-6)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_very_sparse_rows_reach_the_first_layer_sparse(cls, solver, fast, monkeypatch):
    # 0.5 % non-zeros: the first layer multiplies them without densifying
    # any batch, and the fit is the dense rows' fit up to float rounding.
    X, y = _sparse(d=2000, density=0.005)
    y = _target(cls, y > np.median(y)) if cls is TorchMLPClassifier else y
    densified = []
    rows = SparseRows.rows
    monkeypatch.setattr(SparseRows, "rows",
                        lambda self, *a, **kw: densified.append(1) or rows(self, *a, **kw))
    params = dict(fast, solver=solver, input_scaling=None, n_bins=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing from torch's sparse tensors
        warnings.simplefilter("ignore", ConvergenceWarning)
        sparse = cls(**params).fit(X, y)
        predicted = (sparse.predict_proba(X) if cls is TorchMLPClassifier
                     else sparse.predict(X))
        if solver != "lbfgs":
            sparse.partial_fit(X, y)
    assert not densified
    dense = cls(**params).fit(X.toarray(), y)
    expected = (dense.predict_proba(X.toarray()) if cls is TorchMLPClassifier
                else dense.predict(X.toarray()))
    np.testing.assert_allclose(predicted, expected, rtol=1e-4, atol=1e-4)


def test_sparse_scaling_keeps_zeros(fast):
    X, y = _sparse()
    est = TorchMLPRegressor(**fast).fit(X, y)
    encoded = est._inputs.transform(X)
    assert scipy.sparse.issparse(encoded) and encoded.nnz == X.nnz


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_bins_on_sparse_input_name_n_bins(cls, fast):
    X, y = _sparse()
    with pytest.raises(ValueError, match=r"'n_bins' parameter must be None or 'auto' for "
                                         r"a sparse X.*Got n_bins=8"):
        cls(**fast, n_bins=8).fit(X, _target(cls, y))


def test_sparse_rows_gather_like_dense_rows():
    X = scipy.sparse.random(30, 7, density=0.3, format="csr", random_state=1)
    rows = SparseRows(*(torch.as_tensor(a, dtype=torch.int64) for a in (X.indptr, X.indices)),
                      torch.as_tensor(X.data), n_columns=7)
    index = torch.tensor([5, 0, 29, 5])
    np.testing.assert_array_equal(rows.rows(index).numpy(), X.toarray()[index.numpy()])
    np.testing.assert_array_equal(rows.rows(slice(3, 9)).numpy(), X.toarray()[3:9])


# --------------------------------------------------------------- messages
def test_negative_class_weight_is_named(fast):
    X, y = _data()
    with pytest.raises(ValueError, match=r"class_weight must be non-negative; got negative "
                                         r"weights \{True: -1.0\}"):
        TorchMLPClassifier(**fast, class_weight={True: -1.0, False: 1.0}).fit(X, y > 0)


def test_messages_show_plain_values(fast):
    X, y = _data()
    labels = np.where(y > 0, 42000, 7)
    est = TorchMLPClassifier(**fast).fit(X, labels)
    with pytest.raises(ValueError, match=r"not seen in the first fit: \[5\]; the model "
                                         r"knows \[7, 42000\]") as info:
        est.partial_fit(X, np.full(len(X), 5))
    assert "np." not in str(info.value)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_scoring_warning_shows_once_per_fit(cls, fast):
    X, y = _data(60)
    y = _target(cls, y)
    scoring = "precision" if cls is TorchMLPClassifier else "r2"
    X_val, y_val = X[:1], y[:1]  # one row: precision or R² undefined every epoch
    if cls is TorchMLPClassifier:
        X_val, y_val = X[:4], np.zeros(4, dtype=bool)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        cls(**{**fast, "max_iter": 8}, scoring=scoring, early_stopping=True,
            n_iter_no_change=100).fit(X, y, X_val=X_val, y_val=y_val)
    origins = [(w.category, w.filename, w.lineno) for w in caught]
    assert origins and len(origins) == len(set(origins))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_global_pandas_output_triggers_no_warning(cls, fast):
    X, y = _data(3000, 3)
    frame = pd.DataFrame(X, columns=list("abc")).assign(kind=np.where(y > 0, "u", "v"))
    with sklearn.config_context(transform_output="pandas"), warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        for data in (X, frame):
            est = cls(**fast, n_bins="auto").fit(data, _target(cls, y))
            assert isinstance(est.predict(data), np.ndarray)


# ----------------------------------------------------- X_val through a pipeline
def _pipeline(cls, fast, **request):
    mlp = cls(**fast, early_stopping=True)
    if request:
        mlp.set_fit_request(X_val=True, y_val=True)
    return Pipeline([("scale", StandardScaler()), ("mlp", mlp)],
                    transform_input=["X_val"] if request else None)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_untransformed_x_val_warns_with_the_fix(cls, fast):
    X, y = _data(200)
    X = 50 * X + 1000
    y = _target(cls, y)
    with pytest.warns(UserWarning, match=r"X_val looks untransformed.*transform_input="
                                         r"\['X_val'\]"):
        _pipeline(cls, fast).fit(X[:150], y[:150], mlp__X_val=X[150:], mlp__y_val=y[150:])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_transform_input_routes_x_val_through_the_pipeline(cls, fast):
    X, y = _data(200)
    X = 50 * X + 1000
    y = _target(cls, y)
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = _pipeline(cls, fast, request=True)
        pipe.fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:])
    assert np.isfinite(pipe.predict(X).astype(float)).all()
