"""scikit-learn's own estimator checks, on both estimators, with fast settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skorchless import TorchMLPClassifier, TorchMLPRegressor

FAST = {
    "hidden_layer_sizes": (32,),
    "max_iter": 100,
    "learning_rate_init": 0.01,
    "random_state": 0,
    "device": "cpu",
}

_STOCHASTIC = (
    "weights multiply each sample's loss, which matches repeating the sample only in "
    "expectation: mini-batch order, the validation split and the stochastic optimizer "
    "differ between the weighted and the repeated data (scikit-learn's MLP fails it too)"
)
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC,
    "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC,
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED


@parametrize_with_checks(
    [TorchMLPRegressor(**FAST), TorchMLPClassifier(**FAST),
     TorchMLPRegressor(), TorchMLPClassifier()],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
