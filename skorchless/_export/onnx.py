"""Export a fitted estimator to ONNX, its input scaling and output head included.

The exported graph takes the raw feature matrix, the same columns ``predict``
takes, and gives what ``predict`` / ``predict_proba`` give: the fitted input
scaling is rebuilt from the scaler's fitted arrays as torch operations in
float64 (after the fill values and indicators of missing values), the
network runs in float32 as in ``predict``, and the output is unscaled
(regressor) or turned into probabilities (classifier) in float64.
"""

import contextlib
import copy
import inspect
import logging
import os
import warnings

import numpy as np
import torch
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)

from .._engine.network import linear_layers
from .._preprocessing import PiecewiseLinearEncoder, smooth_clip
from .._sparse import smooth_clip_sparse
from .._wrapped import transformers, unwrap

#: numpy ufuncs of a ``FunctionTransformer`` and their torch translation.
_UFUNCS = {np.abs: torch.abs, np.exp: torch.exp, np.expm1: torch.expm1, np.log: torch.log,
           np.log1p: torch.log1p, np.sqrt: torch.sqrt, np.square: torch.square}

_INPUT_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def export_onnx(estimator, path, *, input_dtype="float32"):
    """Write a fitted estimator as an ONNX model that predicts like it.

    The graph includes the estimator's internal input scaling
    (``input_scaling``) and its output processing, so that serving it needs
    only onnxruntime: no scikit-learn, no torch. Its input ``"X"`` is the
    matrix of the ``n_features_in_`` raw features, in the order of
    ``feature_names_in_`` when the model was fitted on a DataFrame, with any
    number of rows. Its outputs, in float64:

    - regressor: ``"prediction"``, as ``predict`` returns it (1-D for one
      target);
    - classifier: ``"class_index"`` (int64), the index in ``classes_`` of the
      predicted class -- ``estimator.classes_[class_index]`` is ``predict`` --
      and ``"probabilities"``, as ``predict_proba`` returns them;
    - multilabel classifier: ``"indicator"`` (int64 0/1 matrix, as
      ``predict``) and ``"probabilities"``.

    Needs the packages ``onnx`` and ``onnxscript`` (``pip install
    skorchless[onnx]``, which also installs onnxruntime to run the model).

    A fitted ``Pipeline`` ending in the estimator is exported whole when its
    other steps are numeric transformers with a translation here
    (``StandardScaler``, ``RobustScaler``, ``MinMaxScaler``, ``MaxAbsScaler``,
    ``SimpleImputer`` without indicator -- the graph then takes NaN --,
    ``FunctionTransformer`` of ``numpy.log1p``, ``expm1``, ``log``, ``exp``,
    ``sqrt``, ``square`` or ``abs``, and ``Pipeline`` of these); its input
    is then the pipeline's input. A fitted search is exported as its
    ``best_estimator_``.

    Parameters
    ----------
    estimator : TorchMLPRegressor, TorchMLPClassifier, Pipeline or fitted search
        A fitted estimator, or a Pipeline or search around one (see above).
    path : str or os.PathLike
        File to write (conventionally ``*.onnx``).
    input_dtype : {"float32", "float64"}, default="float32"
        Element type of the input ``"X"``. The scaling runs in float64 either
        way, as in ``predict``; ``"float64"`` feeds the data without rounding.

    Returns
    -------
    path : str
        The path written.

    A NaN in the input is a missing value, filled and indicated as
    ``predict`` does.

    Raises
    ------
    NotImplementedError
        If the estimator or the pipeline holds preprocessing that has no ONNX
        translation here, such as an encoding of categorical or datetime
        columns; the message names it.
    ImportError
        If ``onnx`` or ``onnxscript`` is not installed.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.datasets import make_regression
    >>> from skorchless import TorchMLPRegressor, export_onnx
    >>> X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    >>> reg = TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0,
    ...                         device="cpu").fit(X, y)
    >>> path = export_onnx(reg, os.path.join(tempfile.mkdtemp(), "reg.onnx"))
    >>> session = onnxruntime.InferenceSession(path)
    >>> (prediction,) = session.run(None, {"X": X[:5].astype(np.float32)})
    >>> np.allclose(prediction, reg.predict(X[:5].astype(np.float32)), rtol=1e-5)
    True
    """
    if input_dtype not in _INPUT_DTYPES:
        raise ValueError(
            "The 'input_dtype' parameter of export_onnx must be 'float32' or "
            f"'float64'. Got {input_dtype!r} instead."
        )
    model, estimator = unwrap(estimator, "export_onnx")
    _check_onnx_support()
    wrapper = _ExportModule(estimator, transformers(model)).eval()
    n_features = model.n_features_in_
    example = torch.zeros((2, n_features), dtype=_INPUT_DTYPES[input_dtype])
    with _quiet_exporter():
        program = torch.onnx.export(
            wrapper, (example,), dynamo=True, verbose=False,
            input_names=["X"], output_names=wrapper.output_names,
            dynamic_shapes=({0: torch.export.Dim("n_samples")},),
        )
    path = os.fspath(path)
    program.save(path)
    return path


