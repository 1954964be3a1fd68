"""Saving without pickle: skorchless.save / skorchless.load.

Files are safetensors weights plus a JSON document. Round trips restore every
fitted attribute; loading refuses truncated, edited, foreign and
wrong-version files with a clear ValueError and never instantiates a class or
calls a function that is not on the allow-list.
"""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from sklearn.base import clone
from sklearn.exceptions import InconsistentVersionWarning as SklearnVersionWarning
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import skorchless
from skorchless import (
    EpochLogger,
    InconsistentVersionWarning,
    TorchMLPClassifier,
    TorchMLPRegressor,
)
from skorchless._persistence import codec
from skorchless._persistence import safe_format as serialization

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=250, seed=0):
    X = np.random.RandomState(seed).normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5])


def _to_bytes(est):
    buffer = io.BytesIO()
    skorchless.save(est, buffer)
    return buffer.getvalue()


def _from_bytes(data):
    return skorchless.load(io.BytesIO(data))


def _assert_same(a, b, where="value"):
    """Deep equality with types: arrays by dtype, shape and content (NaN == NaN)."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b, err_msg=where)
        else:
            assert a.tolist() == b.tolist(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    elif hasattr(a, "get_params"):
        _assert_same(a.get_params(deep=False), b.get_params(deep=False), where)
        fitted = [k for k in vars(a) if k.endswith("_")]
        _assert_same({k: vars(a)[k] for k in fitted}, {k: vars(b)[k] for k in fitted}, where)
    elif isinstance(a, np.random.RandomState):
        _assert_same(a.get_state(), b.get_state(), where)
    elif type(a).__module__.startswith("skorchless."):  # the encoder and target objects
        _assert_same(vars(a), vars(b), where)
    else:
        assert a == b, where


CASES = {
    "regressor": (TorchMLPRegressor, {}, lambda X, y: y),
    "multi-output poisson": (TorchMLPRegressor, {"loss": "poisson", "input_scaling": None},
                             lambda X, y: np.column_stack([np.exp(y / 5), np.exp(-y / 5)])),
    "huber standard-scaled": (TorchMLPRegressor,
                              {"loss": "huber", "input_scaling": "standard", "dropout": 0.2,
                               "random_state": np.random.RandomState(7),
                               "n_iter_no_change": np.inf, "device": torch.device("cpu")},
                              lambda X, y: y),
    "binary bools": (TorchMLPClassifier, {"class_weight": {False: 1.0, True: 3.0}},
                     lambda X, y: y > 0),
    "multiclass strings": (TorchMLPClassifier, {"class_weight": "balanced",
                                                "label_smoothing": 0.1},
                           lambda X, y: np.array(["lo", "mid", "hi"])[np.digitize(y, [-1, 1])]),
    "multiclass ints": (TorchMLPClassifier, {"class_weight": {-3: 2.0, 5: 1.0, 40: 1.0}},
                        lambda X, y: np.array([-3, 5, 40])[np.digitize(y, [-1, 1])]),
    "lbfgs in float64": (TorchMLPRegressor, {"solver": "lbfgs", "max_iter": 20}, lambda X, y: y),
    "multilabel": (TorchMLPClassifier, {},
                   lambda X, y: np.column_stack([y > 0, y > 1, X[:, 0] > 0]).astype(int)),
}


@pytest.mark.parametrize("case", CASES)
def test_round_trip_restores_the_model_exactly(case, fast):
    Estimator, params, target = CASES[case]
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    est = Estimator(**{**fast, **params}).fit(frame, target(X, y))
    loaded = _from_bytes(_to_bytes(est))
    assert type(loaded) is Estimator
    _assert_same(loaded.get_params(), est.get_params(), "params")
    skipped = {"module_", "_optimizer", "_schedule", "_generator"}
    assert set(vars(loaded)) == set(vars(est)) - {"_optimizer", "_schedule", "_generator"}
    for key, value in vars(est).items():
        if key not in skipped:
            _assert_same(getattr(loaded, key), value, key)
    np.testing.assert_array_equal(loaded.predict(frame), est.predict(frame))
    if Estimator is TorchMLPClassifier:
        np.testing.assert_array_equal(loaded.predict_proba(frame), est.predict_proba(frame))
    assert not loaded.module_.training
    for key, tensor in est.module_.state_dict().items():
        assert torch.equal(loaded.module_.state_dict()[key], tensor)
        assert loaded.module_.state_dict()[key].dtype == tensor.dtype


def test_save_to_a_path_and_keep_training(tmp_path, fast):
    X, y = _data()
    est = TorchMLPRegressor(**fast).fit(X, y)
    path = tmp_path / "model.safetensors"
    skorchless.save(est, path)
    loaded = skorchless.load(str(path))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    loaded.partial_fit(X, y)
    assert len(loaded.history_) == len(est.history_) + 1
    np.testing.assert_array_equal(clone(loaded).fit(X, y).predict(X), est.predict(X))
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary


def test_the_file_is_safetensors_with_the_weights_and_a_json_document(fast):
    X, y = _data()
    est = TorchMLPClassifier(**fast).fit(X, y > 0)
    data = _to_bytes(est)
    tensors = load_tensors(data)
    assert set(tensors) == set(est.module_.state_dict())
    document = json.loads(_metadata(data)["skorchless"])
    assert document["format_version"] == serialization.FORMAT_VERSION
    assert document["versions"] == {"skorchless": skorchless.__version__,
                                    "torch": torch.__version__,
                                    "sklearn": sklearn.__version__, "numpy": np.__version__}
    assert document["class"] == "skorchless.TorchMLPClassifier"
    assert document["network"] == {"n_inputs": 3, "hidden_layer_sizes": [8], "n_outputs": 1}


def test_piecewise_linear_encoder_round_trips():
    from skorchless._preprocessing import PiecewiseLinearEncoder

    X = np.random.RandomState(0).normal(size=(50, 3))
    X[:, 2] = X[:, 2] > 0  # binary: no bins
    encoder = make_pipeline(StandardScaler(), PiecewiseLinearEncoder(n_bins=4)).fit(X)
    document = json.loads(json.dumps(codec.encode(encoder, "scaler")))
    np.testing.assert_array_equal(codec.decode(document).transform(X),
                                  encoder.transform(X))


def _classes_in(node):
    # The classes named by the "__object__" nodes of an encoded document.
    if isinstance(node, list):
        return set().union(*map(_classes_in, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["__object__"]["class"]} if "__object__" in node else set()
    return found.union(*map(_classes_in, node.values()))


def test_the_allow_list_is_what_fit_builds(fast):
    # Every class a file may hold is one that some fit builds, and no more:
    # each entry of the allow-list is attack surface of the loader.
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        kind=np.where(y > 0, "u", "v"), day=pd.date_range("2024-01-01", periods=len(X)))
    fitted = [
        TorchMLPRegressor(**fast, n_bins=4).fit(X, y),
        TorchMLPRegressor(**fast, input_scaling="standard").fit(frame, y),
        TorchMLPClassifier(**fast).fit(X, y > 0),
    ]
    used = set()
    for est in fitted:
        document = json.loads(load_tensors_metadata(_to_bytes(est)))
        used |= _classes_in(document["fitted"])
    # the rest: the scikit-learn transformers users put before the estimator
    in_front = {f"sklearn.{module}.{name}" for module, name in [
        ("impute", "SimpleImputer"), ("impute", "MissingIndicator"),
        ("preprocessing", "MinMaxScaler"), ("preprocessing", "MaxAbsScaler"),
        ("preprocessing", "OrdinalEncoder")]}
    assert used | in_front | codec.LEGACY_CLASSES == set(codec.ALLOWED_CLASSES)
    refused = make_pipeline(SimpleImputer(), PolynomialFeatures()).fit(X)
    with pytest.raises(ValueError, match="PolynomialFeatures objects cannot be saved"):
        codec.encode(refused, "scaler")


def load_tensors_metadata(data):
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size])["__metadata__"]["skorchless"]


# ---------------------------------------------------------- what cannot be saved
def test_unfitted_estimator_cannot_be_saved():
    with pytest.raises(NotFittedError):
        skorchless.save(TorchMLPRegressor(), io.BytesIO())


def test_callbacks_cannot_be_saved(fast):
    X, y = _data(50)
    est = TorchMLPRegressor(**fast, callbacks=[EpochLogger(io.StringIO())]).fit(X, y)
    with pytest.raises(ValueError, match=r"cannot store parameter 'callbacks'\[0\]: "
                                         r"EpochLogger objects .* Set callbacks=None"):
        _to_bytes(est)
    _from_bytes(_to_bytes(est.set_params(callbacks=None)))


def test_unsupported_input_transformer_is_named(fast):
    X, y = _data(50)
    est = TorchMLPRegressor(**fast).fit(X, y)
    est._inputs.transformer_ = PolynomialFeatures().fit(X)
    with pytest.raises(ValueError, match="cannot store attribute '_inputs'.transformer_: "
                                         "PolynomialFeatures objects cannot be saved"):
        _to_bytes(est)


def test_unknown_function_is_named(fast):
    X, y = _data(50)
    est = TorchMLPRegressor(**fast).fit(X, y)
    est._inputs.transformer_.steps[-1][1].func = lambda X: X
    with pytest.raises(ValueError, match=r"cannot store attribute '_inputs'.*func: the "
                                         "function <function"):
        _to_bytes(est)


def test_subclasses_are_refused(fast):
    class Custom(TorchMLPRegressor):
        pass

    X, y = _data(50)
    with pytest.raises(ValueError, match="stores TorchMLPRegressor and TorchMLPClassifier; "
                                         "got .*Custom"):
        _to_bytes(Custom(**fast).fit(X, y))


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, fast):
    X, y = _data(50)
    est = TorchMLPRegressor(**fast).fit(X, y)
    path = tmp_path / "model.safetensors"
    skorchless.save(est, path)
    est.set_params(callbacks=[EpochLogger()])
    with pytest.raises(ValueError):
        skorchless.save(est, path)
    np.testing.assert_array_equal(skorchless.load(path).predict(X), est.predict(X))
    assert len(list(tmp_path.iterdir())) == 1


# ------------------------------------------------------------- bad files
@pytest.fixture(scope="module")
def saved():
    X, y = _data(60)
    est = TorchMLPClassifier(hidden_layer_sizes=(4,), max_iter=3, device="cpu",
                             random_state=0).fit(X, y > 0)
    return _to_bytes(est)


def _metadata(data):
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size])["__metadata__"]


def _rewrite(data, edit, *, fix_digest=True):
    """Edit the document of a saved file, recomputing its checksum if asked."""
    metadata = _metadata(data)
    document = json.loads(metadata["skorchless"])
    edit(document)
    text = json.dumps(document)
    tensors = load_tensors(data)
    digest = serialization._digest(text, tensors) if fix_digest else metadata["sha256"]
    return save_tensors(tensors, metadata={**metadata, "skorchless": text, "sha256": digest})


def test_the_fixture_loads(saved):
    assert _from_bytes(saved).classes_.tolist() == [False, True]


@pytest.mark.parametrize("keep", [0, 5, 8, 20, 0.5, 0.9, -1])
def test_truncated_files(saved, keep):
    keep = int(keep * len(saved)) if isinstance(keep, float) else keep
    with pytest.raises(ValueError, match="truncated|corrupted|not a model saved by"):
        _from_bytes(saved[:keep])


def test_edited_weights_fail_the_checksum(saved):
    data = bytearray(saved)
    data[-3] ^= 0x01  # one bit of the last weight
    with pytest.raises(ValueError, match="checksum does not match its content"):
        _from_bytes(bytes(data))


def test_edited_document_fails_the_checksum(saved):
    def edit(document):
        document["fitted"]["n_outputs_"] = 2

    with pytest.raises(ValueError, match="checksum does not match its content"):
        _from_bytes(_rewrite(saved, edit, fix_digest=False))


def test_wrong_format_version(saved):
    def edit(document):
        document["format_version"] = 4

    with pytest.raises(ValueError, match="format version 4; this skorchless .* reads "
                                         "format versions 1, 2, 3"):
        _from_bytes(_rewrite(saved, edit))


def test_other_skorchless_version_warns(saved):
    def edit(document):
        document["versions"]["skorchless"] = "0.0.1"

    with pytest.warns(InconsistentVersionWarning, match="saved by skorchless 0.0.1"):
        _from_bytes(_rewrite(saved, edit))


def test_other_scikit_learn_version_warns(saved):
    def edit(document):
        document["versions"]["sklearn"] = "0.1"

    with pytest.warns(SklearnVersionWarning, match="from version 0.1"):
        _from_bytes(_rewrite(saved, edit))


def test_not_a_skorchless_file():
    with pytest.raises(ValueError, match="not a model saved by skorchless.save"):
        _from_bytes(save_tensors({"w": torch.ones(2)}))
    with pytest.raises(ValueError, match="truncated"):
        _from_bytes(b"")
    with pytest.raises(ValueError, match="not a model saved by|truncated"):
        _from_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")


EVIL = {
    "class outside the allow-list": (
        lambda d: d.update({"class": "subprocess.Popen"}), "unknown estimator class"),
    "object of another class": (
        lambda d: d["fitted"].update({"_inputs": {"__object__": {
            "class": "builtins.eval", "params": {}, "state": {}}}}), "unknown class"),
    "estimator nested as an object": (
        lambda d: d["fitted"].update({"_inputs": {"__object__": {
            "class": "skorchless.TorchMLPRegressor", "params": {}, "state": {}}}}),
        "unknown class"),
    "function outside the allow-list": (
        lambda d: d["fitted"].update({"x_": {"__function__": "os.system"}}),
        "unknown function 'os.system'"),
    "type outside numpy": (
        lambda d: d["fitted"].update({"x_": {"__type__": "os.system"}}), "unknown type"),
    "unknown tag": (
        lambda d: d["fitted"].update({"x_": {"__reduce__": ["os.system", ["ls"]]}}),
        "unknown tag '__reduce__'"),
    "method overwritten": (
        lambda d: d["fitted"].update({"predict": "boom"}), "forbidden attribute 'predict'"),
    "dunder attribute": (
        lambda d: d["fitted"].update({"__class__": "boom"}), "forbidden attribute"),
    "weights of another shape": (
        lambda d: d["network"].update({"n_inputs": 4}), "do not have the shapes"),
    "outputs disagree with the network": (
        lambda d: d["fitted"].update({"n_outputs_": 3}), "n_outputs_ does not match"),
    "invalid parameter": (
        lambda d: d["params"].update({"alpha": -1.0}), "'alpha' parameter"),
    "unknown parameter": (
        lambda d: d["params"].update({"evil": 1}), "parameters do not fit"),
    "object array of another dtype": (
        lambda d: d["fitted"].update({"classes_": {"__ndarray__": {
            "dtype": "<M8[ns]", "shape": [1], "data": [0]}}}), "malformed array"),
    "array of the wrong size": (
        lambda d: d["fitted"].update({"classes_": {"__ndarray__": {
            "dtype": "|b1", "shape": [3], "data": [True]}}}), "malformed array"),
    "document not a dict": (lambda d: d.clear(), "format version None"),
}


@pytest.mark.parametrize("case", EVIL)
def test_edited_documents_with_a_valid_checksum_are_refused(saved, case):
    edit, message = EVIL[case]
    with pytest.raises(ValueError, match=message):
        _from_bytes(_rewrite(saved, edit))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_model_saved_for_cuda_loads_on_the_cpu(fast):
    X, y = _data(50)
    est = TorchMLPRegressor(**fast).fit(X, y)
    est.set_params(device="cuda")
    with pytest.warns(UserWarning, match="device='cuda', which is not available here"):
        loaded = _from_bytes(_to_bytes(est))
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


# ------------------------------------------------- pipelines, searches, forged files
def _pipelines(fast):
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder

    X, y = _data(120)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(kind=np.where(y > 0, "u", "v"))
    frame.loc[3, "a"] = np.nan
    columns = make_column_transformer(
        (make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), ["a"]),
        (MinMaxScaler(), ["b"]), (OneHotEncoder(), ["kind"]), (OrdinalEncoder(), ["kind"]),
        remainder="passthrough")
    return frame, y, [
        make_pipeline(columns, TorchMLPRegressor(**fast)),
        make_pipeline(columns, TorchMLPClassifier(**fast)),
    ]


def test_fitted_pipelines_round_trip(fast):
    frame, y, pipelines = _pipelines(fast)
    for pipe in pipelines:
        target = y > 0 if isinstance(pipe[-1], TorchMLPClassifier) else y
        pipe.fit(frame, target)
        loaded = _from_bytes(_to_bytes(pipe))
        assert type(loaded) is type(pipe) and [n for n, _ in loaded.steps] == [
            n for n, _ in pipe.steps]
        np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(frame))


def test_a_fitted_search_saves_its_best_estimator(fast):
    from sklearn.model_selection import GridSearchCV

    X, y = _data(120)
    search = GridSearchCV(make_pipeline(StandardScaler(), TorchMLPRegressor(**fast)),
                          {"torchmlpregressor__alpha": [1e-4, 1e-2]}, cv=2).fit(X, y)
    loaded = skorchless.load(io.BytesIO(_to_bytes(search)), expected=sklearn.pipeline.Pipeline)
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))
    refit_off = GridSearchCV(TorchMLPRegressor(**fast), {"alpha": [1e-4]}, cv=2,
                             refit=False).fit(X, y)
    with pytest.raises(ValueError, match="refit=False and has none"):
        _to_bytes(refit_off)
    with pytest.raises(NotFittedError):
        _to_bytes(make_pipeline(StandardScaler(), TorchMLPRegressor()))


def test_a_forged_huge_dtype_is_refused_before_allocating(saved):
    def edit(document):
        document["fitted"]["classes_"] = {"__ndarray__": {
            "dtype": "<U100000000", "shape": [1], "data": ["a"]}}

    with pytest.raises(ValueError, match=r"declares an array of 400000000 bytes .* "
                                         r"more than a file of \d+ bytes can hold"):
        _from_bytes(_rewrite(saved, edit))


def test_a_joblib_file_is_named_as_such(saved):
    import joblib

    buffer = io.BytesIO()
    joblib.dump(_from_bytes(saved), buffer)
    with pytest.raises(ValueError, match="pickle \\(or joblib\\) file: load it with "
                                         "joblib.load"):
        _from_bytes(buffer.getvalue())


def test_a_file_of_another_class_fails_at_load(saved):
    with pytest.raises(ValueError, match="holds a TorchMLPClassifier, not a TorchMLPRegressor"):
        skorchless.load(io.BytesIO(saved), expected=TorchMLPRegressor)

    def edit(document):
        document["class"] = "skorchless.TorchMLPRegressor"
        document["params"].pop("class_weight")
        document["params"].pop("label_smoothing")
        document["params"].pop("calibration")
        document["params"]["loss"] = "squared_error"
        document["params"]["huber_delta"] = 1.0

    with pytest.raises(ValueError, match="names the class TorchMLPRegressor but holds the "
                                         "fitted state of another estimator"):
        _from_bytes(_rewrite(saved, edit))
