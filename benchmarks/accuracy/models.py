"""The models of the suite, each built the way a user would build it.

Every model sees the same features: numeric columns through ``StandardScaler``,
categorical columns one-hot encoded (``handle_unknown="ignore"``), fitted on
the training rows. ``skorchless (DataFrame)`` instead gets the raw DataFrame
and encodes it inside the estimator.
"""

import warnings

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skorchless import TorchMLPClassifier, TorchMLPRegressor

try:
    import lightgbm
except ImportError:  # LightGBM is optional
    lightgbm = None

SKORCHLESS = "skorchless"
SKORCHLESS_DF = "skorchless (DataFrame)"
SK_MLP = "sklearn MLP"
SK_MLP_ES = "sklearn MLP (early_stopping)"
HGB = "HistGradientBoosting"
LGBM = "LightGBM"

MODELS = [SKORCHLESS, SKORCHLESS_DF, SK_MLP, SK_MLP_ES, HGB, LGBM]
GRADIENT_BOOSTING = [HGB, LGBM]


def preprocessor(dataset):
    categorical = dataset.categorical_columns
    numeric = [c for c in dataset.X.columns if c not in categorical]
    return ColumnTransformer(
        [("num", StandardScaler(), numeric),
         ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)],
        verbose_feature_names_out=False,
    )


def available_models():
    return [m for m in MODELS if m != LGBM or lightgbm is not None]


def make_model(name, dataset, seed, skorchless_params=None):
    """Return an unfitted estimator (a Pipeline unless ``name`` is the DataFrame one)."""
    regression = dataset.task == "regression"
    params = {"random_state": seed, "device": "cpu", **(skorchless_params or {})}
    torch_mlp = TorchMLPRegressor if regression else TorchMLPClassifier
    if name == SKORCHLESS_DF:
        return torch_mlp(**params)
    if name == SKORCHLESS:
        model = torch_mlp(**params)
    elif name in (SK_MLP, SK_MLP_ES):
        mlp = MLPRegressor if regression else MLPClassifier
        model = mlp(random_state=seed, early_stopping=name == SK_MLP_ES)
    elif name == HGB:
        hgb = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        model = hgb(random_state=seed)
    elif name == LGBM:
        lgbm = lightgbm.LGBMRegressor if regression else lightgbm.LGBMClassifier
        model = lgbm(random_state=seed, verbose=-1)
    else:
        raise ValueError(f"unknown model {name!r}; known: {MODELS}")
    return make_pipeline(preprocessor(dataset), model)


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return model.fit(X, y)
