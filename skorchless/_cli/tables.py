"""Tables as users have them: CSV files, column kinds, the target and the task.

What ``skorchless train`` and ``skorchless predict`` need to turn a CSV file
into the input of a ``TorchMLPRegressor`` or ``TorchMLPClassifier``, and that
estimator, which encodes the table itself (missing numbers filled, with an
indicator; text columns of ISO 8601 dates as dates, the others as
categories). Every problem with the data raises a ``DataError`` whose
message fits on one line.
"""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from .._classifier import TorchMLPClassifier
from .._messages import plain
from .._regressor import TorchMLPRegressor

#: A numeric target with at most this many distinct integer values is a class label.
MAX_CLASSES_AUTO = 10
#: A text column whose values are numbers but for at most this fraction is a
#: numeric column with typos, rather than a categorical one.
MAX_GARBAGE_FRACTION = 0.1
#: Separators a one-column file may really be separated by, as messages name them.
SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars", ",": "commas"}


class DataError(ValueError):
    """A problem with the user's data or files, reported as one line."""


def read_csv(path, sep=",", decimal="."):
    """Read a CSV file into a DataFrame, turning every failure into a ``DataError``.

    An index column is dropped: a first column without a name (what R's
    ``write.csv`` and pandas' ``to_csv`` write for the row names), or named
    ``rownames`` and holding 1, 2, ..., n; its name is in
    ``frame.attrs["dropped_index"]``. A file read into one column whose name
    holds another separator, or with numbers written with decimal commas,
    is refused with the option that reads it.

    Parameters
    ----------
    path : str or pathlib.Path
    sep : str, default=","
    decimal : str, default="."
        The decimal mark of the numbers.

    Returns
    -------
    frame : pandas.DataFrame
        With at least one column and one row.

    Raises
    ------
    DataError
        If the file is missing, unreadable, not text, not CSV, or empty, or
        looks separated by another ``sep`` or written with another ``decimal``.

    Examples
    --------
    >>> import os, tempfile
    >>> from skorchless._cli.tables import read_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "empty.csv")
    >>> with open(path, "w") as file:
    ...     print("a,b", file=file)
    >>> read_csv(path)
    Traceback (most recent call last):
    ...
    skorchless._cli.tables.DataError: ...empty.csv has a header but no data rows
    >>> with open(path, "w") as file:
    ...     print('"","x","y"', '"1",1.5,2', '"2",2.5,3', sep=os.linesep, file=file)
    >>> read_csv(path).columns.tolist()
    ['x', 'y']
    """
    try:
        frame = pd.read_csv(path, sep=sep, decimal=decimal)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path} is a folder, not a CSV file") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} is empty") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not a UTF-8 text file ({exc.reason})") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(f"{path} is not a valid CSV file: {reason}") from exc
    if frame.empty:
        raise DataError(f"{path} has a header but no data rows")
    _check_separator(frame, path, sep)
    _check_decimal(frame, path, decimal)
    return _drop_index_column(frame)


def _check_separator(frame, path, sep):
    if frame.shape[1] != 1:
        return
    name = str(frame.columns[0])
    for candidate, shown in SEPARATORS.items():
        if candidate != sep and candidate in name:
            hint = " (and --decimal ',' if its numbers have decimal commas)" * (
                candidate == ";")
            raise DataError(
                f"{path} was read as a single column {name[:60]!r}, which looks separated "
                f"by {shown}: pass --sep {candidate!r}{hint}"
            )


def _check_decimal(frame, path, decimal):
    if decimal == ",":
        return
    for name in frame.columns:
        values = frame[name].dropna()
        if pd.api.types.is_numeric_dtype(values) or not len(values):
            continue
        if values.astype(str).str.fullmatch(r"[+-]?\d+,\d+").all():
            raise DataError(
                f"column {name!r} of {path} holds numbers with decimal commas (e.g. "
                f"{values.iloc[0]!r}): pass --decimal ','"
            )


def _drop_index_column(frame):
    first = frame.columns[0]
    values = frame[first]
    is_index = str(first).startswith("Unnamed: 0") or (
        str(first) == "rownames" and pd.api.types.is_integer_dtype(values)
        and (values.to_numpy() == np.arange(1, len(values) + 1)).all())
    if not is_index or frame.shape[1] == 1:
        return frame
    frame = frame.drop(columns=[first])
    frame.attrs["dropped_index"] = str(first)
    return frame


def _non_numeric_values(series):
    """Return the rows (index) and values of ``series`` that are not numbers."""
    present = series.dropna()
    parsed = pd.to_numeric(present, errors="coerce")
    bad = present[parsed.isna()]
    return bad, len(present)


def _garbage_message(series, name, bad):
    row = bad.index[0]
    return (
        f"{name} {series.name!r} holds numbers but also {len(bad)} non-numeric "
        f"value(s), e.g. {plain(bad.iloc[0])!r} in data row {row + 1}; fix or remove them"
    )


def _is_bool(series):
    return pd.api.types.is_bool_dtype(series)


def _is_numeric(series):
    return pd.api.types.is_numeric_dtype(series) and not _is_bool(series)


