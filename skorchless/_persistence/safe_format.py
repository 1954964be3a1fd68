"""Save and load fitted estimators without pickle: safetensors weights plus JSON.

A saved model is one safetensors file. Its tensors are the network's
``state_dict``; its header metadata holds, under ``"skorchless"``, a JSON
document with the format version, the library versions, the estimator's class
and parameters, the layer sizes of the network and every other fitted
attribute (encoded by ``codec``), and under ``"sha256"`` a digest of that
document and the tensors.

A fitted ``Pipeline`` ending in a skorchless estimator is stored as that
estimator's document plus, under ``"pipeline"``, the other steps (scikit-learn
transformers ``codec`` allows) and the pipeline's parameters; such a file has
format version 3, so that an older skorchless refuses it instead of loading
the estimator alone. A fitted search is stored as its ``best_estimator_``.

Loading parses JSON and raw tensor buffers only and restores only the classes
and functions ``codec`` allows, so loading a file runs no code from it; the
arrays it decodes are bounded by the size of the file (``codec.allocation_budget``).
Format 1 (skorchless 0.1) is read too: its fitted state is upgraded
(``upgrade``).

The digest detects a truncated or corrupted file and an edit of the document
or the weights made without recomputing it; it is not a signature, so it does
not prove who wrote the file.
"""

import hashlib
import json
import os
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
from sklearn.pipeline import Pipeline

from .._classifier import TorchMLPClassifier
from .._engine.network import build_mlp, linear_layers
from .._regressor import TorchMLPRegressor
from .._version import __version__
from .._wrapped import unwrap
from .codec import allocation_budget, decode, encode, set_attribute
from .pickling import TRANSIENT, InconsistentVersionWarning, loading_device
from .upgrade import upgrade_fitted

#: Version of the file layout written (``PIPELINE_FORMAT_VERSION`` for a
#: pipeline); ``READ_VERSIONS`` are the ones read.
FORMAT_VERSION = 2
PIPELINE_FORMAT_VERSION = 3
READ_VERSIONS = (1, 2, 3)
#: Decoding a file allocates at most this many bytes of arrays per byte of
#: the file (JSON spends at least 2 bytes on a number that becomes 8, and as
#: many on a character as ``<U`` does), plus ``ALLOCATION_SLACK``.
ALLOCATION_FACTOR = 8
ALLOCATION_SLACK = 2**20
#: What the first bytes of other files users may pass say they are.
_OTHER_FORMATS = [
    (b"\x80", "a pickle (or joblib) file: load it with joblib.load or pickle.load, "
              "and only if it comes from a source you trust"),
    (b"ZF", "a compressed joblib file: load it with joblib.load, and only if it "
            "comes from a source you trust"),
    (b"\x1f\x8b", "a gzip-compressed file (joblib.dump(..., compress=...) writes "
                  "these): load it with joblib.load, and only if you trust its source"),
    (b"PK\x03\x04", "a zip archive (torch.save writes these): load it with torch.load"),
    (b"\x08", "an ONNX model: run it with onnxruntime"),
]
_METADATA_KEY = "skorchless"
_DIGEST_KEY = "sha256"
# Attributes stored by other means than the JSON codec.
_NOT_IN_DOCUMENT = (*TRANSIENT, "module_", "device_")
_ESTIMATORS = {"skorchless.TorchMLPRegressor": TorchMLPRegressor,
               "skorchless.TorchMLPClassifier": TorchMLPClassifier}


