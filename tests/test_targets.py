"""The target objects: one decoding of the network's outputs, for predict and export alike."""

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, r2_score

from skorchless import TorchMLPRegressor
from skorchless._targets import MAX_LOG_MEAN, ClassificationTarget, RegressionTarget


def _regression_target(loss, y):
    target = RegressionTarget(loss, 1.0)
    y = target.encode(y, fit=True)
    target.fit(y, None)
    return target


@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_the_export_head_decodes_as_predict_does(loss, n_outputs):
    rng = np.random.RandomState(0)
    y = rng.poisson(3.0, size=(50, n_outputs)).astype(float).squeeze()
    target = _regression_target(loss, y)
    # ordinary outputs, and outputs far beyond what exp() holds in float64
    raw = np.vstack([rng.normal(size=(20, n_outputs)), np.full((2, n_outputs), 800.0)])
    head = target.torch_head().eval()
    np.testing.assert_allclose(head(torch.from_numpy(raw)).numpy(), target.decode(raw),
                               rtol=1e-12)


def test_poisson_predictions_never_overflow():
    target = _regression_target("poisson", np.array([1.0, 2.0, 3.0]))
    huge = target.decode(np.array([[1e4], [-1e4]]))
    assert np.isfinite(huge).all() and huge[0] == np.exp(MAX_LOG_MEAN)


@pytest.mark.parametrize("y", [np.array(["a", "b", "a", "b"]),
                               np.array([0, 1, 2, 1]),
                               np.array([[1, 0], [0, 1], [1, 1], [0, 0]])],
                         ids=["binary", "multiclass", "multilabel"])
def test_the_classification_head_gives_predict_and_predict_proba(y):
    target = ClassificationTarget(None, 0.0)
    target.encode(y, fit=True)
    raw = np.random.RandomState(0).normal(scale=4.0, size=(30, target.n_outputs))
    indices, proba = target.torch_head()(torch.from_numpy(raw))
    np.testing.assert_allclose(proba.numpy(), target.proba(raw), rtol=1e-12, atol=1e-15)
    decoded = target.decode(raw)
    labels = indices.numpy() if target.multilabel else target.classes_[indices.numpy()]
    np.testing.assert_array_equal(labels, decoded)


def test_the_number_of_outputs_is_fixed_by_the_first_encoding():
    target = RegressionTarget("squared_error", 1.0)
    target.encode(np.zeros((4, 2)), fit=True)
    with pytest.raises(ValueError, match="y has 1 output"):
        target.encode(np.zeros(4), fit=False)


def test_a_huge_constant_target_is_learned_as_a_constant():
    # its mean is 7.5e37 give or take 1e22 of rounding: not a spread to learn
    X, y = np.zeros((3, 1)), np.full(3, 7.5e37)
    est = TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.predict(X), y, rtol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("y", [np.arange(8.0), np.column_stack([np.arange(8.0), np.full(8, 3.0)])],
                         ids=["one output", "a constant output"])
def test_the_validation_r2_is_r2_score(y, weighted):
    rng = np.random.RandomState(0)
    target = _regression_target("squared_error", y)
    encoded = target.encode(y, fit=False)
    weight = rng.uniform(0.5, 2.0, size=len(y)) if weighted else None
    for output in (rng.normal(size=(8, encoded.reshape(8, -1).shape[1])),
                   target.to_network(encoded)):  # random, and perfect
        expected = r2_score(y, target.decode(output), sample_weight=weight)
        score = target.score(torch.from_numpy(output.astype(np.float32)), encoded, weight)
        assert score == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("y", [np.array([0, 1, 1, 0, 1, 0]), np.array([0, 1, 2, 2, 1, 0]),
                               np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])],
                         ids=["binary", "multiclass", "multilabel"])
def test_the_validation_accuracy_is_accuracy_score(y, weighted):
    rng = np.random.RandomState(0)
    target = ClassificationTarget(None, 0.0)
    encoded = target.encode(y, fit=True)
    weight = rng.uniform(0.5, 2.0, size=len(y)) if weighted else None
    output = rng.normal(size=(len(y), target.n_outputs))
    expected = accuracy_score(y, target.decode(output), sample_weight=weight)
    score = target.score(torch.from_numpy(output.astype(np.float32)), encoded, weight)
    assert score == pytest.approx(expected)
