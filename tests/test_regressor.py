"""TorchMLPRegressor: shapes, losses, target scaling, weights, validation, training modes."""

import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import r2_score

from skorchless import TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fit(X, y, fast, **params):
    return TorchMLPRegressor(**{**fast, **params}).fit(X, y)


# ------------------------------------------------------------------ shapes
def test_1d_target_gives_1d_predictions(regression_data, fast):
    X, y = regression_data
    reg = _fit(X, y, fast)
    assert reg.predict(X).shape == (60,) and reg.n_outputs_ == 1
    assert reg.predict(X).dtype == np.float64


def test_2d_target_is_multi_output(regression_data, fast):
    X, y = regression_data
    Y = np.column_stack([y, -y, 2 * y])
    reg = _fit(X, Y, fast)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (60, 3)
    assert reg.coefs_[-1].shape == (8, 3)


def test_column_vector_target_warns_and_is_treated_as_1d(regression_data, fast):
    X, y = regression_data
    with pytest.warns(DataConversionWarning, match="column-vector y was passed"):
        reg = _fit(X, y[:, None], fast)
    assert reg.n_outputs_ == 1 and reg.predict(X).shape == (60,)
    np.testing.assert_array_equal(reg.predict(X), _fit(X, y, fast).predict(X))


def test_partial_fit_refuses_another_number_of_outputs(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**fast).partial_fit(X, y)
    with pytest.raises(ValueError, match=r"y has 2 output\(s\) but the model was fitted with 1"):
        reg.partial_fit(X, np.column_stack([y, y]))


def test_one_row_predictions_match_batch_predictions(regression_data, fast):
    X, y = regression_data
    reg = _fit(X, y, fast)
    batch = reg.predict(X)
    for i in (0, 1, 59):
        assert reg.predict(X[i : i + 1])[0] == batch[i]


# ------------------------------------------------------------------- losses
def _constant_model(loss, y, **params):
    """Fit on a constant feature, full-batch: the network can only learn one number."""
    X = np.zeros((len(y), 1))
    params = {"hidden_layer_sizes": (4,), "max_iter": 400, "learning_rate_init": 0.05,
              "batch_size": len(y),
              "early_stopping": False, "n_iter_no_change": 400, "device": "cpu",
              "random_state": 0, "alpha": 0.0, "loss": loss, **params}
    return TorchMLPRegressor(**params).fit(X, y).predict(X[:1])[0]


SKEWED = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 50.0, 100.0])  # mean 16, median 1.5


def test_squared_error_learns_the_mean():
    assert _constant_model("squared_error", SKEWED) == pytest.approx(SKEWED.mean(), rel=1e-2)


def test_absolute_error_learns_the_median():
    assert 1.0 - 0.1 <= _constant_model("absolute_error", SKEWED) <= 2.0 + 0.1


def test_huber_lies_between_median_and_mean_and_follows_delta():
    small_delta = _constant_model("huber", SKEWED, huber_delta=0.01)
    large_delta = _constant_model("huber", SKEWED, huber_delta=100.0)
    assert 0.9 <= small_delta <= 2.5  # about the median
    assert large_delta == pytest.approx(SKEWED.mean(), rel=1e-2)  # about the mean
    assert 2.5 < _constant_model("huber", SKEWED, huber_delta=1.0) < SKEWED.mean()


def test_poisson_learns_the_mean_with_a_log_link():
    counts = np.array([0, 0, 1, 1, 2, 3, 5, 8, 0, 10], dtype=float)
    assert _constant_model("poisson", counts) == pytest.approx(counts.mean(), rel=1e-2)


