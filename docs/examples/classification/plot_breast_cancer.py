"""
Breast cancer diagnosis: binary classification
==============================================

Classify breast tumours as malignant or benign from 30 measurements of cell
nuclei (the Wisconsin diagnostic data set, 569 tumours, bundled with
scikit-learn), and report what a diagnosis model is judged by: accuracy,
precision, recall and F1 for each class, and the confusion matrix.

The network is a :class:`~skorchless.TorchMLPClassifier` with its default
settings. It needs no ``StandardScaler`` (the inputs, whose scales range from
0.001 to 4000, are scaled inside the estimator), no training loop and no
hand-made early stopping: ``fit`` holds out a stratified tenth of the training
rows, stops when their log-loss stops improving and keeps the best epoch.
"""

# %%
# The data
# --------
# A quarter of the tumours is kept aside as a test set, stratified so that it
# has the same share of malignant tumours as the whole. In this data set the
# label 0 means malignant and 1 benign.
import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    classification_report,
    precision_score,
    recall_score,
)
from sklearn.model_selection import FixedThresholdClassifier, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skorchless import TorchMLPClassifier

data = load_breast_cancer()
X, y = data.data, data.target
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"{len(X_train)} training and {len(X_test)} test tumours, {X.shape[1]} features")

# %%
# Training
# --------
# ``random_state`` makes the validation split, the initial weights and the
# order of the mini-batches repeatable.
clf = TorchMLPClassifier(random_state=0).fit(X_train, y_train)

print(f"trained {clf.n_iter_} epochs, restored epoch {clf.best_epoch_} "
      f"(validation accuracy {clf.best_validation_score_:.3f}, "
      f"validation log-loss {clf.best_validation_loss_:.3f})")

# %%
# Evaluation on the test set
# --------------------------
# ``predict`` gives labels, ``predict_proba`` probabilities (float64, rows
# summing to one). scikit-learn's report gives precision, recall and F1 of
# each class.
y_pred = clf.predict(X_test)
print(f"test accuracy: {accuracy_score(y_test, y_pred):.3f}\n")
print(classification_report(y_test, y_pred, target_names=data.target_names, digits=3))

# %%
# For a diagnosis, the recall of the malignant class -- the share of
# malignant tumours that the model finds -- matters most. The confusion matrix
# shows the errors in counts.
fig, ax = plt.subplots(figsize=(4.5, 4))
ConfusionMatrixDisplay.from_estimator(
    clf, X_test, y_test, display_labels=data.target_names, cmap="Blues", ax=ax
)
ax.set_title("Test set")
plt.tight_layout()

# %%
# Trading precision for recall
# ----------------------------
# The predicted label is the class with a probability above 0.5. Asking for
# less evidence before calling a tumour malignant finds more malignant tumours
# at the cost of more false alarms. scikit-learn's
# :class:`~sklearn.model_selection.FixedThresholdClassifier` moves the
# threshold of the fitted model without training it again.
for threshold in (0.5, 0.2):
    flagged = FixedThresholdClassifier(clf, threshold=threshold, pos_label=0)
    y_flagged = flagged.predict(X_test)
    print(f"P(malignant) >= {threshold}: "
          f"recall of malignant {recall_score(y_test, y_flagged, pos_label=0):.3f}, "
          f"precision {precision_score(y_test, y_flagged, pos_label=0):.3f}")

# %%
# A baseline
# ----------
# A network is not always the best model for a small table. On the same split
# a logistic regression on standardised inputs scores:
baseline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
print(f"logistic regression test accuracy: {baseline.score(X_test, y_test):.3f}")
