"""The models of the suite, each built the way a user would build it.

Every model but ``skorchless (raw)`` sees the same features, from the standard
pipeline of ``preprocessor``, fitted on the training rows:

- numeric columns: ``SimpleImputer(strategy="median", add_indicator=True)``,
  then ``StandardScaler()``;
- categorical columns (strings, booleans): ``SimpleImputer(strategy="constant",
  fill_value="missing")``, then ``OneHotEncoder(handle_unknown="infrequent_if_exist",
  max_categories=64, sparse_output=False)`` (at most 64 columns per feature: the
  4,000 tail numbers of flights would otherwise take 4 GB as dense floats);
- date columns: three numbers each (days since 1970, month, day of the week),
  then as the numeric columns.

``skorchless (raw)`` gets the DataFrame itself (strings, NaN, ``datetime64``)
and encodes it inside the estimator; where the estimator refuses the input, the
error is the result. ``HistGradientBoosting (raw)`` gets it as its documentation
has a user pass it (``raw_for_hgb``): NaN kept (it learns where missing values
go), text columns as pandas ``category`` (``categorical_features="from_dtype"``)
or, beyond its 255 levels, as category codes, and each date column as days since
1970, since it refuses ``datetime64``.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from skorchless import TorchMLPClassifier, TorchMLPRegressor

try:
    import lightgbm
except ImportError:  # optional
    lightgbm = None
try:
    import catboost
except ImportError:  # optional
    catboost = None
try:
    import pytabkit
except ImportError:  # optional, and only for the cached runs
    pytabkit = None

SKORCHLESS = "skorchless"
SKORCHLESS_RAW = "skorchless (raw)"
HGB_RAW = "HistGradientBoosting (raw)"
SK_MLP = "sklearn MLP"
SK_MLP_ES = "sklearn MLP (early_stopping)"
HGB = "HistGradientBoosting"
LGBM = "LightGBM"
CATBOOST = "CatBoost"
REALMLP = "RealMLP-TD"
TABM = "TabM-D"

SKORCHLESS_MODELS = [SKORCHLESS, SKORCHLESS_RAW]
CHEAP_MODELS = [SKORCHLESS, SKORCHLESS_RAW, SK_MLP, SK_MLP_ES, HGB, HGB_RAW, LGBM, CATBOOST]
#: Models that get the DataFrame as it is rather than the standard pipeline.
RAW_MODELS = [SKORCHLESS_RAW, HGB_RAW]
#: Minutes per dataset on 2 cores: fitted on a subset, their results cached.
EXPENSIVE_MODELS = [REALMLP, TABM]
MODELS = CHEAP_MODELS + EXPENSIVE_MODELS
GRADIENT_BOOSTING = [HGB, LGBM, CATBOOST]
MAX_CATEGORIES = 64


def candidate_name(name):
    """The name of a skorchless model fitted with the candidate parameters."""
    return f"{name} [candidate]"


def base_name(name):
    return name.removesuffix(" [candidate]")


def _as_strings(X):
    frame = pd.DataFrame(X)
    return frame.apply(lambda c: c.map(lambda v: v if pd.isna(v) else str(v))).astype(object)


def _date_numbers(X):
    frame = pd.DataFrame(X)
    columns = {}
    for c in frame.columns:
        dates = pd.to_datetime(frame[c])
        columns[f"{c}_days"] = (dates - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        columns[f"{c}_month"] = dates.dt.month.astype(float)
        columns[f"{c}_weekday"] = dates.dt.dayofweek.astype(float)
    return pd.DataFrame(columns, index=frame.index)


class RawForHGB(FunctionTransformer):
    """The DataFrame as HistGradientBoosting takes it (see the module docstring)."""

    def __init__(self):
        super().__init__(raw_for_hgb)


def raw_for_hgb(X):
    frame = pd.DataFrame(X).copy()
    for c in frame.columns:
        column = frame[c]
        if pd.api.types.is_datetime64_any_dtype(column):
            frame[c] = (column - pd.Timestamp("1970-01-01", tz=column.dt.tz)) / pd.Timedelta(days=1)
        elif not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            as_text = column.map(lambda v: v if pd.isna(v) else str(v)).astype("category")
            if len(as_text.cat.categories) > 255:
                as_text = as_text.cat.codes.astype(float).where(as_text.notna())
            frame[c] = as_text
    return frame


def _numeric():
    return make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())


def preprocessor(dataset):
    """The standard ``ColumnTransformer`` of the suite (see the module docstring)."""
    transformers = []
    if dataset.numeric_columns:
        transformers.append(("num", _numeric(), dataset.numeric_columns))
    if dataset.categorical_columns:
        categorical = make_pipeline(
            FunctionTransformer(_as_strings),
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES,
                          sparse_output=False),
        )
        transformers.append(("cat", categorical, dataset.categorical_columns))
    if dataset.date_columns:
        dates = make_pipeline(FunctionTransformer(_date_numbers), _numeric())
        transformers.append(("date", dates, dataset.date_columns))
    return ColumnTransformer(transformers)


def available_models():
    missing = {LGBM: lightgbm, CATBOOST: catboost, REALMLP: pytabkit, TABM: pytabkit}
    return [m for m in MODELS if missing.get(m, True) is not None]


def make_model(name, dataset, seed, skorchless_params=None, n_threads=None):
    """Return an unfitted estimator (a Pipeline unless ``name`` is the raw one)."""
    regression = dataset.task == "regression"
    name = base_name(name)
    if name in SKORCHLESS_MODELS:
        torch_mlp = TorchMLPRegressor if regression else TorchMLPClassifier
        model = torch_mlp(**{"random_state": seed, "device": "cpu", **(skorchless_params or {})})
        if name == SKORCHLESS_RAW:
            return model
    elif name in (SK_MLP, SK_MLP_ES):
        mlp = MLPRegressor if regression else MLPClassifier
        model = mlp(random_state=seed, early_stopping=name == SK_MLP_ES)
    elif name in (HGB, HGB_RAW):
        hgb = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        model = hgb(random_state=seed, categorical_features="from_dtype")
        if name == HGB_RAW:
            return make_pipeline(RawForHGB(), model)
    elif name == LGBM:
        lgbm = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
        model = lgbm(random_state=seed, verbose=-1, n_jobs=n_threads or 0)
    elif name == CATBOOST:
        cb = catboost.CatBoostRegressor if regression else catboost.CatBoostClassifier
        model = cb(random_seed=seed, verbose=0, allow_writing_files=False,
                   thread_count=n_threads or -1)
    elif name in (REALMLP, TABM):
        kind = "Regressor" if regression else "Classifier"
        cls = getattr(pytabkit, f"{'RealMLP_TD' if name == REALMLP else 'TabM_D'}_{kind}")
        model = cls(device="cpu", random_state=seed, n_threads=n_threads or 2, verbosity=0)
    else:
        raise ValueError(f"unknown model {name!r}; known: {MODELS}")
    return make_pipeline(preprocessor(dataset), model)


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        warnings.filterwarnings("ignore", category=UserWarning)
        return model.fit(X, y)


def predict_quietly(model, X, proba):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        warnings.filterwarnings("ignore", category=UserWarning)
        if proba:
            return np.asarray(model.predict_proba(X))
        return np.asarray(model.predict(X)).ravel()
