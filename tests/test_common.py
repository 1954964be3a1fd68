"""scikit-learn's own estimator checks, on both estimators, with fast settings and defaults."""

import functools

from sklearn.utils.estimator_checks import parametrize_with_checks

from skorchless import TorchMLPClassifier, TorchMLPRegressor

FAST = {
    "hidden_layer_sizes": (32,),
    "max_iter": 100,
    "learning_rate_init": 0.01,
    "random_state": 0,
    "device": "cpu",
}

#: Settings a check runs with, as scikit-learn's own test suite sets its MLPs
#: for the sample-weight checks: a weight of 2 is a repeated row only for a
#: deterministic full-batch solver (a stochastic one draws other mini-batches
#: from the repeated rows, so the two fits agree only in expectation).
CHECK_PARAMS = {
    "check_sample_weight_equivalence_on_dense_data": {"solver": "lbfgs"},
    "check_sample_weight_equivalence_on_sparse_data": {"solver": "lbfgs"},
}


def _check_name(check):
    return (check.func if isinstance(check, functools.partial) else check).__name__


@parametrize_with_checks(
    [TorchMLPRegressor(**FAST), TorchMLPClassifier(**FAST),
     TorchMLPRegressor(), TorchMLPClassifier()],
)
def test_sklearn_compatible(estimator, check):
    check(estimator.set_params(**CHECK_PARAMS.get(_check_name(check), {})))
