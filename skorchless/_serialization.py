"""Save and load fitted estimators without pickle: safetensors weights plus JSON.

A saved model is one safetensors file. Its tensors are the network's
``state_dict``; its header metadata holds, under ``"skorchless"``, a JSON
document with the format version, the library versions, the estimator's class
and parameters, the layer sizes of the network and every other fitted
attribute, and under ``"sha256"`` a digest of that document and the tensors.

Loading parses JSON and raw tensor buffers only. It instantiates only the
classes of ``_allowed_classes`` and calls only the functions of
``_ALLOWED_FUNCTIONS`` -- it never imports a name read from the file -- so
loading a file runs no code from it. Values are encoded with explicit tags
(``{"__ndarray__": ...}``, ``{"__tuple__": ...}``, ...), so that every fitted
attribute comes back with its type, dtype and shape.

The digest detects a truncated or corrupted file and an edit of the document
or the weights made without recomputing it; it is not a signature, so it does
not prove who wrote the file.
"""

import hashlib
import json
import os
import types
import uuid
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from sklearn.exceptions import InconsistentVersionWarning as SklearnVersionWarning
from sklearn.utils.validation import check_is_fitted

from ._network import build_mlp, linear_layers
from ._persistence import _TRANSIENT, InconsistentVersionWarning, _loading_device
from ._preprocessing import PiecewiseLinearEncoder, smooth_clip

#: Version of the file layout; a file of another version is refused.
FORMAT_VERSION = 1
_METADATA_KEY = "skorchless"
_DIGEST_KEY = "sha256"
# Attributes stored by other means than the JSON codec.
_NOT_IN_DOCUMENT = (*_TRANSIENT, "module_", "device_")
_ALLOWED_FUNCTIONS = {
    "skorchless._preprocessing.smooth_clip": smooth_clip,
    "numpy.log1p": np.log1p,
    "numpy.expm1": np.expm1,
}
_ESTIMATORS = ("skorchless.TorchMLPRegressor", "skorchless.TorchMLPClassifier")
_BUILTIN_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "object": object}
_ARRAY_KINDS = "biufUO"
_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, np.ufunc)


