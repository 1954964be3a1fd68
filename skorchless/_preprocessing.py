"""Scaling of the inputs inside the estimator, with scikit-learn transformers.

The transformers are fitted on the training rows only (never the validation
rows) and applied in float64, before the cast to float32, so that inputs of
any magnitude reach the network as moderate numbers.
"""

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

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
    >>> np.round(smooth_clip(np.array([0.0, 1.0, 1e300])), 3)
    array([0.   , 0.949, 3.   ])
    """
    X = np.asarray(X, dtype=np.float64)
    return bound * X / np.hypot(bound, X)


def make_input_scaler(input_scaling):
    """Return an unfitted transformer for ``input_scaling``, or None.

    Parameters
    ----------
    input_scaling : {"robust", "standard"} or None
        ``"robust"``: centre on the median, divide by the inter-quartile range,
        then ``smooth_clip`` (robust to outliers and heavy tails).
        ``"standard"``: ``StandardScaler``. None: no scaling.

    Returns
    -------
    transformer : sklearn transformer or None

    Examples
    --------
    >>> from skorchless._preprocessing import make_input_scaler
    >>> make_input_scaler("standard")
    StandardScaler()
    """
    if input_scaling is None:
        return None
    if input_scaling == "standard":
        return StandardScaler()
    return make_pipeline(RobustScaler(), FunctionTransformer(smooth_clip))