def export_torch(estimator):
    """Return a fitted estimator as a self-contained torch module that predicts like it.

    The module is the one ``export_onnx`` exports: the raw feature matrix in,
    through the steps of a pipeline before the estimator (scalers, imputers),
    the estimator's own missing-value fill, input scaling and bins, the
    network, and the output head -- what ``predict`` gives for a regressor,
    ``(class_index, probabilities)`` for a classifier (see ``export_onnx``).
    It runs without scikit-learn, on the CPU, in eval mode, with gradients
    off: ready to ``torch.save``, ``torch.jit.trace``, ``torch.compile`` or
    serve, or to move to a GPU with ``.to("cuda")``.

    Parameters
    ----------
    estimator : TorchMLPRegressor, TorchMLPClassifier, or a Pipeline or search ending in one
        Fitted, on numeric features (categorical and datetime columns have
        no torch translation here).

    Returns
    -------
    module : torch.nn.Module
        Called on a float tensor of shape (n_samples, ``n_features_in_``).

    Raises
    ------
    NotImplementedError
        If the estimator or the pipeline holds preprocessing that has no
        torch translation here; the message names it.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.datasets import make_regression
    >>> from skorchless import TorchMLPRegressor, export_torch
    >>> X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    >>> reg = TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=20, random_state=0,
    ...                         device="cpu").fit(X, y)
    >>> module = export_torch(reg)
    >>> prediction = module(torch.as_tensor(X[:5]))
    >>> np.allclose(prediction.numpy(), reg.predict(X[:5]), rtol=1e-5)
    True
    """
    model, estimator = unwrap(estimator, "export_torch")
    module = _ExportModule(estimator, transformers(model)).eval()
    return module.requires_grad_(False)


class _ExportModule(torch.nn.Module):
    """Raw features -> pipeline steps -> input scaling -> network -> predictions."""

    def __init__(self, estimator, pipeline_steps=()):
        super().__init__()
        _check_numeric_input(estimator)
        name = type(estimator).__name__
        steps = [_translate(t, n, f"the pipeline step {step!r} before {name}")
                 for step, transformer in pipeline_steps
                 for t, n in _flatten(transformer)]
        self.input_steps = torch.nn.ModuleList([*steps, *_input_steps(estimator)])
        self.network = copy.deepcopy(estimator.module_).to("cpu").float().eval()
        self.head = estimator._target.torch_head()
        self.output_names = self.head.output_names

    def forward(self, X):
        X = X.to(torch.float64)
        for step in self.input_steps:
            X = step(X)
        return self.head(self.network(X.to(torch.float32)).to(torch.float64))


class _FillMissing(torch.nn.Module):
    """``ColumnEncoder`` of numbers: NaN filled, then the indicator columns appended."""

    def __init__(self, fill, indicated):
        super().__init__()
        self.register_buffer("fill", torch.as_tensor(fill, dtype=torch.float64).clone())
        self.register_buffer("indicated", torch.as_tensor(indicated, dtype=torch.int64))

    def forward(self, X):
        missing = torch.isnan(X)
        filled = torch.where(missing, self.fill, X)
        return torch.cat([filled, missing[:, self.indicated].to(torch.float64)], dim=1)


class _Affine(torch.nn.Module):
    """``(X - center) / scale``, the fitted transform of a scikit-learn scaler."""

    def __init__(self, center, scale, n_features):
        super().__init__()
        self.register_buffer("center", _float64(center, n_features, fill=0.0))
        self.register_buffer("scale", _float64(scale, n_features, fill=1.0))

    def forward(self, X):
        return (X - self.center) / self.scale


class _Impute(torch.nn.Module):
    """``SimpleImputer``: missing values (NaN) replaced by the fitted statistics."""

    def __init__(self, statistics):
        super().__init__()
        self.register_buffer("statistics", torch.as_tensor(statistics, dtype=torch.float64))

    def forward(self, X):
        return torch.where(torch.isnan(X), self.statistics, X)


