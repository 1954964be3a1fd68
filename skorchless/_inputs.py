"""The input encoder: everything between the user's table and the float32 matrix.

``InputEncoder`` validates ``X`` (arrays, sparse matrices, DataFrames), decides
the kind of each column on the first fit, and turns the rows into the matrix
the network reads. Two stages, both fitted once, on the training rows, and
reused by ``predict`` and the ONNX export: ``_columns.ColumnEncoder`` turns
each column into numbers as its kind says (dates expanded, missing numbers
filled and indicated), then numeric columns are scaled and clipped as
``input_scaling`` says and encoded in quantile bins as ``n_bins`` says
(``_preprocessing``), categorical columns of a DataFrame one-hot encoded.
polars and pyarrow tables are read as the same pandas frame (narwhals). A
new kind of column is one more branch of ``_columns.column_kind`` and of
``_columns.ColumnEncoder``.

The validation split lives here too: it cuts the validated rows.
"""

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn import config_context
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    validate_data,
)

from ._columns import (
    ColumnEncoder,
    as_pandas,
    check_finite_columns,
    column_kind,
    needs_kinds,
    prepare_frame,
)
from ._compat import check_y
from ._preprocessing import (
    PiecewiseLinearEncoder,
    WeightedRobustScaler,
    fit_transform_weighted,
    make_input_scaler,
    smooth_clip,
)
from ._sparse import make_sparse_scaler

#: Most one-hot columns of a categorical feature: the 63 most frequent
#: categories of the training rows get a column each, the rarer ones share one.
MAX_CATEGORIES = 64
#: ``n_bins="auto"``: quantile bins per numeric feature, from this many training rows on.
AUTO_BINS = 64
AUTO_BINS_MIN_SAMPLES = 2500
#: Fewest rows of a validation set (as in scikit-learn: one row scores nothing).
MIN_VALIDATION_ROWS = 2
#: ``n_bins="auto"`` gives all the numeric features together at most this many
#: bins (fewer per feature when there are many), and none below 4 per feature.
AUTO_BINS_MAX_COLUMNS = 512


