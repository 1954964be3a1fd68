"""The input scaling of a sparse ``X``: scaled, never centred, never densified.

Centring would turn every implicit zero into a stored value, and quantile
bins add dense columns, so a sparse ``X`` takes the sparsity-keeping half of
each ``input_scaling``:

- ``"standard"``: divided by its standard deviation (``StandardScaler(with_mean=False)``);
- ``"robust"``: divided by its standard deviation too, then ``smooth_clip``
  applied to the stored values (the outliers squashed). Not the
  inter-quartile range of the dense path: the quartiles of a column that is
  mostly zero are all zero, and a standard deviation is weighted exactly
  (a weight of 2 scales as a repeated row), which sample quantiles are not;
- ``n_bins``: none (``"auto"`` resolves to none; a number is refused).

Zero stays zero throughout, so the result is as sparse as ``X``.
"""

import scipy.sparse
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ._preprocessing import smooth_clip


def smooth_clip_sparse(X, bound=3.0):
    """Apply ``smooth_clip`` to the stored values of a sparse matrix (zero stays zero).

    A dense ``X`` (a model fitted on sparse rows predicting dense ones) is
    clipped as ``smooth_clip`` clips it: the same values.

    Parameters
    ----------
    X : scipy sparse matrix or ndarray
    bound : float, default=3.0

    Returns
    -------
    X_clipped : scipy sparse matrix of the same format, or ndarray

    Examples
    --------
    >>> import numpy as np, scipy.sparse
    >>> from skorchless._sparse import smooth_clip_sparse
    >>> X = scipy.sparse.csr_matrix(np.array([[0.0, 1e6], [1.0, 0.0]]))
    >>> smooth_clip_sparse(X).toarray().round(3)
    array([[0.   , 3.   ],
           [0.949, 0.   ]])
    """
    if not scipy.sparse.issparse(X):
        return smooth_clip(X, bound)
    X = X.copy()
    X.data = smooth_clip(X.data, bound)
    return X


def make_sparse_scaler(input_scaling, n_bins):
    """Return the unfitted scaling of a sparse ``X`` for ``input_scaling``, or None.

    Parameters
    ----------
    input_scaling : {"robust", "standard"} or None
    n_bins : "auto", int or None
        Only ``"auto"`` and None are taken (both: no bins).

    Returns
    -------
    transformer : sklearn transformer or None

    Raises
    ------
    ValueError
        If ``n_bins`` is a number: quantile bins would densify ``X``.

    Examples
    --------
    >>> from skorchless._sparse import make_sparse_scaler
    >>> make_sparse_scaler("standard", "auto")
    StandardScaler(with_mean=False)
    """
    if n_bins is not None and n_bins != "auto":
        raise ValueError(
            f"The 'n_bins' parameter must be None or 'auto' for a sparse X (quantile "
            f"bins would densify it). Got n_bins={n_bins!r} instead; densify X "
            "(X.toarray()) to use bins."
        )
    if input_scaling == "standard":
        return StandardScaler(with_mean=False)
    if input_scaling == "robust":
        return make_pipeline(StandardScaler(with_mean=False),
                             FunctionTransformer(smooth_clip_sparse, accept_sparse=True))
    return None