def test_poisson_predictions_are_positive_and_it_refuses_negative_targets(fast):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 2))
    counts = rng.poisson(np.exp(X[:, 0]))
    reg = _fit(X, counts, fast, loss="poisson")
    assert reg.out_activation_ == "exp" and (reg.predict(X) > 0).all()
    with pytest.raises(ValueError, match="loss='poisson' requires non-negative y"):
        _fit(X, counts - 1.0, fast, loss="poisson")
    with pytest.raises(ValueError, match="loss='poisson' requires y with a positive mean"):
        _fit(X, np.zeros(50), fast, loss="poisson")


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber", "poisson"])
def test_every_loss_learns(loss):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(120, 2))
    y = np.exp(X[:, 0] - X[:, 1])  # positive, for poisson
    reg = TorchMLPRegressor(loss=loss, hidden_layer_sizes=(16,), max_iter=100,
                            learning_rate_init=0.02, early_stopping=False,
                            device="cpu", random_state=0).fit(X, y)
    assert r2_score(y, reg.predict(X)) > 0.9
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


# ------------------------------------------------------------ target scaling
@pytest.mark.parametrize("scale, shift", [(1e-9, 0.0), (1e6, -3e7), (2.0, 5.0), (1e30, 0.0)])
def test_predictions_follow_an_affine_change_of_the_target(regression_data, fast, scale, shift):
    X, y = regression_data
    reference = _fit(X, y, fast, max_iter=10)
    changed = _fit(X, scale * y + shift, fast, max_iter=10)
    assert changed.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(changed.loss_curve_, reference.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(changed.predict(X), scale * reference.predict(X) + shift,
                               rtol=1e-5, atol=1e-5 * abs(scale) * np.abs(y).max())


def test_constant_target_is_predicted(fast):
    X = np.random.RandomState(0).normal(size=(30, 2))
    reg = _fit(X, np.full(30, 7.5), fast, max_iter=100, learning_rate_init=0.01)
    assert np.abs(reg.predict(X) - 7.5).mean() < 0.05
    np.testing.assert_allclose(reg.predict(X), 7.5, atol=0.2)


# ------------------------------------------------------------ sample_weight
FULL_BATCH = {"hidden_layer_sizes": (8,), "max_iter": 20, "device": "cpu", "random_state": 0,
              "batch_size": 10_000, "shuffle": False, "alpha": 0.0, "input_scaling": None,
              "early_stopping": False, "n_iter_no_change": 1000}


def test_zero_weights_are_dropped_rows(regression_data):
    X, y = regression_data
    weights = np.where(np.arange(60) % 3 == 0, 0.0, 1.0)
    weighted = TorchMLPRegressor(**FULL_BATCH).fit(X, y, sample_weight=weights)
    dropped = TorchMLPRegressor(**FULL_BATCH).fit(X[weights > 0], y[weights > 0])
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), rtol=1e-4, atol=1e-4)


def test_integer_weights_are_repeated_rows(regression_data):
    X, y = regression_data
    weights = np.arange(60) % 3 + 1
    weighted = TorchMLPRegressor(**FULL_BATCH).fit(X, y, sample_weight=weights)
    repeated = TorchMLPRegressor(**FULL_BATCH).fit(np.repeat(X, weights, axis=0),
                                                   np.repeat(y, weights))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-4, atol=1e-4)


def test_weights_change_the_fit(regression_data, fast):
    X, y = regression_data
    weights = np.where(X[:, 0] > 0, 10.0, 0.1)
    plain = _fit(X, y, fast).predict(X)
    weighted = TorchMLPRegressor(**fast).fit(X, y, sample_weight=weights).predict(X)
    assert np.abs(plain - weighted).max() > 1e-3


