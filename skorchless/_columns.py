"""Column kinds and the numbers behind them: missing values, dates, numbers in objects.

The first stage of the input encoder (``_inputs.InputEncoder``). ``column_kind``
decides what a column of a DataFrame is, as its user means it: numbers
(numpy, nullable ``Int64`` / ``Float64``, pyarrow-backed, timedeltas, or
number objects in an ``object`` column), dates (``datetime64``, with or
without a timezone, pyarrow timestamps, date objects) or categories (strings,
``category``, bool). ``prepare_frame`` turns the columns into those kinds with
an error that names the column; ``ColumnEncoder``, fitted on the training
rows, turns dates into numbers and fills missing numbers, adding an indicator
column where the training rows had missing values. Scaling and one-hot
encoding come after it (``_preprocessing``, ``_inputs.make_frame_encoder``).
"""

import numbers as numbers_
import warnings

import narwhals as nw
import numpy as np
import pandas as pd
from pandas.api import types

from ._messages import plain
from ._preprocessing import weighted_quantile

#: Kinds of ``object`` columns (``pandas.api.types.infer_dtype``) that hold numbers.
_NUMBER_OBJECTS = ("integer", "floating", "mixed-integer-float", "decimal")
_DATE_OBJECTS = ("datetime", "datetime64", "date")
#: A text column with more distinct values than ``max_categories`` and than
#: this fraction of its values (nearly one per row) draws a warning.
HIGH_CARDINALITY_FRACTION = 0.5
SECONDS_PER_DAY = 86_400.0


def as_pandas(data, name="X"):
    """Return a polars or pyarrow table or series as pandas; anything else unchanged.

    Read through narwhals, so that a table of any library it knows gives the
    results of the same pandas frame, its column names the feature names.

    Parameters
    ----------
    data : object
    name : str, default="X"
        What ``data`` is, for the error messages.

    Returns
    -------
    data : pandas.DataFrame, pandas.Series or ``data`` itself

    Raises
    ------
    TypeError
        If ``data`` is a lazy frame (not yet computed).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from skorchless._columns import as_pandas
    >>> as_pandas(pa.table({"x": [1.5, 2.5]}))
         x
    0  1.5
    1  2.5
    """
    if data is None or isinstance(data, (str, np.ndarray, pd.DataFrame, pd.Series)):
        return data
    native = nw.from_native(data, pass_through=True, allow_series=True)
    if isinstance(native, nw.LazyFrame):
        raise TypeError(
            f"{name} is a lazy {type(data).__name__}; compute it first (for example "
            f"with {name}.collect())."
        )
    if not isinstance(native, (nw.DataFrame, nw.Series)):
        return data
    try:
        return native.to_pandas()
    except ImportError as exc:
        raise ImportError(
            f"Reading {name}, a {type(data).__module__.split('.')[0]} table, needs "
            f"pyarrow ({exc}); install it with `pip install pyarrow`."
        ) from exc


def column_kind(column):
    """Return the kind of a pandas column: ``"numeric"``, ``"datetime"`` or ``"categorical"``.

    bool columns (numpy, nullable ``"boolean"``, pyarrow) are categorical: a
    missing value then is a category of its own, as for strings. Strings are
    categorical even when they look like numbers (codes such as ``"007"``);
    an ``object`` column whose values are all numbers is numeric.

    Parameters
    ----------
    column : pandas.Series

    Returns
    -------
    kind : str

    Examples
    --------
    >>> import pandas as pd
    >>> from skorchless._columns import column_kind
    >>> column_kind(pd.Series([1.5, None], dtype=object)), column_kind(pd.Series(["1"]))
    ('numeric', 'categorical')
    >>> column_kind(pd.Series(pd.to_datetime(["2024-05-01"]).tz_localize("UTC")))
    'datetime'
    """
    dtype = column.dtype
    if types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if types.is_numeric_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return "numeric"
    if types.is_object_dtype(dtype):
        inferred = types.infer_dtype(column, skipna=True)
        if inferred in _NUMBER_OBJECTS:
            return "numeric"
        if inferred in _DATE_OBJECTS:
            return "datetime"
    return "categorical"


def needs_kinds(X):
    """Whether a DataFrame has a column that is not a plain numpy number.

    A frame of numpy integers and floats goes through ``validate_data`` as an
    array does (keeping float32); any other column needs ``prepare_frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skorchless._columns import needs_kinds
    >>> needs_kinds(pd.DataFrame({"x": [1.0]})), needs_kinds(pd.DataFrame({"x": ["a"]}))
    (False, True)
    """
    return isinstance(X, pd.DataFrame) and any(
        not (isinstance(dtype, np.dtype) and dtype.kind in "iuf") for dtype in X.dtypes
    )


