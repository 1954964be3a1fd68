"""skorchless: PyTorch multi-layer perceptrons as scikit-learn estimators.

``TorchMLPRegressor`` and ``TorchMLPClassifier`` train a PyTorch network with
an internal validation split, early stopping and restore of the best weights,
behind the ``fit`` / ``predict`` interface of scikit-learn.
"""

from ._classifier import TorchMLPClassifier
from ._display import LossCurveDisplay
from ._engine.callbacks import Callback, EarlyStopping, EpochLogger, EpochState
from ._export.onnx import export_onnx, export_torch
from ._persistence.pickling import InconsistentVersionWarning
from ._persistence.safe_format import load, save
from ._progress import ProgressBar
from ._regressor import TorchMLPRegressor
from ._version import __version__

__all__ = [
    "Callback",
    "EarlyStopping",
    "EpochLogger",
    "EpochState",
    "InconsistentVersionWarning",
    "LossCurveDisplay",
    "ProgressBar",
    "TorchMLPClassifier",
    "TorchMLPRegressor",
    "__version__",
    "export_onnx",
    "export_torch",
    "load",
    "save",
]