def test_validation_loss_is_weighted(regression_data, fast):
    X, y = regression_data
    X_val, y_val = X[:20] + 0.1, y[:20]
    w_val = np.where(np.arange(20) < 10, 1.0, 0.0)
    params = {**fast, "n_iter_no_change": 100}
    weighted = TorchMLPRegressor(**params).fit(X, y, X_val=X_val, y_val=y_val,
                                               sample_weight_val=w_val)
    dropped = TorchMLPRegressor(**params).fit(X, y, X_val=X_val[:10], y_val=y_val[:10])
    unweighted = TorchMLPRegressor(**params).fit(X, y, X_val=X_val, y_val=y_val)
    np.testing.assert_allclose(weighted.validation_loss_curve_,
                               dropped.validation_loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(weighted.validation_scores_, dropped.validation_scores_,
                               rtol=1e-5)
    assert not np.allclose(weighted.validation_loss_curve_, unweighted.validation_loss_curve_)


# -------------------------------------------------------- validation / early stopping
def test_given_validation_set_is_used_instead_of_a_split(regression_data, fast):
    X, y = regression_data
    X_val, y_val = X[:15] * 0.5, y[:15]
    reg = TorchMLPRegressor(**{**fast, "max_iter": 8}).fit(X, y, X_val=X_val, y_val=y_val)
    assert reg.do_early_stopping_
    assert reg.t_ == 60 * reg.n_iter_  # every row trained on
    assert len(reg.validation_scores_) == reg.n_iter_
    # validated in float32 during training; predict runs in float64
    assert reg.best_validation_score_ == pytest.approx(r2_score(y_val, reg.predict(X_val)),
                                                       abs=1e-6)
    assert reg.best_validation_loss_ == min(reg.validation_loss_curve_)


def test_validation_set_with_another_number_of_outputs(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**fast).fit(X, y, X_val=X, y_val=y)  # a first fit
    Y = np.column_stack([y, y])
    reg.fit(X, Y, X_val=X, y_val=Y)  # a refit may change the number of outputs
    assert reg.n_outputs_ == 2
    with pytest.raises(ValueError, match=r"y has 1 output\(s\) but the model was fitted "
                                         "with 2"):
        reg.fit(X, Y, X_val=X, y_val=y)


def test_validation_set_errors(regression_data, fast):
    X, y = regression_data
    with pytest.raises(ValueError, match="X_val is provided, but y_val was not provided"):
        TorchMLPRegressor(**fast).fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="y_val is provided, but X_val was not provided"):
        TorchMLPRegressor(**fast).fit(X, y, y_val=y)
    with pytest.raises(ValueError, match="early_stopping=False"):
        TorchMLPRegressor(**fast, early_stopping=False).fit(X, y, X_val=X, y_val=y)
    with pytest.raises(ValueError, match="X has 2 features, but .* expecting 3"):
        TorchMLPRegressor(**fast).fit(X, y, X_val=X[:, :2], y_val=y)


def test_internal_split_never_trains_on_the_validation_rows(fast):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    reg = TorchMLPRegressor(**fast).fit(X, X[:, 0])
    assert reg.do_early_stopping_
    assert reg.t_ == 270 * reg.n_iter_  # validation_fraction=0.1 held out


@pytest.mark.parametrize("n_samples, early_stopping, expected", [
    (50, "auto", True), (49, "auto", False), (30, True, True), (300, False, False),
])
def test_early_stopping_auto_needs_50_samples(n_samples, early_stopping, expected, fast):
    X = np.random.RandomState(0).normal(size=(n_samples, 2))
    reg = _fit(X, X[:, 0], fast, early_stopping=early_stopping, max_iter=2)
    assert reg.do_early_stopping_ is expected
    assert (reg.validation_scores_ is not None) is expected
    assert (reg.best_loss_ is None) is expected


def test_early_stopping_stops_and_keeps_the_best_epoch(fast):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2))
    y = rng.normal(size=300)  # noise: the validation loss stops improving quickly
    reg = _fit(X, y, fast, hidden_layer_sizes=(64,), max_iter=300, n_iter_no_change=5,
               learning_rate_init=0.01)
    assert reg.stop_reason_ == "no_improvement" and reg.n_iter_ < 300
    curve = reg.validation_loss_curve_
    assert reg.best_epoch_ == 1 + int(np.argmin(curve))
    assert reg.n_iter_ >= reg.best_epoch_ + 5  # patience ran out after the best epoch
    assert reg.best_validation_loss_ == min(curve)
    best_row = reg.history_[reg.best_epoch_ - 1]
    assert best_row["is_best"] and reg.best_validation_score_ == best_row["valid_score"]


