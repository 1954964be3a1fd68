"""TorchMLPClassifier: its parameters, its documentation and its target object."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin

from ._base import BaseTorchMLP
from ._compat import Interval, StrOptions, available_if, fit_context
from ._messages import plain
from ._targets import ClassificationTarget


class TorchMLPClassifier(ClassifierMixin, BaseTorchMLP):
    """Multi-layer perceptron classifier trained with PyTorch.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`: the same
    parameters with the same meaning, plus torch-side extras (``dropout``,
    ``class_weight``, ``label_smoothing``, more activations, ``device``). By
    default it holds out a stratified validation set, stops early when the
    validation log-loss stops improving and restores the weights of the best
    epoch.

    Binary and multilabel targets are trained with a logistic output and
    binary cross-entropy, multiclass targets with a softmax and cross-entropy.
    Labels may be of any type (ints, strings, bools); a 2-D indicator ``y``
    means multilabel. A pandas DataFrame with categorical columns is encoded
    inside the estimator, as in TorchMLPRegressor.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(256, 256)
        Width of each hidden layer.
    activation : {"relu", "identity", "logistic", "tanh", "leaky_relu", "elu", \
            "gelu", "silu", "selu", "mish"}, default="relu"
        Activation of the hidden layers.
    solver : {"adam", "adamw", "sgd", "lbfgs"}, default="adam"
        Optimizer. ``"lbfgs"`` is full-batch (one iteration per epoch) and
        trains in the dtype of ``X`` (float64 unless it is float32), as
        scikit-learn's; the others train in float32. ``"adamw"`` uses
        decoupled weight decay ``alpha``.
    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights, as in scikit-learn; the
        decoupled weight decay for ``"adamw"``.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch. ``"auto"`` is 256, or ``ceil(n / 16)`` below
        ``n = 4096`` rows trained on (without the validation rows), so that an
        epoch makes at least 16 steps.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, \
            default="constant"
        Learning-rate schedule: scikit-learn's three for ``solver="sgd"``, or
        ``"cosine"`` for every solver but ``"lbfgs"``; see TorchMLPRegressor.
    learning_rate_init : float, default=5e-4
        Initial learning rate (half of scikit-learn's 1e-3; see TorchMLPRegressor).
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int or "auto", default="auto"
        Maximum number of epochs (iterations for ``"lbfgs"``). ``"auto"`` is
        200 epochs, or more where 200 would make fewer than 10,000 optimizer
        steps (below 12,800 rows trained on; about 625 epochs of 16 steps
        below 4096), so that small networks finish training: early stopping or
        ``tol`` usually ends it sooner. 200 iterations for ``"lbfgs"``. An
        integer is used as it is.
    shuffle : bool, default=True
        Shuffle the rows every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the initial weights, the shuffling and
        dropout. With an int, two fits give identical models on the CPU.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.
    verbose : int or bool, default=0
        ``0`` is silent (so grid-search workers are quiet); ``1`` prints one
        line per epoch (losses, score, time, ``*`` on the best epoch); ``2``
        shows a tqdm progress bar (train and validation loss, best epoch) when
        standard error is a terminal or in a notebook, else the lines of ``1``.
    warm_start : bool, default=False
        Continue from the weights of the previous fit.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``"sgd"``.
    early_stopping : "auto" or bool, default="auto"
        Hold out a stratified ``validation_fraction`` of the rows, stop after
        ``n_iter_no_change`` epochs without improvement of the validation loss
        and restore the best epoch. ``"auto"`` turns it on when there are at
        least 50 samples (or ``X_val`` is given).
    validation_fraction : float, default=0.1
        Fraction of the rows held out for validation.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam parameters.
    n_iter_no_change : int, default=10
        Epochs without an improvement greater than ``tol`` before stopping.
    scoring : str, callable or None, default="loss"
        What early stopping monitors: ``"loss"`` (the validation log-loss;
        ``validation_scores_`` then holds accuracy), or a scorer name
        (``"roc_auc"``, ``"f1"``, ...), a callable ``scorer(estimator, X, y)``
        or None (accuracy), maximised; see TorchMLPRegressor.
    max_fun : int, default=15000
        Maximum number of loss evaluations of ``"lbfgs"``.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn; multiplies
        ``sample_weight``. Not for multilabel targets.
    label_smoothing : float, default=0.1
        Mix the one-hot targets with the uniform distribution by this amount
        (RealMLP's default). It keeps the network from chasing certainty on
        the training rows: +0.011 accuracy on digits, +0.004 on breast cancer
        in the accuracy suite. The probabilities are a little less extreme
        than the training labels; set 0 for unsmoothed log-loss training.
    calibration : "temperature" or None, default="temperature"
        After training with a validation set (see ``early_stopping``), divide
        the logits by the temperature that minimises the unsmoothed log-loss
        of the validation rows (Guo et al., 2017), folded into the last
        layer: it undoes the under-confidence of ``label_smoothing`` and the
        over-confidence of a network that fits its training rows. Decisions
        do not change, only the probabilities. None: as trained. Without a
        validation set there is nothing to calibrate on.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    ema_decay : float in [0, 1) or None, default=0.99
        Decay of the moving average of the weights that is validated, kept
        and predicted with; 0 or None trains without averaging. See
        TorchMLPRegressor.
    input_scaling : {"robust", "standard"} or None, default="robust"
        Scaling of the numeric features inside the estimator, fitted on the
        training rows; see TorchMLPRegressor.
    n_bins : "auto", int >= 2 or None, default="auto"
        Piecewise-linear encoding of the numeric features over their training
        quantiles; ``"auto"``: 64 bins per feature from 2500 training rows on,
        none below. See TorchMLPRegressor.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:N"``.
    callbacks : list of Callback or None, default=None
        Objects whose hooks the training loop calls every epoch; one whose
        ``on_epoch_end`` returns True stops training. See ``Callback``.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (for multilabel, the label indices).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    n_outputs_ : int
        Number of output units: 1 for binary, else the number of classes.
    out_activation_ : str
        ``"logistic"`` (binary, multilabel) or ``"softmax"`` (multiclass).
    n_iter_, t_, loss_, loss_curve_, best_loss_ : see TorchMLPRegressor
    validation_scores_ : list of float or None
        Accuracy on the validation set after every epoch.
    temperature_ : float
        The temperature of ``calibration`` found by the last fit (1.0 when
        not calibrated); already folded into ``module_`` and ``coefs_``.
    validation_loss_curve_, best_validation_score_, best_validation_loss_ : \
            see TorchMLPRegressor
    best_epoch_, do_early_stopping_, stop_reason_, history_ : see TorchMLPRegressor
    coefs_, intercepts_ : list of ndarray
        Weights and biases of each layer, as in scikit-learn's MLP.
    module_ : torch.nn.Module
        The trained network (outputs logits).
    device_ : torch.device

    See Also
    --------
    TorchMLPRegressor : The regressor.
    sklearn.neural_network.MLPClassifier : The scikit-learn original.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skorchless import TorchMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = TorchMLPClassifier(random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **BaseTorchMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "calibration": [StrOptions({"temperature"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 256),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=5e-4,
        power_t=0.5,
        max_iter="auto",
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping="auto",
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        scoring="loss",
        max_fun=15000,
        class_weight=None,
        label_smoothing=0.1,
        calibration="temperature",
        dropout=0.0,
        ema_decay=0.99,
        input_scaling="robust",
        n_bins="auto",
        device="auto",
        callbacks=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            scoring=scoring,
            max_fun=max_fun,
            dropout=dropout,
            ema_decay=ema_decay,
            input_scaling=input_scaling,
            n_bins=n_bins,
            device=device,
            callbacks=callbacks,
        )
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.calibration = calibration

    @available_if(BaseTorchMLP._check_solver)
    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one epoch over ``X, y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), default=None
            All the classes that ``y`` may contain over the calls. Required on
            the first call, ignored (but checked) on later ones.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"`classes={plain(classes)!r}` is not the same as on the first call to "
                f"partial_fit, which was {plain(self.classes_)!r}."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``; a 0/1 indicator matrix for multilabel.
        """
        output = self._raw_predict(X)  # checks that the model is fitted
        return self._target.decode(output)

    def predict_proba(self, X):
        """Predict class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of float64, shape (n_samples, n_classes)
            Rows sum to 1, except for multilabel, where each column is the
            probability of its label.
        """
        output = self._raw_predict(X)  # checks that the model is fitted
        return self._target.proba(output)

    def predict_log_proba(self, X):
        """Predict the logarithm of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def _make_target(self):
        return ClassificationTarget(self.class_weight, self.label_smoothing, self.calibration)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
