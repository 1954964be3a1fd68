"""Pickling: weights travel on the CPU, carry the package version, and load anywhere.

Files of skorchless 0.1 load too: their fitted state is upgraded on loading
(``upgrade``).
"""

import copy
import inspect
import warnings

import torch

from .._engine.network import linear_layers
from .._tensors import resolve_device
from .._version import __version__
from .upgrade import upgrade_fitted

#: Runtime state that is rebuilt by the next fit and cannot (or should not) travel
#: as it is; the optimizer's and the shuffling generator's state travel as tensors.
TRANSIENT = ("_optimizer", "_schedule", "_generator")


class InconsistentVersionWarning(UserWarning):
    """Warn that a model is loaded by a skorchless version other than its own.

    Raised by unpickling (pickle, joblib, cloudpickle) and by ``skorchless.load``.

    Parameters
    ----------
    estimator_name : str
    current_version : str
    original_version : str

    Examples
    --------
    >>> from skorchless import InconsistentVersionWarning
    >>> str(InconsistentVersionWarning("TorchMLPRegressor", "0.2", "0.1"))[:58]
    'Trying to load TorchMLPRegressor saved by skorchless 0.1 w'
    """

    def __init__(self, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        super().__init__(
            f"Trying to load {estimator_name} saved by skorchless {original_version} "
            f"with skorchless {current_version}. This might lead to breaking code or "
            "invalid results. Use at your own risk."
        )


class PickleMixin:
    """``__getstate__`` / ``__setstate__`` for estimators holding a torch ``module_``.

    The pickled module is a CPU copy, so that a model fitted on a GPU loads on
    a machine without one; on loading it moves to the device its ``device``
    parameter resolves to there (the CPU when that device is absent). The
    optimizer's state (Adam's moments, SGD's velocities) and the state of the
    generator that shuffles the rows travel too, as scikit-learn's MLP pickles
    its optimizer: ``partial_fit`` after loading goes on exactly as without the
    round trip (which is what a dask ``Incremental`` does between blocks).

    Unpickling runs code named in the file: load pickles only from sources you
    trust, or use ``skorchless.save`` and ``skorchless.load``, which run none.
    """

    def __getstate__(self):
        # A copy: BaseEstimator.__getstate__ returns the live __dict__ itself.
        state = dict(super().__getstate__())
        optimizer, generator = state.get("_optimizer"), state.get("_generator")
        for name in TRANSIENT:
            state.pop(name, None)
        if optimizer is not None:
            state["_optimizer_state"] = (type(optimizer).__name__,
                                         _to_cpu(optimizer.state_dict()))
        if generator is not None:
            state["_generator_state"] = generator.get_state()
        module = state.get("module_")
        if module is not None and _device_of(module).type != "cpu":
            state["module_"] = copy.deepcopy(module).to("cpu")
        if "device_" in state:
            state["device_"] = str(state["device_"])
        state["_skorchless_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_skorchless_version", "pre-0.1")
        if version != __version__:
            warnings.warn(
                InconsistentVersionWarning(type(self).__name__, __version__, version),
                stacklevel=2,
            )
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if parameter.default is not inspect.Parameter.empty:  # added since it was saved
                state.setdefault(name, parameter.default)
        if "module_" in state:
            n_inputs = linear_layers(state["module_"])[0].in_features
            state = upgrade_fitted(state, state, n_inputs)
        super().__setstate__(state)
        if "module_" in self.__dict__:
            self.device_ = loading_device(self.device)
            self.module_.to(self.device_)


def _to_cpu(value):
    # The optimizer's state_dict with its tensors on the CPU (copies).
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_cpu(item) for item in value)
    return value


def _device_of(module):
    return next(module.parameters(), torch.empty(0)).device


def loading_device(device):
    """Return the device a loaded model goes to: ``device`` here, else the CPU (warning).

    Examples
    --------
    >>> from skorchless._persistence.pickling import loading_device
    >>> loading_device("cpu")
    device(type='cpu')
    """
    try:
        return resolve_device(device)
    except ValueError:
        warnings.warn(
            f"The model was fitted with device={device!r}, which is not available "
            "here; it was loaded on the CPU.",
            UserWarning,
            stacklevel=3,
        )
        return torch.device("cpu")
