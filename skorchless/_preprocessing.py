"""The scikit-learn transformers of the numeric features: scaling, clipping, bins.

Reusable pieces, fitted on the training rows only (never the validation rows)
and applied in float64, before the cast to float32, so that inputs of any
magnitude reach the network as moderate numbers. ``_inputs.InputEncoder``
puts them together for the estimators.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

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

    def fit(self, X, y=None):
        """Find the quantile bins of each feature of ``X``."""
        X = validate_data(self, X, dtype=np.float64)
        quantiles = np.linspace(0.0, 1.0, self.n_bins + 1)
        self.edges_ = [
            np.unique(np.quantile(column, quantiles)) if len(np.unique(column)) > 2
            else np.empty(0)
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
        ``"robust"``: centre on the median, divide by the inter-quartile range,
        then ``smooth_clip`` (robust to outliers and heavy tails).
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
        steps += [RobustScaler(), FunctionTransformer(smooth_clip)]
    if n_bins:
        steps.append(PiecewiseLinearEncoder(n_bins))
    if len(steps) < 2:
        return steps[0] if steps else None
    return make_pipeline(*steps)
