"""TorchMLPRegressor: its parameters, its documentation and its target object."""

from numbers import Real

from sklearn.base import RegressorMixin

from ._base import BaseTorchMLP
from ._compat import Interval, StrOptions, available_if, fit_context
from ._engine.losses import REGRESSION_LOSSES
from ._targets import RegressionTarget


class TorchMLPRegressor(RegressorMixin, BaseTorchMLP):
    """Multi-layer perceptron regressor trained with PyTorch.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`: the same
    parameters with the same meaning, plus torch-side extras (``dropout``,
    more activations and losses, ``device``). By default it holds out a
    validation set, stops early when the validation loss stops improving and
    restores the weights of the best epoch.

    The target is standardised internally (each output to mean 0 and unit
    variance; divided by its mean for ``loss="poisson"``), so losses, ``tol``
    and ``huber_delta`` are in units of standard deviations of ``y`` and the
    same defaults work whatever the scale of ``y``.

    A pandas DataFrame with categorical columns (dtype object, category,
    string or bool) is encoded inside the estimator: numeric columns are
    scaled as ``input_scaling`` and ``n_bins`` say, categorical ones one-hot
    encoded (at most 64 columns per feature, the rarest categories sharing
    one; a missing value is a category of its own; a category unseen in
    training encodes as none). ``predict`` then takes a DataFrame with the
    same columns.

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber", "poisson"}, \
            default="squared_error"
        Loss minimised. ``"poisson"`` uses a log link (``out_activation_`` is
        ``"exp"``) and requires ``y >= 0``.
    hidden_layer_sizes : int or sequence of int, default=(256, 256)
        Width of each hidden layer. Two layers of 256 fit most tabular data
        well and train fast on a CPU.
    activation : {"relu", "identity", "logistic", "tanh", "leaky_relu", "elu", \
            "gelu", "silu", "selu", "mish"}, default="relu"
        Activation of the hidden layers.
    solver : {"adam", "adamw", "sgd", "lbfgs"}, default="adam"
        Optimizer. ``"lbfgs"`` is full-batch (one iteration per epoch) and
        trains in the dtype of ``X`` (float64 unless it is float32), as
        scikit-learn's; the others train in float32. ``"adamw"`` uses
        decoupled weight decay ``alpha``.
    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights, as in scikit-learn
        (``0.5 * alpha * ||W||^2`` per batch); the decoupled weight decay for
        ``"adamw"``.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch. ``"auto"`` is 256, or ``ceil(n / 16)`` below
        ``n = 4096`` rows trained on (without the validation rows), so that an
        epoch makes at least 16 steps.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, \
            default="constant"
        Learning-rate schedule. The first three are scikit-learn's, for
        ``solver="sgd"`` only. ``"cosine"`` (an extension, for every solver
        but ``"lbfgs"``) lowers the rate from ``learning_rate_init`` towards 0
        along half a cosine over ``max_iter`` epochs: a fixed budget, so it
        does not warn when ``max_iter`` is reached; raise ``n_iter_no_change``
        to let it run. It gains a little on large datasets at two to three
        times the fit time, hence not the default.
    learning_rate_init : float, default=5e-4
        Initial learning rate. Half of scikit-learn's 1e-3: on the accuracy
        suite it scores better on small datasets (diabetes R² +0.020) and no
        worse on large ones.
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
        dropout. With an int, two fits give identical models on the CPU. The
        global torch seed is never touched.
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
        Hold out ``validation_fraction`` of the rows, stop after
        ``n_iter_no_change`` epochs without improvement of the validation loss
        and restore the best epoch. ``"auto"`` turns it on when there are at
        least 50 samples (or ``X_val`` is given); with it off, training stops
        when the training loss stops improving and keeps the last epoch.
    validation_fraction : float, default=0.1
        Fraction of the rows held out for validation.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam parameters.
    n_iter_no_change : int, default=10
        Epochs without an improvement greater than ``tol`` before stopping.
    scoring : str, callable or None, default="loss"
        What early stopping monitors, as in ``HistGradientBoostingRegressor``:
        ``"loss"``, the validation loss (``validation_scores_`` then holds R²);
        or a scikit-learn scorer name (``"neg_mean_absolute_error"``, ...), a
        callable ``scorer(estimator, X, y)`` or None (``score``), computed on
        the validation set after every epoch, recorded in
        ``validation_scores_`` and maximised (the best epoch is the one of the
        highest score, improvements greater than ``tol`` reset the patience).
    max_fun : int, default=15000
        Maximum number of loss evaluations of ``"lbfgs"``.
    huber_delta : float, default=1.0
        Threshold of ``loss="huber"``, in standard deviations of ``y``.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    ema_decay : float in [0, 1) or None, default=0.99
        Decay of an exponential moving average of the weights over the
        optimizer steps (stochastic solvers, in ``fit``). The averaged weights
        are the ones validated, kept as the best epoch's and returned: they
        generalise better than the last step's, most on noisy targets. The
        decay warms up as ``min(ema_decay, (1 + t) / (10 + t))`` after ``t``
        steps, and the average spans at most one epoch (at least 10 steps):
        with ``k`` steps per epoch the decay is at most
        ``1 - 1 / max(k, 10)``. 0 or None trains without averaging;
        ``partial_fit`` never averages.
    input_scaling : {"robust", "standard"} or None, default="robust"
        Scaling of the numeric features inside the estimator, fitted on the
        training rows: ``"robust"`` centres on the median, divides by the
        inter-quartile range and squashes outliers smoothly into (-3, 3); it
        makes the network insensitive to the units and outliers of the inputs.
    n_bins : "auto", int >= 2 or None, default="auto"
        Piecewise-linear encoding of each numeric feature over its training
        quantiles (Gorishniy et al., 2022), appended to the scaled features:
        one column per bin, 1 below the value, 0 above, the position inside
        its bin. It lets the network learn threshold effects as a tree does.
        ``"auto"``: 64 bins per feature from 2500 training rows on (at most
        512 bin columns in all; binary features get none), no bins on smaller
        data, where they overfit. None: no bins.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:N"``.
    callbacks : list of Callback or None, default=None
        Objects whose hooks the training loop calls every epoch; one whose
        ``on_epoch_end`` returns True stops training. See ``Callback``.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.
    n_outputs_ : int
    out_activation_ : str
        ``"identity"``, or ``"exp"`` for the Poisson loss.
    n_iter_ : int
        Epochs run by the last call of ``fit`` or ``partial_fit`` (1 after a
        ``partial_fit``, as in scikit-learn); ``len(history_)`` counts them all.
    t_ : int
        Training samples seen over the estimator's life.
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss of every epoch.
    best_loss_ : float or None
        Lowest training loss; None when a validation set is used.
    validation_scores_ : list of float or None
        R² on the validation set after every epoch.
    validation_loss_curve_ : list of float or None
        Validation loss after every epoch.
    best_validation_score_ : float or None
        Validation R² of the restored best epoch.
    best_validation_loss_ : float or None
        Validation loss of the restored best epoch.
    best_epoch_ : int
        The epoch whose weights the model holds when a validation set is used
        (ties keep the earlier epoch), else the epoch of the lowest training
        loss.
    do_early_stopping_ : bool
        Whether a validation set was used.
    stop_reason_ : str
        ``"no_improvement"``, ``"max_iter"``, ``"callback"`` (a callback's
        ``on_epoch_end`` returned True), ``"diverged"`` or ``"interrupted"``;
        for ``"lbfgs"`` also ``"max_fun"`` and ``"converged"``.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``valid_loss``, ``valid_score``,
        ``learning_rate``, ``seconds``, ``is_best``.
    coefs_, intercepts_ : list of ndarray
        Weights and biases of each layer, as in scikit-learn's MLP.
    module_ : torch.nn.Module
        The trained network (outputs on the scaled target).
    device_ : torch.device
        Where the network lives.

    See Also
    --------
    TorchMLPClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : The scikit-learn original.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skorchless import TorchMLPRegressor
    >>> X, y = make_regression(n_samples=300, n_features=5, noise=1.0,
    ...                        random_state=0)
    >>> reg = TorchMLPRegressor(random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.score(X, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **BaseTorchMLP._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
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
        huber_delta=1.0,
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
        self.loss = loss
        self.huber_delta = huber_delta

    @available_if(BaseTorchMLP._check_solver)
    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over ``X, y``.

        The first call fixes the input and target scaling; no validation set
        is used.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            1-D when the model has one output.
        """
        output = self._raw_predict(X)  # checks that the model is fitted
        return self._target.decode(output)

    def _make_target(self):
        return RegressionTarget(self.loss, self.huber_delta)
