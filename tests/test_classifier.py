"""TorchMLPClassifier: labels, targets, probabilities, weights, partial_fit, split."""

import numpy as np
import pytest
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score

from skorchless import TorchMLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fit(X, y, fast, **params):
    return TorchMLPClassifier(**{**fast, **params}).fit(X, y)


def _three_blobs(n=90, seed=0):
    rng = np.random.RandomState(seed)
    codes = np.arange(n) % 3
    X = rng.normal(scale=0.5, size=(n, 2)) + np.array([[0, 0], [4, 0], [0, 4]])[codes]
    return X, codes


LABELS = {
    "ints": np.array([0, 1, 2]),
    "non-contiguous ints": np.array([-7, 3, 10]),
    "strings": np.array(["cat", "dog", "emu"]),
    "object strings": np.array(["cat", "dog", "emu"], dtype=object),
    "integral floats": np.array([0.0, 1.0, 2.0]),
}


@pytest.mark.parametrize("kind", LABELS)
def test_any_label_type_round_trips(kind, fast):
    X, codes = _three_blobs()
    y = LABELS[kind][codes]
    clf = _fit(X, y, fast, max_iter=60, learning_rate_init=0.05)
    np.testing.assert_array_equal(clf.classes_, np.sort(LABELS[kind]))
    predictions = clf.predict(X)
    assert predictions.dtype == clf.classes_.dtype
    assert set(predictions) <= set(y)
    assert accuracy_score(y, predictions) > 0.9
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == 3


def test_bool_labels_are_binary(fast):
    X, codes = _three_blobs()
    y = codes == 1
    clf = _fit(X, y, fast, max_iter=60, learning_rate_init=0.05)
    np.testing.assert_array_equal(clf.classes_, [False, True])
    assert clf.predict(X).dtype == bool
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    assert accuracy_score(y, clf.predict(X)) > 0.9


def test_binary_probabilities(classification_data, fast):
    X, y = classification_data
    clf = _fit(X, y, fast)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_multiclass_probabilities(fast):
    X, y = _three_blobs()
    clf = _fit(X, y, fast)
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3) and proba.dtype == np.float64
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), proba.argmax(axis=1))


def test_multilabel_indicator_targets(fast):
    X, codes = _three_blobs()
    Y = np.column_stack([codes == 0, codes != 1, np.ones(90, bool) & (X[:, 0] > 2)])
    Y = Y.astype(int)
    clf = _fit(X, Y, fast, max_iter=80, learning_rate_init=0.05)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    predictions = clf.predict(X)
    assert predictions.shape == (90, 3) and set(np.unique(predictions)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3) and proba.dtype == np.float64
    np.testing.assert_array_equal(predictions, (proba > 0.5).astype(int))
    assert (predictions == Y).mean() > 0.9


def test_column_vector_labels_warn(classification_data, fast):
    X, y = classification_data
    with pytest.warns(DataConversionWarning, match="column-vector y was passed"):
        clf = _fit(X, y[:, None], fast)
    assert clf.predict(X).shape == (60,)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_single_class_is_always_predicted(fast, early_stopping):
    # As scikit-learn's MLPClassifier: one class in y fits, and is the prediction.
    X = np.random.default_rng(0).normal(size=(20, 2))
    clf = _fit(X, ["a"] * 20, {**fast, "early_stopping": early_stopping})
    assert clf.classes_.tolist() == ["a"]
    assert clf.predict(X[:5]).tolist() == ["a"] * 5
    np.testing.assert_array_equal(clf.predict_proba(X[:5]), np.ones((5, 1)))
    assert clf.score(X, ["a"] * 20) == 1.0


def test_continuous_target_is_an_error(fast):
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        _fit(X, np.linspace(0, 1, 10), fast)


def test_class_weight_shifts_the_decision(fast):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + rng.normal(scale=1.0, size=200) > 0).astype(int)  # overlapping classes
    params = {**fast, "max_iter": 40, "learning_rate_init": 0.02, "early_stopping": False}
    plain = _fit(X, y, params).predict(X).mean()
    favour_one = _fit(X, y, params, class_weight={0: 1.0, 1: 10.0}).predict(X).mean()
    favour_zero = _fit(X, y, params, class_weight={0: 10.0, 1: 1.0}).predict(X).mean()
    assert favour_zero < plain < favour_one


def test_balanced_class_weight_equals_the_explicit_weights(fast):
    X, y = _three_blobs()
    y = np.where(np.arange(90) < 70, 0, y)  # imbalanced
    counts = np.bincount(y)
    explicit = {k: len(y) / (3 * c) for k, c in enumerate(counts)}
    a = _fit(X, y, fast, class_weight="balanced").predict_proba(X)
    b = _fit(X, y, fast, class_weight=explicit).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_class_weight_multiplies_sample_weight(fast):
    X, y = _three_blobs()
    weights = np.linspace(0.5, 2.0, 90)
    class_weight = {0: 2.0, 1: 1.0, 2: 0.5}
    a = TorchMLPClassifier(**fast, class_weight=class_weight).fit(X, y, sample_weight=weights)
    combined = weights * np.array([2.0, 1.0, 0.5])[y]
    b = TorchMLPClassifier(**fast).fit(X, y, sample_weight=combined)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5)


