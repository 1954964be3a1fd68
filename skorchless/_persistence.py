"""Pickling: weights travel on the CPU, carry the package version, and load anywhere."""

import copy
import warnings

import torch

from ._data import resolve_device

# Runtime state that is rebuilt by the next fit and cannot (or should not) travel.
_TRANSIENT = ("_optimizer", "_schedule", "_generator")


class InconsistentVersionWarning(UserWarning):
    """Warn that a model is unpickled by a skorchless version other than its own.

    Parameters
    ----------
    estimator_name : str
    current_version : str
    original_version : str

    Examples
    --------
    >>> from skorchless import InconsistentVersionWarning
    >>> str(InconsistentVersionWarning("TorchMLPRegressor", "0.2", "0.1"))[:44]
    'Trying to unpickle TorchMLPRegressor from sk'
    """

    def __init__(self, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        super().__init__(
            f"Trying to unpickle {estimator_name} from skorchless version "
            f"{original_version} when using version {current_version}. This might "
            "lead to breaking code or invalid results. Use at your own risk."
        )


class PersistenceMixin:
    """``__getstate__`` / ``__setstate__`` for estimators holding a torch ``module_``.

    The pickled module is a CPU copy, so that a model fitted on a GPU loads on
    a machine without one; on loading it moves to the device its ``device``
    parameter resolves to there (the CPU when that device is absent). The
    optimizer state is not pickled: ``partial_fit`` after loading starts a
    fresh optimizer, as ``fit`` with ``warm_start=True`` does.
    """

    def __getstate__(self):
        from . import __version__

        state = super().__getstate__()
        for name in _TRANSIENT:
            state.pop(name, None)
        module = state.get("module_")
        if module is not None and _device_of(module).type != "cpu":
            state["module_"] = copy.deepcopy(module).to("cpu")
        if "device_" in state:
            state["device_"] = str(state["device_"])
        state["_skorchless_version"] = __version__
        return state

    def __setstate__(self, state):
        from . import __version__

        version = state.pop("_skorchless_version", "pre-0.1")
        if version != __version__:
            warnings.warn(
                InconsistentVersionWarning(type(self).__name__, __version__, version),
                stacklevel=2,
            )
        super().__setstate__(state)
        if "module_" in self.__dict__:
            self.device_ = _loading_device(self.device)
            self.module_.to(self.device_)


def _device_of(module):
    return next(module.parameters(), torch.empty(0)).device


def _loading_device(device):
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