def prepare_frame(X, kinds):
    """Return a copy of ``X`` with each column turned into its kind; refuse what cannot be.

    Numeric columns become float64 (``None`` / ``pd.NA`` as NaN), datetime
    columns pandas ``datetime64`` (text parsed as dates), categorical columns
    strings (missing as NaN), so that every dtype encodes the same way in fit
    and predict.

    Parameters
    ----------
    X : pandas.DataFrame
    kinds : dict
        ``{column: kind}`` as ``column_kind`` decided on the training rows.

    Returns
    -------
    X : pandas.DataFrame

    Raises
    ------
    ValueError
        If a numeric column holds something other than numbers, or infinity,
        or a datetime column something other than dates; the message names
        the column.

    Examples
    --------
    >>> import pandas as pd
    >>> from skorchless._columns import prepare_frame
    >>> X = pd.DataFrame({"n": pd.array([1, None], "Int64"), "s": ["a", None]})
    >>> prepare_frame(X, {"n": "numeric", "s": "categorical"}).dtypes.tolist()
    [dtype('float64'), dtype('O')]
    """
    converters = {"numeric": _as_float, "datetime": _as_dates, "categorical": _as_strings}
    return pd.DataFrame({name: converters[kinds[name]](X[name]) for name in kinds},
                        index=X.index)


def check_finite_columns(X, names=None):
    """Raise a ValueError naming the first column of ``X`` that holds infinity.

    NaN is allowed (a missing value). ``X`` is a float array or sparse matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._columns import check_finite_columns
    >>> check_finite_columns(np.array([[1.0, np.nan]]))
    >>> check_finite_columns(np.array([[1.0, np.inf]]), names=["a", "b"])
    Traceback (most recent call last):
    ...
    ValueError: Input X contains infinity in column 'b' (row 0). Replace it with ...
    """
    if hasattr(X, "tocoo"):
        coo = X.tocoo()
        bad = np.flatnonzero(np.isinf(coo.data))
        rows, columns = coo.row[bad], coo.col[bad]
    else:
        rows, columns = np.nonzero(np.isinf(X))
    if len(rows):
        first = np.argmin(columns)
        name = columns[first] if names is None else names[columns[first]]
        raise ValueError(
            f"Input X contains infinity in column {_name(name)} (row {int(rows[first])}). "
            "Replace it with a finite value, or with NaN to mark it missing."
        )


def _name(name):
    return repr(name.item() if isinstance(name, np.generic) else name)


def _as_float(column):
    if types.is_timedelta64_dtype(column.dtype):
        column = column / pd.Timedelta(seconds=1)
    if types.is_numeric_dtype(column.dtype) and not types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:  # objects, or text at predict in a column that held numbers in fit
        present = column[column.notna()].astype(object)
        parsed = pd.to_numeric(present, errors="coerce")
        if parsed.dtype.kind not in "iuf":  # complex numbers
            parsed = pd.Series(np.nan, index=present.index)
        bad = present[parsed.isna()]
        if len(bad):
            raise ValueError(
                f"Column {column.name!r} holds numbers (it did in fit), but also "
                f"{bad.iloc[0]!r} in row {_position(column, bad.index[0])}. Replace the "
                "values that are not numbers with NaN, or convert the column yourself."
            )
        values = np.full(len(column), np.nan)
        values[column.notna().to_numpy()] = parsed.to_numpy(dtype=np.float64)
    check_finite_columns(values[:, None], names=[column.name])
    return values


def _as_dates(column):
    if isinstance(column.dtype, pd.ArrowDtype):  # pyarrow timestamps: numpy-backed
        column = column.astype(column.dtype.pyarrow_dtype.to_pandas_dtype())
    if types.is_datetime64_any_dtype(column.dtype):
        return column
    present = column[column.notna()]
    numbers = present[[isinstance(v, numbers_.Number) and not isinstance(v, bool | np.bool_)
                       for v in present.astype(object)]]
    if len(numbers):  # pandas would read them as nanoseconds since 1970
        raise ValueError(
            f"Column {column.name!r} holds dates, but {plain(numbers.iloc[0])!r} in row "
            f"{_position(column, numbers.index[0])} is a number. Pass dates (datetime64, "
            "or text such as '2024-05-01'); numbers that count time convert with "
            "pd.to_datetime(column, unit=...)."
        )
    parsed = _parse_dates(present.astype(object))
    bad = present[parsed.isna()]
    if len(bad):
        raise ValueError(
            f"Column {column.name!r} holds dates, but {bad.iloc[0]!r} in row "
            f"{_position(column, bad.index[0])} is not a date. Replace it with NaT "
            "(missing) or a date."
        )
    return parsed.reindex(column.index)