def test_class_weight_is_refused_for_multilabel(fast):
    X, _ = _three_blobs()
    Y = (np.random.RandomState(0).rand(90, 3) > 0.5).astype(int)
    with pytest.raises(ValueError, match="class_weight is not supported for multilabel"):
        _fit(X, Y, fast, class_weight="balanced")


def test_label_smoothing_softens_the_probabilities(fast):
    X, y = _three_blobs()
    params = {**fast, "max_iter": 100, "learning_rate_init": 0.05, "early_stopping": False}
    sharp = _fit(X, y, params).predict_proba(X).max(axis=1)
    smooth = _fit(X, y, params, label_smoothing=0.3).predict_proba(X).max(axis=1)
    assert smooth.mean() < sharp.mean() - 0.05
    assert smooth.max() < 0.95  # the smoothed optimum is 0.8 for the true class


def test_label_smoothing_binary(classification_data, fast):
    X, y = classification_data
    params = {**fast, "max_iter": 100, "learning_rate_init": 0.05, "early_stopping": False}
    sharp = _fit(X, y, params).predict_proba(X).max(axis=1)
    smooth = _fit(X, y, params, label_smoothing=0.4).predict_proba(X).max(axis=1)
    assert smooth.mean() < 0.85 < sharp.mean()  # the smoothed optimum is 0.8


# -------------------------------------------------------------- partial_fit
def test_partial_fit_needs_classes_on_the_first_call(classification_data, fast):
    X, y = classification_data
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        TorchMLPClassifier(**fast).partial_fit(X, y)


def test_partial_fit_with_classes_not_all_in_the_first_batch(fast):
    X, y = _three_blobs()
    clf = TorchMLPClassifier(**fast, learning_rate_init=0.05)
    first = y != 2
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (90, 3)
    for _ in range(30):
        clf.partial_fit(X, y)
    assert accuracy_score(y, clf.predict(X)) > 0.9
    assert clf.n_iter_ == 1 and len(clf.history_) == 31  # n_iter_: epochs of the last call
    assert clf.t_ == first.sum() + 30 * 90


def test_partial_fit_rejects_labels_outside_classes(fast):
    X, y = _three_blobs()
    with pytest.raises(ValueError, match=r"y contains labels .*: \[5\]; the model knows \[0, 1"):
        TorchMLPClassifier(**fast).partial_fit(X, np.where(y == 2, 5, y), classes=[0, 1, 2])
    clf = TorchMLPClassifier(**fast).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"y contains labels not seen in the first fit: "
                                         r"\[7\]; the model knows"):
        clf.partial_fit(X, np.where(y == 2, 7, y))


def test_partial_fit_rejects_other_classes_later(fast):
    X, y = _three_blobs()
    clf = TorchMLPClassifier(**fast).partial_fit(X, y, classes=[0, 1, 2])
    clf.partial_fit(X, y, classes=np.array([2, 1, 0]))  # the same set: accepted
    with pytest.raises(ValueError, match=r"`classes=\[0, 1\]` is not the same as on the "
                                         "first call"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_fit_after_partial_fit_starts_afresh(fast):
    X, y = _three_blobs()
    clf = TorchMLPClassifier(**fast).partial_fit(X, y, classes=[0, 1, 2, 3])
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_warm_start_refuses_new_labels(fast):
    X, y = _three_blobs()
    clf = _fit(X, y, fast, warm_start=True)
    # scikit-learn's message: a warm start needs the same classes
    with pytest.raises(ValueError, match=r"warm_start can only be used where `y` has the "
                                         r"same classes .* Previously got \[0 1 2\]"):
        clf.fit(X, y + 1)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])  # fewer classes too


# ------------------------------------------------------------ stratified split
def test_validation_split_is_stratified(fast):
    # Constant features: the network predicts one class for every row, so its
    # validation accuracy is the share of that class in the validation set.
    X = np.zeros((300, 2))
    y = np.where(np.arange(300) < 30, "rare", "common")  # 10% rare
    for seed in range(4):
        clf = _fit(X, y, {**fast, "random_state": seed, "max_iter": 1}, early_stopping=True)
        assert clf.t_ == 270
        share = 0.9 if clf.predict(X[:1])[0] == "common" else 0.1
        assert clf.validation_scores_[0] == pytest.approx(share, abs=1e-12)


def test_rare_class_with_one_member_still_fits(fast):
    X, y = _three_blobs(n=300)
    y[0] = 9  # one member: no stratification possible
    clf = _fit(X, y, fast)
    assert clf.do_early_stopping_ and 9 in clf.classes_


def test_classifier_scores_well_on_breast_cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    clf = TorchMLPClassifier(device="cpu", random_state=0).fit(X_train, y_train)
    assert clf.do_early_stopping_  # 455 rows: on by default
    assert clf.score(X_test, y_test) > 0.95
    assert clf.best_validation_score_ > 0.9