class InputEncoder:
    """Validate and encode the features ``X`` of an estimator.

    Parameters
    ----------
    input_scaling : {"robust", "standard"} or None
        Scaling of the numeric columns (see ``make_input_scaler``).
    n_bins : "auto", int or None
        Quantile bins per numeric column (see ``resolve_n_bins``).

    Attributes
    ----------
    kinds_ : dict or None
        ``{column: kind}`` of a DataFrame whose columns are not all numpy
        numbers (see ``_columns.column_kind``), decided by the first
        ``validate(..., reset=True)``; None for arrays, sparse matrices and
        frames of numpy numbers.
    categorical_ : list
        The categorical columns among them; empty for numeric input.
    columns_ : ColumnEncoder
        The first stage: dates as numbers, missing numbers filled and
        indicated.
    transformer_ : sklearn transformer or None
        The fitted encoding; None when numeric input is used as it is.
    n_columns_ : int
        Width of the encoded matrix: the network's input layer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skorchless._inputs import InputEncoder
    >>> encoder, owner = InputEncoder("standard", None), BaseEstimator()
    >>> X, _ = encoder.validate(owner, np.eye(3), reset=True)
    >>> encoder.fit_transform(X).shape, encoder.n_columns_, owner.n_features_in_
    ((3, 3), 3, 3)
    """

    def __init__(self, input_scaling, n_bins):
        self.input_scaling = input_scaling
        self.n_bins = n_bins

    def validate(self, estimator, X, y="no_validation", *, reset, y_numeric=False):
        """Check ``X`` (and ``y``) as ``validate_data`` does; return them ready to encode.

        Sets (``reset=True``) or checks ``n_features_in_`` and
        ``feature_names_in_`` of ``estimator``. On reset, decides which columns
        are categorical.

        Parameters
        ----------
        estimator : BaseEstimator
            The estimator the errors name and the feature names belong to.
        X : array-like, sparse matrix or pandas.DataFrame
        y : array-like, None or "no_validation", default="no_validation"
            The targets, checked with ``X``; ``"no_validation"`` (predict)
            checks ``X`` alone, None is refused as ``validate_data`` does.
        reset : bool
        y_numeric : bool, default=False
            Whether ``y`` must be numeric.

        Returns
        -------
        X : ndarray, scipy.sparse.csr_matrix or pandas.DataFrame
            A DataFrame (categorical columns as strings, missing as NaN) when
            categorical columns are encoded, else a float array, or a CSR
            matrix for sparse input (kept sparse: see ``_sparse``).
        y : ndarray or None
            None when not validated.
        """
        X, y = as_pandas(X, "X"), as_pandas(y, "y")
        _check_no_missing_labels(y)
        if reset:
            self.kinds_ = ({name: column_kind(X[name]) for name in X.columns}
                           if needs_kinds(X) else None)
            self.categorical_ = [name for name, kind in (self.kinds_ or {}).items()
                                 if kind == "categorical"]
        kinds = self._fitted_kinds(estimator)
        if kinds is not None and (hasattr(X, "iloc") or set(kinds.values()) != {"numeric"}):
            if not hasattr(X, "iloc"):
                special = " and ".join(
                    f"{kind} columns {[n for n, k in kinds.items() if k == kind]}"
                    for kind in ("categorical", "datetime") if kind in kinds.values())
                raise TypeError(
                    f"This {type(estimator).__name__} was fitted on a pandas DataFrame with "
                    f"{special}; X must be a DataFrame with the same columns. Got "
                    f"{type(X).__name__} instead."
                )
            return _validate_frame(estimator, X, y, reset=reset, kinds=kinds,
                                   y_numeric=y_numeric)
        options = dict(reset=reset, dtype=(np.float64, np.float32),
                       accept_sparse=["csr", "csc"], ensure_all_finite=False)
        if _not_given(y):
            X, y = validate_data(estimator, X, **options), None
        else:
            X, y = validate_data(estimator, X, y, multi_output=True, y_numeric=y_numeric,
                                 **options)
        _check_array_values(X, getattr(estimator, "feature_names_in_", None))
        if kinds is not None:  # a frame of numbers in fit, an array now
            X = pd.DataFrame(_dense(X), columns=list(kinds))
        return _csr(X), y

    def _fitted_kinds(self, estimator):
        # Models fitted before column kinds existed hold categorical_ alone.
        if hasattr(self, "kinds_") or not self.categorical_:
            return getattr(self, "kinds_", None)
        return {name: "categorical" if name in self.categorical_ else "numeric"
                for name in estimator.feature_names_in_}

    def fit_transform(self, X, sample_weight=None):
        """Fit the encoding on the training rows ``X`` (validated) and return them encoded.

        ``sample_weight`` weighs the rows in the quantiles and means of the
        numeric encoding and in the fill values of missing numbers (a weight
        of 2 fits as a repeated row); the one-hot encoding of a DataFrame's
        categories ignores it.
        """
        self.sparse_input_ = scipy.sparse.issparse(X)
        self.columns_ = ColumnEncoder(self.kinds_, MAX_CATEGORIES)
        X = self.columns_.fit_transform(X, sample_weight)
        self.transformer_ = self._make_transformer(X)
        if self.transformer_ is None:
            encoded = X
        else:
            with _default_output():
                encoded = (self.transformer_.fit_transform(X) if self.categorical_
                           else fit_transform_weighted(self.transformer_, X, sample_weight))
        self.n_columns_ = encoded.shape[1]
        return encoded

    def transform(self, X):
        """Return validated rows ``X`` encoded as in ``fit_transform``."""
        if scipy.sparse.issparse(X) and not getattr(self, "sparse_input_", False):
            X = X.toarray()  # sparse rows for a model fitted on dense ones
        if getattr(self, "columns_", None) is not None:  # None: models of older versions
            X = self.columns_.transform(X)
        if self.transformer_ is None:
            return X
        with _default_output():
            return self.transformer_.transform(X)

    def numeric_plan(self):
        """Return the fitted encoding of numeric arrays as a ``NumericPlan``, or None.

        None when the encoding reads more than numbers (DataFrame columns of
        other kinds, sparse input), for models of older versions, and for a
        transformer that ``make_input_scaler`` does not make.
        """
        columns = getattr(self, "columns_", None)
        if (getattr(self, "kinds_", None) is not None or self.categorical_
                or getattr(self, "sparse_input_", True) or columns is None
                or columns.fill_ is None):
            return None
        return _numeric_plan(columns, self.transformer_)

    def frame_plan(self):
        """Return the fitted encoding of DataFrames as a ``FramePlan``, or None.

        For models fitted on a DataFrame of numeric and categorical columns
        (no dates), encoded by ``make_frame_encoder``; None otherwise.
        """
        kinds = getattr(self, "kinds_", None)
        columns = getattr(self, "columns_", None)
        transformer = self.transformer_
        if (not kinds or columns is None or set(kinds.values()) != {"numeric", "categorical"}
                or not isinstance(transformer, ColumnTransformer)):
            return None
        parts = {name: (step, list(names)) for name, step, names in transformer.transformers_}
        numeric, numeric_columns = parts.pop("numeric", (None, None))
        onehot, categorical = parts.pop("categorical", (None, None))
        remainder = parts.pop("remainder", ("drop", []))
        slices = transformer.output_indices_
        if (parts or remainder[0] != "drop" or not isinstance(onehot, OneHotEncoder)
                or categorical != self.categorical_ or numeric_columns != columns.names_
                or slices["numeric"].start != 0
                or slices["categorical"].start != slices["numeric"].stop):
            return None
        plan = _numeric_plan(columns, None if numeric == "passthrough" else numeric)
        return None if plan is None else FramePlan(kinds, plan, onehot)

    def _make_transformer(self, X):
        if scipy.sparse.issparse(X):
            return make_sparse_scaler(self.input_scaling, self.n_bins)
        numeric = X.drop(columns=self.categorical_) if self.categorical_ else X
        bins = resolve_n_bins(self.n_bins, len(X), lambda: _n_continuous(numeric))
        if self.categorical_:
            return make_frame_encoder(X.columns, self.categorical_, self.input_scaling, bins)
        return make_input_scaler(self.input_scaling, bins)


