"""
Tuning with GridSearchCV
========================

Search the size of the network and its regularisation with scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV`. The parameter names are those
of scikit-learn's ``MLPRegressor`` (``hidden_layer_sizes``, ``alpha``, ...),
so a grid written for it works unchanged; ``dropout`` is one of the few
additions.
Each candidate is cross-validated with its own validation split and early
stopping inside every training fold.

The data is scikit-learn's diabetes table: ten baseline measurements of 442
patients and a measure of disease progression one year later.
"""

# %%
# The search
# ----------
# Four candidates, five folds: 20 fits, run two at a time (``n_jobs=2``).
# joblib gives each worker process its share of the CPU threads; the fits are
# small, so running them side by side is faster than giving all threads to one.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold, train_test_split

from skorchless import TorchMLPRegressor

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

param_grid = {
    "hidden_layer_sizes": [(256,), (256, 256)],
    "dropout": [0.0, 0.2],
}
search = GridSearchCV(
    TorchMLPRegressor(random_state=0),
    param_grid,
    cv=KFold(n_splits=5, shuffle=True, random_state=0),
    scoring="r2",
    n_jobs=2,
)
search.fit(X_train, y_train)

# %%
# The results
# -----------
# ``cv_results_`` holds the score of every candidate on every fold.
results = pd.DataFrame(search.cv_results_)
table = results[["param_hidden_layer_sizes", "param_dropout", "mean_test_score",
                 "std_test_score", "mean_fit_time", "rank_test_score"]]
print(table.sort_values("rank_test_score").to_string(index=False))

# %%
# The differences between candidates are small next to the spread between
# folds -- the error bars -- which is typical of a small table.
fig, ax = plt.subplots(figsize=(6, 3))
labels = [f"{h}, dropout={d:g}" for h, d in zip(results["param_hidden_layer_sizes"],
                                                 results["param_dropout"], strict=True)]
ax.errorbar(results["mean_test_score"], range(len(results)),
            xerr=results["std_test_score"], fmt="o", capsize=3)
ax.set_yticks(range(len(results)), labels)
ax.set_xlabel("R² (5-fold cross-validation)")
ax.set_title("Grid search candidates")
plt.tight_layout()

# %%
# The best model
# --------------
# With ``refit=True`` (the default) the search trains the best candidate once
# more on the whole training set; it is then an ordinary fitted estimator.
best = search.best_estimator_
print(f"best parameters: {search.best_params_}")
print(f"cross-validated R²: {search.best_score_:.3f}")
print(f"test R²: {best.score(X_test, y_test):.3f} "
      f"(restored epoch {best.best_epoch_} of {best.n_iter_})")

# %%
# The test set holds 89 patients, and its R² depends a lot on which patients
# they are: this split is a hard one. A linear regression, for reference,
# scores on the same split:
linear = LinearRegression().fit(X_train, y_train)
print(f"linear regression test R²: {linear.score(X_test, y_test):.3f}")
