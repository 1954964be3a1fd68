"""Write the frozen model files that tests/test_frozen_files.py loads.

Run once with the version whose files are frozen (these were written by
skorchless 0.1.0, commit 3b43ec5, torch 2.13.0, scikit-learn 1.9.1):

    python tests/data/make_frozen_files.py tests/data

Each model is saved with ``skorchless.save`` (format version 1) and with
``pickle``; ``frozen_expected.npz`` holds the inputs and what the model
predicted when it was saved.
"""

import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import skorchless


def frame(X, codes):
    data = pd.DataFrame(X, columns=["a", "b", "c"])
    data["colour"] = np.array(["red", "green", "blue"], dtype=object)[codes]
    return data


def main(folder):
    folder = Path(folder)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    codes = rng.randint(0, 3, size=300)
    y_reg = X @ [1.0, -2.0, 0.5] + codes + 0.1 * rng.normal(size=300)
    y_count = rng.poisson(np.exp(0.3 * X[:, 0]))
    y_clf = np.array(["low", "mid", "high"], dtype=object)[np.digitize(y_reg, [-1.0, 1.0])]
    models = {
        "regressor_bins": (skorchless.TorchMLPRegressor(
            hidden_layer_sizes=(8,), max_iter=5, n_bins=8, random_state=0), X, y_reg),
        "regressor_poisson": (skorchless.TorchMLPRegressor(
            loss="poisson", hidden_layer_sizes=(8,), max_iter=5, random_state=0), X, y_count),
        "classifier_frame": (skorchless.TorchMLPClassifier(
            hidden_layer_sizes=(8,), max_iter=5, random_state=0), frame(X, codes), y_clf),
    }
    expected = {"X": X, "codes": codes}
    for name, (model, inputs, y) in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(inputs, y)
        skorchless.save(model, folder / f"{name}_v1.safetensors")
        (folder / f"{name}_0.1.0.pkl").write_bytes(pickle.dumps(model))
        expected[f"{name}_predict"] = model.predict(inputs)
        if hasattr(model, "predict_proba"):
            expected[f"{name}_proba"] = model.predict_proba(inputs)
    np.savez(folder / "frozen_expected.npz", **expected)


if __name__ == "__main__":
    main(sys.argv[1])
