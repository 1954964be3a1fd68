"""Property-based tests: whatever the data, fit either works or says clearly why not.

For inputs of every shape, dtype and value -- empty, one row, one feature,
constant columns, huge and tiny magnitudes, NaN/inf, object and string
columns, mixed pandas dtypes, labels of every kind -- each call either fits
and predicts finite values (probabilities that sum to 1, labels from
``classes_``), or raises a ValueError/TypeError with a message, raised by our
code or scikit-learn's, never from inside torch. A hang fails through the
test time-out of CI, a crash through the process.
"""

import collections
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skorchless import TorchMLPClassifier, TorchMLPRegressor

#: About 1,200 fits: run in CI, skippable locally with ``-m "not slow"``.
pytestmark = pytest.mark.slow

#: Examples per strategy and estimator; each estimator sees 3 strategies.
N_EXAMPLES = 200
#: Least fraction of the examples of the "fit or fail clearly" properties that fit.
MIN_FITTED = 0.05
TINY = {"hidden_layer_sizes": (3,), "max_iter": 3, "device": "cpu", "random_state": 0}
SETTINGS = settings(
    max_examples=N_EXAMPLES, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)

# ------------------------------------------------------------------ strategies
MAGNITUDES = st.sampled_from([1e-300, 1e-12, 1.0, 1e12, 1e300])
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)
SCALAR = st.one_of(FINITE, ANY_FLOAT, st.integers(-10, 10), st.text(max_size=3), st.none(),
                   st.booleans())


@st.composite
def feature_matrices(draw, n_rows):
    n_cols = draw(st.sampled_from([0, 1, 1, 2, 3, 4]))
    shape = (n_rows, n_cols)
    # Numeric kinds come up more often, so that most examples reach training.
    kind = draw(st.sampled_from(["floats", "scaled", "scaled", "scaled", "non-finite",
                                 "float32", "ints", "bools", "constant", "objects",
                                 "strings", "1-D", "3-D", "list", "list"]))
    if kind == "floats":
        return draw(hnp.arrays(np.float64, shape, elements=FINITE))
    if kind == "scaled":
        unit = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1, 1)))
        return unit * draw(MAGNITUDES)
    if kind == "non-finite":
        return draw(hnp.arrays(np.float64, shape, elements=ANY_FLOAT))
    if kind == "float32":
        return draw(hnp.arrays(np.float32, shape, elements=st.floats(width=32)))
    if kind == "ints":
        return draw(hnp.arrays(draw(st.sampled_from([np.int8, np.int64, np.uint32])), shape))
    if kind == "bools":
        return draw(hnp.arrays(bool, shape))
    if kind == "constant":
        return np.full(shape, draw(FINITE))
    if kind == "objects":
        return draw(hnp.arrays(object, shape, elements=SCALAR))
    if kind == "strings":
        return draw(hnp.arrays(hnp.unicode_string_dtypes(max_len=3), shape))
    if kind == "1-D":
        return draw(hnp.arrays(np.float64, (n_rows,), elements=st.floats(-5, 5)))
    if kind == "3-D":
        return draw(hnp.arrays(np.float64, (*shape, 2), elements=st.floats(-5, 5)))
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(-5, 5))).tolist()


PANDAS_COLUMNS = {
    "float": lambda n: hnp.arrays(np.float64, (n,), elements=FINITE),
    "float with NaN": lambda n: hnp.arrays(np.float64, (n,), elements=ANY_FLOAT),
    "int": lambda n: hnp.arrays(np.int64, (n,)),
    "nullable int": lambda n: st.lists(st.one_of(st.none(), st.integers(-5, 5)),
                                       min_size=n, max_size=n)
    .map(lambda v: pd.array(v, dtype="Int64")),
    "bool": lambda n: hnp.arrays(bool, (n,)),
    "category": lambda n: st.lists(st.sampled_from("abc"), min_size=n, max_size=n)
    .map(lambda v: pd.Categorical(v)),
    "string": lambda n: st.lists(st.text(max_size=2), min_size=n, max_size=n)
    .map(lambda v: pd.array(v, dtype="string")),
    "object": lambda n: st.lists(SCALAR, min_size=n, max_size=n)
    .map(lambda v: np.array(v + [None], dtype=object)[:-1]),
    "datetime": lambda n: st.lists(st.integers(0, 10**9), min_size=n, max_size=n)
    .map(lambda v: pd.to_datetime(v, unit="s")),
}