class _Elementwise(torch.nn.Module):
    """A ``FunctionTransformer`` of a numpy ufunc, as the torch function of the same name."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, X):
        return self.function(X)


class _SmoothClip(torch.nn.Module):
    """``smooth_clip``: ``bound * x / hypot(bound, x)``, overflow-free."""

    def __init__(self, bound=3.0):
        super().__init__()
        self.bound = bound

    def forward(self, X):
        # hypot(b, x) = m * sqrt((b/m)^2 + (x/m)^2) with m = max(b, |x|) >= b > 0
        m = X.abs().clamp(min=self.bound)
        return self.bound * X / (m * torch.sqrt((self.bound / m) ** 2 + (X / m) ** 2))


class _PiecewiseLinear(torch.nn.Module):
    """``PiecewiseLinearEncoder``: ``X`` followed by ``clamp((x - left) / width, 0, 1)``."""

    def __init__(self, edges):
        super().__init__()
        columns = [j for j, e in enumerate(edges) for _ in range(max(len(e) - 1, 0))]
        left = [v for e in edges if len(e) for v in e[:-1]]
        width = [v for e in edges if len(e) for v in (e[1:] - e[:-1])]
        self.register_buffer("columns", torch.as_tensor(columns, dtype=torch.int64))
        self.register_buffer("left", torch.as_tensor(left, dtype=torch.float64))
        self.register_buffer("width", torch.as_tensor(width, dtype=torch.float64))

    def forward(self, X):
        bins = ((X[:, self.columns] - self.left) / self.width).clamp(0.0, 1.0)
        return torch.cat([X, bins], dim=1)


def _check_numeric_input(estimator):
    name = type(estimator).__name__
    kinds = getattr(estimator._inputs, "kinds_", None) or {}
    n_inputs = linear_layers(estimator.module_)[0].in_features
    for kind, fix in [("categorical", "with OneHotEncoder"),
                      ("datetime", "as the days since a reference date")]:
        columns = [column for column, k in kinds.items() if k == kind]
        if kind == "categorical":  # models of older versions hold categorical_ alone
            columns = columns or estimator._inputs.categorical_
        if columns:
            raise NotImplementedError(
                f"{name} encodes {kind} columns ({', '.join(map(str, columns))}) inside "
                f"the estimator, turning its {estimator.n_features_in_} input columns "
                f"into {n_inputs}; export_onnx exports models of numeric columns only. "
                f"Encode the {kind} columns in a scikit-learn pipeline before the "
                f"estimator (for example {fix}) and export the estimator fitted on "
                "the encoded columns."
            )


def _input_steps(estimator):
    steps = []
    columns = getattr(estimator._inputs, "columns_", None)  # None: models of older versions
    n_features = estimator.n_features_in_
    if columns is not None and columns.fill_ is not None:
        steps.append(_FillMissing(columns.fill_, columns.indicated_))
        n_features += len(columns.indicated_)
    scaler = estimator._inputs.transformer_
    if scaler is None:
        return steps
    transformers = [step for _, step in scaler.steps] if isinstance(scaler, Pipeline) else [
        scaler
    ]
    return steps + [_translate(t, n_features, type(estimator).__name__) for t in transformers]


def _flatten(transformer):
    # The transformers of a pipeline step in order (nested pipelines opened),
    # each with the number of features it takes.
    if isinstance(transformer, Pipeline):
        return [pair for step in transformers(transformer) + [transformer.steps[-1]]
                for pair in _flatten(step[1])]
    return [(transformer, transformer.n_features_in_)]


def _translate(transformer, n_features, owner):
    if isinstance(transformer, MinMaxScaler):
        if transformer.clip:
            raise NotImplementedError(
                f"export_onnx cannot translate MinMaxScaler(clip=True) of {owner} to ONNX.")
        return _Affine(-transformer.min_ / transformer.scale_, 1.0 / transformer.scale_,
                       n_features)
    if isinstance(transformer, MaxAbsScaler):
        return _Affine(None, transformer.scale_, n_features)
    if (isinstance(transformer, SimpleImputer) and transformer.add_indicator is False
            and transformer.statistics_.dtype.kind == "f"
            and _is_nan(transformer.missing_values)):
        return _Impute(transformer.statistics_)
    if isinstance(transformer, FunctionTransformer) and transformer.func in _UFUNCS and (
            not transformer.kw_args):
        return _Elementwise(_UFUNCS[transformer.func])
    if isinstance(transformer, RobustScaler):
        return _Affine(transformer.center_ if transformer.with_centering else None,
                       transformer.scale_, n_features)
    if isinstance(transformer, StandardScaler):
        return _Affine(transformer.mean_ if transformer.with_mean else None,
                       transformer.scale_, n_features)
    if isinstance(transformer, FunctionTransformer) and transformer.func in (
            smooth_clip, smooth_clip_sparse):
        return _SmoothClip(**(transformer.kw_args or {}))
    if isinstance(transformer, PiecewiseLinearEncoder):
        return _PiecewiseLinear(transformer.edges_)
    raise NotImplementedError(
        f"export_onnx cannot translate the input preprocessing {transformer!r} of "
        f"{owner} to ONNX."
    )


def _is_nan(value):
    return isinstance(value, float) and value != value


def _float64(values, n_features, fill):
    if values is None:  # with_centering=False / with_scaling=False
        return torch.full((n_features,), fill, dtype=torch.float64)
    return torch.as_tensor(values, dtype=torch.float64).clone()


@contextlib.contextmanager
def _quiet_exporter():
    """Silence what the exporter says about itself that users cannot act on.

    Its log lists the optional torchvision operators it skips, and torch's own
    use of a deprecated pytree API warns (torch 2.13).
    """
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
            yield
    finally:
        logger.setLevel(level)


def _check_onnx_support():
    missing = []
    for name in ("onnx", "onnxscript"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"export_onnx requires {' and '.join(missing)}. Install them with "
            "`pip install skorchless[onnx]`."
        )
    if "dynamo" not in inspect.signature(torch.onnx.export).parameters:
        raise ImportError(
            f"export_onnx requires torch 2.5 or later (its torch.export-based ONNX "
            f"exporter); this is torch {torch.__version__}."
        )
