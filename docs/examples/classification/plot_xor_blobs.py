"""
XOR blobs: a five-unit network, saved and loaded
================================================

Four clouds of points sit at the corners (±1, ±1); the two on one diagonal
are class 0, the two on the other class 1. No straight line separates the
classes -- it is the XOR problem -- so a model needs a hidden layer, and
this one has five units, as in the classic tutorial. The hand-written
version converts the arrays to tensors, writes the network class, the loss,
the optimizer and the loop over 2,000 epochs, and saves a ``state_dict``
that needs the class again to be loaded. Here ``fit`` trains and the whole
estimator is saved in one file.
"""

# %%
# The data
# --------
# 80 training points and 200 test points; the label is 1 where the two
# coordinates have opposite signs.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs
from sklearn.inspection import DecisionBoundaryDisplay

import skorchless
from skorchless import TorchMLPClassifier

CORNERS = [[1, 1], [-1, -1], [1, -1], [-1, 1]]


def xor_blobs(n_points, seed):
    X, corner = make_blobs(n_samples=n_points, centers=CORNERS, cluster_std=0.3,
                           random_state=seed)
    return X, (corner >= 2).astype(int)  # corners 0 and 1: class 0; 2 and 3: class 1


X_train, y_train = xor_blobs(80, seed=1)
X_test, y_test = xor_blobs(200, seed=2)

fig, ax = plt.subplots(figsize=(4.5, 4.5))
for label, marker in ((0, "o"), (1, "+")):
    ax.scatter(*X_train[y_train == label].T, marker=marker, label=f"class {label}")
ax.set(xlabel="$x_1$", ylabel="$x_2$", title="Training points")
ax.legend()
plt.tight_layout()

# %%
# Training
# --------
# With 80 rows, ``fit`` holds out 8 of them (stratified) to judge the epochs,
# trains in batches of 5 rows -- 15 optimizer steps per epoch -- and keeps the
# epoch of the lowest validation loss. A network of five units learns slowly
# with Adam's small steps, so ``max_iter="auto"`` gives small data up to
# 10,000 steps: here some 600 epochs.
clf = TorchMLPClassifier(hidden_layer_sizes=(5,), random_state=1).fit(X_train, y_train)
print(f"{clf.n_iter_} epochs, restored epoch {clf.best_epoch_} "
      f"(validation log-loss {clf.best_validation_loss_:.3f}); stopped: {clf.stop_reason_}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The training and validation losses fall together: with no noise in the
# labels, there is nothing to overfit. The losses level off above zero
# because the classifier trains on labels smoothed by 0.1 (``label_smoothing``).
fig, ax = plt.subplots(figsize=(6, 3.5))
epochs = np.arange(1, clf.n_iter_ + 1)
ax.plot(epochs, clf.loss_curve_, label="training")
ax.plot(epochs, clf.validation_loss_curve_, label="validation (8 rows)")
ax.set(xlabel="epoch", ylabel="log-loss", title="Losses")
ax.legend()
plt.tight_layout()

# %%
# Five units are more than the boundary needs: two ReLU units already give
# ``relu(x1 + x2) + relu(-x1 - x2) = |x1 + x2|``, large on the corners of
# class 0 and zero on those of class 1.
fig, ax = plt.subplots(figsize=(4.5, 4.5))
DecisionBoundaryDisplay.from_estimator(clf, X_test, response_method="predict_proba",
                                       cmap="coolwarm", alpha=0.6, ax=ax)
ax.scatter(*X_test.T, c=y_test, cmap="coolwarm", edgecolor="k", s=15)
ax.set(xlabel="$x_1$", ylabel="$x_2$", title="P(class 1) on the test points")
plt.tight_layout()

# %%
# Saving and loading
# ------------------
# :func:`skorchless.save` writes the fitted estimator -- weights, input
# scaling, classes -- to one file; :func:`skorchless.load` gives it back
# without the network class or any other code (``joblib.dump`` works too; see
# :ref:`sphx_glr_auto_examples_workflows_plot_save_load.py`).
path = Path(tempfile.mkdtemp()) / "xor.safetensors"
skorchless.save(clf, path)
loaded = skorchless.load(path)

print("same probabilities:",
      np.array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test)))
point = np.array([[-1.0, 1.0]])
print(f"P(class 1) at (-1, 1): {loaded.predict_proba(point)[0, 1]:.3f}")

# %%
# The seed matters for a network this small
# -----------------------------------------
# Each unit starts with a random line through the plane and is active on one
# side of it. A unit whose line leaves every training point on its inactive
# side outputs 0 everywhere, gets no gradient and never learns, and a unit
# active on a few points only is easily pushed there during training; the
# units left may find only part of the boundary. With seed 0, one unit starts
# active on no point and another on 3 of the 80, and after training three of
# the five are inactive on (almost) every point:
stuck = TorchMLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X_train, y_train)
print(f"five units, seed 0: test accuracy {stuck.score(X_test, y_test):.3f}")

# %%
# Over 40 seeds, 5 end this way (see :ref:`small-tables`); scikit-learn's
# ``MLPClassifier`` of five units has the same failure, less often. More units
# make it unlikely -- with 16, or the default ``(256, 256)``, none of the 40
# seeds fails:
wider = TorchMLPClassifier(hidden_layer_sizes=(16,), random_state=0).fit(X_train, y_train)
print(f"16 units, seed 0: test accuracy {wider.score(X_test, y_test):.3f}")
