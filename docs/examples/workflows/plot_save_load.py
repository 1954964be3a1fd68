"""
Saving and loading a model
==========================

Where the hand-written workflow saves a ``state_dict`` and must rebuild the
network class, the scaler and the label encoding before it can load it back,
a fitted skorchless estimator is saved whole, in one file, in one of two
ways:

* with ``joblib`` (or ``pickle``), like any scikit-learn estimator or
  pipeline;
* with :func:`skorchless.save` and :func:`skorchless.load`, a format without
  pickle -- the weights in a safetensors file, everything else as JSON in
  its header -- that runs no code when it is loaded.

Both give back an estimator that predicts exactly as the saved one did, on
any machine: the weights are stored on the CPU, so a model trained on a GPU
loads where there is none.
"""

# %%
# A model to save
# ---------------
# A classifier of wines by their chemical analysis (178 wines of three
# cultivars, bundled with scikit-learn).
import tempfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

import skorchless
from skorchless import TorchMLPClassifier

X, y = load_wine(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
clf = TorchMLPClassifier(random_state=0).fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

folder = Path(tempfile.mkdtemp())

# %%
# joblib
# ------
joblib.dump(clf, folder / "wine.joblib")
restored = joblib.load(folder / "wine.joblib")

print("same probabilities:",
      np.array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test)))
print("feature names kept:", list(restored.feature_names_in_[:3]), "...")
print(f"history kept: {len(restored.history_)} epochs")

# %%
# A pickle can hold anything, a whole pipeline included -- which is also why
# loading one runs code named in the file. Load pickles only from sources you
# trust.
#
# The safe format
# ---------------
# :func:`skorchless.save` writes one file; :func:`skorchless.load` reads it, creating only
# skorchless estimators and the scikit-learn objects they are made of, and
# checks a digest of the content, so a truncated or edited file is refused
# instead of being loaded wrong.
skorchless.save(clf, folder / "wine.safetensors")
loaded = skorchless.load(folder / "wine.safetensors")

print("same probabilities:",
      np.array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test)))
print("same parameters:", loaded.get_params() == clf.get_params())
for name in ("wine.joblib", "wine.safetensors"):
    print(f"{name}: {(folder / name).stat().st_size / 1024:.0f} KiB")

# %%
# A damaged file gives a clear error, not a broken model:
data = bytearray((folder / "wine.safetensors").read_bytes())
data[-100] ^= 0xFF  # flip the bits of one byte of the weights
(folder / "broken.safetensors").write_bytes(bytes(data))
try:
    skorchless.load(folder / "broken.safetensors")
except ValueError as error:
    print(f"ValueError: {error}")

# %%
# Training on after loading
# -------------------------
# ``skorchless.save`` stores the model, not the optimizer's state: a loaded
# model predicts as it did, and ``partial_fit`` (or ``fit`` with
# ``warm_start=True``) trains on from the saved weights with a fresh optimizer.
# (A pickle carries the optimizer too, as scikit-learn's do.)
loaded.partial_fit(X_train, y_train)
print(f"{len(loaded.history_)} epochs in the history after one more")