def _parse_dates(values):
    # as they are, else in UTC (dates with different UTC offsets)
    parsed = pd.Series(pd.NaT, index=values.index)
    for utc in (False, True):
        try:
            parsed = pd.to_datetime(values, errors="coerce", utc=utc)
        except (ValueError, TypeError):
            continue
        if parsed.notna().all():
            break
    return parsed


def _as_strings(column):
    values = column.astype(object).to_numpy()  # keeps a category's own type (1, not 1.0)
    missing = pd.isna(values)
    strings = np.frompyfunc(str, 1, 1)(values)
    strings[missing] = np.nan
    return pd.Series(strings, index=column.index, dtype=object)


def _position(column, label):
    return int(column.index.get_loc(label))


class DateFeatures:
    """The numbers of one datetime column: elapsed days and cyclical parts.

    ``days``: days since the earliest training date. Then ``sin`` and ``cos``
    of each cyclical part that varies in the training rows: the time of day,
    the day of the week, the day of the year (a date-only column has no time
    of day). Timezone-aware dates count elapsed time in UTC and the parts in
    the training timezone (the local clock); a missing date gives NaN in
    every column (filled by ``ColumnEncoder``).

    Attributes
    ----------
    origin_ : float
        Earliest training date, in seconds since 1970 (UTC for aware dates).
    timezone_ : str or None
        Timezone of the training dates; None for naive dates.
    parts_ : list of str
        The cyclical parts encoded.

    Examples
    --------
    >>> import pandas as pd
    >>> from skorchless._columns import DateFeatures
    >>> dates = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-10"]))
    >>> features = DateFeatures().fit(dates, "day")
    >>> features.names_, features.transform(dates)[:, 0].tolist()
    (['day__days', 'day__day_of_week_sin', 'day__day_of_week_cos', 'day__day_of_year_sin', \
'day__day_of_year_cos'], [0.0, 1.0, 9.0])
    """

    PARTS = {  # fraction of the cycle
        "time_of_day": lambda d: (d.dt.hour * 3600 + d.dt.minute * 60 + d.dt.second) / 86400,
        "day_of_week": lambda d: d.dt.day_of_week / 7,
        "day_of_year": lambda d: (d.dt.day_of_year - 1) / 365.25,
    }

    def fit(self, dates, name):
        """Learn the origin, timezone and varying parts of the training ``dates``."""
        self.name_ = name
        self.timezone_ = None if dates.dt.tz is None else str(dates.dt.tz)
        seconds = _seconds(dates)
        self.origin_ = float(np.nanmin(seconds)) if np.isfinite(seconds).any() else 0.0
        present = dates[dates.notna()]
        self.parts_ = [part for part, fraction in self.PARTS.items()
                       if fraction(present).nunique() > 1]
        self.names_ = [f"{name}__days"] + [
            f"{name}__{part}_{f}" for part in self.parts_ for f in ("sin", "cos")]
        return self

    def transform(self, dates):
        """Return the numbers of ``dates``: shape (n, ``len(names_)``), NaN where missing."""
        timezone = None if dates.dt.tz is None else str(dates.dt.tz)
        if (timezone is None) != (self.timezone_ is None):
            had = "naive dates" if self.timezone_ is None else f"dates in {self.timezone_}"
            fix = ("tz_localize(None)" if self.timezone_ is None
                   else f"tz_localize({self.timezone_!r})")
            raise ValueError(
                f"Column {self.name_!r} held {had} in fit, but holds "
                f"{'naive dates' if timezone is None else 'dates in ' + timezone} now; "
                f"make them alike (for example with Series.dt.{fix})."
            )
        if timezone is not None:
            dates = dates.dt.tz_convert(self.timezone_)
        columns = [(_seconds(dates) - self.origin_) / SECONDS_PER_DAY]
        for part in self.parts_:
            angle = 2 * np.pi * self.PARTS[part](dates).to_numpy(dtype=np.float64,
                                                                 na_value=np.nan)
            columns += [np.sin(angle), np.cos(angle)]
        return np.column_stack(columns)


def _seconds(dates):
    if dates.dt.tz is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((dates - pd.Timestamp(0)) / pd.Timedelta(seconds=1)).to_numpy(
        dtype=np.float64, na_value=np.nan)


