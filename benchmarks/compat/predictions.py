"""Record the predictions of the estimators' main configurations, or compare them.

A refactoring that should not change what the estimators compute is checked by
recording before and comparing after, bitwise:

    python benchmarks/compat/predictions.py record before.npz   # on the old code
    python benchmarks/compat/predictions.py compare before.npz  # on the new code

The configurations: the default regressor with each of its four losses, the
default classifier (binary, multiclass on a DataFrame with a categorical
column, multilabel), with sample weights, L-BFGS, SGD, warm start and
partial_fit. Data are generated here with fixed seeds.
"""

import sys
import warnings

import numpy as np
import pandas as pd

from skorchless import TorchMLPClassifier, TorchMLPRegressor


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 6))
    X[:, 5] = rng.lognormal(size=3000)  # a heavy-tailed column
    codes = rng.randint(0, 4, size=3000)
    signal = X[:, 0] - 2 * X[:, 1] * X[:, 2] + np.log(X[:, 5]) + 0.5 * codes
    y = signal + 0.3 * rng.normal(size=3000)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    frame["colour"] = np.array(["red", "green", "blue", "grey"], dtype=object)[codes]
    weight = rng.uniform(0.2, 2.0, size=3000)
    return X, frame, y, weight


def _configurations():
    X, frame, y, weight = _data()
    count = np.random.RandomState(1).poisson(np.exp(0.3 * np.tanh(y)))
    labels = np.array(["a", "b", "c"], dtype=object)[np.digitize(y, [-1.0, 1.0])]
    multilabel = np.column_stack([y > 0, X[:, 0] > 0, X[:, 1] * X[:, 2] > 0]).astype(int)
    reg = dict(random_state=0)
    for loss in ("squared_error", "absolute_error", "huber", "poisson"):
        target = count if loss == "poisson" else y
        yield f"regressor_{loss}", TorchMLPRegressor(loss=loss, **reg), X, target, {}
    yield "regressor_frame", TorchMLPRegressor(**reg), frame, y, {}
    yield "regressor_weights", TorchMLPRegressor(**reg), X, y, {"sample_weight": weight}
    yield "regressor_multioutput", TorchMLPRegressor(**reg), X, np.column_stack([y, -y]), {}
    yield "regressor_lbfgs", TorchMLPRegressor(solver="lbfgs", max_iter=50, **reg), X, y, {}
    yield "regressor_sgd", TorchMLPRegressor(solver="sgd", max_iter=30, **reg), X, y, {}
    yield "classifier_binary", TorchMLPClassifier(**reg), X, y > 0, {}
    yield "classifier_multiclass_frame", TorchMLPClassifier(**reg), frame, labels, {}
    yield "classifier_multilabel", TorchMLPClassifier(**reg), X, multilabel, {}
    yield ("classifier_weights", TorchMLPClassifier(class_weight="balanced", **reg), X,
           labels, {"sample_weight": weight})


def _outputs(model, X):
    out = {"predict": np.asarray(model.predict(X))}
    if hasattr(model, "predict_proba"):
        out["proba"] = model.predict_proba(X)
    return out


def record():
    """Return ``{name: array}`` of every configuration's outputs."""
    results = {}
    for name, model, X, y, kwargs in _configurations():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y, **kwargs)
            for key, value in _outputs(model, X).items():
                results[f"{name}.{key}"] = value
            results[f"{name}.loss_curve"] = np.asarray(model.loss_curve_)
            if name == "regressor_sgd":
                model.set_params(warm_start=True, max_iter=5).fit(X, y)
                results[f"{name}.warm_start"] = model.predict(X)
            if name in ("regressor_squared_error", "classifier_binary"):
                partial = type(model)(random_state=0)
                extra = {"classes": [False, True]} if name.startswith("classifier") else {}
                for _ in range(3):
                    partial.partial_fit(X, y if not extra else y > 0, **extra)
                results[f"{name}.partial_fit"] = np.asarray(partial.predict(X))
    return results


def main(argv):
    command, path = argv
    results = record()
    if command == "record":
        np.savez(path, **results)
        print(f"recorded {len(results)} arrays in {path}")
        return 0
    before = np.load(path, allow_pickle=True)
    differ = [key for key in before.files
              if key not in results or not np.array_equal(before[key], results[key])]
    for key in differ:
        if key in results and before[key].shape == results[key].shape:
            gap = np.max(np.abs(before[key].astype(float) - results[key].astype(float)))
            print(f"DIFFERS {key}: max abs difference {gap:.3g}")
        else:
            print(f"DIFFERS {key}: missing or of another shape")
    print(f"{len(before.files) - len(differ)} of {len(before.files)} arrays bitwise identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
