"""The estimator shared by the regressor and the classifier.

``fit`` reads top to bottom: validate -> split -> scale -> build -> train ->
store fitted attributes. Subclasses supply only what differs between tasks:
how targets are encoded, the loss, the validation score and the output layer.
"""

import functools
import math
import warnings
from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._averaging import WeightAverage
from ._callbacks import Callback, EarlyStopping, EpochLogger
from ._data import resolve_device, split_validation, to_tensor
from ._lbfgs import train_lbfgs
from ._network import ACTIVATIONS, SeededDropout, build_mlp, linear_layers
from ._persistence import PersistenceMixin
from ._preprocessing import (
    INPUT_SCALINGS,
    categorical_columns,
    fit_input_transformer,
    validate_frame,
)
from ._schedules import BUDGET_SCHEDULES, SGD_SCHEDULES, LearningRateSchedule
from ._training import TensorData, predict_raw, train

#: ``early_stopping="auto"`` holds out a validation set from this many samples on.
AUTO_EARLY_STOPPING_MIN_SAMPLES = 200
#: ``batch_size="auto"`` is ``min(AUTO_BATCH_SIZE, n_samples)``.
AUTO_BATCH_SIZE = 256


class BaseTorchMLP(PersistenceMixin, BaseEstimator):
    """Shared machinery of ``TorchMLPRegressor`` and ``TorchMLPClassifier``.

    Not for direct use: see the subclasses for the parameters.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "adamw"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({*SGD_SCHEDULES, *BUDGET_SCHEDULES})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "input_scaling": [StrOptions(set(INPUT_SCALINGS)), None],
        "n_bins": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left"), None],
        "device": [str, torch.device],
        "callbacks": ["array-like", None],
    }

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
        self.max_fun = max_fun
        self.dropout = dropout
        self.ema_decay = ema_decay
        self.input_scaling = input_scaling
        self.n_bins = n_bins
        self.device = device
        self.callbacks = callbacks

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _encode_targets(self, y, *, first_pass, classes=None):
        """Validate ``y`` and return its training encoding (ndarray)."""

    @abstractmethod
    def _fit_target_scaler(self, y_train, sample_weight):
        """Fit any scaling of the encoded targets on the training rows."""

    @abstractmethod
    def _scale_targets(self, y):
        """Return the encoded targets as the network is trained on them."""

    @abstractmethod
    def _loss_function(self):
        """Return ``loss_fn(output, y)`` giving one loss per sample."""

    @abstractmethod
    def _validation_score(self, output, y_valid, sample_weight):
        """Score raw validation outputs against encoded targets."""

    @abstractmethod
    def _extra_sample_weight(self, y):
        """Return per-sample weights implied by parameters (or None)."""

    @abstractmethod
    def _output_activation(self):
        """Name of the output activation, as in scikit-learn's MLP."""

    @property
    @abstractmethod
    def _n_network_outputs(self):
        """Number of units in the output layer."""

    # -------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
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

    def _partial_fit(self, X, y, sample_weight, classes=None):
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight=None, X_val=None, y_val=None,
             sample_weight_val=None, *, incremental=False, classes=None):
        first_pass = not hasattr(self, "module_") or not (self.warm_start or incremental)
        self._check_params()
        X, y = self._validate_training_data(X, y, reset=first_pass)
        y = self._encode_targets(y, first_pass=first_pass, classes=classes)
        sample_weight = self._check_weight(sample_weight, X, y)
        valid = self._validation_set(X_val, y_val, sample_weight_val, incremental)
        rng = check_random_state(self.random_state)
        split_seed, init_seed, shuffle_seed = rng.randint(np.iinfo(np.int32).max, size=3)

        self.do_early_stopping_ = valid is not None or (
            not incremental and self._early_stopping_on(X.shape[0])
        )
        if self.do_early_stopping_ and valid is None:
            (X, y, sample_weight), valid = self._split(X, y, sample_weight, split_seed)
        self._prepare_module(X, y, sample_weight, first_pass, init_seed)
        if first_pass or not incremental or not hasattr(self, "_generator"):
            self._generator = torch.Generator(self.device_).manual_seed(int(shuffle_seed))
        self._attach_generator(self._generator)

        train_data = self._tensor_data(X, y, sample_weight)
        start = {k: v.detach().clone() for k, v in self.module_.state_dict().items()}
        if self.solver == "lbfgs":
            result = self._train_lbfgs(train_data)
        else:
            result = self._train_stochastic(train_data, valid, incremental)
        if result.stop_reason == "diverged":
            self._keep_finite_weights(result, train_data.X, start)
        self._store_result(result, incremental)
        return self

    def _keep_finite_weights(self, result, X, start):
        """Make sure the weights kept after a divergence give finite outputs on ``X``.

        Without a validation set the best epoch's weights were never evaluated
        after its last step; if they overflow, fall back to the starting weights.
        """
        if torch.isfinite(predict_raw(self.module_, X)).all():
            return
        self.module_.load_state_dict(start)
        result.best_epoch = len(self.history_)  # the epoch before this call
        if not torch.isfinite(predict_raw(self.module_, X)).all():
            raise ValueError(
                "The network's outputs on X overflow float32 even with its starting "
                "weights: the magnitudes of X are too large. Scale X, or use "
                "input_scaling='robust' or 'standard'."
            )

    def _validate_training_data(self, X, y, reset):
        if reset:
            self._categorical_columns = categorical_columns(X)
        if self._encodes_categories(X):
            return validate_frame(
                self, X, y, reset=reset, categorical=self._categorical_columns,
                y_numeric=not self._is_classification_task,
            )
        X, y = validate_data(
            self, X, y, reset=reset, multi_output=True,
            dtype=(np.float64, np.float32), accept_sparse=["csr", "csc"],
            y_numeric=not self._is_classification_task,
        )
        return _dense(X), y

    def _split(self, X, y, sample_weight, seed):
        """Split off the validation rows: ``(X, y, w)`` for training, and for validation."""
        train_idx, valid_idx = split_validation(
            y, self.validation_fraction,
            stratify=self._is_classification_task and y.ndim == 1,
            random_state=seed,
        )
        return (
            (_take(X, train_idx), y[train_idx], _take(sample_weight, train_idx)),
            (_take(X, valid_idx), y[valid_idx], _take(sample_weight, valid_idx)),
        )

    def _prepare_module(self, X, y, sample_weight, first_pass, init_seed):
        """Fit the scalers and build the network on a first pass; place it on the device."""
        device = resolve_device(self.device)
        if first_pass:
            self._input_scaler, n_inputs = fit_input_transformer(
                X, self.input_scaling, self.n_bins, self._categorical_columns
            )
            self._fit_target_scaler(y, sample_weight)
            self.n_outputs_ = self._n_outputs_of(y)
            self.out_activation_ = self._output_activation()
            self.module_ = build_mlp(
                n_inputs, self._hidden_sizes(), self._n_network_outputs,
                activation=self.activation, dropout=self.dropout,
                init_generator=torch.Generator().manual_seed(int(init_seed)),
                device=device,
            )
            self._optimizer = None
            self._reset_fitted_state()
        elif self.device_ != device:
            self.module_.to(device)
            self._optimizer = None
        self.device_ = device

    def _train_lbfgs(self, train_data):
        return train_lbfgs(
            self.module_, train_data,
            loss_fn=self._loss_function(),
            l2_penalty=self.alpha / len(train_data),
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            first_epoch=len(self.history_) + 1,
            callbacks=self._callbacks(),
        )

    def _train_stochastic(self, train_data, valid, incremental):
        if not incremental or getattr(self, "_optimizer", None) is None:
            self._optimizer = self._make_optimizer(len(train_data))
        self._schedule = LearningRateSchedule(
            self._optimizer, self._schedule_kind(incremental),
            self.learning_rate_init, self.power_t, max_epochs=self.max_iter,
        )
        valid_data = score_fn = None
        if valid is not None:
            valid_data = self._tensor_data(*valid)
            _, y_valid, w_valid = valid
            score_fn = lambda output: self._validation_score(output, y_valid, w_valid)  # noqa: E731
        batch_size = self._batch_size(len(train_data))
        return train(
            self.module_, train_data, valid_data,
            loss_fn=self._loss_function(),
            optimizer=self._optimizer,
            schedule=self._schedule,
            batch_size=batch_size,
            max_epochs=1 if incremental else self.max_iter,
            shuffle=self.shuffle,
            generator=self._generator,
            early_stopping=EarlyStopping(
                math.inf if incremental else self.n_iter_no_change, self.tol
            ),
            select_best=self.do_early_stopping_,
            score_fn=score_fn,
            average=self._weight_average(
                math.ceil(len(train_data) / batch_size), incremental),
            first_epoch=len(self.history_) + 1,
            callbacks=self._callbacks(),
        )

    def _weight_average(self, steps_per_epoch, incremental):
        # partial_fit never averages: each call continues from the trained weights.
        if incremental or not self.ema_decay:
            return None
        return WeightAverage(self.module_, self.ema_decay, steps_per_epoch=steps_per_epoch)

    def _schedule_kind(self, incremental):
        # Budget schedules serve every stochastic solver, except in partial_fit
        # (which has no budget); scikit-learn's schedules serve "sgd" only.
        if self.learning_rate in BUDGET_SCHEDULES:
            return "constant" if incremental else self.learning_rate
        return self.learning_rate if self.solver == "sgd" else "constant"

    def _check_params(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
                   for s in sizes):
            raise ValueError(
                f"The 'hidden_layer_sizes' parameter of {type(self).__name__} must "
                f"contain positive integers only. Got {self.hidden_layer_sizes!r} instead."
            )
        resolve_device(self.device)
        for callback in self.callbacks or ():
            if not isinstance(callback, Callback):
                raise TypeError(
                    "The 'callbacks' parameter must be a list of skorchless.Callback "
                    f"instances. Got {callback!r} instead."
                )

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        return [int(sizes)] if isinstance(sizes, Integral) else [int(s) for s in sizes]

    def _early_stopping_on(self, n_samples):
        if self.solver == "lbfgs":
            return False  # as in scikit-learn: L-BFGS is full-batch, without validation
        if self.early_stopping == "auto":
            return n_samples >= AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _batch_size(self, n_samples):
        if self.solver == "lbfgs":
            return n_samples
        if self.batch_size == "auto":
            return min(AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    def _check_weight(self, sample_weight, X, y):
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        extra = self._extra_sample_weight(y)
        if extra is not None:
            sample_weight = extra if sample_weight is None else sample_weight * extra
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError("sample_weight must not be all zero.")
        return sample_weight

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
        X_val, y_val = self._validate_training_data(X_val, y_val, reset=False)
        y_val = self._encode_targets(y_val, first_pass=False)
        return X_val, y_val, self._check_weight(sample_weight_val, X_val, y_val)

    def _tensor_data(self, X, y, sample_weight):
        X = self._scale_inputs(X)
        y = self._scale_targets(y)
        if sample_weight is not None:
            sample_weight = sample_weight / sample_weight.mean()
        y_dtype = torch.int64 if y.dtype.kind in "iu" else torch.float32
        return TensorData(
            to_tensor(X, self.device_, name="X"),
            to_tensor(y, self.device_, dtype=y_dtype, name="y"),
            None if sample_weight is None else to_tensor(sample_weight, self.device_),
        )

    def _encodes_categories(self, X):
        """Whether ``X`` takes the categorical-DataFrame path (fixed by the first fit)."""
        categorical = getattr(self, "_categorical_columns", [])
        if categorical and not hasattr(X, "iloc"):
            raise TypeError(
                f"This {type(self).__name__} was fitted on a pandas DataFrame with "
                f"categorical columns {categorical}; X must be a DataFrame with the "
                f"same columns. Got {type(X).__name__} instead."
            )
        return bool(categorical)

    def _scale_inputs(self, X):
        if self._input_scaler is None:
            return X
        return self._input_scaler.transform(X)

    def _make_optimizer(self, n_samples):
        # scikit-learn's penalty 0.5 * alpha * ||W||^2 / batch is, in gradient,
        # a weight decay of alpha / batch on the weights (not the biases).
        weights = [layer.weight for layer in linear_layers(self.module_)]
        biases = [p for n, p in self.module_.named_parameters() if not n.endswith("weight")]
        decay = self.alpha / self._batch_size(n_samples)
        if self.solver == "adamw":
            decay = self.alpha  # decoupled, as in torch.optim.AdamW
        groups = [{"params": weights, "weight_decay": decay},
                  {"params": biases, "weight_decay": 0.0}]
        if decay == 0:  # one group: one fused kernel call per step
            groups = [{"params": weights + biases, "weight_decay": 0.0}]
        lr = self.learning_rate_init
        if self.solver == "sgd":
            return torch.optim.SGD(
                groups, lr=lr, momentum=self.momentum,
                nesterov=self.nesterovs_momentum and self.momentum > 0,
                **_fast_kernel(self.device_, torch.optim.SGD),
            )
        optimizer_class = torch.optim.AdamW if self.solver == "adamw" else torch.optim.Adam
        return optimizer_class(
            groups, lr=lr, betas=(self.beta_1, self.beta_2), eps=self.epsilon,
            **_fast_kernel(self.device_, optimizer_class),
        )

    def _callbacks(self):
        # verbose: 0 silent, 1 one line per epoch, 2 a progress bar where someone
        # watches (terminal, notebook), else the lines of 1 (see _progress.py).
        from ._progress import ProgressBar, progress_bar_visible

        callbacks = list(self.callbacks or ())
        if self.verbose >= 2 and progress_bar_visible():
            callbacks.append(ProgressBar())
        elif self.verbose:
            callbacks.append(EpochLogger())
        return callbacks

    def _attach_generator(self, generator):
        for module in self.module_.modules():
            if isinstance(module, SeededDropout):
                module.generator = generator

    def _reset_fitted_state(self):
        self.history_ = []
        self.t_ = 0
        self.best_loss_ = math.inf
        self.best_validation_loss_ = None
        self.best_validation_score_ = None
        self.best_epoch_ = 0

    def _store_result(self, result, incremental):
        self.history_ = self.history_ + result.history
        self.n_iter_ = len(result.history) if not incremental else len(self.history_)
        self.t_ += result.samples_seen
        self.loss_curve_ = [h["train_loss"] for h in self.history_]
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else math.nan
        self.n_layers_ = len(self._hidden_sizes()) + 2
        if self.do_early_stopping_:
            self.validation_scores_ = [h["valid_score"] for h in result.history]
            self.validation_loss_curve_ = [h["valid_loss"] for h in result.history]
            self.best_validation_loss_ = result.best_loss
            self.best_validation_score_ = next(
                (h["valid_score"] for h in result.history
                 if h["epoch"] == result.best_epoch), None)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_loss_ = self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else math.inf
        self.best_epoch_ = result.best_epoch
        self.stop_reason_ = result.stop_reason
        self._warn_about_stop(result, incremental)
        if result.stop_reason == "interrupted":
            raise KeyboardInterrupt

    def _warn_about_stop(self, result, incremental):
        name = type(self).__name__
        if result.stop_reason == "diverged":
            warnings.warn(
                f"{name}: training diverged (the loss became NaN or infinite) at "
                f"epoch {len(self.history_) + 1}; stopped and restored the weights of "
                f"epoch {result.best_epoch}. Lower 'learning_rate_init' or scale the data.",
                RuntimeWarning, stacklevel=4,
            )
        elif result.stop_reason == "interrupted":
            warnings.warn(
                f"{name}: training interrupted by the user after "
                f"{len(result.history)} epoch(s); the model holds the weights of "
                f"epoch {result.best_epoch} and can be used.",
                UserWarning, stacklevel=4,
            )
        elif (result.stop_reason == "max_iter" and not incremental
              and self.learning_rate not in BUDGET_SCHEDULES):
            warnings.warn(
                f"{name}: maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning, stacklevel=4,
            )

    # ------------------------------------------------------------ predicting
    def _raw_predict(self, X):
        """Validate ``X`` and return the network outputs as float64 numpy."""
        check_is_fitted(self, "module_")
        if self._encodes_categories(X):
            X = validate_frame(self, X, reset=False, categorical=self._categorical_columns)[0]
        else:
            X = _dense(validate_data(
                self, X, reset=False, dtype=(np.float64, np.float32),
                accept_sparse=["csr", "csc"],
            ))
        X = self._scale_inputs(X)
        # On the host: predict_raw moves one chunk at a time to the device.
        output = predict_raw(self.module_, to_tensor(X, torch.device("cpu"), name="X"))
        output = output.cpu().numpy().astype(np.float64)
        if not np.isfinite(output).all():
            raise ValueError(
                f"The network of this {type(self).__name__} outputs NaN or infinite "
                "values for some rows of X (their magnitudes are far outside those "
                "seen in fit, or training diverged); rescale X or refit."
            )
        return output

    @property
    def coefs_(self):
        """List of ndarray: weight matrices, ``coefs_[i]`` of shape (n_in, n_out)."""
        check_is_fitted(self, "module_")
        return [layer.weight.detach().cpu().numpy().T.copy()
                for layer in linear_layers(self.module_)]

    @property
    def intercepts_(self):
        """List of ndarray: bias vectors, ``intercepts_[i]`` of shape (n_out,)."""
        check_is_fitted(self, "module_")
        return [layer.bias.detach().cpu().numpy().copy()
                for layer in linear_layers(self.module_)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags


def _fast_kernel(device, optimizer_class):
    # The fused kernel (one call per step for all parameters) where this torch
    # has it for this device, else the multi-tensor one.
    return {"fused": True} if _fused_ok(device, optimizer_class) else {"foreach": True}


@functools.cache
def _fused_ok(device, optimizer_class):
    # Fused kernels arrived device by device (the CPU ones in torch 2.4, and
    # an unsupported device fails only at the first step): one step on a
    # one-element parameter tells, once per process.
    param = torch.zeros(1, device=device, requires_grad=True)
    param.grad = torch.zeros_like(param)
    try:
        optimizer_class([param], lr=0.0, fused=True).step()
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def _dense(X):
    return X.toarray() if hasattr(X, "toarray") else X


def _take(array, idx):
    if array is None:
        return None
    return array.iloc[idx] if hasattr(array, "iloc") else array[idx]