def _as_text(series):
    """Return the values of a column as strings, missing ones as NaN."""
    return series.astype(str).astype(object).where(series.notna(), np.nan)


def parse_dates(X):
    """Return ``X`` with its text columns of ISO 8601 dates as datetime64, and their names.

    A column is one of dates when every value present reads as an ISO 8601
    date (``2024-05-01``, ``2024-05-01 13:30``, with or without a UTC offset)
    and none as a number. The estimator turns dates into numbers (elapsed
    days, cyclical parts), and reads the same text at ``predict`` again.

    Examples
    --------
    >>> import pandas as pd
    >>> from skorchless._cli.tables import parse_dates
    >>> X, dates = parse_dates(pd.DataFrame({"day": ["2024-05-01", None], "n": ["1", "2"]}))
    >>> dates, X["day"].dtype.kind
    (['day'], 'M')
    """
    X, dates = X.copy(), []
    for name in X.columns:
        present = X[name].dropna()
        if present.empty or not present.map(lambda v: isinstance(v, str)).all():
            continue
        if pd.to_numeric(present, errors="coerce").notna().any():
            continue
        try:
            parsed = pd.to_datetime(present, format="ISO8601", errors="coerce")
        except (ValueError, TypeError):  # offsets that differ: in UTC
            parsed = pd.to_datetime(present, format="ISO8601", errors="coerce", utc=True)
        if parsed.notna().all():
            X[name] = parsed.reindex(X.index)
            dates.append(name)
    return X, dates


def split_columns(X):
    """Return (numeric, categorical) column names, refusing numbers with typos.

    Columns of dates (see ``parse_dates``) are neither.
    """
    numeric, categorical = [], []
    for name in X.columns:
        column = X[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            continue
        if _is_numeric(column):
            numeric.append(name)
            continue
        bad, n_present = _non_numeric_values(column)
        if n_present and 0 < len(bad) <= MAX_GARBAGE_FRACTION * n_present:
            raise DataError(_garbage_message(column, "column", bad))
        categorical.append(name)
    return numeric, categorical


def check_numeric(X, numeric):
    """Return ``X`` with the ``numeric`` columns as numbers; refuse numbers with typos."""
    X = X.copy()
    for name in numeric:
        if not _is_numeric(X[name]):
            bad, _ = _non_numeric_values(X[name])
            if len(bad):
                raise DataError(_garbage_message(X[name], "numeric column", bad))
            X[name] = pd.to_numeric(X[name])
    return X


def target_column(frame, target, task):
    """Return (y, task, n_dropped) for the target column, checked for ``task``."""
    if target not in frame.columns:
        raise DataError(
            f"target column {target!r} is not in the file; its columns are "
            f"{', '.join(map(str, frame.columns))}"
        )
    y = frame[target]
    n_missing = int(y.isna().sum())
    y = y.dropna()
    if y.empty:
        raise DataError(f"target column {target!r} has no values")
    if task != "classification" and not _is_numeric(y) and not _is_bool(y):
        bad, n_present = _non_numeric_values(y)
        if len(bad) <= MAX_GARBAGE_FRACTION * n_present:
            raise DataError(_garbage_message(y, "target column", bad))
        if task == "regression":
            raise DataError(
                f"target column {target!r} is not numeric (e.g. {plain(bad.iloc[0])!r} in data "
                f"row {bad.index[0] + 1}); a regression needs numbers"
            )
    if task == "auto":
        task = detect_task(y)
    if task == "classification":
        if _is_numeric(y) and (y == np.round(y)).all():
            y = y.astype(np.int64)
        elif not _is_numeric(y):
            y = _as_text(y)
        counts = y.value_counts()
        if len(counts) < 2:
            raise DataError(
                f"target column {target!r} has a single class {plain(counts.index[0])!r}")
        rare = counts[counts < 2]
        if len(rare):
            raise DataError(
                f"class {plain(rare.index[0])!r} of target column {target!r} has only one row; "
                "each class needs at least 2 for a stratified split"
            )
    else:
        y = y.astype(np.float64)
    return y, task, n_missing


def detect_task(y):
    if not _is_numeric(y):
        return "classification"
    integral = bool((y == np.round(y)).all())
    return "classification" if integral and y.nunique() <= MAX_CLASSES_AUTO else "regression"


def make_model(task, params):
    """Return the unfitted estimator of ``task`` with ``params``.

    It takes the table as it is: the estimator's input encoder fills missing
    numbers (with an indicator column), one-hot encodes the other columns (a
    missing value a category of its own) and turns dates into numbers.
    """
    if task == "classification":
        params = {name: value for name, value in params.items() if name != "loss"}
        return TorchMLPClassifier(**params)
    return TorchMLPRegressor(**params)


def feature_frame(model, frame):
    """Return the columns of ``frame`` that ``model`` was fitted on, numbers checked."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return frame
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(
            f"the data lacks column(s) the model was trained on: {', '.join(missing)}"
        )
    X = frame[list(names)]
    columns = model[0] if isinstance(model, Pipeline) else None
    if isinstance(columns, ColumnTransformer):  # a model saved by version 0.1
        kinds = {name: cols for name, _, cols in columns.transformers}
        X = check_numeric(X, kinds.get("numeric", []))
    return X