# ------------------------------------------------------- warm start, partial_fit
def test_warm_start_continues_from_the_previous_weights(regression_data, fast):
    X, y = regression_data
    reg = _fit(X, y, fast, max_iter=3, early_stopping=False)
    coefs = reg.coefs_
    reg.set_params(warm_start=True, max_iter=2, learning_rate_init=1e-12)
    reg.fit(X, y)
    for before, after in zip(coefs, reg.coefs_, strict=True):
        np.testing.assert_allclose(before, after, atol=1e-6)
    assert [h["epoch"] for h in reg.history_] == [1, 2, 3, 4, 5]
    assert reg.n_iter_ == 2 and reg.t_ == 5 * 60


def test_without_warm_start_fit_starts_afresh(regression_data, fast):
    X, y = regression_data
    reg = _fit(X, y, fast, max_iter=3, early_stopping=False)
    first = reg.predict(X)
    reg.set_params(max_iter=2).fit(X, y)
    assert len(reg.history_) == 2 and reg.t_ == 2 * 60
    reg.set_params(max_iter=3).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), first)


def test_partial_fit_runs_one_epoch_per_call(regression_data, fast):
    X, y = regression_data
    reg = TorchMLPRegressor(**fast, learning_rate_init=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for call in range(1, 31):
            reg.partial_fit(X, y)
            # as in scikit-learn, n_iter_ counts the epochs of the last call
            assert reg.n_iter_ == 1 and len(reg.history_) == call and reg.t_ == 60 * call
    assert not reg.do_early_stopping_ and reg.validation_scores_ is None
    assert reg.loss_curve_[-1] < 0.5 * reg.loss_curve_[0]


def test_partial_fit_after_fit_continues(regression_data, fast):
    X, y = regression_data
    reg = _fit(X, y, fast, max_iter=4)
    before = reg.coefs_[0].copy()
    reg.partial_fit(X, y)
    assert len(reg.history_) == 5 and reg.history_[-1]["epoch"] == 5
    assert np.abs(reg.coefs_[0] - before).max() < 0.1  # a step, not a restart


def test_lbfgs(regression_data):
    X, y = regression_data
    reg = TorchMLPRegressor(solver="lbfgs", hidden_layer_sizes=(16,), max_iter=500,
                            device="cpu", random_state=0).fit(X, y)
    assert not reg.do_early_stopping_
    assert reg.score(X, y) > 0.95
    # one row of the history per L-BFGS iteration; it converged before the budget
    assert reg.stop_reason_ == "converged" and 1 < reg.n_iter_ < 500
    assert len(reg.loss_curve_) == reg.n_iter_ and reg.t_ == len(X) * reg.n_iter_
    # float64 data: trained (and kept) in float64, as scikit-learn's L-BFGS
    assert reg.module_[0].weight.dtype == torch.float64
    float32 = TorchMLPRegressor(solver="lbfgs", hidden_layer_sizes=(4,), max_iter=5,
                                device="cpu", random_state=0).fit(X.astype(np.float32), y)
    assert float32.module_[0].weight.dtype == torch.float32
    warm = reg.set_params(solver="adam", warm_start=True, max_iter=2).fit(X, y)
    assert warm.module_[0].weight.dtype == torch.float32  # adam trains in float32


def test_sgd_invscaling_lowers_the_learning_rate(regression_data, fast):
    X, y = regression_data
    reg = _fit(X, y, fast, solver="sgd", learning_rate="invscaling",
               learning_rate_init=0.1, max_iter=4)
    rates = [h["learning_rate"] for h in reg.history_]
    assert rates[0] == 0.1 and all(a > b for a, b in zip(rates, rates[1:], strict=False))


def test_partial_fit_keeps_decaying_an_invscaling_rate(regression_data, fast):
    # As scikit-learn's optimizer does: the rate follows the samples seen over
    # all the calls, lr_init / (t + 1) ** power_t, instead of restarting each call.
    X, y = regression_data
    reg = TorchMLPRegressor(**fast, solver="sgd", learning_rate="invscaling",
                            learning_rate_init=0.1)
    for _ in range(4):
        reg.partial_fit(X, y)
    rates = [h["learning_rate"] for h in reg.history_]
    expected = [0.1] + [0.1 / (len(X) * call + 1) ** 0.5 for call in range(1, 4)]
    np.testing.assert_allclose(rates, expected)


# -------------------------------------------------- warnings, verbose, attributes
def test_convergence_warning_when_max_iter_runs_out(regression_data, fast):
    X, y = regression_data
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(3\) reached"):
        _fit(X, y, fast, max_iter=3)


def test_no_convergence_warning_when_early_stopping_ends_training(regression_data, fast):
    X, y = regression_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = _fit(X, y, fast, tol=1e9, n_iter_no_change=2, max_iter=50)
    # the first epoch improves on the starting point; then 2 epochs of patience
    assert reg.stop_reason_ == "no_improvement" and reg.n_iter_ == 3


def test_verbose_prints_one_line_per_epoch_with_a_best_mark(fast, capsys):
    X = np.random.RandomState(0).normal(size=(250, 2))
    reg = _fit(X, X[:, 0], fast, verbose=1, max_iter=4)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == reg.n_iter_ == 4
    # scikit-learn's "Iteration N, loss = ..." first, then the validation numbers
    pattern = (r"Iteration (\d+), loss = \d+\.\d{8}, validation loss = \d+\.\d{8}, "
               r"validation score = -?\d+\.\d{6}, \d+\.\d{2} s( \*)?")
    for line, row in zip(lines, reg.history_, strict=True):
        match = re.fullmatch(pattern, line)
        assert match, line
        assert int(match.group(1)) == row["epoch"]
        assert (match.group(2) is not None) == row["is_best"]


def test_silent_by_default(regression_data, fast, capsys):
    _fit(*regression_data, fast)
    assert capsys.readouterr().out == ""


def test_fitted_attributes(regression_data, fast):
    X, y = regression_data
    reg = _fit(X, y, fast, hidden_layer_sizes=(6, 4), early_stopping=False)
    assert reg.n_features_in_ == 3 and reg.out_activation_ == "identity"
    assert [c.shape for c in reg.coefs_] == [(3, 6), (6, 4), (4, 1)]
    assert [b.shape for b in reg.intercepts_] == [(6,), (4,), (1,)]
    assert len(reg.loss_curve_) == reg.n_iter_ == len(reg.history_)
    assert reg.loss_ == reg.loss_curve_[-1] and reg.best_loss_ == min(reg.loss_curve_)
    assert isinstance(reg.module_, torch.nn.Module)
    first = reg.module_[0]
    np.testing.assert_array_equal(reg.coefs_[0], first.weight.detach().numpy().T)


# ------------------------------------------------------------- determinism
def test_fixed_random_state_is_bit_identical(regression_data, fast):
    X, y = regression_data
    params = {**fast, "dropout": 0.2, "max_iter": 8}
    a, b = _fit(X, y, params), _fit(X, y, params)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.loss_curve_ == b.loss_curve_
    c = _fit(X, y, {**params, "random_state": 1})
    assert not np.array_equal(a.predict(X), c.predict(X))


def test_fit_seeds_no_global_generator(regression_data, fast):
    X, y = regression_data
    torch_seed, torch_state = torch.initial_seed(), torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002 -- the global one
    _fit(X, y, fast, dropout=0.3)
    TorchMLPRegressor(**fast).partial_fit(X, y)
    assert torch.initial_seed() == torch_seed
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002


def test_random_state_none_draws_new_seeds(regression_data, fast):
    X, y = regression_data
    params = {**fast, "random_state": None}
    assert not np.array_equal(_fit(X, y, params).predict(X), _fit(X, y, params).predict(X))
