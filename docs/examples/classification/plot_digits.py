"""
Handwritten digits: multiclass classification
=============================================

Recognise the digits 0-9 from 8x8 grey-level images (1797 images bundled with
scikit-learn, each flattened to 64 pixel values). With more than two classes
:class:`~skorchless.TorchMLPClassifier` uses a softmax output and the
cross-entropy loss; nothing in the code changes.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay, classification_report
from sklearn.model_selection import train_test_split

from skorchless import TorchMLPClassifier

digits = load_digits()
X_train, X_test, y_train, y_test, images_train, images_test = train_test_split(
    digits.data, digits.target, digits.images, test_size=0.25,
    stratify=digits.target, random_state=0,
)

fig, axes = plt.subplots(1, 10, figsize=(8, 1.2))
for ax, image, label in zip(axes, images_train[:10], y_train[:10], strict=True):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(label)
    ax.set_axis_off()

# %%
# Training
# --------
# All 64 features are in one unit -- the amount of ink in a pixel, from 0 to
# 16 -- so they need no scaling. Scaling each pixel on its own, as the default
# ``input_scaling="robust"`` does for columns in different units, would blow up
# the pixels near the border, which are blank in almost every image, to the
# size of the central ones. ``input_scaling=None`` feeds the pixels as they are.
clf = TorchMLPClassifier(input_scaling=None, random_state=0)
clf.fit(X_train, y_train)
print(f"{clf.out_activation_} output with {clf.n_outputs_} units; "
      f"{clf.n_iter_} epochs, best epoch {clf.best_epoch_}")

# %%
# Evaluation
# ----------
y_pred = clf.predict(X_test)
print(classification_report(y_test, y_pred, digits=3))

fig, ax = plt.subplots(figsize=(6, 5.5))
ConfusionMatrixDisplay.from_predictions(y_test, y_pred, cmap="Blues", colorbar=False, ax=ax)
ax.set_title("Test set: true against predicted digit")
plt.tight_layout()

# %%
# The mistakes
# ------------
# ``predict_proba`` says how sure the model was. The test images it got wrong,
# with the predicted digit and its probability:
proba = clf.predict_proba(X_test)
wrong = np.flatnonzero(y_pred != y_test)
fig, axes = plt.subplots(1, len(wrong[:8]), figsize=(8, 1.6), squeeze=False)
for ax, i in zip(axes[0], wrong[:8], strict=True):
    ax.imshow(images_test[i], cmap="gray_r")
    ax.set_title(f"{y_pred[i]} ({proba[i].max():.0%})\ntrue {y_test[i]}", fontsize=8)
    ax.set_axis_off()
plt.tight_layout()
