"""The estimator shared by the regressor and the classifier.

``fit`` reads top to bottom: validate and encode -> split -> fit the encoders
and build the network -> train (the engine) -> store fitted attributes. What
differs between the tasks is a target object (``_targets``) that each
subclass makes in ``_make_target``; what lies between the user's table and
the network's input is the ``InputEncoder`` (``_inputs``).
"""

import math
import warnings
from abc import ABC, abstractmethod

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.metrics import check_scoring
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _params
from ._compat import check_sample_weight, fit_context
from ._engine.averaging import WeightAverage
from ._engine.calibration import fit_temperature, scale_outputs
from ._engine.callbacks import EarlyStopping, EpochLogger
from ._engine.lbfgs import train_lbfgs
from ._engine.loop import TensorData, predict_raw, train
from ._engine.network import build_mlp, linear_layers, use_generator
from ._engine.optim import make_optimizer
from ._engine.schedules import LearningRateSchedule
from ._inputs import InputEncoder, split_validation, take_rows
from ._persistence.pickling import PickleMixin
from ._predictor import current_predictor, fitting
from ._progress import ProgressBar, progress_bar_visible
from ._results import store_result
from ._shift import warn_if_untransformed
from ._tensors import from_torch, resolve_device, to_numpy, to_tensor

#: scikit-learn's MLP says this when training leaves non-finite weights.
NON_FINITE_WEIGHTS = ("Solver produced non-finite parameter weights. The input data may "
                      "contain large values and need to be preprocessed.")


