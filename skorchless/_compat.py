"""Every private scikit-learn name the package uses, imported here once.

scikit-learn's tools for third-party estimators (parameter validation, the
fit context, sample-weight checks) live in private modules. Importing them in
one place, with a fallback where the name is missing, keeps a scikit-learn
release that moves one of them from breaking more than this file.
"""

import functools
import inspect

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_sample_weight, check_array

try:
    from sklearn.base import _fit_context
except ImportError:  # pragma: no cover - scikit-learn without it
    def _fit_context(*, prefer_skip_nested_validation):
        """Validate the estimator's parameters before the decorated ``fit`` runs."""
        def decorator(fit_method):
            @functools.wraps(fit_method)
            def wrapper(estimator, *args, **kwargs):
                estimator._validate_params()
                return fit_method(estimator, *args, **kwargs)
            return wrapper
        return decorator

try:
    from sklearn.utils.validation import _check_y
except ImportError:  # pragma: no cover - scikit-learn without it
    def _check_y(y, multi_output=False, y_numeric=False, estimator=None):
        """Validate ``y`` as ``check_array`` does for a target."""
        return check_array(y, ensure_2d=multi_output, dtype="numeric" if y_numeric else None,
                           input_name="y", estimator=estimator)

fit_context = _fit_context
check_y = _check_y

__all__ = [
    "Interval", "Options", "StrOptions", "available_if", "check_sample_weight", "check_y",
    "fit_context",
]

_SAMPLE_WEIGHT_OPTIONS = set(inspect.signature(_check_sample_weight).parameters)


def check_sample_weight(sample_weight, X):
    """Validate ``sample_weight`` for ``X``: float64, finite, non-negative, one per row.

    Calls scikit-learn's private ``_check_sample_weight`` with only the
    options its signature has (it keeps growing).

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or scalar
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._compat import check_sample_weight
    >>> check_sample_weight([1, 2], np.zeros((2, 3)))
    array([1., 2.])
    """
    options = {"dtype": np.float64}
    if "ensure_non_negative" in _SAMPLE_WEIGHT_OPTIONS:
        options["ensure_non_negative"] = True
    return _check_sample_weight(sample_weight, X, **options)
