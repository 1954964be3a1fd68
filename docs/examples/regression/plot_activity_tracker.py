"""
Calories from activity-tracker data, with the Huber loss
========================================================

Predict the calories a person burns in a day from what a wrist tracker
records: steps, distance, and minutes of very active, fairly active, light and
sedentary time. Tracker exports are known for broken days -- a double sync
that doubles the calories, a day the tracker spent on the charger but still
logged the resting estimate -- and a squared-error loss lets these few rows
pull the whole model towards them. The Huber loss is quadratic for small
errors and linear for large ones, so outliers weigh less.

.. note::

   The public Fitbit export usually used for this exercise is a download, and
   these examples run offline, so the data here is **synthetic**: 1,800 days
   of 30 simulated people, generated below with numpy from a simple
   physiological model (resting energy from body weight, plus energy per step
   and per active minute, plus noise), with 4% of the days corrupted the way
   real exports are. The workflow is the same for the real file:
   ``pandas.read_csv`` and the column names are all that change.
"""

# %%
# Simulating a tracker export
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import PredictionErrorDisplay, mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split

from skorchless import TorchMLPRegressor

rng = np.random.default_rng(0)
n_people, n_days = 30, 60
person = np.repeat(np.arange(n_people), n_days)
weight_kg = rng.normal(75, 13, n_people).clip(48, 120)[person]
stride_m = rng.normal(0.72, 0.06, n_people)[person]
habit = rng.lognormal(0.0, 0.35, n_people)[person]  # how active each person is

steps = (rng.lognormal(np.log(7500), 0.5, len(person)) * habit).clip(0, 40_000).round()
very_active = rng.gamma(1.2, 12, len(person)) * habit
fairly_active = rng.gamma(1.5, 9, len(person)) * habit
lightly_active = 120 + steps / 60 + rng.normal(0, 30, len(person))
sedentary = (1440 - 420 - very_active - fairly_active - lightly_active).clip(0, None)

resting = 10 * weight_kg + 900 + rng.normal(0, 60, n_people)[person]
calories = (
    resting
    + 0.00045 * weight_kg * steps
    + 0.13 * weight_kg * very_active
    + 0.07 * weight_kg * fairly_active
    + 0.03 * weight_kg * lightly_active
    + rng.normal(0, 90, len(person))
)
activity = pd.DataFrame({
    "total_steps": steps,
    "total_distance_km": steps * stride_m / 1000,
    "very_active_minutes": very_active.round(),
    "fairly_active_minutes": fairly_active.round(),
    "lightly_active_minutes": lightly_active.round(),
    "sedentary_minutes": sedentary.round(),
    "weight_kg": weight_kg.round(1),
    "calories": calories.round(),
})

# Broken days: double-counted syncs, and days logged as resting energy only.
broken = rng.random(len(activity)) < 0.04
doubled = broken & (rng.random(len(activity)) < 0.5)
activity.loc[doubled, "calories"] *= 2
activity.loc[broken & ~doubled, "calories"] = resting[broken & ~doubled].round()
activity.describe().round(1)

# %%
# Train and test split
# --------------------
# The test set keeps only intact days, so that the scores measure how well
# each model predicts real calories, not how well it reproduces the errors.
features = activity.drop(columns="calories")
X_train, X_test, y_train, y_test, broken_train, broken_test = train_test_split(
    features, activity["calories"], broken, test_size=0.25, random_state=0
)
X_test, y_test = X_test[~broken_test], y_test[~broken_test]
print(f"{len(X_train)} training days ({broken_train.sum()} broken), "
      f"{len(X_test)} intact test days")

# %%
# Squared error against Huber
# ---------------------------
# The target is standardised inside the estimator, so ``huber_delta`` is in
# standard deviations of the calories: with ``huber_delta=0.5``, errors larger
# than half a standard deviation (here some 400 kcal) count linearly.
models = {
    "squared error": TorchMLPRegressor(loss="squared_error", random_state=0),
    "Huber": TorchMLPRegressor(loss="huber", huber_delta=0.5, random_state=0),
}
predictions = {}
for name, model in models.items():
    model.fit(X_train, y_train)
    predictions[name] = model.predict(X_test)
    print(f"{name:>13}: MAE {mean_absolute_error(y_test, predictions[name]):6.1f} kcal, "
          f"R² {r2_score(y_test, predictions[name]):.3f}, "
          f"best epoch {model.best_epoch_} of {model.n_iter_}")

# %%
# Predicted against true calories, with scikit-learn's
# :class:`~sklearn.metrics.PredictionErrorDisplay`. The squared-error model is
# pulled upwards by the doubled days it was trained on.
fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharey=True)
for ax, (name, y_pred) in zip(axes, predictions.items(), strict=True):
    PredictionErrorDisplay.from_predictions(
        y_test, y_pred, kind="actual_vs_predicted", ax=ax,
        scatter_kwargs={"alpha": 0.4, "s": 12},
    )
    ax.set_title(f"{name}: MAE {mean_absolute_error(y_test, y_pred):.0f} kcal")
plt.tight_layout()

# %%
# Residuals
# ---------
# The residuals of the Huber model against its predictions show no trend. Their
# spread, about 110 kcal, is what no model can remove: the simulation adds 90
# kcal of day-to-day noise and 60 kcal of personal differences in resting
# energy that no column records.
PredictionErrorDisplay.from_predictions(
    y_test, predictions["Huber"], kind="residual_vs_predicted",
    scatter_kwargs={"alpha": 0.4, "s": 12},
)
plt.title("Huber model: residuals on intact test days")
plt.tight_layout()