@st.composite
def data_frames(draw, n_rows):
    numeric = ["float", "int", "bool", "float"]
    kinds = draw(st.lists(st.sampled_from(sorted(PANDAS_COLUMNS) + numeric * 3),
                          min_size=1, max_size=4))
    return pd.DataFrame({f"{kind} {i}": draw(PANDAS_COLUMNS[kind](n_rows))
                         for i, kind in enumerate(kinds)})


GOOD_LABELS = [np.array([0, 1]), np.array([-7, 3, 10]), np.array(["a", "b", "c"]),
               np.array([True, False]), np.array([0.0, 1.0, 2.0]),
               np.array(["u", "v"], dtype=object)]
BAD_LABELS = [np.array(["x", 1], dtype=object), np.array(["x", None], dtype=object),
              np.array([0.5, 1.5]), np.array([np.nan, 1.0]), np.array(["only"])]
LABEL_POOLS = GOOD_LABELS * 3 + BAD_LABELS


@st.composite
def labels(draw, n_rows):
    if draw(st.integers(0, 9)) == 0:  # multilabel indicator
        n_labels = draw(st.integers(1, 3))
        return draw(hnp.arrays(np.int64, (n_rows, n_labels), elements=st.integers(0, 1)))
    pool = draw(st.sampled_from(LABEL_POOLS))
    if draw(st.booleans()):  # every label of the pool, in a drawn order
        codes = np.array(draw(st.permutations(np.arange(n_rows) % len(pool))), dtype=int)
    else:
        codes = draw(hnp.arrays(np.int64, (n_rows,), elements=st.integers(0, len(pool) - 1)))
    y = pool[codes]
    return y.reshape(-1, 1) if draw(st.integers(0, 9)) == 0 else y


@st.composite
def targets(draw, n_rows):
    kind = draw(st.sampled_from(["finite", "scaled", "scaled", "scaled", "non-finite", "2-D",
                                 "column", "strings", "constant"]))
    if kind == "finite":
        return draw(hnp.arrays(np.float64, (n_rows,), elements=FINITE))
    if kind == "scaled":
        return draw(hnp.arrays(np.float64, (n_rows,), elements=st.floats(-1, 1))) \
            * draw(MAGNITUDES)
    if kind == "non-finite":
        return draw(hnp.arrays(np.float64, (n_rows,), elements=ANY_FLOAT))
    if kind == "2-D":
        return draw(hnp.arrays(np.float64, (n_rows, 2), elements=st.floats(-1e6, 1e6)))
    if kind == "column":
        return draw(hnp.arrays(np.float64, (n_rows, 1), elements=st.floats(-1e6, 1e6)))
    if kind == "strings":
        return np.array(["a"] * n_rows)
    return np.full(n_rows, draw(FINITE))


@st.composite
def problems(draw, X_strategy, y_strategy):
    n_rows = draw(st.sampled_from(range(26)))  # uniform: 0, 1 and 2 rows are rare
    X = draw(X_strategy(n_rows))
    n_targets = n_rows if draw(st.integers(0, 14)) else draw(st.integers(0, 25))
    y = draw(y_strategy(n_targets))
    params = draw(st.fixed_dictionaries({}, optional={
        "early_stopping": st.booleans(), "input_scaling": st.sampled_from([None, "standard"]),
        "solver": st.sampled_from(["sgd", "lbfgs"]), "batch_size": st.integers(1, 30),
        "dropout": st.sampled_from([0.0, 0.5]),
    }))
    return X, y, params


# ------------------------------------------------------------------- property
TORCH_DIR = Path(torch.__file__).resolve().parent


def _assert_clear_error(exc):
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    assert str(exc).strip(), "an error without a message"
    where = Path(traceback.extract_tb(exc.__traceback__)[-1].filename).resolve()
    assert TORCH_DIR not in where.parents, f"raised inside torch: {where}\n{exc}"


