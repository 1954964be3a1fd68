"""The tagged JSON of the safe format: values of known types in, the same values out.

``encode`` turns a fitted attribute or parameter into JSON-ready data with
explicit tags (``{"__ndarray__": ...}``, ``{"__tuple__": ...}``, ...), so that
it comes back with its type, dtype and shape; ``decode`` reverses it. Objects
are restored only for the classes of ``ALLOWED_CLASSES`` -- what ``fit``
builds, and the scikit-learn transformers users put before the estimator in
a ``Pipeline`` -- and functions only from ``ALLOWED_FUNCTIONS``: decoding
never imports a name read from a file, so it runs no code from it.

Decoding is bounded by the file: under ``allocation_budget(n_bytes)`` every
array's declared size (dtype x shape) is charged before it is allocated, so
that a forged header declaring a huge dtype (``<U100000000``) is refused
instead of allocated.
"""

import contextlib
import contextvars
import math
import types

import numpy as np
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    LabelBinarizer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)

from .._columns import ColumnEncoder, DateFeatures
from .._inputs import InputEncoder
from .._preprocessing import PiecewiseLinearEncoder, WeightedRobustScaler, smooth_clip
from .._sparse import smooth_clip_sparse
from .._targets import ClassificationTarget, RegressionTarget

#: ``{public name: class}`` of the objects a file may hold: the parts of a
#: fitted estimator's input encoding and target, and the scikit-learn
#: transformers of a pipeline before it (scalers, encoders, imputers).
ALLOWED_CLASSES = {
    f"{module}.{cls.__name__}": cls
    for module, group in {
        "sklearn.compose": [ColumnTransformer],
        "sklearn.impute": [MissingIndicator, SimpleImputer],
        "sklearn.pipeline": [Pipeline],
        "sklearn.preprocessing": [FunctionTransformer, LabelBinarizer, MaxAbsScaler,
                                  MinMaxScaler, OneHotEncoder, OrdinalEncoder,
                                  RobustScaler, StandardScaler],
        "skorchless._preprocessing": [PiecewiseLinearEncoder, WeightedRobustScaler],
        "skorchless._inputs": [InputEncoder],
        "skorchless._columns": [ColumnEncoder, DateFeatures],
        "skorchless._targets": [ClassificationTarget, RegressionTarget],
    }.items()
    for cls in group
}
#: Allowed only because files written by skorchless 0.1 hold them.
LEGACY_CLASSES = {"sklearn.preprocessing.RobustScaler"}
_CLASS_NAMES = {cls: name for name, cls in ALLOWED_CLASSES.items()}
#: The functions a ``FunctionTransformer`` of a file may hold: ours, and the
#: element-wise numpy ufuncs users transform skewed columns with.
ALLOWED_FUNCTIONS = {
    "skorchless._preprocessing.smooth_clip": smooth_clip,
    "skorchless._sparse.smooth_clip_sparse": smooth_clip_sparse,
    **{f"numpy.{f.__name__}": f
       for f in (np.abs, np.exp, np.expm1, np.log, np.log1p, np.sqrt, np.square)},
}
_BUILTIN_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "object": object}
_ARRAY_KINDS = "biufUO"
_FUNCTION_TYPES = (types.FunctionType, types.BuiltinFunctionType, np.ufunc)
_BUDGET = contextvars.ContextVar("allocation_budget", default=None)


@contextlib.contextmanager
def allocation_budget(n_bytes, source_bytes):
    """Bound the arrays that ``decode`` allocates inside the block to ``n_bytes`` in all.

    Parameters
    ----------
    n_bytes : int
        The most bytes of arrays the block may decode.
    source_bytes : int
        Size of the file decoded, for the error message.

    Examples
    --------
    >>> from skorchless._persistence.codec import allocation_budget, decode
    >>> forged = {"__ndarray__": {"dtype": "<U100000000", "shape": [1], "data": ["a"]}}
    >>> with allocation_budget(10_000, 1_000):
    ...     decode(forged)
    Traceback (most recent call last):
    ...
    ValueError: The file declares an array of 400000000 bytes (<U100000000, shape (1,)), ...
    """
    token = _BUDGET.set([n_bytes, source_bytes])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _charge(dtype, shape):
    budget = _BUDGET.get()
    size = dtype.itemsize * math.prod(shape)
    if budget is None:
        return
    if size > budget[0]:
        raise ValueError(
            f"The file declares an array of {size} bytes ({dtype.str}, shape "
            f"{shape}), more than a file of {budget[1]} bytes can hold: it is "
            "corrupted or forged."
        )
    budget[0] -= size


def _class_name(obj):
    return _CLASS_NAMES.get(type(obj))