def _allowed_classes():
    """Return ``{public name: class}`` of the objects a file may contain."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        LabelBinarizer,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        QuantileTransformer,
        RobustScaler,
        StandardScaler,
    )

    from ._classifier import TorchMLPClassifier
    from ._regressor import TorchMLPRegressor

    classes = {
        "sklearn.compose": [ColumnTransformer, make_column_selector],
        "sklearn.impute": [SimpleImputer],
        "sklearn.pipeline": [Pipeline],
        "sklearn.preprocessing": [
            FunctionTransformer, LabelBinarizer, MaxAbsScaler, MinMaxScaler,
            OneHotEncoder, OrdinalEncoder, QuantileTransformer, RobustScaler,
            StandardScaler,
        ],
        "skorchless": [TorchMLPClassifier, TorchMLPRegressor],
        "skorchless._preprocessing": [PiecewiseLinearEncoder],
    }
    return {f"{module}.{cls.__name__}": cls for module, group in classes.items()
            for cls in group}


# ------------------------------------------------------------------- saving
def save(estimator, path):
    """Save a fitted estimator to ``path`` without pickle.

    The file holds the weights (safetensors) and, as JSON, the parameters,
    the fitted attributes and the versions of skorchless, torch, scikit-learn
    and numpy. It is written to a temporary file first and then renamed, so an
    existing file at ``path`` is never left half-written.

    Parameters
    ----------
    estimator : TorchMLPRegressor or TorchMLPClassifier
        A fitted estimator.
    path : str, os.PathLike or binary file object
        Where to write.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If a parameter or fitted attribute cannot be stored without pickle
        (for example ``callbacks``, or an input transformer that is not one of
        the supported scikit-learn transformers); the message names it.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> import numpy as np
    >>> import skorchless
    >>> X = np.arange(40.0).reshape(20, 2)
    >>> reg = skorchless.TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=20,
    ...                                    random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     reg = reg.fit(X, X.sum(1))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> skorchless.save(reg, path)
    >>> loaded = skorchless.load(path)
    >>> bool(np.array_equal(loaded.predict(X), reg.predict(X)))
    True
    """
    data = _to_bytes(estimator)
    if hasattr(path, "write"):
        path.write(data)
        return
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as file:  # the usual permissions, unlike mkstemp's
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _to_bytes(estimator):
    from . import __version__

    check_is_fitted(estimator, "module_")
    name = _class_name(estimator)
    if name not in _ESTIMATORS:
        raise ValueError(
            f"skorchless.save stores TorchMLPRegressor and TorchMLPClassifier; got "
            f"{type(estimator).__qualname__}. Use pickle or joblib for subclasses."
        )
    params = estimator.get_params(deep=False)
    fitted = {key: value for key, value in vars(estimator).items()
              if key not in params and key not in _NOT_IN_DOCUMENT}
    network = _network_spec(estimator.module_, params)
    document = {
        "format_version": FORMAT_VERSION,
        "versions": {
            "skorchless": __version__,
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "class": name,
        "params": {key: _encode(value, f"parameter {key!r}") for key, value in params.items()},
        "network": network,
        "fitted": {key: _encode(value, f"attribute {key!r}") for key, value in fitted.items()},
    }
    text = json.dumps(document)
    tensors = {key: value.detach().to("cpu").contiguous()
               for key, value in estimator.module_.state_dict().items()}
    return save_tensors(tensors, metadata={
        "format": "pt", _METADATA_KEY: text, _DIGEST_KEY: _digest(text, tensors),
    })


def _network_spec(module, params):
    layers = linear_layers(module)
    spec = {
        "n_inputs": layers[0].in_features,
        "hidden_layer_sizes": [layer.out_features for layer in layers[:-1]],
        "n_outputs": layers[-1].out_features,
    }
    if _shapes(_build_network(spec, params)) != _shapes(module):
        raise ValueError(
            "skorchless.save can only store the network that the estimator builds "
            "itself; this module_ has other layers. Use pickle or joblib instead."
        )
    return spec


def _build_network(spec, params):
    return build_mlp(
        spec["n_inputs"], spec["hidden_layer_sizes"], spec["n_outputs"],
        activation=params["activation"], dropout=params["dropout"],
        init_generator=torch.Generator(),
    )


def _shapes(module):
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def _digest(text, tensors):
    sha = hashlib.sha256(text.encode("utf-8"))
    for key in sorted(tensors):
        tensor = tensors[key]
        sha.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        sha.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()


def _class_name(obj):
    for name, cls in _allowed_classes().items():
        if type(obj) is cls:
            return name
    return None


def _encode(value, where):
    """Return ``value`` as JSON-ready data with type tags; raise if unsupported."""
    if value is None or (
        isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic)
    ):
        return value
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, f"{where} key"), _encode(v, f"{where}[{k!r}]")]
                             for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": _encode_array(value, where)}
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        return {"__scalar__": [value.dtype.str, value.item()]}
    if isinstance(value, np.dtype) and value.kind in _ARRAY_KINDS:
        return {"__dtype__": value.str}
    if isinstance(value, type):
        return {"__type__": _encode_type(value, where)}
    if isinstance(value, slice):
        return {"__slice__": [_encode(v, where) for v in (value.start, value.stop, value.step)]}
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, np.random.RandomState):
        return {"__random_state__": _encode(value.get_state(legacy=True), where)}
    if isinstance(value, _FUNCTION_TYPES):
        for name, function in _ALLOWED_FUNCTIONS.items():
            if value is function:
                return {"__function__": name}
        raise ValueError(
            f"skorchless.save cannot store {where}: the function {value!r} is not "
            "one it can restore without pickle. Use pickle or joblib instead."
        )
    name = _class_name(value)
    if name is None or name in _ESTIMATORS:
        hint = " Set callbacks=None before saving," if "'callbacks'" in where else ""
        raise ValueError(
            f"skorchless.save cannot store {where}: {type(value).__qualname__} "
            f"objects cannot be saved without pickle.{hint} Use pickle or joblib "
            "instead."
        )
    params = value.get_params(deep=False) if hasattr(value, "get_params") else {}
    state = {k: v for k, v in vars(value).items() if k not in params}
    return {"__object__": {
        "class": name,
        "params": {k: _encode(v, f"{where}.{k}") for k, v in params.items()},
        "state": {k: _encode(v, f"{where}.{k}") for k, v in state.items()},
    }}


def _encode_array(array, where):
    kind = array.dtype.kind
    if kind not in _ARRAY_KINDS or (kind == "f" and array.dtype.itemsize > 8):
        raise ValueError(
            f"skorchless.save cannot store {where}: arrays of dtype {array.dtype} "
            "are not supported."
        )
    if kind == "O":
        data = [_encode(v, f"{where} element") for v in array.ravel()]
    else:
        data = array.ravel().tolist()
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": data}


def _encode_type(value, where):
    if issubclass(value, np.generic) and getattr(np, value.__name__, None) is value:
        return f"numpy.{value.__name__}"
    if _BUILTIN_TYPES.get(value.__name__) is value:
        return value.__name__
    raise ValueError(f"skorchless.save cannot store {where}: the type {value!r}.")


# ------------------------------------------------------------------ loading
def load(path):
    """Load an estimator written by ``save``, running no code from the file.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file to read.

    Returns
    -------
    estimator : TorchMLPRegressor or TorchMLPClassifier
        Fitted, on the device its ``device`` parameter names here (the CPU
        when that device is absent, with a warning).

    Raises
    ------
    ValueError
        If the file is truncated, corrupted or edited, is not a skorchless
        model, or has a format version this skorchless does not read; or if
        its parameters, weights and fitted attributes do not agree.

    Warns
    -----
    InconsistentVersionWarning
        If the file was written by another version of skorchless (or
        scikit-learn's own warning, for another version of scikit-learn).

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import io, warnings
    >>> import numpy as np
    >>> import skorchless
    >>> X = np.arange(40.0).reshape(20, 2)
    >>> clf = skorchless.TorchMLPClassifier(hidden_layer_sizes=(4,), max_iter=20,
    ...                                     random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     clf = clf.fit(X, X[:, 0] > 19)
    >>> buffer = io.BytesIO()
    >>> clf.save(buffer)
    >>> _ = buffer.seek(0)
    >>> skorchless.load(buffer).classes_
    array([False,  True])
    """
    data = path.read() if hasattr(path, "read") else Path(path).read_bytes()
    text, digest = _read_metadata(data)
    try:
        tensors = load_tensors(data)
    except SafetensorError as exc:
        raise ValueError(f"The file is truncated or corrupted: {exc}") from None
    if digest != _digest(text, tensors):
        raise ValueError(
            "The file's checksum does not match its content: it was corrupted or "
            "edited after it was saved."
        )
    try:
        document = json.loads(text)
        return _from_document(document, tensors)
    except RecursionError:
        raise ValueError("The file's document is nested too deeply.") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"The file's document is malformed: {exc!r}") from None


def _read_metadata(data):
    if len(data) < 8:
        raise ValueError("The file is truncated: it is too short to be a safetensors file.")
    size = int.from_bytes(data[:8], "little")
    if size > len(data) - 8:
        raise ValueError("The file is truncated: its header is incomplete.")
    try:
        header = json.loads(data[8 : 8 + size])
        metadata = header.get("__metadata__") or {}
        text, digest = metadata[_METADATA_KEY], metadata[_DIGEST_KEY]
    except (ValueError, AttributeError, KeyError, TypeError):
        raise ValueError(
            "The file is not a model saved by skorchless.save (no skorchless "
            "metadata in its header)."
        ) from None
    if not (isinstance(text, str) and isinstance(digest, str)):
        raise ValueError("The file's skorchless metadata is malformed.")
    return text, digest


def _from_document(document, tensors):
    _check_versions(document)
    classes = _allowed_classes()
    cls = classes.get(document["class"])
    if cls is None or document["class"] not in _ESTIMATORS:
        raise ValueError(f"The file holds an unknown estimator class {document['class']!r}.")
    params = {key: _decode(value) for key, value in document["params"].items()}
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ValueError(f"The file's parameters do not fit {cls.__name__}: {exc}") from None
    estimator._validate_params()

    module = _build_network(document["network"], params)
    if _shapes(module) != {key: tuple(value.shape) for key, value in tensors.items()}:
        raise ValueError(
            "The weights in the file do not have the shapes of the network its "
            "parameters describe."
        )
    module.load_state_dict(tensors)
    module.eval()
    for key, value in document["fitted"].items():
        _set_attribute(estimator, key, _decode(value))
    if estimator.n_outputs_ != document["network"]["n_outputs"]:
        raise ValueError("The file's n_outputs_ does not match its network.")
    estimator.device_ = _loading_device(estimator.device)
    estimator.module_ = module.to(estimator.device_)
    return estimator


def _check_versions(document):
    from . import __version__

    if document.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"The file has format version {document.get('format_version')!r}; this "
            f"skorchless ({__version__}) reads format version {FORMAT_VERSION}."
        )
    versions = document["versions"]
    name = document["class"].rsplit(".", 1)[-1]
    if versions["skorchless"] != __version__:
        warnings.warn(
            InconsistentVersionWarning(name, __version__, versions["skorchless"]),
            stacklevel=4,
        )
    if versions["sklearn"] != sklearn.__version__:
        warnings.warn(
            SklearnVersionWarning(
                estimator_name=name, current_sklearn_version=sklearn.__version__,
                original_sklearn_version=versions["sklearn"],
            ),
            stacklevel=4,
        )


def _set_attribute(obj, key, value):
    if not (isinstance(key, str) and key.isidentifier()) or key.startswith("__") or (
        callable(getattr(type(obj), key, None))
        or isinstance(getattr(type(obj), key, None), property)
    ):
        raise ValueError(f"The file sets a forbidden attribute {key!r}.")
    obj.__dict__[key] = value


def _decode(node):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v) for v in node]
    if not (isinstance(node, dict) and len(node) == 1):
        raise ValueError(f"The file's document holds an unexpected value {node!r:.80}.")
    (tag, body), = node.items()
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ValueError(f"The file's document holds an unknown tag {tag!r}.")
    return decoder(body)


def _decode_array(body):
    dtype = np.dtype(body["dtype"])
    shape = tuple(int(n) for n in body["shape"])
    if dtype.kind not in _ARRAY_KINDS or int(np.prod(shape)) != len(body["data"]):
        raise ValueError("The file holds a malformed array.")
    if dtype.kind == "O":
        array = np.empty(len(body["data"]), dtype=object)
        array[:] = [_decode(v) for v in body["data"]] if body["data"] else []
        return array.reshape(shape)
    return np.array(body["data"], dtype=dtype).reshape(shape)


def _decode_scalar(body):
    dtype, value = body
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufU":
        raise ValueError("The file holds a malformed scalar.")
    return np.array(value, dtype=dtype)[()]


def _decode_type(name):
    if name.startswith("numpy."):
        value = getattr(np, name[len("numpy."):], None)
        if isinstance(value, type) and issubclass(value, np.generic):
            return value
    elif name in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[name]
    raise ValueError(f"The file holds an unknown type {name!r}.")


def _decode_function(name):
    if name not in _ALLOWED_FUNCTIONS:
        raise ValueError(f"The file holds an unknown function {name!r}.")
    return _ALLOWED_FUNCTIONS[name]


def _decode_object(body):
    cls = _allowed_classes().get(body["class"])
    if cls is None or body["class"] in _ESTIMATORS:
        raise ValueError(f"The file holds an object of unknown class {body['class']!r}.")
    params = {k: _decode(v) for k, v in body["params"].items()}
    if hasattr(cls, "get_params"):
        obj = cls(**params)
    else:
        obj = cls.__new__(cls)
        for key, value in params.items():
            _set_attribute(obj, key, value)
    for key, value in body["state"].items():
        _set_attribute(obj, key, _decode(value))
    return obj


def _decode_random_state(body):
    state = _decode(body)
    random_state = np.random.RandomState()
    random_state.set_state(state)
    return random_state


_DECODERS = {
    "__tuple__": lambda body: tuple(_decode(v) for v in body),
    "__dict__": lambda body: {_decode(k): _decode(v) for k, v in body},
    "__ndarray__": _decode_array,
    "__scalar__": _decode_scalar,
    "__dtype__": lambda body: np.dtype(body),
    "__type__": _decode_type,
    "__slice__": lambda body: slice(*(_decode(v) for v in body)),
    "__device__": lambda body: torch.device(body),
    "__random_state__": _decode_random_state,
    "__function__": _decode_function,
    "__object__": _decode_object,
}

