"""export_torch: the fitted estimator as one torch module, predicting as it does."""

import io

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skorchless import TorchMLPClassifier, TorchMLPRegressor, export_torch

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=3000):
    rng = np.random.default_rng(0)
    X = rng.lognormal(size=(n, 4))
    X[rng.random(n) < 0.1, 1] = np.nan  # missing values: filled and indicated in the module
    return X, np.log(X[:, 0]) - np.nan_to_num(X[:, 1]) + X[:, 2]


@pytest.mark.parametrize("n_bins", [None, 8])
def test_regressor_module_predicts_as_the_estimator(n_bins, fast):
    X, y = _data()
    reg = TorchMLPRegressor(**fast, n_bins=n_bins).fit(X, y)
    module = export_torch(reg)
    assert not module.training and not any(p.requires_grad for p in module.parameters())
    np.testing.assert_allclose(module(torch.as_tensor(X)).numpy(), reg.predict(X),
                               rtol=1e-5, atol=1e-6)
    # torch.save / torch.load and a traced module give the same
    buffer = io.BytesIO()
    torch.save(module, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    traced = torch.jit.trace(module, torch.as_tensor(X[:4]))
    for other in (loaded, traced):
        np.testing.assert_array_equal(other(torch.as_tensor(X[:50])).numpy(),
                                      module(torch.as_tensor(X[:50])).numpy())


def test_classifier_module_gives_class_indices_and_probabilities(fast):
    X, y = _data()
    labels = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))]
    pipe = make_pipeline(StandardScaler(), TorchMLPClassifier(**fast)).fit(X, labels)
    index, proba = export_torch(pipe)(torch.as_tensor(X))
    clf = pipe[-1]
    np.testing.assert_array_equal(clf.classes_[index.numpy()], pipe.predict(X))
    np.testing.assert_allclose(proba.numpy(), pipe.predict_proba(X), rtol=1e-4, atol=1e-6)


def test_categorical_columns_are_refused_by_name(fast):
    X = pd.DataFrame({"x": np.arange(40.0), "colour": ["red", "blue"] * 20})
    reg = TorchMLPRegressor(**fast).fit(X, np.arange(40.0))
    with pytest.raises(NotImplementedError, match="colour"):
        export_torch(reg)