class ColumnEncoder:
    """Turn validated rows into numbers: dates expanded, missing numbers filled.

    Fitted on the training rows. Every numeric column (and every number of a
    date, see ``DateFeatures``) gets a fill value, the (weighted) median of
    its training values (0 when it has none); a missing value becomes that value, in fit
    and predict alike. A column that had missing values in the training rows
    also gets an indicator column (1 where the value was missing), appended
    after the numbers, so that the network can learn from missingness. A
    column without missing training values gets no indicator: a value
    missing at predict time is filled, and the model reads it as a typical
    value. Categorical columns pass through (a missing value is a category of
    its own there).

    Parameters
    ----------
    kinds : dict or None
        ``{column: kind}`` of a DataFrame (see ``column_kind``); None for an
        array or sparse matrix, all numeric (sparse input passes unchanged).
    max_categories : int, default=64
        One-hot columns per categorical feature; a text column with more
        distinct values, nearly one per row, draws one warning per fit.

    Attributes
    ----------
    fill_ : ndarray
        Fill value of each numeric output column.
    indicated_ : list of int
        Output columns whose training values had missing values: one per
        source column with an indicator.
    names_ : list
        Names of the numeric output columns, then of the indicators (frames).

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._columns import ColumnEncoder
    >>> X = np.array([[1.0, 5.0], [np.nan, 6.0], [3.0, 7.0]])
    >>> encoder = ColumnEncoder(None).fit(X)
    >>> encoder.transform(np.array([[np.nan, np.nan]]))
    array([[2., 6., 1.]])
    """

    def __init__(self, kinds, max_categories=64):
        self.kinds = kinds
        self.max_categories = max_categories

    def fit(self, X, sample_weight=None):
        """Learn the date origins, fill values and indicators of the training rows ``X``.

        ``sample_weight`` weighs the rows in the medians (a weight of 2 fits
        as a repeated row).
        """
        if self.kinds is None and hasattr(X, "tocoo"):
            self.fill_, self.indicated_, self.names_ = None, [], []
            return self
        self.dates_ = {name: DateFeatures().fit(X[name], name)
                       for name, kind in (self.kinds or {}).items() if kind == "datetime"}
        numbers, names, sources = self._numbers(X)
        missing = np.isnan(numbers)
        self.fill_ = np.array([_median(column, ~absent, sample_weight)
                               for column, absent in zip(numbers.T, missing.T, strict=True)],
                              dtype=numbers.dtype)
        # the first output column of each source column (a date has several)
        self.indicated_ = [i for i, source in enumerate(sources) if missing[:, i].any()
                           and (i == 0 or sources[i - 1] != source)]
        self.names_ = names + [f"{sources[i]}__missing" for i in self.indicated_]
        if self.kinds is not None:
            self._warn_high_cardinality(X)
        return self

    def fit_transform(self, X, sample_weight=None):
        """Fit on the training rows ``X`` and return them transformed."""
        return self.fit(X, sample_weight).transform(X)

    def transform(self, X):
        """Return the rows ``X`` as numbers (with the categorical columns, for a frame)."""
        if self.fill_ is None:  # sparse input
            return X
        numbers, _, _ = self._numbers(X)
        missing = np.isnan(numbers)
        filled = np.where(missing, self.fill_, numbers)
        indicators = missing[:, self.indicated_].astype(numbers.dtype)
        numbers = np.hstack([filled, indicators]) if self.indicated_ else filled
        categorical = [name for name, kind in (self.kinds or {}).items()
                       if kind == "categorical"]
        if not categorical:
            return numbers
        frame = pd.DataFrame(numbers, columns=self.names_, index=X.index)
        return pd.concat([frame, X[categorical]], axis=1)

    def _numbers(self, X):
        """Return the numbers of ``X`` (NaN where missing), their names and source columns."""
        if self.kinds is None:
            return np.asarray(X), list(range(X.shape[1])), list(range(X.shape[1]))
        blocks, names, sources = [np.empty((len(X), 0))], [], []
        for name, kind in self.kinds.items():
            if kind == "numeric":
                blocks.append(X[name].to_numpy(dtype=np.float64)[:, None])
                names.append(name)
            elif kind == "datetime":
                blocks.append(self.dates_[name].transform(X[name]))
                names += self.dates_[name].names_
            sources += [name] * (len(names) - len(sources))
        return np.hstack(blocks), names, sources

    def _warn_high_cardinality(self, X):
        many = {}
        for name, kind in self.kinds.items():
            if kind == "categorical":
                present = X[name].dropna()
                distinct = present.nunique()
                if distinct > max(self.max_categories,
                                  HIGH_CARDINALITY_FRACTION * len(present)):
                    many[name] = distinct
        if many:
            listed = ", ".join(f"{name!r} ({n} distinct values in {len(X)} rows)"
                               for name, n in many.items())
            warnings.warn(
                f"Text column(s) {listed} look like identifiers or free text: nearly "
                f"every row has its own value, so their {self.max_categories - 1} most "
                "frequent values get a one-hot column each and the rest share one, "
                "which tells the network little. Drop them, or encode them before the "
                "estimator.", UserWarning, stacklevel=2,
            )


def _median(values, present, sample_weight):
    # the weighted median of the values present (of positive weight), else 0
    weight = None if sample_weight is None else sample_weight[present]
    if not present.any() or (weight is not None and not (weight > 0).any()):
        return 0.0
    return weighted_quantile(values[present], 0.5, weight)