def _numeric_plan(columns, transformer):
    # The NumericPlan of a ColumnEncoder's numbers and the transformer after it
    # (None: none), or None for a transformer make_input_scaler does not make.
    steps = ([] if transformer is None else [step for _, step in transformer.steps]
             if isinstance(transformer, Pipeline) else [transformer])
    plan = {}
    # The steps make_input_scaler makes, in its order: a scaler, the clip, the bins.
    for step in steps:
        if type(step) is StandardScaler and not plan:
            plan["center"] = step.mean_ if step.with_mean else None
            plan["scale"] = step.scale_ if step.with_std else None
        elif type(step) is WeightedRobustScaler and not plan:
            plan["center"] = step.center_ if step.with_centering else None
            plan["scale"] = step.scale_ if step.with_scaling else None
        elif (type(step) is FunctionTransformer and step.func is smooth_clip
              and set(step.kw_args or {}) <= {"bound"} and set(plan) <= {"center", "scale"}):
            plan["clip"] = float((step.kw_args or {}).get("bound", 3.0))
        elif type(step) is PiecewiseLinearEncoder and "edges" not in plan:
            plan["edges"] = step.edges_
        else:
            return None
    return NumericPlan(columns.fill_, columns.indicated_, **plan)


class NumericPlan:
    """What ``InputEncoder.transform`` does to an array of numbers, as plain arrays.

    In order: missing values (NaN) become ``fill`` and the indicator columns
    of ``indicated`` are appended (``_columns.ColumnEncoder``); then
    ``(X - center) / scale``; then ``smooth_clip(X, clip)``; then the bin
    columns of ``edges`` are appended (``PiecewiseLinearEncoder``). A step
    whose value is None is left out. ``transform`` computes what the
    encoder's transformers compute, with the same numpy operations on the
    same numbers, but without their validation, which a fitted model's
    predict has done once already: for a float64 array it gives the same
    bits.

    Parameters
    ----------
    fill : ndarray of shape (n_features,)
    indicated : list of int
    center, scale : ndarray of shape (n_features + len(indicated),) or None
    clip : float or None
        The bound of ``smooth_clip``.
    edges : list of ndarray or None
        The bin edges of each column (empty: no bins).

    Attributes
    ----------
    n_columns : int
        Columns before the bins: ``n_features + len(indicated)``.
    bin_column, left, width : ndarray
        For each bin column: the column it encodes, its left edge and width.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._inputs import NumericPlan
    >>> plan = NumericPlan(np.array([0.5]), [0], center=None, scale=np.array([2.0, 1.0]))
    >>> plan.transform(np.array([[4.0], [np.nan]]))
    array([[2.  , 0.  ],
           [0.25, 1.  ]])
    """

    def __init__(self, fill, indicated, center=None, scale=None, clip=None, edges=None):
        self.fill = fill
        self.indicated = list(indicated)
        self.center, self.scale, self.clip = center, scale, clip
        self.edges = edges
        self.n_columns = len(fill) + len(self.indicated)
        binned = [(j, e) for j, e in enumerate(edges or ()) if len(e)]
        self.bin_column = np.array([j for j, e in binned for _ in e[1:]], dtype=np.intp)
        self.left = np.concatenate([e[:-1] for _, e in binned] or [np.empty(0)])
        self.width = np.concatenate([np.diff(e) for _, e in binned] or [np.empty(0)])

    def fill_rows(self, X, finite=False):
        """Return the float64 rows ``X`` with missing values filled and indicated.

        ``finite``: the caller knows that ``X`` holds no NaN.
        """
        if finite:
            indicators = np.zeros((len(X), len(self.indicated)))
        else:
            missing = np.isnan(X)
            if missing.any():
                X = np.where(missing, self.fill, X)
            indicators = missing[:, self.indicated].astype(X.dtype)
        return np.concatenate([X, indicators], axis=1) if self.indicated else X

    def scale_rows(self, X):
        """Return rows as ``fill_rows`` returns them, scaled and clipped."""
        if self.center is not None:
            X = X - self.center
        if self.scale is not None:
            X = X / self.scale
        if self.clip is not None:
            if np.isfinite(X).all():  # smooth_clip without its care for infinity
                X = self.clip * (X / np.hypot(self.clip, X))
            else:
                X = smooth_clip(X, self.clip)
        return X

    def bins(self, X):
        """Return the bin columns of rows as ``scale_rows`` returns them."""
        bins = (X[:, self.bin_column] - self.left) / self.width
        return np.minimum(np.maximum(bins, 0.0, out=bins), 1.0, out=bins)  # np.clip's values

    def transform(self, X, finite=False):
        """Return the float64 rows ``X`` encoded: filled, scaled, then the bin columns."""
        X = self.scale_rows(self.fill_rows(X, finite))
        return np.concatenate([X, self.bins(X)], axis=1) if len(self.bin_column) else X