# ------------------------------------------------------------------- saving
def save(estimator, path):
    """Save a fitted estimator to ``path`` without pickle.

    The file holds the weights (safetensors) and, as JSON, the parameters,
    the fitted attributes and the versions of skorchless, torch, scikit-learn
    and numpy. It is written to a temporary file first and then renamed, so an
    existing file at ``path`` is never left half-written.

    Parameters
    ----------
    estimator : TorchMLPRegressor, TorchMLPClassifier, Pipeline or fitted search
        A fitted estimator; or a fitted ``Pipeline`` whose last step is one
        and whose other steps are scikit-learn transformers the format holds
        (``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``,
        ``RobustScaler``, ``OneHotEncoder``, ``OrdinalEncoder``,
        ``SimpleImputer``, ``ColumnTransformer``, ``Pipeline``, and
        ``FunctionTransformer`` of ``numpy.log1p``, ``expm1``, ``log``,
        ``exp``, ``sqrt``, ``square`` or ``abs``); or a fitted search
        (``GridSearchCV``, ...), of which its ``best_estimator_`` is saved
        (``load`` returns that, not the search).
    path : str, os.PathLike or binary file object
        Where to write.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If a parameter or fitted attribute cannot be stored without pickle
        (for example ``callbacks``, or a transformer that is not one of the
        supported scikit-learn transformers); the message names it.

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


def _to_bytes(model):
    model, estimator = unwrap(model, "skorchless.save")
    document = _estimator_document(estimator)
    if isinstance(model, Pipeline):
        document["format_version"] = PIPELINE_FORMAT_VERSION
        document["pipeline"] = _pipeline_document(model)
    text = json.dumps(document)
    tensors = {key: value.detach().to("cpu").contiguous()
               for key, value in estimator.module_.state_dict().items()}
    return save_tensors(tensors, metadata={
        "format": "pt", _METADATA_KEY: text, _DIGEST_KEY: _digest(text, tensors),
    })


def _estimator_document(estimator):
    name = next((key for key, cls in _ESTIMATORS.items() if type(estimator) is cls), None)
    if name is None:
        raise ValueError(
            f"skorchless.save stores TorchMLPRegressor and TorchMLPClassifier; got "
            f"{type(estimator).__qualname__}. Use pickle or joblib for subclasses."
        )
    params = estimator.get_params(deep=False)
    fitted = {key: value for key, value in vars(estimator).items()
              if key not in params and key not in _NOT_IN_DOCUMENT}
    return {
        "format_version": FORMAT_VERSION,
        "versions": {
            "skorchless": __version__,
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "class": name,
        "params": {key: encode(value, f"parameter {key!r}") for key, value in params.items()},
        "network": _network_spec(estimator.module_, params),
        "fitted": {key: encode(value, f"attribute {key!r}") for key, value in fitted.items()},
    }


def _pipeline_document(pipeline):
    # The steps before the estimator and the pipeline's own parameters and
    # state; the estimator is the rest of the document.
    params = pipeline.get_params(deep=False)
    steps = params.pop("steps")
    state = {k: v for k, v in vars(pipeline).items() if k not in params and k != "steps"}
    return {
        "steps": [[name, encode(step, f"pipeline step {name!r}")] for name, step in steps[:-1]],
        "estimator_step": steps[-1][0],
        "params": {k: encode(v, f"pipeline parameter {k!r}") for k, v in params.items()},
        "state": {k: encode(v, f"pipeline attribute {k!r}") for k, v in state.items()},
    }


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


# ------------------------------------------------------------------ loading
def load(path, *, expected=None):
    """Load an estimator written by ``save``, running no code from the file.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        The file to read.
    expected : class or tuple of classes, default=None
        What the file must hold (``TorchMLPClassifier``, ``Pipeline``, ...);
        None takes whatever it holds.

    Returns
    -------
    estimator : TorchMLPRegressor, TorchMLPClassifier or Pipeline
        Fitted, on the device its ``device`` parameter names here (the CPU
        when that device is absent, with a warning). A saved search comes
        back as its ``best_estimator_``.

    Raises
    ------
    ValueError
        If the file is truncated, corrupted or edited, is not a skorchless
        model (a pickle or joblib file is named as such), declares more data
        than it holds, or has a format version this skorchless does not read;
        if its parameters, weights and fitted attributes do not agree (a
        regressor's state under a classifier's name); or if it does not hold
        an ``expected`` model.

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
    >>> skorchless.save(clf, buffer)
    >>> _ = buffer.seek(0)
    >>> skorchless.load(buffer).classes_
    array([False,  True])
    """
    data = path.read() if hasattr(path, "read") else Path(path).read_bytes()
    _check_not_other_format(data)
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
        with allocation_budget(ALLOCATION_FACTOR * len(data) + ALLOCATION_SLACK, len(data)):
            model = _from_document(document, tensors)
    except RecursionError:
        raise ValueError("The file's document is nested too deeply.") from None
    except (KeyError, TypeError, AttributeError, OverflowError, IndexError) as exc:
        raise ValueError(f"The file's document is malformed: {exc!r}") from None
    if expected is not None and not isinstance(model, expected):
        names = " or ".join(c.__name__ for c in (
            expected if isinstance(expected, tuple) else (expected,)))
        raise ValueError(f"The file holds a {type(model).__name__}, not a {names}.")
    return model


def _check_not_other_format(data):
    # A safetensors file starts with the 8-byte size of its JSON header, whose
    # first byte is "{"; files of other formats are named, not called truncated.
    if len(data) > 8 and data[8:9] == b"{":
        return
    for magic, what in _OTHER_FORMATS:
        if data.startswith(magic):
            raise ValueError(f"This is not a file written by skorchless.save but {what}.")


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
    estimator = _estimator_from_document(document, tensors)
    if "pipeline" not in document:
        return estimator
    pipeline = document["pipeline"]
    steps = [(name, decode(step)) for name, step in pipeline["steps"]]
    model = Pipeline([*steps, (pipeline["estimator_step"], estimator)],
                     **{k: decode(v) for k, v in pipeline["params"].items()})
    for key, value in pipeline["state"].items():
        set_attribute(model, key, decode(value))
    return model


def _estimator_from_document(document, tensors):
    _check_versions(document)
    cls = _ESTIMATORS.get(document["class"])
    if cls is None:
        raise ValueError(f"The file holds an unknown estimator class {document['class']!r}.")
    params = {key: decode(value) for key, value in document["params"].items()}
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
    dtypes = {t.dtype for t in tensors.values() if t.is_floating_point()}
    if len(dtypes) == 1:  # float64 for a network trained with L-BFGS on float64 data
        module.to(dtypes.pop())
    module.load_state_dict(tensors)
    module.eval()
    fitted = {key: decode(value) for key, value in document["fitted"].items()}
    if document["format_version"] == 1:
        fitted = upgrade_fitted(fitted, params, document["network"]["n_inputs"])
    for key, value in fitted.items():
        set_attribute(estimator, key, value)
    if estimator.n_outputs_ != document["network"]["n_outputs"]:
        raise ValueError("The file's n_outputs_ does not match its network.")
    target = type(estimator._make_target())
    if type(getattr(estimator, "_target", None)) is not target:
        raise ValueError(
            f"The file names the class {cls.__name__} but holds the fitted state of "
            f"another estimator (its target is not a {target.__name__}): it was edited."
        )
    estimator.device_ = loading_device(estimator.device)
    estimator.module_ = module.to(estimator.device_)
    return estimator


def _check_versions(document):
    if document.get("format_version") not in READ_VERSIONS:
        raise ValueError(
            f"The file has format version {document.get('format_version')!r}; this "
            f"skorchless ({__version__}) reads format versions "
            f"{', '.join(map(str, READ_VERSIONS))}."
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


