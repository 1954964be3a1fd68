"""Encoding and scaling of the inputs inside the estimator, with scikit-learn transformers.

The transformers are fitted on the training rows only (never the validation
rows) and applied in float64, before the cast to float32, so that inputs of
any magnitude reach the network as moderate numbers.

Numeric input (arrays, sparse matrices, all-numeric DataFrames) is scaled
column by column. A pandas DataFrame with categorical columns (dtype object,
category, string or bool) is encoded by a ``ColumnTransformer``: the numeric
columns are scaled as above, the categorical ones one-hot encoded.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.validation import (
    FLOAT_DTYPES,
    _check_y,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

INPUT_SCALINGS = ("robust", "standard")
#: Most one-hot columns of a categorical feature: the 63 most frequent
#: categories of the training rows get a column each, the rarer ones share one.
MAX_CATEGORIES = 64
#: ``n_bins="auto"``: quantile bins per numeric feature, from this many training rows on.
AUTO_BINS = 64
AUTO_BINS_MIN_SAMPLES = 2500
#: ``n_bins="auto"`` gives all the numeric features together at most this many
#: bins (fewer per feature when there are many), and none below 4 per feature.
AUTO_BINS_MAX_COLUMNS = 512


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


def resolve_n_bins(n_bins, n_samples, n_features):
    """Return the bins per numeric feature that ``n_bins`` asks for (0: none).

    Parameters
    ----------
    n_bins : "auto", int or None
        ``"auto"``: ``AUTO_BINS`` bins from ``AUTO_BINS_MIN_SAMPLES`` training
        rows on (fewer rows overfit them), capped so that all the features
        together get at most ``AUTO_BINS_MAX_COLUMNS`` (none when that leaves
        fewer than 4 per feature). None: no bins.
    n_samples : int
        Training rows.
    n_features : int or callable
        Numeric features, or a function that counts them, called only when
        ``"auto"`` needs the count (counting may be costly).

    Returns
    -------
    n_bins : int

    Examples
    --------
    >>> from skorchless._preprocessing import resolve_n_bins
    >>> resolve_n_bins("auto", 10_000, 5), resolve_n_bins("auto", 10_000, 32)
    (64, 16)
    >>> resolve_n_bins("auto", 1000, 5), resolve_n_bins(8, 1000, 5)
    (0, 8)
    """
    if n_bins is None:
        return 0
    if n_bins != "auto":
        return int(n_bins)
    if n_samples < AUTO_BINS_MIN_SAMPLES:
        return 0
    if callable(n_features):
        n_features = n_features()
    if n_features == 0:
        return 0
    bins = min(AUTO_BINS, AUTO_BINS_MAX_COLUMNS // n_features)
    return bins if bins >= 4 else 0


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


def categorical_columns(X):
    """Return the names of the categorical columns of a DataFrame (else ``[]``).

    A column is categorical when its dtype is object, category, string or
    bool (pandas nullable ``"boolean"`` included).

    Parameters
    ----------
    X : object
        Anything; only a pandas DataFrame can have categorical columns.

    Returns
    -------
    columns : list

    Examples
    --------
    >>> import pandas as pd
    >>> from skorchless._preprocessing import categorical_columns
    >>> categorical_columns(pd.DataFrame({"x": [1.0], "colour": ["red"], "new": [True]}))
    ['colour', 'new']
    """
    if not isinstance(X, pd.DataFrame):
        return []
    return [
        name for name, dtype in X.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    ]


def make_frame_encoder(columns, categorical, input_scaling, n_bins=0):
    """Return an unfitted ``ColumnTransformer`` for a DataFrame with categorical columns.

    Numeric columns go through ``make_input_scaler(input_scaling, n_bins)``;
    categorical columns through a ``OneHotEncoder`` that keeps at most
    ``MAX_CATEGORIES`` columns per feature (the rarest categories share one)
    and encodes a category unseen in training as the rare one, or as all
    zeros when the feature has no rare categories. A missing value is a
    category of its own.

    Parameters
    ----------
    columns : sequence of str
        All the columns of the frame, in order.
    categorical : list
        The categorical ones among them.
    input_scaling : {"robust", "standard"} or None
    n_bins : int, default=0
        Quantile bins per numeric feature (0: none).

    Returns
    -------
    encoder : sklearn.compose.ColumnTransformer

    Examples
    --------
    >>> import pandas as pd
    >>> from skorchless._preprocessing import make_frame_encoder
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    >>> make_frame_encoder(X.columns, ["colour"], "standard").fit_transform(X).shape
    (3, 3)
    """
    numeric = [name for name in columns if name not in categorical]
    return ColumnTransformer(
        [("numeric", make_input_scaler(input_scaling, n_bins) or "passthrough", numeric),
         ("categorical", OneHotEncoder(
             handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES,
             sparse_output=False), list(categorical))],
        verbose_feature_names_out=False,
    )


def fit_input_transformer(X, input_scaling, n_bins, categorical):
    """Fit the encoding and scaling of the inputs on the training rows ``X``.

    Parameters
    ----------
    X : ndarray or pandas.DataFrame
        Validated training rows (a frame prepared by ``validate_frame`` when
        ``categorical`` is not empty).
    input_scaling : {"robust", "standard"} or None
    n_bins : "auto", int or None
        Quantile bins of the numeric features, see ``resolve_n_bins``; only
        features with more than two distinct values count for ``"auto"``.
    categorical : list
        Categorical columns of ``X``; empty for numeric input.

    Returns
    -------
    transformer : fitted sklearn transformer or None
        None when numeric input is left as it is.
    n_inputs : int
        Number of columns the transformer outputs: the width of the network's
        input layer.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._preprocessing import fit_input_transformer
    >>> fit_input_transformer(np.eye(3), "standard", "auto", [])
    (StandardScaler(), 3)
    """
    numeric = X.drop(columns=categorical) if categorical else X
    bins = resolve_n_bins(n_bins, len(X), lambda: _n_continuous(numeric))
    if categorical:
        transformer = make_frame_encoder(X.columns, categorical, input_scaling, bins).fit(X)
        return transformer, transformer.transform(X.iloc[:1]).shape[1]
    transformer = make_input_scaler(input_scaling, bins)
    if transformer is None:
        return None, X.shape[1]
    return transformer.fit(X), transformer.transform(X[:1]).shape[1]


def _n_continuous(X):
    """Count the columns with more than two distinct values (in the first rows)."""
    values = np.asarray(X, dtype=np.float64)
    return sum(len(np.unique(column[:10_000])) > 2 for column in values.T)


def validate_frame(estimator, X, y=None, *, reset, categorical, y_numeric=False):
    """Validate a DataFrame with categorical columns and prepare it for encoding.

    Checks the feature names (and sets them when ``reset``) as
    ``validate_data`` does, rejects missing or infinite values in the
    numeric columns with the same error as for arrays, and returns a copy in
    which each categorical column holds strings, missing values as NaN (so
    that every dtype -- category, bool, mixed objects -- encodes the same way
    in ``fit`` and ``predict``).

    Parameters
    ----------
    estimator : BaseEstimator
    X : pandas.DataFrame
    y : array-like or None, default=None
    reset : bool
        Whether this is the first fit (set ``n_features_in_`` and
        ``feature_names_in_``) or a later call (check them).
    categorical : list
        Names of the categorical columns.
    y_numeric : bool, default=False
        Whether ``y`` must be numeric.

    Returns
    -------
    X : pandas.DataFrame
    y : ndarray or None

    Raises
    ------
    ValueError
        If a numeric column holds NaN or infinity, or ``X`` is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.base import BaseEstimator
    >>> from skorchless._preprocessing import validate_frame
    >>> X = pd.DataFrame({"x": [1.0, 2.0], "colour": pd.Categorical(["red", None])})
    >>> validate_frame(BaseEstimator(), X, reset=True, categorical=["colour"])[0]
         x colour
    0  1.0    red
    1  2.0    NaN
    """
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    numeric = [name for name in X.columns if name not in categorical]
    check_array(X[numeric] if numeric else np.zeros((len(X), 1)), dtype=FLOAT_DTYPES,
                input_name="X", estimator=estimator)
    if y is not None:
        y = _check_y(y, multi_output=True, y_numeric=y_numeric, estimator=estimator)
        check_consistent_length(X, y)
    X = X.copy()
    for name in categorical:
        X[name] = _as_strings(X[name])
    return X, y


def _as_strings(column):
    values = column.astype(object).to_numpy()  # keeps a category's own type (1, not 1.0)
    missing = pd.isna(values)
    strings = values.astype(str).astype(object)
    strings[missing] = np.nan
    return pd.Series(strings, index=column.index, dtype=object)
