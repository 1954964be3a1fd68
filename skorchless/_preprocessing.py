"""The scikit-learn transformers of the numeric features: scaling, clipping, bins.

Reusable pieces, fitted on the training rows only (never the validation rows)
and applied in float64, before the cast to float32, so that inputs of any
magnitude reach the network as moderate numbers. ``_inputs.InputEncoder``
puts them together for the estimators.
"""

import inspect

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import check_sample_weight

INPUT_SCALINGS = ("robust", "standard")


def smooth_clip(X, bound=3.0):
    """Squash values smoothly into ``(-bound, bound)``: ``x / sqrt(1 + (x/bound)^2)``.

    Close to the identity for small values, never overflows for huge ones.

    Parameters
    ----------
    X : ndarray
    bound : float, default=3.0

    Returns
    -------
    X_clipped : ndarray of the same shape

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._preprocessing import smooth_clip
    >>> np.round(smooth_clip(np.array([0.0, 1.0, 1e300, -np.inf])), 3)
    array([ 0.   ,  0.949,  3.   , -3.   ])
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # inf / inf, replaced by the bound below
        clipped = bound * (X / np.hypot(bound, X))
    return np.where(np.isinf(X), np.copysign(bound, X), clipped)


def weighted_quantile(values, q, sample_weight=None):
    """Return the quantiles ``q`` of ``values``, each row counted ``sample_weight`` times.

    The quantile of the empirical distribution function, averaged where it
    is flat (numpy's ``method="averaged_inverted_cdf"``): the median of an
    even number of values is the mean of the middle two, and a weight of 2
    gives the same quantiles as the row repeated -- which numpy's default
    linear interpolation does not. Rows of zero weight are left out.

    Parameters
    ----------
    values : ndarray of shape (n_samples,)
    q : float or ndarray of floats in [0, 1]
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights, not all zero; None counts every row once.

    Returns
    -------
    quantiles : float or ndarray, as ``q``

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._preprocessing import weighted_quantile
    >>> weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), [0.25, 0.5]).tolist()
    [1.5, 2.5]
    >>> weighted_quantile(np.array([1.0, 2.0, 7.0]), 0.5, np.array([1, 3, 0])).item()
    2.0
    """
    order = np.argsort(values, kind="stable")
    values = values[order]
    if sample_weight is not None:
        sample_weight = sample_weight[order]
        values = values[sample_weight > 0]
        cumulative = np.cumsum(sample_weight[sample_weight > 0], dtype=np.float64)
    else:
        cumulative = np.arange(1.0, len(values) + 1.0)
    target = np.asarray(q, dtype=np.float64) * cumulative[-1]
    last = len(values) - 1
    first_reached = np.minimum(np.searchsorted(cumulative, target, side="left"), last)
    first_beyond = np.minimum(np.searchsorted(cumulative, target, side="right"), last)
    return values[first_reached] / 2.0 + values[first_beyond] / 2.0  # no overflow


class WeightedRobustScaler(RobustScaler):
    """``RobustScaler`` fitted with sample weights: centre on the median, divide by the IQR.

    The median and the inter-quartile range are those of ``weighted_quantile``,
    so that a weight of 2 fits the same scaling as a repeated row, as the
    estimators' ``sample_weight`` promises. A feature of zero range is only
    centred. ``transform`` is ``RobustScaler``'s.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._preprocessing import WeightedRobustScaler
    >>> X = np.array([[1.0], [2.0], [3.0], [10.0]])
    >>> scaler = WeightedRobustScaler().fit(X, sample_weight=[1, 1, 2, 0])
    >>> scaler.center_.tolist(), scaler.scale_.tolist()
    ([2.5], [1.5])
    """

    def fit(self, X, y=None, sample_weight=None):
        """Learn the weighted median and inter-quartile range of each feature."""
        X = validate_data(self, X, dtype=np.float64)
        weight = None if sample_weight is None else check_sample_weight(sample_weight, X)
        stats = np.array([weighted_quantile(column, [0.25, 0.5, 0.75], weight)
                          for column in X.T]).reshape(-1, 3)
        self.center_ = stats[:, 1]
        with np.errstate(over="ignore"):  # a range wider than float64's: its largest
            iqr = np.minimum(stats[:, 2] - stats[:, 0], np.finfo(np.float64).max)
        self.scale_ = np.where(iqr > 0, iqr, 1.0)
        return self


class PiecewiseLinearEncoder(TransformerMixin, BaseEstimator):
    """Append to each feature its piecewise-linear encoding over quantile bins.

    The encoding of Gorishniy et al. (2022), "On Embeddings for Numerical
    Features in Tabular Deep Learning": the training quantiles cut a feature
    into up to ``n_bins`` bins; a value ``x`` becomes one column per bin,
    ``clip((x - left) / (right - left), 0, 1)`` -- 1 for the bins below it, 0
    for those above, its position inside its own bin. A network reads
    threshold-like effects from it as easily as a tree does. Features with
    fewer than three distinct values (binary ones) get no bins. The output is
    ``X`` followed by the bin columns.

    Parameters
    ----------
    n_bins : int, default=64
        Most bins per feature (fewer when quantiles coincide).

    Attributes
    ----------
    edges_ : list of ndarray
        The bin edges of each feature; empty for a feature without bins.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._preprocessing import PiecewiseLinearEncoder
    >>> encoder = PiecewiseLinearEncoder(n_bins=2).fit(np.arange(5.0)[:, None])
    >>> encoder.transform([[1.0], [3.0]])
    array([[1. , 0.5, 0. ],
           [3. , 1. , 0.5]])
    """

    def __init__(self, n_bins=64):
        self.n_bins = n_bins

    def fit(self, X, y=None, sample_weight=None):
        """Find the quantile bins of each feature of ``X`` (see ``weighted_quantile``)."""
        X = validate_data(self, X, dtype=np.float64)
        weight = None if sample_weight is None else check_sample_weight(sample_weight, X)
        quantiles = np.linspace(0.0, 1.0, self.n_bins + 1)
        counted = slice(None) if weight is None else weight > 0
        self.edges_ = [
            np.unique(weighted_quantile(column, quantiles, weight))
            if len(np.unique(column[counted])) > 2 else np.empty(0)
            for column in X.T
        ]
        return self

    def transform(self, X):
        """Return ``X`` followed by the bin columns of every feature."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        parts = [X] + [
            np.clip((X[:, [j]] - edges[:-1]) / np.diff(edges), 0.0, 1.0)
            for j, edges in enumerate(self.edges_) if len(edges)
        ]
        return np.hstack(parts)


