"""Learning-curve plot of a fitted estimator, following scikit-learn's Display API."""

import math

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


class LossCurveDisplay:
    """Training and validation loss per epoch, with the restored best epoch marked.

    Build it with :meth:`from_estimator` from a fitted ``TorchMLPRegressor`` or
    ``TorchMLPClassifier`` (or a pipeline ending in one); the constructor only
    stores the curves. Plotting needs matplotlib (``pip install
    skorchless[plot]``), imported only when plotting.

    Parameters
    ----------
    epochs : array-like of int
        Epoch numbers (1-based, as in ``history_``).
    train_loss : array-like of float
        Mean training loss of each epoch.
    valid_loss : array-like of float or None, default=None
        Validation loss after each epoch (NaN where there was none), or None
        without a validation set.
    best_epoch : int or None, default=None
        Epoch whose weights the model holds, marked with a vertical line; None
        marks nothing.
    loss_name : str or None, default=None
        Name of the loss, shown on the y axis.
    estimator_name : str or None, default=None
        Title of the plot.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure of the axes.
    lines_ : list of matplotlib Line2D
        The loss curves: training, then validation when there is one.
    train_line_ : matplotlib Line2D
        The training-loss curve.
    valid_line_ : matplotlib Line2D or None
        The validation-loss curve.
    best_epoch_line_ : matplotlib Line2D or None
        The vertical line at the best epoch.

    See Also
    --------
    sklearn.metrics.PredictionErrorDisplay : Predicted against true values.
    sklearn.metrics.ConfusionMatrixDisplay : Confusion matrix of a classifier.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_regression
    >>> from skorchless import LossCurveDisplay, TorchMLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    >>> reg = TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0,
    ...                         device="cpu").fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(reg)
    >>> display.ax_.get_xlabel()
    'Epoch'
    >>> len(display.lines_)
    2
    >>> display.best_epoch_line_.get_label() == f"Best epoch ({reg.best_epoch_})"
    True
    """

    def __init__(self, *, epochs, train_loss, valid_loss=None, best_epoch=None,
                 loss_name=None, estimator_name=None):
        self.epochs = epochs
        self.train_loss = train_loss
        self.valid_loss = valid_loss
        self.best_epoch = best_epoch
        self.loss_name = loss_name
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, log_scale=False, train_kw=None,
             valid_kw=None, best_kw=None):
        """Plot the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        name : str, default=None
            Title of the plot; None uses ``estimator_name``.
        log_scale : bool, default=False
            Use a logarithmic loss axis (all losses must be positive).
        train_kw, valid_kw, best_kw : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the training curve,
            of the validation curve, and ``axvline`` of the best-epoch marker.

        Returns
        -------
        display : LossCurveDisplay
            The object, with ``ax_``, ``figure_`` and the lines set.

        Raises
        ------
        ValueError
            If ``log_scale`` is true and a loss is not positive.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from skorchless import LossCurveDisplay
        >>> display = LossCurveDisplay(epochs=[1, 2, 3], train_loss=[1.0, 0.5, 0.4],
        ...                            valid_loss=[1.1, 0.6, 0.7], best_epoch=2)
        >>> display = display.plot(log_scale=True)
        >>> display.ax_.get_yscale(), len(display.ax_.get_lines())
        ('log', 3)
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        epochs = np.asarray(self.epochs)
        train = _as_float_array(self.train_loss)
        valid = None if self.valid_loss is None else _as_float_array(self.valid_loss)
        if log_scale:
            _check_positive(train if valid is None else np.concatenate([train, valid]))
        if ax is None:
            _, ax = plt.subplots()

        self.train_line_, = ax.plot(
            epochs, train, **{"label": "Training loss", **(train_kw or {})}
        )
        self.lines_ = [self.train_line_]
        self.valid_line_ = None
        if valid is not None:
            self.valid_line_, = ax.plot(
                epochs, valid, **{"label": "Validation loss", **(valid_kw or {})}
            )
            self.lines_.append(self.valid_line_)
        self.best_epoch_line_ = None
        if self.best_epoch is not None and self.best_epoch in epochs:
            style = {"color": "black", "linestyle": "--", "linewidth": 1.0,
                     "label": f"Best epoch ({self.best_epoch})"}
            self.best_epoch_line_ = ax.axvline(self.best_epoch, **{**style, **(best_kw or {})})

        ax.set_xlabel("Epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("Loss" if self.loss_name is None else f"Loss ({self.loss_name})")
        if log_scale:
            ax.set_yscale("log")
        title = self.estimator_name if name is None else name
        if title is not None:
            ax.set_title(title)
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, log_scale=False,
                       train_kw=None, valid_kw=None, best_kw=None):
        """Plot the loss curves recorded in the ``history_`` of a fitted estimator.

        The best epoch is marked when the estimator used a validation set,
        since only then does it hold the weights of that epoch.

        Parameters
        ----------
        estimator : TorchMLPRegressor, TorchMLPClassifier or Pipeline
            A fitted estimator, or a fitted pipeline whose last step is one.
        ax : matplotlib Axes, default=None
            Axes to plot on; None creates a figure and axes.
        name : str, default=None
            Title of the plot; None uses the class name of the estimator.
        log_scale : bool, default=False
            Use a logarithmic loss axis.
        train_kw, valid_kw, best_kw : dict, default=None
            Passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay

        Raises
        ------
        TypeError
            If the estimator records no training history.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import make_classification
        >>> from skorchless import LossCurveDisplay, TorchMLPClassifier
        >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
        >>> clf = TorchMLPClassifier((16,), max_iter=20, random_state=0,
        ...                          device="cpu").fit(X, y)
        >>> display = LossCurveDisplay.from_estimator(clf, log_scale=True)
        >>> display.ax_.get_ylabel()
        'Loss (cross-entropy)'
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        model = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        check_is_fitted(model)
        if not hasattr(model, "history_"):
            raise TypeError(
                "LossCurveDisplay.from_estimator needs a fitted skorchless estimator "
                "(or a pipeline ending in one), which records its training history in "
                f"history_; got {type(model).__name__}."
            )
        history = model.history_
        valid = [row["valid_loss"] for row in history]
        has_valid = any(v is not None for v in valid)
        display = cls(
            epochs=[row["epoch"] for row in history],
            train_loss=[row["train_loss"] for row in history],
            valid_loss=valid if has_valid else None,
            best_epoch=model.best_epoch_ if getattr(model, "do_early_stopping_", False)
            else None,
            loss_name=_loss_name(model),
            estimator_name=type(model).__name__,
        )
        return display.plot(ax=ax, name=name, log_scale=log_scale, train_kw=train_kw,
                            valid_kw=valid_kw, best_kw=best_kw)


def _as_float_array(values):
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def _check_positive(losses):
    finite = losses[np.isfinite(losses)]
    if (finite <= 0).any():
        raise ValueError(
            "log_scale=True needs positive losses, but the smallest loss is "
            f"{finite.min():.4g} (the Poisson loss, for one, can be negative). "
            "Use log_scale=False."
        )


def _loss_name(model):
    if is_classifier(model):
        return "cross-entropy"
    loss = getattr(model, "loss", None)
    return None if loss is None else f"{loss}, scaled target"


def _check_matplotlib(caller):
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. You can install matplotlib with "
            "`pip install matplotlib` (or `pip install skorchless[plot]`)."
        ) from exc
