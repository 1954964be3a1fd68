"""
Learning curves and the restored best epoch
===========================================

Every fit records the training loss and the validation loss of each epoch.
:class:`~skorchless.LossCurveDisplay` plots them, following scikit-learn's
Display API, and marks the epoch whose weights the model holds after early
stopping. This example uses it to read three things off a fit: where
training stopped and why, what the learning rate does, and what dropout
does.

The task is the handwritten digits of scikit-learn (1797 images of 8x8
pixels, ten classes).
"""

# %%
# One fit
# -------
# The training loss keeps falling towards zero -- the network can learn the
# training images by heart -- while the validation loss flattens out after a
# few dozen epochs. Once it has not improved by more than ``tol`` for
# ``n_iter_no_change=10`` epochs, training stops, and the weights of the best
# epoch are put back.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skorchless import LossCurveDisplay, TorchMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = TorchMLPClassifier(input_scaling=None, random_state=0).fit(X_train, y_train)
display = LossCurveDisplay.from_estimator(clf)
print(f"stopped after {clf.n_iter_} epochs ({clf.stop_reason_}), "
      f"restored epoch {clf.best_epoch_}; test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# The display keeps the curves and the plotted objects (``ax_``,
# ``figure_``, ``lines_``, ``best_epoch_line_``), as scikit-learn's displays
# do, and ``plot`` draws it again on other axes -- here next to a copy on a
# logarithmic scale, where the end of training is easier to see.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
display.plot(ax=axes[0], name="linear scale")
display.plot(ax=axes[1], name="log scale", log_scale=True)
plt.tight_layout()

# %%
# The learning rate
# -----------------
# Three fits that differ only in ``learning_rate_init`` (the one in the middle,
# the default, is the fit above):
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
for ax, learning_rate in zip(axes, [1e-4, 5e-4, 1e-2], strict=True):
    model = clf if learning_rate == clf.learning_rate_init else TorchMLPClassifier(
        input_scaling=None, learning_rate_init=learning_rate, random_state=0
    ).fit(X_train, y_train)
    LossCurveDisplay.from_estimator(
        model, ax=ax, log_scale=True,
        name=f"learning_rate_init={learning_rate:g}\n"
             f"test accuracy {model.score(X_test, y_test):.3f}",
    )
plt.tight_layout()

# %%
# A small rate needs many epochs; a large one reaches its best validation
# loss within a few, at a higher level, and then drifts away from it. Early
# stopping restores the best epoch of each run, but it cannot make up for a
# rate that is too large.
#
# Dropout
# -------
# ``dropout`` zeroes a random fraction of the hidden units at each training
# step. The training loss, computed with dropout on, no longer falls towards
# zero: the network cannot learn the training images by heart, and training
# and validation loss stay close together.
dropout = TorchMLPClassifier(input_scaling=None, dropout=0.3, random_state=0)
dropout.fit(X_train, y_train)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
LossCurveDisplay.from_estimator(clf, ax=axes[0], log_scale=True, name="dropout=0")
LossCurveDisplay.from_estimator(dropout, ax=axes[1], log_scale=True, name="dropout=0.3")
plt.tight_layout()
print(f"with dropout: {dropout.n_iter_} epochs, restored epoch {dropout.best_epoch_}; "
      f"test accuracy {dropout.score(X_test, y_test):.3f}")
