"""Parameters: __init__ only assigns; every invalid value raises at fit, naming it."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from skorchless import Callback, TorchMLPClassifier, TorchMLPRegressor
from skorchless._params import batch_size, max_epochs

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ESTIMATORS = [TorchMLPRegressor, TorchMLPClassifier]

INVALID_SHARED = [
    ("activation", "softplus"),
    ("solver", "newton"),
    ("alpha", -1.0),
    ("batch_size", 0),
    ("batch_size", "big"),
    ("learning_rate", "fast"),
    ("learning_rate_init", 0.0),
    ("learning_rate_init", -0.1),
    ("power_t", -0.5),
    ("max_iter", 0),
    ("max_iter", 2.5),
    ("max_iter", "many"),
    ("shuffle", "yes"),
    ("random_state", "seed"),
    ("tol", -1e-4),
    ("warm_start", 1.5),
    ("momentum", 1.5),
    ("nesterovs_momentum", "no"),
    ("early_stopping", "sometimes"),
    ("validation_fraction", 0.0),
    ("validation_fraction", 1.0),
    ("beta_1", 1.0),
    ("beta_2", -0.1),
    ("epsilon", 0.0),
    ("n_iter_no_change", 0),
    ("max_fun", 0),
    ("dropout", 1.0),
    ("dropout", -0.1),
    ("input_scaling", "minmax"),
    ("device", 3),
    ("scoring", "accuracyy"),
    ("scoring", 3),
    ("ema_decay", 1.0),
    ("n_bins", 1),
    ("n_bins", "many"),
    ("verbose", -1),
    ("verbose", "loud"),
    ("callbacks", "progress"),
    ("hidden_layer_sizes", "wide"),
]
INVALID_REGRESSOR = [("loss", "mae"), ("huber_delta", 0.0)]
INVALID_CLASSIFIER = [("class_weight", "weird"), ("label_smoothing", 1.0),
                      ("label_smoothing", -0.1), ("calibration", "isotonic")]
CASES = (
    [(est, *case) for est in ESTIMATORS for case in INVALID_SHARED]
    + [(TorchMLPRegressor, *case) for case in INVALID_REGRESSOR]
    + [(TorchMLPClassifier, *case) for case in INVALID_CLASSIFIER]
)


def _target(Estimator, X):
    return X[:, 0] > 0 if Estimator is TorchMLPClassifier else X[:, 0]


@pytest.mark.parametrize(
    "Estimator, name, value", CASES,
    ids=[f"{e.__name__}-{n}={v!r}" for e, n, v in CASES],
)
def test_invalid_parameter_raises_at_fit_naming_it(Estimator, name, value, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    est = Estimator(**{**fast, name: value})  # __init__ never validates
    assert est.get_params()[name] is value
    with pytest.raises(InvalidParameterError,
                       match=rf"The '{name}' parameter of {Estimator.__name__} must be .*"
                             rf"Got .* instead"):
        est.fit(X, _target(Estimator, X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_invalid_parameter_raises_in_partial_fit(Estimator, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    est = Estimator(**{**fast, "alpha": -1.0})
    kwargs = {"classes": [False, True]} if Estimator is TorchMLPClassifier else {}
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        est.partial_fit(X, _target(Estimator, X), **kwargs)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("sizes", [(0,), (4, -1), (3.5,), [2, None], (True, 4)])
def test_hidden_layer_sizes_must_hold_positive_integers(Estimator, sizes, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    est = Estimator(**{**fast, "hidden_layer_sizes": sizes})
    with pytest.raises(ValueError, match="'hidden_layer_sizes' parameter"):
        est.fit(X, _target(Estimator, X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_hidden_layer_sizes_rejects_a_string(Estimator, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="'hidden_layer_sizes' parameter"):
        Estimator(**{**fast, "hidden_layer_sizes": "64"}).fit(X, _target(Estimator, X))


@pytest.mark.parametrize(
    "sizes, widths",
    [(5, [5]), ([3, 2], [3, 2]), (np.array([4, 3]), [4, 3]), ((), [])],
)
def test_hidden_layer_sizes_accepted_forms(sizes, widths, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    reg = TorchMLPRegressor(**{**fast, "hidden_layer_sizes": sizes}).fit(X, X[:, 0])
    shapes = [coef.shape for coef in reg.coefs_]
    assert shapes == list(zip([2, *widths], [*widths, 1], strict=True))
    assert reg.n_layers_ == len(widths) + 2


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "tpu", ""])
def test_unknown_device_names_the_parameter(device, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=r"The 'device' parameter must be 'auto', 'cpu'"):
        TorchMLPRegressor(**{**fast, "device": device}).fit(X, X[:, 0])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_absent_cuda_device_is_a_clear_error(device, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="'device' parameter is .*CUDA is not available"):
        TorchMLPClassifier(**{**fast, "device": device}).fit(X, X[:, 0] > 0)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu"), "auto"])
def test_valid_devices(device, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    reg = TorchMLPRegressor(**{**fast, "device": device}).fit(X, X[:, 0])
    expected = "cuda" if device == "auto" and torch.cuda.is_available() else "cpu"
    assert reg.device_.type == expected
    assert next(reg.module_.parameters()).device.type == expected


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_callbacks_must_be_callback_instances(Estimator, fast):
    X = np.random.RandomState(0).normal(size=(20, 2))
    est = Estimator(**{**fast, "callbacks": [print]})
    with pytest.raises(TypeError, match="'callbacks' parameter must be a list of "
                                        "skorchless.Callback"):
        est.fit(X, _target(Estimator, X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_init_only_assigns_and_clone_keeps_every_parameter(Estimator):
    params = {"hidden_layer_sizes": (3, 2), "alpha": 0.5, "dropout": 0.25,
              "callbacks": [Callback()], "early_stopping": True, "device": "cpu"}
    est = Estimator(**params)
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]
    for name, value in params.items():
        assert getattr(est, name) is value
    cloned = clone(est)
    assert cloned.get_params().keys() == est.get_params().keys()
    assert cloned.get_params()["alpha"] == 0.5


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_parameters_match_scikit_learn_mlp(Estimator):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    sklearn_mlp = MLPRegressor if Estimator is TorchMLPRegressor else MLPClassifier
    missing = set(sklearn_mlp().get_params()) - set(Estimator().get_params())
    assert not missing


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_is_not_available_with_lbfgs(Estimator):
    assert hasattr(Estimator(solver="adam"), "partial_fit")
    assert not hasattr(Estimator(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        _ = Estimator(solver="lbfgs").partial_fit
    assert "solver='lbfgs'" in str(info.value.__cause__)


def _every_parameter_changed(Estimator):
    # A non-default valid value for every parameter.
    changed = {
        "hidden_layer_sizes": (7, 3), "activation": "tanh", "solver": "sgd", "alpha": 0.01,
        "batch_size": 16, "learning_rate": "invscaling", "learning_rate_init": 0.002,
        "power_t": 0.25, "max_iter": 3, "shuffle": False, "random_state": 5, "tol": 1e-3,
        "verbose": 0, "warm_start": True, "momentum": 0.8, "nesterovs_momentum": False,
        "early_stopping": True, "validation_fraction": 0.3, "beta_1": 0.8, "beta_2": 0.99,
        "epsilon": 1e-7, "n_iter_no_change": 4, "scoring": "r2", "max_fun": 99,
        "dropout": 0.1, "ema_decay": 0.9, "input_scaling": "standard", "n_bins": 4,
        "device": "cpu", "callbacks": [Callback()],
    }
    if Estimator is TorchMLPRegressor:
        changed |= {"loss": "huber", "huber_delta": 2.0}
    else:
        changed |= {"class_weight": "balanced", "label_smoothing": 0.05, "scoring": "f1",
                    "calibration": None}
    return changed


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_parameter_round_trips_through_get_and_set_params(Estimator):
    changed = _every_parameter_changed(Estimator)
    assert set(changed) == set(Estimator().get_params())  # the list covers them all
    est = Estimator(**changed)
    assert est.get_params() == changed
    assert Estimator(**est.get_params()).get_params() == changed
    assert Estimator().set_params(**changed).get_params() == changed
    cloned = clone(est).get_params()  # clone copies the callbacks, as any non-estimator
    assert [type(c) for c in cloned.pop("callbacks")] == [Callback]
    assert cloned == {k: v for k, v in changed.items() if k != "callbacks"}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_clone_of_a_fitted_estimator_is_unfitted_with_the_same_parameters(Estimator, fast):
    from sklearn.exceptions import NotFittedError

    X = np.random.RandomState(0).normal(size=(40, 2))
    fitted = Estimator(**fast).fit(X, _target(Estimator, X))
    cloned = clone(fitted)
    assert cloned.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    refit = cloned.fit(X, _target(Estimator, X))
    np.testing.assert_array_equal(refit.predict(X), fitted.predict(X))  # same seed, same fit


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_behind_a_pandas_output_pipeline(Estimator, fast):
    import pandas as pd
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = pd.DataFrame(np.random.RandomState(0).normal(size=(40, 2)), columns=["a", "b"])
    y = _target(Estimator, X.to_numpy())
    pipe = make_pipeline(StandardScaler(), Estimator(**fast)).set_output(transform="pandas")
    pipe.fit(X, y)
    assert pipe[-1].feature_names_in_.tolist() == ["a", "b"]
    assert pipe.predict(X).shape == (40,)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_tags_tell_the_truth(Estimator, fast):
    from scipy import sparse
    from sklearn.utils import get_tags

    tags = get_tags(Estimator())
    X = np.random.RandomState(0).normal(size=(40, 2))
    y = _target(Estimator, X)
    assert tags.input_tags.sparse
    Estimator(**fast).fit(sparse.csr_matrix(X), y).predict(sparse.csr_matrix(X))
    assert tags.target_tags.multi_output
    Y = np.column_stack([y, y]).astype(int if Estimator is TorchMLPClassifier else float)
    assert Estimator(**fast).fit(X, Y).predict(X).shape == (40, 2)
    assert tags.requires_fit and not tags.non_deterministic


# ------------------------------------------------ what "auto" resolves to
@pytest.mark.parametrize("n_samples, batch, epochs", [
    (1, 1, 10_000), (10, 1, 1000), (80, 5, 625), (1000, 63, 625), (4096, 256, 625),
    (10_000, 256, 250), (12_800, 256, 200), (100_000, 256, 200),
])
def test_auto_batch_size_and_epochs_follow_the_number_of_rows(n_samples, batch, epochs):
    est = TorchMLPRegressor()
    assert batch_size(est, n_samples) == batch
    assert max_epochs(est, n_samples, batch) == epochs
    steps_per_epoch = math.ceil(n_samples / batch)
    assert steps_per_epoch >= min(16, n_samples)
    assert epochs == 200 or epochs * steps_per_epoch >= 10_000  # 10,000 steps at least


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_explicit_batch_size_and_max_iter_are_used_as_they_are(Estimator):
    X = np.random.RandomState(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    est = Estimator(hidden_layer_sizes=(4,), batch_size=30, max_iter=7, tol=0.0,
                    n_iter_no_change=100, random_state=0, device="cpu").fit(X, y)
    assert est.n_iter_ == 7 and est.t_ == 7 * 30
    lbfgs = Estimator(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0, device="cpu")
    assert lbfgs.get_params()["max_iter"] == "auto"
    assert max_epochs(lbfgs, 30, 30) == 200  # scikit-learn's iterations


def test_the_convergence_warning_names_the_epochs_run():
    X = np.random.RandomState(0).normal(size=(10, 2))
    reg = TorchMLPRegressor(hidden_layer_sizes=(4,), tol=0.0, n_iter_no_change=10**6,
                            random_state=0, device="cpu")
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(1000\) reached"):
        reg.fit(X, X[:, 0])
    assert reg.n_iter_ == 1000 and reg.t_ == 1000 * 10  # 10 steps of one row per epoch