class FramePlan:
    """What ``InputEncoder.transform`` does to a DataFrame of numbers and categories.

    The numeric columns, converted as ``_columns.prepare_frame`` converts
    them, are encoded by ``numbers`` (a ``NumericPlan``); each categorical
    column becomes the index of its one-hot column, as the fitted
    ``OneHotEncoder`` encodes it -- found once, by encoding every category
    it knows, a missing value and an unknown one: the index within the
    column's own block of one-hot columns, -1 for none (an unknown category
    where there is no column for the rare ones).

    Parameters
    ----------
    kinds : dict
        ``{column: kind}``, numeric and categorical only, in order.
    numbers : NumericPlan
    onehot : sklearn.preprocessing.OneHotEncoder
        Fitted on the categorical columns as ``_columns._as_strings`` gives them.

    Attributes
    ----------
    numeric, categorical : list
        The column names of each kind.
    widths : list of int
        The one-hot columns of each categorical column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> from skorchless._inputs import FramePlan, NumericPlan
    >>> onehot = OneHotEncoder(sparse_output=False, handle_unknown="infrequent_if_exist")
    >>> onehot = onehot.fit(pd.DataFrame({"c": np.array(["a", "b"], dtype=object)}))
    >>> plan = FramePlan({"x": "numeric", "c": "categorical"},
    ...                  NumericPlan(np.zeros(1), []), onehot)
    >>> numbers, codes = plan.columns(pd.DataFrame({"x": [1.5, 2.0], "c": ["b", "z"]}))
    >>> numbers.tolist(), codes.tolist(), plan.widths
    ([[1.5], [2.0]], [[1], [-1]], [2])
    """

    def __init__(self, kinds, numbers, onehot):
        self.numeric = [name for name, kind in kinds.items() if kind == "numeric"]
        self.categorical = [name for name, kind in kinds.items() if kind == "categorical"]
        self.numbers = numbers
        self.widths, self._known, self._missing, self._unknown = _onehot_columns(onehot)
        self._index = [pd.Index(list(known), dtype=object) for known in self._known]
        self._column_of = [np.array(list(known.values()), dtype=np.intp)
                           for known in self._known]

    def columns(self, X):
        """Return ``(numbers, codes)`` of a validated DataFrame ``X``, or None.

        ``numbers``: the numeric columns as float64 (NaN where missing);
        ``codes``: per categorical column, the index of its hot column in
        its block (-1: none). None where a column is of a dtype the
        plan leaves to the general path (nullable or pyarrow numbers,
        timedeltas, objects in a numeric column) or holds infinity.
        """
        numbers = np.empty((len(X), len(self.numeric)))
        for j, name in enumerate(self.numeric):
            column = X[name]
            if not (isinstance(column.dtype, np.dtype) and column.dtype.kind in "iuf"):
                return None
            numbers[:, j] = column.to_numpy()
        if np.isinf(numbers).any():
            return None
        codes = np.empty((len(X), len(self.categorical)), dtype=np.intp)
        for k, name in enumerate(self.categorical):
            codes[:, k] = self._codes(k, X[name])
        return numbers, codes

    def _codes(self, k, column):
        known, unknown, missing = self._known[k], self._unknown[k], self._missing[k]
        if isinstance(column.dtype, pd.CategoricalDtype):
            # as _as_strings: each category as str() of its own value
            lookup = np.array([known.get(str(c), unknown) for c in column.dtype.categories]
                              + [missing], dtype=np.intp)
            return lookup[column.array.codes]
        values = column.astype(object).to_numpy()
        strings = np.frompyfunc(str, 1, 1)(values)
        found = self._index[k].get_indexer(strings)
        codes = np.where(found >= 0, self._column_of[k][found], unknown)
        return np.where(pd.isna(values), missing, codes)