class BaseTorchMLP(PickleMixin, BaseEstimator, ABC):
    """Shared machinery of ``TorchMLPRegressor`` and ``TorchMLPClassifier``.

    Not for direct use: see the subclasses for the parameters.
    """

    _parameter_constraints: dict = _params.PARAMETER_CONSTRAINTS

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        scoring,
        max_fun,
        dropout,
        ema_decay,
        input_scaling,
        n_bins,
        device,
        callbacks,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.scoring = scoring
        self.max_fun = max_fun
        self.dropout = dropout
        self.ema_decay = ema_decay
        self.input_scaling = input_scaling
        self.n_bins = n_bins
        self.device = device
        self.callbacks = callbacks

    @abstractmethod
    def _make_target(self):
        """Return the unfitted target object of the task (``_targets``)."""

    # -------------------------------------------------------------- fitting
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit the network to ``X, y``, holding out a validation set if enabled.

        With early stopping on (see ``early_stopping``), a seeded split of
        ``validation_fraction`` of the rows -- or ``X_val, y_val`` when given
        -- is never trained on; training stops after ``n_iter_no_change``
        epochs without an improvement of the validation loss greater than
        ``tol``, and the weights of the best epoch are restored.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data: numpy array, list or pandas DataFrame.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the training (and validation) loss.
        X_val, y_val : array-like, default=None
            Validation data to use instead of an internal split. Requires
            ``early_stopping`` to be ``"auto"`` or True.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)

    def _check_solver(self):
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers; "
                f"solver={self.solver!r} is not one. Use 'adam', 'adamw' or 'sgd'."
            )
        return True

    def _fit(self, X, y, sample_weight=None, X_val=None, y_val=None,
             sample_weight_val=None, *, incremental=False, classes=None):
        with fitting(self):  # no prepared predict path meanwhile (see _predictor)
            return self._fit_network(X, y, sample_weight, X_val, y_val, sample_weight_val,
                                     incremental=incremental, classes=classes)

    def _fit_network(self, X, y, sample_weight, X_val, y_val, sample_weight_val, *,
                     incremental, classes):
        first_pass = not hasattr(self, "module_") or not (self.warm_start or incremental)
        _params.check_params(self)
        if incremental and self.early_stopping is True:
            raise ValueError(
                "partial_fit does not support early_stopping=True: it holds out no "
                "validation set. Set early_stopping to 'auto' or False."
            )
        if first_pass:
            self._inputs = InputEncoder(self.input_scaling, self.n_bins)
            self._target = self._make_target()
        train_rows = self._checked(X, y, sample_weight, reset=first_pass, classes=classes,
                                   same_classes=not (first_pass or incremental))
        valid = self._validation_set(X_val, y_val, sample_weight_val, incremental)
        if valid is not None:
            warn_if_untransformed(self, train_rows[0], valid[0])
        rng = check_random_state(self.random_state)
        split_seed, init_seed, shuffle_seed = rng.randint(np.iinfo(np.int32).max, size=3)

        self.do_early_stopping_ = valid is not None or (
            not incremental and _params.early_stopping_on(self, len(train_rows[1]))
        )
        if self.do_early_stopping_ and valid is None:
            train_rows, valid = self._split(train_rows, split_seed)
        train_data = self._prepare_module(train_rows, first_pass, init_seed)
        saved = self.__dict__.pop("_generator_state", None)  # from a pickle
        if first_pass or not incremental or not hasattr(self, "_generator"):
            self._generator = torch.Generator(self.device_).manual_seed(int(shuffle_seed))
            if incremental and not first_pass and saved is not None:
                self._generator.set_state(saved)
        use_generator(self.module_, self._generator)

        if self._target.is_classifier:
            self.temperature_ = 1.0  # until a validation set calibrates it
        if self.solver == "lbfgs":
            weights = train_rows[2]
            result = self._train_lbfgs(
                train_data, len(train_data) if weights is None else float(weights.sum()))
        else:
            result = self._train_stochastic(train_data, valid, incremental)
        if not result.finite_outputs or (
                result.stop_reason == "diverged" and result.best_epoch < len(self.history_) + 1):
            raise ValueError(
                f"{NON_FINITE_WEIGHTS} The loss was not finite from the first epoch "
                "on: scale X (or use input_scaling='robust'), or lower "
                "'learning_rate_init'."
            )
        store_result(self, result, incremental)
        return self

    def _checked(self, X, y, sample_weight, *, reset, classes=None, same_classes=False):
        """Validate ``X``, encode ``y`` and check the weights: ``(X, y, weight)``."""
        target = self._target
        X, y, sample_weight = (from_torch(value, name) for value, name in
                               ((X, "X"), (y, "y"), (sample_weight, "sample_weight")))
        X, y = self._inputs.validate(self, X, y, reset=reset,
                                     y_numeric=not target.is_classifier)
        y = target.encode(y, fit=reset, classes=classes, same_classes=same_classes)
        if reset:  # here, so that partial_fit's next call sees classes_
            # float32 input: float32 weights and predictions; else float64 (as
            # scikit-learn's MLP); the network trains in float32 except with
            # L-BFGS (see _train_dtype).
            self._dtype = np.dtype(np.float32 if getattr(X, "dtype", None) == np.float32
                                   else np.float64)
            self.n_outputs_ = target.n_outputs
            self.out_activation_ = target.out_activation
            if target.is_classifier:
                self.classes_ = target.classes_
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        implied = target.sample_weight(y)
        if implied is not None:
            sample_weight = implied if sample_weight is None else sample_weight * implied
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError("sample_weight must not be all zero.")
        return X, y, sample_weight

    def _validation_set(self, X_val, y_val, sample_weight_val, incremental):
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
            raise ValueError(f"{given} is provided, but {missing} was not provided.")
        if incremental:
            raise ValueError("partial_fit does not take a validation set.")
        if self.early_stopping is False or self.solver == "lbfgs":
            raise ValueError(
                "X_val and y_val are passed to fit while early_stopping=False or "
                "solver='lbfgs', which use no validation set. "
                "Set early_stopping to 'auto' or True to use them."
            )
        return self._checked(X_val, y_val, sample_weight_val, reset=False)

    def _split(self, rows, seed):
        """Split off the validation rows: ``(X, y, w)`` for training, and for validation."""
        y = rows[1]
        train_idx, valid_idx = split_validation(
            y, self.validation_fraction, stratify=self._target.stratify(y), random_state=seed,
        )
        return (tuple(take_rows(a, train_idx) for a in rows),
                tuple(take_rows(a, valid_idx) for a in rows))

    def _prepare_module(self, rows, first_pass, init_seed):
        """Fit the encoders and build the network on a first pass; return the training tensors."""
        X, y, sample_weight = rows
        device = resolve_device(self.device)
        if first_pass:
            X = self._inputs.fit_transform(X, sample_weight)
            self._target.fit(y, sample_weight)
            self.module_ = build_mlp(
                self._inputs.n_columns_, _params.hidden_sizes(self), self._target.n_outputs,
                activation=self.activation, dropout=self.dropout,
                init_generator=torch.Generator().manual_seed(int(init_seed)),
                device=device,
            )
            self._optimizer = None
            self.history_, self.t_ = [], 0
        else:
            X = self._inputs.transform(X)
            if self.device_ != device:
                self.module_.to(device)
                self._optimizer = None
        self.device_ = device
        dtype = self._train_dtype()
        if next(self.module_.parameters()).dtype != dtype:  # a warm start with another solver
            self.module_.to(dtype)
            self._optimizer = None
        return self._tensors(X, y, sample_weight)

    def _train_dtype(self):
        # L-BFGS trains in the dtype of the data, as scikit-learn's MLP does: its
        # line search and curvature pairs are only as exact as the loss is, and
        # its data are small. The stochastic solvers train in float32, whose
        # rounding is far below their own noise, at twice the speed.
        if self.solver == "lbfgs" and self._fit_dtype == np.float64:
            return torch.float64
        return torch.float32

    def _tensors(self, X, y, sample_weight):
        """Return encoded rows as the engine takes them (weights normalised to mean 1)."""
        y = self._target.to_network(y)
        if sample_weight is not None:
            sample_weight = sample_weight / sample_weight.mean()
            if (sample_weight == 1.0).all():  # equal weights: the unweighted computation
                sample_weight = None
        dtype = next(self.module_.parameters()).dtype
        y_dtype = torch.int64 if y.dtype.kind in "iu" else dtype
        try:
            X = to_tensor(X, self.device_, dtype=dtype, name="X")
        except ValueError as exc:
            raise ValueError(f"{NON_FINITE_WEIGHTS} {exc}") from None
        return TensorData(
            X,
            to_tensor(y, self.device_, dtype=y_dtype, name="y"),
            None if sample_weight is None else to_tensor(sample_weight, self.device_,
                                                         dtype=dtype),
        )

    def _train_lbfgs(self, train_data, total_weight):
        # The penalty is divided by the total weight, as in scikit-learn's MLP:
        # a weight of 2 is the same fit as a repeated row.
        return train_lbfgs(
            self.module_, train_data,
            loss_fn=self._target.loss_function(),
            l2_penalty=self.alpha / total_weight,
            max_iter=_params.max_epochs(self, len(train_data), len(train_data)),
            max_fun=self.max_fun,
            tol=self.tol,
            first_epoch=len(self.history_) + 1,
            callbacks=self._callbacks(),
        )

    def _train_stochastic(self, train_data, valid, incremental):
        batch_size = _params.batch_size(self, len(train_data))
        max_epochs = _params.max_epochs(self, len(train_data), batch_size)
        saved = self.__dict__.pop("_optimizer_state", None)  # from a pickle
        if not incremental or getattr(self, "_optimizer", None) is None:
            self._optimizer = make_optimizer(
                self.module_, self.solver, learning_rate_init=self.learning_rate_init,
                alpha=self.alpha, batch_size=batch_size, momentum=self.momentum,
                nesterovs_momentum=self.nesterovs_momentum, beta_1=self.beta_1,
                beta_2=self.beta_2, epsilon=self.epsilon,
            )
            self._schedule = None
            if incremental and saved is not None:
                _resume(self._optimizer, saved)
        kind = _params.schedule_kind(self, incremental)
        if getattr(self, "_schedule", None) is None or self._schedule.kind != kind:
            # Kept across partial_fit calls, as scikit-learn keeps its optimizer.
            self._schedule = LearningRateSchedule(
                self._optimizer, kind, self.learning_rate_init, self.power_t,
                max_epochs=max_epochs, samples_seen=self.t_,
            )
        valid_data = score_fn = None
        if valid is not None:
            X_valid, y_valid, w_valid = valid
            valid_data = self._tensors(self._inputs.transform(X_valid), y_valid, w_valid)
            score_fn = self._score_function(X_valid, y_valid, w_valid)
        average = None  # partial_fit never averages: each call goes on from the trained weights
        if self.ema_decay and not incremental:
            average = WeightAverage(self.module_, self.ema_decay,
                                    steps_per_epoch=math.ceil(len(train_data) / batch_size))
        result = train(
            self.module_, train_data, valid_data,
            loss_fn=self._target.loss_function(),
            optimizer=self._optimizer,
            schedule=self._schedule,
            batch_size=batch_size,
            max_epochs=1 if incremental else max_epochs,
            shuffle=self.shuffle,
            generator=self._generator,
            early_stopping=EarlyStopping(
                math.inf if incremental else self.n_iter_no_change, self.tol
            ),
            select_best=self.do_early_stopping_,
            score_fn=score_fn,
            monitor="loss" if self.scoring == "loss" else "score",
            average=average,
            first_epoch=len(self.history_) + 1,
            callbacks=self._callbacks(),
        )
        if valid_data is not None and result.finite_outputs:
            self._calibrate(valid_data)
        return result

    def _calibrate(self, valid_data):
        # A classifier's temperature, fitted on the validation rows after
        # training and folded into the last layer (see ``calibration``).
        loss = self._target.calibration_loss(len(valid_data))
        if loss is None:
            return
        logits = predict_raw(self.module_, valid_data.X)
        self.temperature_ = fit_temperature(logits, valid_data.y, loss, valid_data.weight)
        scale_outputs(self.module_, 1.0 / self.temperature_)

    def _score_function(self, X, y, sample_weight):
        """Return ``score(output)`` of the validation rows, as ``scoring`` names it.

        A warning the score gives (``UndefinedMetricWarning`` on a tiny
        validation set) is shown once per fit, not once per epoch.

        ``"loss"``: R² or accuracy of the outputs (the loss is monitored). Else
        a scikit-learn scorer (``None``: the estimator's ``score``), called on
        the estimator as it stands after the epoch; its value is monitored.
        """
        if self.scoring == "loss":
            return _warn_once(lambda output: self._target.score(output, y, sample_weight))
        scorer = check_scoring(self, self.scoring)
        labels = self._target.labels(y)
        options = {} if sample_weight is None else {"sample_weight": sample_weight}
        return _warn_once(lambda output: float(scorer(self, X, labels, **options)))

    def _callbacks(self):
        # verbose: 0 silent, 1 one line per epoch, 2 a progress bar where someone
        # watches (terminal, notebook), else the lines of 1 (see _progress.py).
        callbacks = list(self.callbacks or ())
        if self.verbose >= 2 and progress_bar_visible():
            callbacks.append(ProgressBar())
        elif self.verbose:
            callbacks.append(EpochLogger())
        return callbacks

    # ------------------------------------------------------------ predicting
    def _raw_predict(self, X):
        """Validate and encode ``X``; return the network outputs as numpy.

        In float32 for float32 ``X`` on a model fitted on float32, else in
        float64: the forward pass then runs in float64 (the trained float32
        weights converted), so that a row's output does not depend on the
        rows predicted with it (beyond float64 rounding). Numbers and
        categories take the fitted model's prepared path (``_predictor``),
        everything else the general one; the results are the same to float64
        rounding.
        """
        X = from_torch(X, "X")
        predictor = current_predictor(self)
        rows = None if predictor is None else predictor.rows(X)
        if rows is not None:
            output = predictor.raw(*rows)
        else:
            output = self._general_raw_predict(X)
        if not np.isfinite(output).all():
            raise ValueError(
                f"The network of this {type(self).__name__} outputs NaN or infinite "
                "values for some rows of X (their magnitudes are far outside those "
                "seen in fit, or training diverged); rescale X or refit."
            )
        return output

    def _general_raw_predict(self, X):
        check_is_fitted(self, "module_")
        X, _ = self._inputs.validate(self, X, reset=False)
        dtype = np.result_type(getattr(X, "dtype", np.float64), self._fit_dtype)
        X = self._inputs.transform(X)
        # On the host: predict_raw moves one chunk at a time to the device.
        X = to_tensor(X, torch.device("cpu"), name="X",
                      dtype=torch.float32 if dtype == np.float32 else torch.float64)
        return to_numpy(predict_raw(self.module_, X))

    @property
    def _fit_dtype(self):
        return getattr(self, "_dtype", np.dtype(np.float64))  # models of 0.1: float64

    def _layers(self):
        # (weight of shape (n_in, n_out), bias) of each layer, in float64; the
        # last one with the target's scaling folded in, so that a forward pass
        # through them gives what predict gives.
        check_is_fitted(self, "module_")
        layers = [(to_numpy(layer.weight, np.float64).T, to_numpy(layer.bias, np.float64))
                  for layer in linear_layers(self.module_)]
        layers[-1] = self._target.fold(*layers[-1])
        return layers

    @property
    def coefs_(self):
        """List of ndarray: weight matrices, ``coefs_[i]`` of shape (n_in, n_out).

        The trained weights in the dtype of the training data (float32 or
        float64), the target's internal scaling folded into the last layer:
        ``out_activation_(... activation(X' @ coefs_[0] + intercepts_[0]) ...)``
        is ``predict`` (``predict_proba``), where ``X'`` is ``X`` after the
        input encoding (``X`` itself with ``input_scaling=None, n_bins=None``).
        """
        return [np.ascontiguousarray(w, dtype=self._fit_dtype) for w, _ in self._layers()]

    @property
    def intercepts_(self):
        """List of ndarray: bias vectors, ``intercepts_[i]`` of shape (n_out,); see ``coefs_``."""
        return [b.astype(self._fit_dtype) for _, b in self._layers()]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True  # 2-D y: several outputs, or multilabel
        tags.input_tags.allow_nan = True  # a missing value (see _columns.ColumnEncoder)
        return tags


def _resume(optimizer, saved):
    # Load the pickled state of an optimizer of the same kind (a partial_fit
    # after unpickling goes on from it, as without the round trip).
    kind, state = saved
    if kind == type(optimizer).__name__:
        optimizer.load_state_dict(state)


def _warn_once(score):
    # ``score`` whose warnings are shown once each (by category and origin)
    # over all the calls of this function: once per fit, not per epoch.
    seen = set()

    def score_once(output):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = score(output)
        for warning in caught:
            key = (warning.category, warning.filename, warning.lineno)
            if key not in seen:
                seen.add(key)
                warnings.warn_explicit(warning.message, warning.category,
                                       warning.filename, warning.lineno)
        return value

    return score_once