def encode(value, where):
    """Return ``value`` as JSON-ready data with type tags; raise if unsupported.

    Parameters
    ----------
    value : object
    where : str
        What ``value`` is (``"attribute 'classes_'"``), for the error message.

    Returns
    -------
    data : JSON-ready object

    Raises
    ------
    ValueError
        If ``value`` (or a part of it) is of a type the format does not store.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._persistence.codec import decode, encode
    >>> encode((1, np.arange(2)), "example")
    {'__tuple__': [1, {'__ndarray__': {'dtype': '<i8', 'shape': [2], 'data': [0, 1]}}]}
    >>> decode(encode((1, np.arange(2)), "example"))
    (1, array([0, 1]))
    """
    if value is None or (
        isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic)
    ):
        return value
    if isinstance(value, list):
        return [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, f"{where} key"), encode(v, f"{where}[{k!r}]")]
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
        return {"__slice__": [encode(v, where) for v in (value.start, value.stop, value.step)]}
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, np.random.RandomState):
        return {"__random_state__": encode(value.get_state(legacy=True), where)}
    if isinstance(value, _FUNCTION_TYPES):
        for name, function in ALLOWED_FUNCTIONS.items():
            if value is function:
                return {"__function__": name}
        raise ValueError(
            f"skorchless.save cannot store {where}: the function {value!r} is not "
            "one it can restore without pickle. Use pickle or joblib instead."
        )
    name = _class_name(value)
    if name is None:
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
        "params": {k: encode(v, f"{where}.{k}") for k, v in params.items()},
        "state": {k: encode(v, f"{where}.{k}") for k, v in state.items()},
    }}


def _encode_array(array, where):
    kind = array.dtype.kind
    if kind not in _ARRAY_KINDS or (kind == "f" and array.dtype.itemsize > 8):
        raise ValueError(
            f"skorchless.save cannot store {where}: arrays of dtype {array.dtype} "
            "are not supported."
        )
    if kind == "O":
        data = [encode(v, f"{where} element") for v in array.ravel()]
    else:
        data = array.ravel().tolist()
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": data}


def _encode_type(value, where):
    if issubclass(value, np.generic) and getattr(np, value.__name__, None) is value:
        return f"numpy.{value.__name__}"
    if _BUILTIN_TYPES.get(value.__name__) is value:
        return value.__name__
    raise ValueError(f"skorchless.save cannot store {where}: the type {value!r}.")


def set_attribute(obj, key, value):
    """Set ``obj.key = value`` unless ``key`` is not a plain attribute name of ``obj``.

    Raises
    ------
    ValueError
        If ``key`` is not an identifier, is a dunder, or names a method or
        property of ``obj``'s class.

    Examples
    --------
    >>> from skorchless._persistence.codec import set_attribute
    >>> class Box:
    ...     pass
    >>> box = Box()
    >>> set_attribute(box, "size_", 3)
    >>> box.size_
    3
    """
    if not (isinstance(key, str) and key.isidentifier()) or key.startswith("__") or (
        callable(getattr(type(obj), key, None))
        or isinstance(getattr(type(obj), key, None), property)
    ):
        raise ValueError(f"The file sets a forbidden attribute {key!r}.")
    obj.__dict__[key] = value


def decode(node):
    """Return the value that ``encode`` turned into ``node``.

    Raises
    ------
    ValueError
        If ``node`` holds an unknown tag, class, function or type, or a
        malformed value.

    Examples
    --------
    >>> from skorchless._persistence.codec import decode
    >>> decode({"__tuple__": [1, 2]})
    (1, 2)
    """
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [decode(v) for v in node]
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
    if (dtype.kind not in _ARRAY_KINDS or min(shape, default=0) < 0
            or math.prod(shape) != len(body["data"])):
        raise ValueError("The file holds a malformed array.")
    _charge(dtype, shape)
    if dtype.kind == "O":
        array = np.empty(len(body["data"]), dtype=object)
        array[:] = [decode(v) for v in body["data"]] if body["data"] else []
        return array.reshape(shape)
    return np.array(body["data"], dtype=dtype).reshape(shape)


def _decode_scalar(body):
    dtype, value = body
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufU":
        raise ValueError("The file holds a malformed scalar.")
    _charge(dtype, ())
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
    if name not in ALLOWED_FUNCTIONS:
        raise ValueError(f"The file holds an unknown function {name!r}.")
    return ALLOWED_FUNCTIONS[name]


def _decode_object(body):
    cls = ALLOWED_CLASSES.get(body["class"])
    if cls is None:
        raise ValueError(f"The file holds an object of unknown class {body['class']!r}.")
    params = {k: decode(v) for k, v in body["params"].items()}
    if hasattr(cls, "get_params"):
        obj = cls(**params)
    else:
        obj = cls.__new__(cls)
        for key, value in params.items():
            set_attribute(obj, key, value)
    for key, value in body["state"].items():
        set_attribute(obj, key, decode(value))
    return obj


def _decode_random_state(body):
    state = decode(body)
    random_state = np.random.RandomState()
    random_state.set_state(state)
    return random_state


_DECODERS = {
    "__tuple__": lambda body: tuple(decode(v) for v in body),
    "__dict__": lambda body: {decode(k): decode(v) for k, v in body},
    "__ndarray__": _decode_array,
    "__scalar__": _decode_scalar,
    "__dtype__": lambda body: np.dtype(body),
    "__type__": _decode_type,
    "__slice__": lambda body: slice(*(decode(v) for v in body)),
    "__device__": lambda body: torch.device(body),
    "__random_state__": _decode_random_state,
    "__function__": _decode_function,
    "__object__": _decode_object,
}