def _onehot_columns(onehot):
    # ([width of each block], [{category: column}], [column of a missing
    # value], [column of an unknown category]) of a fitted OneHotEncoder,
    # each column within its block, -1 for none: found by encoding each
    # category, NaN and a string that is none of them.
    categories = onehot.categories_
    unknown = "unknown"
    while any(unknown in list(c) for c in categories):
        unknown += "?"
    n_probe = max(len(c) for c in categories) + 2
    probe = pd.DataFrame({
        name: np.array([*c, np.nan, *[unknown] * (n_probe - len(c) - 1)], dtype=object)
        for name, c in zip(onehot.feature_names_in_, categories, strict=True)})
    with _default_output():
        encoded = np.asarray(onehot.transform(probe))
    infrequent = getattr(onehot, "infrequent_categories_", [None] * len(categories))
    widths = [len(c) - (0 if rare is None else len(rare) - 1)
              for c, rare in zip(categories, infrequent, strict=True)]
    starts = np.cumsum([0, *widths])
    known, missing, unknowns = [], [], []
    for k, c in enumerate(categories):
        block = encoded[:, starts[k]:starts[k + 1]]
        column = np.where(block.any(axis=1), block.argmax(axis=1), -1)
        known.append({value: int(column[r]) for r, value in enumerate(c)
                      if not (isinstance(value, float) and np.isnan(value))})
        missing.append(int(column[len(c)]))
        unknowns.append(int(column[-1]))
    return widths, known, missing, unknowns


def categorical_columns(X):
    """Return the names of the categorical columns of a DataFrame (else ``[]``).

    A column is categorical when ``_columns.column_kind`` says so: strings,
    category or bool (pandas nullable ``"boolean"`` included), or objects
    other than numbers and dates.

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
    >>> from skorchless._inputs import categorical_columns
    >>> categorical_columns(pd.DataFrame({"x": [1.0], "colour": ["red"], "new": [True]}))
    ['colour', 'new']
    """
    if not isinstance(X, pd.DataFrame):
        return []
    return [name for name in X.columns if column_kind(X[name]) == "categorical"]


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
    >>> from skorchless._inputs import make_frame_encoder
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
    >>> from skorchless._inputs import resolve_n_bins
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


def _n_continuous(X):
    """Count the columns with more than two distinct values (in the first rows)."""
    values = np.asarray(X, dtype=np.float64)
    return sum(len(np.unique(column[:10_000])) > 2 for column in values.T)


