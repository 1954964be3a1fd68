"""A validation set that does not look like the training data: the untransformed ``X_val``.

``pipe.fit(X, y, mlp__X_val=X_val, mlp__y_val=y_val)`` hands ``X_val`` to the
estimator as it is, past the pipeline's transformers, while ``X`` arrives
transformed; the best epoch is then chosen on data the network never saw the
like of. The estimator cannot transform ``X_val`` itself (it does not know
the pipeline), and a validation set from a shifted distribution can be what
the user means, so it warns, once per fit, naming the likely cause and the
fix: ``Pipeline(..., transform_input=["X_val"])`` with metadata routing.

A numeric column is far outside when its validation median lies more than
``MEDIAN_SHIFT`` training inter-quartile ranges from the training median, or
its inter-quartile range differs from the training one by more than a factor
``SPREAD_RATIO``; the warning comes when most columns are.
"""

import warnings

import numpy as np
import pandas as pd
import scipy.sparse

#: Thresholds of a column "far outside" the training data, and the fewest
#: validation rows for the quartiles to mean something.
MEDIAN_SHIFT = 5.0
SPREAD_RATIO = 10.0
MIN_ROWS = 10


def far_columns(X_train, X_val):
    """Return the names (or indices) of the numeric columns of ``X_val`` far outside ``X_train``.

    Parameters
    ----------
    X_train, X_val : ndarray, sparse matrix or pandas.DataFrame
        Validated rows, before the estimator's own encoding.

    Returns
    -------
    far : list
        Empty when fewer than half the usable columns are far, when
        ``X_val`` has fewer than ``MIN_ROWS`` rows, or for sparse input.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._shift import far_columns
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> far_columns(X, X[:50]), far_columns(X, 100 * X[:50] + 7)
    ([], [0, 1, 2])
    """
    if scipy.sparse.issparse(X_train) or len(X_val) < MIN_ROWS:
        return []
    if isinstance(X_train, pd.DataFrame):
        names = [c for c in X_train.columns if pd.api.types.is_numeric_dtype(X_train[c])
                 and not pd.api.types.is_bool_dtype(X_train[c])]
        train, val = (np.asarray(X[names], dtype=np.float64) for X in (X_train, X_val))
    else:
        names = list(range(X_train.shape[1]))
        train, val = np.asarray(X_train, np.float64), np.asarray(X_val, np.float64)
    if not names:
        return []
    (low, median, high), (val_low, val_median, val_high) = (
        np.nanpercentile(X, [25, 50, 75], axis=0) for X in (train, val))
    spread, val_spread = high - low, val_high - val_low
    usable = spread > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        far = usable & ((np.abs(val_median - median) > MEDIAN_SHIFT * spread)
                        | (val_spread > SPREAD_RATIO * spread)
                        | (val_spread < spread / SPREAD_RATIO))
    if far.sum() * 2 <= usable.sum():
        return []
    return [name for name, is_far in zip(names, far, strict=True) if is_far]


def warn_if_untransformed(estimator, X_train, X_val):
    """Warn when most numeric columns of ``X_val`` lie far outside ``X_train``.

    Examples
    --------
    >>> import warnings, numpy as np
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._shift import warn_if_untransformed
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_untransformed(TorchMLPRegressor(), X, 50 * X + 100)
    >>> str(caught[0].message)[:55]
    'X_val looks untransformed: 2 of its 2 numeric columns l'
    """
    far = far_columns(X_train, X_val)
    if not far:
        return
    n_columns = X_train.shape[1]
    name = type(estimator).__name__
    warnings.warn(
        f"X_val looks untransformed: {len(far)} of its {n_columns} numeric columns lie "
        f"far outside the training data (e.g. column {far[0]!r}). If this {name} is "
        "the last step of a Pipeline, X_val passed as pipe.fit(..., step__X_val=...) "
        "skips the pipeline's transformers, while X goes through them. Use "
        "Pipeline(..., transform_input=['X_val']) with "
        "sklearn.set_config(enable_metadata_routing=True) and "
        "pipe.fit(X, y, X_val=X_val, y_val=y_val), or transform X_val yourself.",
        UserWarning, stacklevel=4,
    )
