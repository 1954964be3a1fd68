"""What differs between regression and classification: one object per task.

A target object is made once by ``fit`` (the estimator's ``_make_target``) and
used by everything that touches ``y`` or the network's outputs: it checks and
encodes ``y``, gives the weights its parameters imply, learns any scaling of
``y`` on the training rows, names the loss, decodes the raw outputs into
predictions (``predict``, the validation score) and builds the same decoding
as a torch module for the export. The estimator calls it; it never calls
back into the estimator.
"""

import numpy as np
import pandas as pd
import torch
from scipy.special import expit, softmax
from sklearn.metrics import r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._engine.losses import binary_cross_entropy, cross_entropy, regression_loss, zero_loss
from ._messages import plain
from ._tensors import FLOAT32_MAX

#: Largest log-mean a Poisson model outputs: ``exp(709)`` is the largest
#: float64 power of e, so predictions never overflow (predict and export alike).
MAX_LOG_MEAN = 709.0


class RegressionTarget:
    """Real-valued targets: scaling, loss and decoding of a regressor.

    The target is standardised on the training rows (each output to mean 0
    and unit variance; divided by its mean for ``loss="poisson"``, whose
    network outputs the log of the scaled mean).

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber", "poisson"}
    huber_delta : float
        Threshold of ``"huber"``, in standard deviations of ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._targets import RegressionTarget
    >>> target = RegressionTarget("squared_error", 1.0)
    >>> y = target.encode(np.array([1.0, 2.0, 3.0]), fit=True)
    >>> target.fit(y, None)
    >>> target.to_network(y).ravel().round(3).tolist()
    [-1.225, 0.0, 1.225]
    >>> target.decode(target.to_network(y)).tolist()
    [1.0, 2.0, 3.0]
    """

    is_classifier = False

    def __init__(self, loss, huber_delta):
        self.loss = loss
        self.huber_delta = huber_delta

    @property
    def out_activation(self):
        """Name of the output activation, as in scikit-learn's MLP."""
        return "exp" if self.loss == "poisson" else "identity"

    def encode(self, y, *, fit, classes=None, same_classes=False):
        """Check ``y`` and return it as float64; ``fit`` fixes the number of outputs.

        ``classes`` and ``same_classes`` are the classifier's; regression has none.
        """
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.size and np.abs(y).max() > FLOAT32_MAX:
            raise ValueError(
                f"y contains values larger than float32 can hold (max |y| = "
                f"{np.abs(y).max():.3g}); rescale it first."
            )
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError("loss='poisson' requires non-negative y; got negative values.")
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if fit:  # set here, so that y_val is checked against y
            self.n_outputs = n_outputs
        elif n_outputs != self.n_outputs:
            raise ValueError(
                f"y has {n_outputs} output(s) but the model was fitted with {self.n_outputs}."
            )
        return y

    def labels(self, y):
        """Return encoded targets as the user gave them (for a scorer)."""
        return y

    def sample_weight(self, y):
        """Per-sample weights the parameters imply: none for regression."""
        return None

    def stratify(self, y):
        """Whether the validation split is stratified by ``y``: never for regression."""
        return False

    def fit(self, y, sample_weight):
        """Learn the scaling of the encoded targets on the training rows."""
        Y = y.reshape(len(y), -1)
        if self.loss == "poisson":
            mean = np.average(Y, axis=0, weights=sample_weight)
            if not (mean > 0).all():
                raise ValueError("loss='poisson' requires y with a positive mean.")
            self.center, self.scale = np.zeros_like(mean), mean
            return
        center = np.average(Y, axis=0, weights=sample_weight)
        # The deviations are divided by their largest value before squaring, so
        # that neither huge nor tiny targets overflow or underflow.
        spread = np.abs(Y - center).max(axis=0)
        spread = np.where(spread > 0, spread, 1.0)
        std = spread * np.sqrt(
            np.average(((Y - center) / spread) ** 2, axis=0, weights=sample_weight)
        )
        self.center = center
        # A spread below 1e-12 of the centre is the centre's rounding (a constant
        # y of 7.5e37 averages to 7.5e37 +- 1e22): the unit is then that floor,
        # so that the rounding does not become huge targets.
        floor = 1e-12 * np.abs(center)
        self.scale = np.where((std > 0) & (std > floor), std, np.maximum(floor, 1.0))

    def to_network(self, y):
        """Return the encoded targets as the network is trained on them."""
        return (y.reshape(len(y), -1) - self.center) / self.scale

    def calibration_loss(self, n_rows):
        """Regression outputs are not calibrated: None."""
        return None

    def loss_function(self):
        """Return the engine's ``Loss`` of ``loss``."""
        return regression_loss(self.loss, self.huber_delta)

    def _unscale(self, output):
        if self.loss == "poisson":  # in log space, so that it cannot overflow
            return np.exp(np.minimum(output + np.log(self.scale), MAX_LOG_MEAN))
        return output * self.scale + self.center

    def decode(self, output):
        """Return the predictions of raw network outputs (in their dtype)."""
        y = self._unscale(output).astype(output.dtype, copy=False)
        return y.ravel() if self.n_outputs == 1 else y

    def fold(self, weight, bias):
        """Return the last layer ``(weight, bias)`` with the target's scaling folded in."""
        if self.loss == "poisson":  # exp(z + log(scale)): a shift of the bias
            return weight, bias + np.log(self.scale)
        return weight * self.scale, bias * self.scale + self.center

    def score(self, output, y, sample_weight):
        """R² of raw outputs (a float32 tensor) against encoded targets.

        ``r2_score``'s value, computed here because it runs after every epoch
        and scikit-learn's input checks would cost more than the epoch on small
        data. Each output's R² (1 - residual / total sum of squares; 1.0 for a
        perfect fit of a constant target, 0.0 otherwise), averaged.
        """
        y_true = y.reshape(len(y), -1).astype(np.float64)
        y_pred = self._unscale(output.detach().cpu().numpy().astype(np.float64))
        if len(y_true) < 2:  # undefined: r2_score warns and returns NaN
            return float(r2_score(y_true, y_pred, sample_weight=sample_weight))
        weight = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight)
        weight = weight.astype(np.float64)[:, None]
        residual = (weight * (y_true - y_pred) ** 2).sum(axis=0)
        total = (weight * (y_true - np.average(y_true, axis=0, weights=weight[:, 0])) ** 2
                 ).sum(axis=0)
        defined = total != 0
        scores = np.where(residual == 0, 1.0, 0.0)
        scores[defined] = 1.0 - residual[defined] / total[defined]
        return float(scores.mean())

    def torch_head(self):
        """Return ``decode`` as a torch module on float64 outputs (for the export)."""
        return _RegressionHead(self.center, self.scale, poisson=self.loss == "poisson",
                               ravel=self.n_outputs == 1)