def make_input_scaler(input_scaling, n_bins=0):
    """Return an unfitted transformer for ``input_scaling`` and ``n_bins``, or None.

    Parameters
    ----------
    input_scaling : {"robust", "standard"} or None
        ``"robust"``: centre on the median, divide by the inter-quartile range
        (``WeightedRobustScaler``), then ``smooth_clip`` (robust to outliers
        and heavy tails).
        ``"standard"``: ``StandardScaler``. None: no scaling.
    n_bins : int, default=0
        Bins of a ``PiecewiseLinearEncoder`` after the scaling (0: none).

    Returns
    -------
    transformer : sklearn transformer or None

    Examples
    --------
    >>> from skorchless._preprocessing import make_input_scaler
    >>> make_input_scaler("standard")
    StandardScaler()
    >>> make_input_scaler(None, n_bins=16)
    PiecewiseLinearEncoder(n_bins=16)
    """
    steps = []
    if input_scaling == "standard":
        steps.append(StandardScaler())
    elif input_scaling == "robust":
        steps += [WeightedRobustScaler(), FunctionTransformer(smooth_clip)]
    if n_bins:
        steps.append(PiecewiseLinearEncoder(n_bins))
    if len(steps) < 2:
        return steps[0] if steps else None
    return make_pipeline(*steps)


def fit_transform_weighted(transformer, X, sample_weight=None):
    """Fit ``transformer`` (or each step of a ``Pipeline``) on ``X``; return ``X`` transformed.

    ``sample_weight`` goes to the steps whose ``fit`` takes it; the others fit
    unweighted.

    Parameters
    ----------
    transformer : sklearn transformer or Pipeline
    X : array-like
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    X_transformed : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._preprocessing import fit_transform_weighted, make_input_scaler
    >>> X = np.array([[0.0], [1.0], [5.0]])
    >>> fit_transform_weighted(make_input_scaler("standard"), X, np.array([1.0, 1.0, 0.0]))
    array([[-1.],
           [ 1.],
           [ 9.]])
    """
    if sample_weight is None:
        return transformer.fit_transform(X)
    steps = [step for _, step in transformer.steps] if isinstance(transformer, Pipeline) \
        else [transformer]
    for step in steps:
        if "sample_weight" in inspect.signature(step.fit).parameters:
            X = step.fit(X, sample_weight=sample_weight).transform(X)
        else:
            X = step.fit_transform(X)
    return X