def _check(Estimator, X, y, params):
    """Fit and predict; return "fitted", or "refused" after checking the error."""
    est = Estimator(**{**TINY, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X, y)
        except Exception as exc:  # noqa: BLE001 -- the property is about the kind
            _assert_clear_error(exc)
            return "refused"
        n_rows = len(X)
        if "input_scaling" in params:  # None or "standard": X reaches the network as is
            try:                       # or standardised; outputs may overflow float32
                est.predict(X)
            except ValueError as exc:
                assert "outputs NaN or infinite values" in str(exc), exc
                return "fitted"
        if Estimator is TorchMLPClassifier:
            proba = est.predict_proba(X)
            # float32 for float32 X on a float32-fitted model, else float64
            assert proba.dtype in (np.float32, np.float64) and np.isfinite(proba).all()
            if (proba.ndim == 2 and est.out_activation_ == "softmax") or (
                    len(est.classes_) == 2 and est.n_outputs_ == 1):
                atol = 1e-6 if proba.dtype == np.float32 else 1e-9
                np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=atol)
            predictions = est.predict(X)
            assert len(predictions) == n_rows
            if np.ndim(predictions) == 1:
                assert set(predictions.tolist()) <= set(est.classes_.tolist())
        else:
            predictions = est.predict(X)
            assert np.isfinite(predictions).all(), predictions
            assert predictions.shape[0] == n_rows
            assert predictions.ndim == (1 if est.n_outputs_ == 1 else 2)
    return "fitted"


def _fit_or_refuse_clearly(Estimator, X_strategy, y_strategy):
    # The property holds for every example; and enough examples fit for it to
    # say something about fitting (a regression that refused valid input would
    # otherwise pass).
    outcomes = collections.Counter()

    @SETTINGS
    @given(data=st.data())
    def run(data):
        outcomes[_check(Estimator, *data.draw(problems(X_strategy, y_strategy)))] += 1

    run()
    assert outcomes["fitted"] >= MIN_FITTED * sum(outcomes.values()), outcomes


@pytest.mark.parametrize("Estimator, y_strategy", [(TorchMLPRegressor, targets),
                                                   (TorchMLPClassifier, labels)])
def test_numpy_inputs_fit_and_predict_finite_values_or_fail_clearly(Estimator, y_strategy):
    _fit_or_refuse_clearly(Estimator, feature_matrices, y_strategy)


@pytest.mark.parametrize("Estimator, y_strategy", [(TorchMLPRegressor, targets),
                                                   (TorchMLPClassifier, labels)])
def test_pandas_inputs_fit_and_predict_finite_values_or_fail_clearly(Estimator, y_strategy):
    _fit_or_refuse_clearly(Estimator, data_frames, y_strategy)


@pytest.mark.parametrize("Estimator, y_strategy", [(TorchMLPRegressor, targets),
                                                   (TorchMLPClassifier, labels)])
@SETTINGS
@given(data=st.data())
def test_well_formed_data_always_fits(Estimator, y_strategy, data):
    """Finite numeric data of two rows or more fits, whatever its scale.

    X may take any float64 magnitude (it is scaled in float64); y any that
    float32 holds (larger y is refused with a clear error, see test_data.py).
    """
    n_rows = data.draw(st.integers(2, 25))
    # Within a column, nonzero values differ by at most 1e6 in magnitude (a far
    # outlier over a tiny spread: see test_data.py::test_far_outlier_is_clipped).
    units = st.one_of(st.just(0.0), st.floats(1e-6, 1), st.floats(-1, -1e-6))
    X = data.draw(hnp.arrays(np.float64, (n_rows, data.draw(st.integers(1, 4))),
                             elements=units)) * data.draw(MAGNITUDES)
    if Estimator is TorchMLPClassifier:
        y = np.arange(n_rows) % 2
    else:
        y = data.draw(hnp.arrays(np.float64, (n_rows,), elements=st.floats(-1, 1))) \
            * data.draw(st.sampled_from([1e-300, 1e-12, 1.0, 1e12, 1e38]))
    est = Estimator(**TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        output = est.predict_proba(X) if Estimator is TorchMLPClassifier else est.predict(X)
    assert np.isfinite(output).all()
