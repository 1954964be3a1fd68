"""Model files written by skorchless 0.1.0 keep loading and predicting as they did.

The files in ``tests/data`` were written once by ``tests/data/make_frozen_files.py``
(safe format version 1 and pickles of 0.1.0); ``frozen_expected.npz`` holds
what each model predicted then. They are never rewritten: a change that stops
them from loading, or changes what they predict, breaks users' saved models.
"""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skorchless

DATA = Path(__file__).parent / "data"
MODELS = ["regressor_bins", "regressor_poisson", "classifier_frame"]


@pytest.fixture(scope="module")
def expected():
    return dict(np.load(DATA / "frozen_expected.npz", allow_pickle=False))


def _inputs(name, expected):
    X = expected["X"]
    if name != "classifier_frame":
        return X
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["colour"] = np.array(["red", "green", "blue"], dtype=object)[expected["codes"]]
    return frame


def _load(name, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", skorchless.InconsistentVersionWarning)
        if kind == "safe format v1":
            return skorchless.load(DATA / f"{name}_v1.safetensors")
        return pickle.loads((DATA / f"{name}_0.1.0.pkl").read_bytes())


@pytest.mark.parametrize("kind", ["safe format v1", "pickle 0.1.0"])
@pytest.mark.parametrize("name", MODELS)
def test_old_files_load_and_predict_as_when_saved(name, kind, expected):
    model = _load(name, kind)
    X = _inputs(name, expected)
    predicted = model.predict(X)
    if name.startswith("classifier"):
        np.testing.assert_array_equal(predicted, expected[f"{name}_predict"])
        np.testing.assert_allclose(model.predict_proba(X), expected[f"{name}_proba"],
                                   rtol=1e-6, atol=1e-9)
    else:
        # predict now runs in float64: equal to float32 rounding (targets of order 1)
        np.testing.assert_allclose(predicted, expected[f"{name}_predict"], rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize("kind", ["safe format v1", "pickle 0.1.0"])
def test_old_files_warn_that_another_version_wrote_them(kind):
    path = DATA / ("regressor_bins_v1.safetensors" if kind == "safe format v1"
                   else "regressor_bins_0.1.0.pkl")
    with pytest.warns(skorchless.InconsistentVersionWarning, match="skorchless 0.1.0"):
        if kind == "safe format v1":
            skorchless.load(path)
        else:
            pickle.loads(path.read_bytes())


@pytest.mark.parametrize("name", MODELS)
def test_old_files_go_on_training_and_save_in_todays_format(name, expected, tmp_path):
    model = _load(name, "pickle 0.1.0")
    X = _inputs(name, expected)
    y = model.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.set_params(warm_start=True, max_iter=2).fit(X, y)
    skorchless.save(model, tmp_path / "model.safetensors")
    again = skorchless.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
