"""Temperature scaling of the classifier's probabilities, fitted on the validation rows."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from skorchless import TorchMLPClassifier
from skorchless._engine.calibration import fit_temperature
from skorchless._engine.losses import binary_cross_entropy, cross_entropy

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 3.0])
def test_fit_temperature_recovers_the_temperature_labels_were_drawn_with(true_temperature):
    generator = torch.Generator().manual_seed(0)
    logits = 3.0 * torch.randn(20_000, 4, generator=generator)
    y = torch.multinomial(torch.softmax(logits / true_temperature, 1), 1, generator=generator)
    found = fit_temperature(logits, y[:, 0], cross_entropy(0.0))
    assert found == pytest.approx(true_temperature, rel=0.05)


def test_fit_temperature_of_binary_logits_and_weights():
    generator = torch.Generator().manual_seed(1)
    logits = 2.0 * torch.randn(20_000, 1, generator=generator)
    y = torch.bernoulli(torch.sigmoid(logits[:, 0] / 2.0), generator=generator).long()
    assert fit_temperature(logits, y, binary_cross_entropy(0.0, False)) == pytest.approx(
        2.0, rel=0.05)
    # a weight of 2 is a repeated row
    weight = torch.randint(0, 3, (20_000,), generator=generator).double()
    repeated = torch.repeat_interleave(torch.arange(20_000), weight.long())
    weighted = fit_temperature(logits, y, binary_cross_entropy(0.0, False),
                               weight / weight.mean())
    assert weighted == pytest.approx(
        fit_temperature(logits[repeated], y[repeated], binary_cross_entropy(0.0, False)),
        rel=1e-6)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, random_state=0, stratify=y)


def test_calibration_improves_the_held_out_log_loss_and_moves_no_decision(digits):
    X_train, X_test, y_train, y_test = digits
    params = {"hidden_layer_sizes": (64,), "max_iter": 40, "random_state": 0}
    calibrated = TorchMLPClassifier(**params).fit(X_train, y_train)
    raw = TorchMLPClassifier(**params, calibration=None).fit(X_train, y_train)
    assert raw.temperature_ == 1.0
    assert calibrated.temperature_ < 1.0  # label smoothing made the network under-confident
    np.testing.assert_array_equal(calibrated.predict(X_test), raw.predict(X_test))
    assert (log_loss(y_test, calibrated.predict_proba(X_test))
            < 0.8 * log_loss(y_test, raw.predict_proba(X_test)))
    # folded into the last layer: a forward pass through coefs_ gives predict_proba
    hidden = np.maximum(calibrated._inputs.transform(X_test) @ calibrated.coefs_[0]
                        + calibrated.intercepts_[0], 0.0)
    logits = hidden @ calibrated.coefs_[1] + calibrated.intercepts_[1]
    proba = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(proba / proba.sum(1, keepdims=True),
                               calibrated.predict_proba(X_test), rtol=1e-6, atol=1e-9)


def test_without_a_validation_set_nothing_is_calibrated(digits):
    X_train, _, y_train, _ = digits
    clf = TorchMLPClassifier(hidden_layer_sizes=(16,), max_iter=3, early_stopping=False,
                             random_state=0).fit(X_train, y_train)
    assert clf.temperature_ == 1.0


def test_a_validation_set_classified_all_right_does_not_make_it_certain():
    # 300 rows of two blobs: the 30 validation rows are all right, and the
    # unsmoothed log-loss would fall without end as the temperature does (it
    # stopped at the search's bound, 0.01: probabilities of 0.9998 on rows of
    # which 0.7 % are wrong).
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 150)
    X = rng.normal(size=(300, 2)) + 4.0 * y[:, None]
    clf = TorchMLPClassifier(hidden_layer_sizes=(16,), random_state=0).fit(X, y)
    assert clf.temperature_ > 0.1
    assert 0.9 < clf.predict_proba(X).max(axis=1).mean() < 0.99
    assert clf.score(X, y) >= 0.99