class ClassificationTarget:
    """Class labels: encoding, class weights, loss, labels and probabilities.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
    label_smoothing : float

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._targets import ClassificationTarget
    >>> target = ClassificationTarget(None, 0.0)
    >>> target.encode(np.array(["b", "a", "b"]), fit=True).tolist()
    [1, 0, 1]
    >>> target.classes_.tolist(), target.n_outputs, target.out_activation
    (['a', 'b'], 1, 'logistic')
    >>> target.decode(np.array([[2.0], [-1.0]])).tolist()
    ['b', 'a']
    """

    is_classifier = True

    def __init__(self, class_weight, label_smoothing, calibration=None):
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.calibration = calibration

    @property
    def n_outputs(self):
        """Units of the output layer: 1 for binary labels (or one class), else one per class."""
        n_classes = len(self.classes_)
        return 1 if n_classes <= 2 and not self.multilabel else n_classes

    @property
    def single_class(self):
        """Whether y held one class only: it is then always predicted, with probability 1."""
        return len(self.classes_) == 1

    @property
    def out_activation(self):
        """Name of the output activation, as in scikit-learn's MLP."""
        return "softmax" if self.n_outputs > 1 and not self.multilabel else "logistic"

    def encode(self, y, *, fit, classes=None, same_classes=False):
        """Check the labels ``y``; return class indices (int64) or the indicator (float32).

        With ``fit`` the classes are learned (from ``classes`` when given, as
        in ``partial_fit``, except for a multilabel indicator, whose columns
        are the classes); otherwise ``y`` must hold known labels only, and
        with ``same_classes`` (a ``warm_start`` fit) all of them.
        """
        y = np.asarray(y) if not hasattr(y, "iloc") else y.to_numpy()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.dtype == object:
            if pd.isna(y).any():
                raise ValueError("Input y contains missing values (None or NaN).")
            kinds = {"string" if isinstance(v, str) else "number" for v in y.ravel()}
            if len(kinds) > 1:
                raise TypeError(
                    "y mixes string and numeric labels; labels must be all strings "
                    "or all numbers."
                )
            if kinds == {"number"}:
                y = np.array(y.tolist())  # object array of numbers or bools: a numeric dtype
        check_classification_targets(y)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"TorchMLPClassifier does not support {target_type} targets; y must "
                "be 1-D labels or a 2-D 0/1 multilabel indicator matrix."
            )
        if fit:
            multilabel = target_type == "multilabel-indicator"
            binarizer = LabelBinarizer().fit(y if classes is None or multilabel else classes)
            self.binarizer = binarizer
            self.classes_ = binarizer.classes_
            self.multilabel = binarizer.y_type_ == "multilabel-indicator"
        if same_classes and not self.multilabel and not np.array_equal(
                np.unique(y), self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has "
                f"{np.unique(y)}"
            )
        if not fit or classes is not None:
            self._check_known_labels(y)
        if self.multilabel:
            return self.binarizer.transform(y).astype(np.float32)
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _check_known_labels(self, y):
        if self.multilabel != (type_of_target(y) == "multilabel-indicator") or (
            self.multilabel and y.shape[1] != len(self.classes_)
        ):
            raise ValueError("y has a different kind of target than the fitted model.")
        if not self.multilabel:
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            if len(unknown):
                raise ValueError(
                    f"y contains labels not seen in the first fit: {plain(unknown)!r}; the "
                    f"model knows {plain(self.classes_)!r}."
                )

    def labels(self, y):
        """Return encoded labels as the user gave them (for a scorer)."""
        return y.astype(int) if self.multilabel else self.classes_[y]

    def sample_weight(self, y):
        """Per-sample weights of ``class_weight`` for encoded labels ``y`` (or None)."""
        if self.class_weight is None:
            return None
        if self.multilabel:
            raise ValueError("class_weight is not supported for multilabel targets.")
        if isinstance(self.class_weight, dict):
            negative = {plain(k): plain(w) for k, w in self.class_weight.items() if w < 0}
            if negative:
                raise ValueError(
                    f"class_weight must be non-negative; got negative weights {negative}.")
        return compute_sample_weight(self.class_weight, self.classes_[y])

    def stratify(self, y):
        """Whether the validation split is stratified by ``y``: for single labels."""
        return y.ndim == 1

    def fit(self, y, sample_weight):
        """Labels need no scaling."""

    def to_network(self, y):
        """Return the encoded labels as the loss takes them."""
        return y

    def loss_function(self):
        """Return the engine's cross-entropy ``Loss`` for the kind of labels."""
        return self._log_loss(self.label_smoothing)

    def calibration_loss(self, n_rows):
        """Return the log-loss that the temperature is fitted to on ``n_rows`` rows, or None.

        Its labels are smoothed by ``1 / (n_rows + 1)``: on rows that the
        network all classifies right, the unsmoothed log-loss falls without end
        as the temperature does, and the fitted probabilities would claim a
        certainty that so few rows cannot show. On a large validation set the
        smoothing is negligible.
        """
        if getattr(self, "calibration", None) is None:  # None, or a model of 0.1
            return None
        return self._log_loss(1.0 / (n_rows + 1))

    def _log_loss(self, label_smoothing):
        if self.single_class:
            return zero_loss
        if self.n_outputs > 1 and not self.multilabel:
            return cross_entropy(label_smoothing)
        return binary_cross_entropy(label_smoothing, self.multilabel)

    def _indices(self, output):
        if self.single_class:
            return np.zeros(len(output), dtype=int)
        if self.multilabel:
            return (output > 0).astype(int)
        if output.shape[1] == 1:
            return (output[:, 0] > 0).astype(int)
        return output.argmax(axis=1)

    def decode(self, output):
        """Return the predicted labels of raw outputs (an indicator for multilabel)."""
        indices = self._indices(output)
        return indices if self.multilabel else self.classes_[indices]

    def proba(self, output):
        """Return the class probabilities of raw outputs (in their dtype)."""
        if self.multilabel:
            return expit(output)
        if self.single_class:
            return np.ones_like(output)
        if output.shape[1] == 1:
            p = expit(output[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(output, axis=1)

    def fold(self, weight, bias):
        """Return the last layer ``(weight, bias)``: labels have no scaling to fold in."""
        return weight, bias

    def score(self, output, y, sample_weight):
        """Accuracy of raw outputs (a float32 tensor) against encoded labels."""
        # ``accuracy_score``'s value (subset accuracy for multilabel), computed
        # here: it runs after every epoch, and scikit-learn's input checks cost
        # more than an epoch on small data.
        correct = self._indices(output.detach().cpu().numpy()) == y
        if correct.ndim > 1:
            correct = correct.all(axis=1)
        return float(np.average(correct, weights=sample_weight))

    def torch_head(self):
        """Return ``decode`` / ``proba`` as a torch module on float64 outputs (for the export)."""
        if self.multilabel:
            return _MultilabelHead()
        if self.single_class:
            return _SingleClassHead()
        return _BinaryHead() if self.n_outputs == 1 else _MulticlassHead()


class _RegressionHead(torch.nn.Module):
    output_names = ["prediction"]

    def __init__(self, center, scale, *, poisson, ravel):
        super().__init__()
        self.register_buffer("center", torch.as_tensor(center, dtype=torch.float64).clone())
        self.register_buffer("log_scale" if poisson else "scale", torch.as_tensor(
            np.log(scale) if poisson else scale, dtype=torch.float64).clone())
        self.poisson = poisson
        self.ravel = ravel

    def forward(self, output):
        if self.poisson:
            y = torch.exp((output + self.log_scale).clamp(max=MAX_LOG_MEAN))
        else:
            y = output * self.scale + self.center
        return y[:, 0] if self.ravel else y


class _BinaryHead(torch.nn.Module):
    output_names = ["class_index", "probabilities"]

    def forward(self, output):
        p = torch.sigmoid(output[:, 0])
        return (output[:, 0] > 0).to(torch.int64), torch.stack([1.0 - p, p], dim=1)


class _SingleClassHead(torch.nn.Module):
    output_names = ["class_index", "probabilities"]

    def forward(self, output):
        return torch.zeros_like(output[:, 0], dtype=torch.int64), torch.ones_like(output)


class _MulticlassHead(torch.nn.Module):
    output_names = ["class_index", "probabilities"]

    def forward(self, output):
        return output.argmax(dim=1), torch.softmax(output, dim=1)


class _MultilabelHead(torch.nn.Module):
    output_names = ["indicator", "probabilities"]

    def forward(self, output):
        return (output > 0).to(torch.int64), torch.sigmoid(output)