def _validate_frame(estimator, X, y, *, reset, kinds, y_numeric=False):
    # A DataFrame whose columns need their kinds: the feature names are checked
    # (and set on reset) as validate_data does, and a copy returned whose
    # columns are of their kinds (_columns.prepare_frame).
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    check_array(np.zeros((len(X), 1)), input_name="X", estimator=estimator)  # no rows
    X = prepare_frame(X, kinds)
    if _not_given(y):
        return X, None
    y = check_y(y, multi_output=True, y_numeric=y_numeric, estimator=estimator)
    check_consistent_length(X, y)
    return X, y


def _check_no_missing_labels(y):
    # scikit-learn's check of y fails on pd.NA among objects with a raw pandas error
    if y is None or _not_given(y) or hasattr(y, "tocoo"):
        return
    try:
        labels = np.asarray(y)
    except ValueError:  # ragged: scikit-learn's check says so
        return
    if labels.dtype == object and labels.ndim:
        rows = np.flatnonzero(pd.isna(labels).reshape(len(labels), -1).any(axis=1))
        if len(rows):
            raise ValueError(
                f"Input y contains NaN (a missing label) in row {int(rows[0])}: drop the "
                "rows without a target, or fill them."
            )


def _check_array_values(X, names):
    # NaN is a missing value, except in a sparse matrix (where the missing
    # entries are zeros); infinity is an error naming its column.
    if hasattr(X, "tocoo") and np.isnan(X.data).any():
        column = int(X.tocoo().col[np.isnan(X.tocoo().data)][0])
        raise ValueError(
            f"Input X is a sparse matrix with NaN in column {column}: missing values "
            "are supported in dense arrays and DataFrames only. Pass X.toarray(), or "
            "replace the NaN with numbers."
        )
    check_finite_columns(X, names)


def _not_given(y):
    # validate's default: predict passes no targets (None is a y to refuse)
    return isinstance(y, str) and y == "no_validation"


def _default_output():
    # Arrays from the internal transformers, whatever the user's global
    # set_config(transform_output=...) asks of their own transformers.
    return config_context(transform_output="default")


def _dense(X):
    return X.toarray() if hasattr(X, "toarray") else X


def _csr(X):
    return X.tocsr() if scipy.sparse.issparse(X) else X


def take_rows(array, idx):
    """Return the rows ``idx`` of an array or DataFrame (None stays None).

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._inputs import take_rows
    >>> take_rows(np.arange(4), [0, 2]), take_rows(None, [0])
    (array([0, 2]), None)
    """
    if array is None:
        return None
    return array.iloc[idx] if hasattr(array, "iloc") else array[idx]


def split_validation(y, validation_fraction, *, stratify, random_state):
    """Return ``(train_idx, valid_idx)``, a seeded split of ``range(len(y))``.

    The split is stratified by ``y`` when ``stratify`` is true and every class
    has at least two members and there is room for each class in both parts;
    otherwise it is a plain shuffled split.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    validation_fraction : float
        Fraction of rows to hold out, in (0, 1).
    stratify : bool
        Whether to try to stratify by ``y`` (single-label classification).
    random_state : int
        Seed of the split.

    Returns
    -------
    train_idx, valid_idx : ndarray of int

    Raises
    ------
    ValueError
        If the validation set would have fewer than 2 rows, or the training set
        none.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._inputs import split_validation
    >>> train, valid = split_validation(np.arange(10) % 2, 0.2, stratify=True,
    ...                                 random_state=0)
    >>> len(train), len(valid)
    (8, 2)
    """
    n_samples = len(y)
    n_valid = int(np.ceil(validation_fraction * n_samples))
    if n_valid < MIN_VALIDATION_ROWS or n_samples - n_valid < 1:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the "
            f"size of your dataset, or set early_stopping=False: validation_fraction="
            f"{validation_fraction} of {n_samples} samples leaves {n_valid} validation "
            f"and {n_samples - n_valid} training rows (at least {MIN_VALIDATION_ROWS} "
            "and 1 are needed)."
        )
    strata = None
    if stratify:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and len(counts) <= min(n_valid, n_samples - n_valid):
            strata = y
    indices = np.arange(n_samples)
    return train_test_split(
        indices, test_size=n_valid, stratify=strata, random_state=random_state
    )
