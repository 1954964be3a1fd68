"""
Random labels: a falling training loss is not learning
======================================================

A common first exercise builds random data -- 10 features drawn from a
normal distribution, labels drawn at random -- and trains a classifier on it
with a ``DataLoader``, a cross-entropy loss and Adam, to see the loop run.
The loss goes down, which looks like progress. But the labels have nothing
to do with the features: there is nothing to learn, and no model can predict
new rows better than chance. This example shows both sides, and what
``fit`` does about it.

:class:`~skorchless.TorchMLPClassifier` runs the same loop (mini-batches,
softmax cross-entropy for more than two classes, Adam), and judges every
epoch on rows it does not train on.
"""

# %%
# Random data
# -----------
# 1,000 training and 200 test rows, 10 features, labels of three classes
# drawn independently of the features.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning

from skorchless import TorchMLPClassifier

rng = np.random.default_rng(0)
X_train, X_test = rng.standard_normal((1000, 10)), rng.standard_normal((200, 10))
y_train, y_test = rng.integers(0, 3, 1000), rng.integers(0, 3, 200)

chance = DummyClassifier().fit(X_train, y_train)  # always the most frequent class
print(f"chance: test accuracy {chance.score(X_test, y_test):.3f}")

# %%
# With the defaults
# -----------------
# ``fit`` holds out 100 of the training rows and watches their log-loss. It
# never gets better than at the start, so training stops after a few epochs
# and the weights of the best epoch are kept.
clf = TorchMLPClassifier(random_state=0).fit(X_train, y_train)
print(f"{clf.n_iter_} epochs, best epoch {clf.best_epoch_}; "
      f"training accuracy {clf.score(X_train, y_train):.3f}, "
      f"test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Training longer
# ---------------
# Without a validation set (``early_stopping=False``) the network trains for
# all of ``max_iter`` epochs (and warns that the loss was still falling when
# they ran out). Its 69,000 weights are plenty to memorise 1,000 rows: the
# training loss falls and the training accuracy climbs towards 1. On the test
# rows it stays at chance.
memorised = TorchMLPClassifier(early_stopping=False, max_iter=100, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    memorised.fit(X_train, y_train)
print(f"{memorised.n_iter_} epochs: training accuracy "
      f"{memorised.score(X_train, y_train):.3f}, "
      f"test accuracy {memorised.score(X_test, y_test):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, memorised.n_iter_ + 1), memorised.loss_curve_,
        label="training, early_stopping=False")
ax.plot(np.arange(1, clf.n_iter_ + 1), clf.loss_curve_, label="training, defaults")
ax.plot(np.arange(1, clf.n_iter_ + 1), clf.validation_loss_curve_,
        label="validation (100 held-out rows), defaults")
ax.axhline(np.log(3), color="gray", linestyle=":", label="log(3): a uniform guess")
ax.set(xlabel="epoch", ylabel="log-loss (label smoothing 0.1)", title="Random labels")
ax.legend()
plt.tight_layout()

# %%
# What to take from it
# --------------------
# * A falling training loss only says that the network fits the rows it
#   sees; here it does so by memorising them.
# * Accuracy on rows the model did not train on is the measure: here it is
#   chance, whatever the training loss, and rightly so.
# * The validation loss tells the two apart while training. With the
#   default ``early_stopping="auto"`` (from 50 rows on) ``fit`` stops when it
#   stops improving and returns the best epoch's weights, so it wastes no
#   time memorising.
