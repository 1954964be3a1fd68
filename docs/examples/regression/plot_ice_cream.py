"""
Ten days of ice-cream sales: a two-unit network on a tiny table
===============================================================

A first neural network is often this small: predict a stand's daily revenue
from the temperature and the day of the week, with ten days of data and one
hidden layer of two units. The hand-written version standardises the
features, builds the network, compiles it and trains it for a number of
epochs chosen by hand; here the estimator does all of that in ``fit``.

Ten rows are too few to hold any out for validation, so there is no early
stopping: ``fit`` trains on all ten days, in batches of one row (ten
optimizer steps per epoch), until the training loss stops improving. The
table is nearly linear, and the example ends with the model that suits it
best.
"""

# %%
# The data
# --------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error, r2_score

from skorchless import TorchMLPRegressor

sales = pd.DataFrame({
    "day": [2, 6, 1, 3, 2, 5, 7, 4, 3, 1],  # day of the week, 1 = Monday
    "temperature": [22, 33, 20, 25, 24, 30, 35, 28, 26, 21],  # °C
    "revenue": [1.51, 2.22, 1.37, 1.77, 1.64, 2.04, 2.42, 1.90, 1.75, 1.45],  # thousands
})
X, y = sales[["day", "temperature"]], sales["revenue"]
print(sales.to_string(index=False))

# %%
# Training
# --------
# No scaler: the features are scaled inside the estimator (and the revenue is
# standardised for training, then scaled back in ``predict``).
reg = TorchMLPRegressor(hidden_layer_sizes=(2,), random_state=0).fit(X, y)
print(f"{reg.n_iter_} epochs of {len(X)} one-row steps; validation set: "
      f"{reg.do_early_stopping_}; stopped: {reg.stop_reason_}")

# %%
# The training loss is the mean squared error of the standardised revenue:
# about 1 for a constant prediction, and a small fraction of that at the end.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, reg.n_iter_ + 1), reg.loss_curve_)
ax.set(xlabel="epoch", ylabel="mean squared error (standardised)", yscale="log",
       title="Training loss")
plt.tight_layout()

# %%
# How well it fits
# ----------------
# There are no other rows to test on, so these are training scores: they say
# that the network has learned the table, not how well it would predict new
# days.
predicted = reg.predict(X)
print(f"training MSE {mean_squared_error(y, predicted):.4f}, R² {r2_score(y, predicted):.3f}")
sales.assign(predicted=predicted.round(2))

# %%
# A hot Saturday: 34 °C on day 6.
new_day = pd.DataFrame({"day": [6], "temperature": [34]})
print(f"predicted revenue: {reg.predict(new_day)[0]:.2f} thousand")

# %%
# The model the table needs
# -------------------------
# Revenue rises almost in a straight line with the temperature. A linear
# regression has three coefficients to the network's nine weights, and fits
# the ten days better:
linear = LinearRegression().fit(X, y)
print(f"linear regression: training R² {linear.score(X, y):.3f}; revenue rises by "
      f"{linear.coef_[1]:.3f} thousand per °C and {linear.coef_[0]:.3f} per day of the week")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.scatter(sales["temperature"], y, color="black", label="days", zorder=3)
ax.scatter(sales["temperature"], predicted, marker="x", label="network (2 units)")
ax.scatter(sales["temperature"], linear.predict(X), marker="+", s=80,
           label="linear regression")
ax.set(xlabel="temperature (°C)", ylabel="revenue (thousands)")
ax.legend()
plt.tight_layout()

# %%
# A network of two ReLU units can also lose its units: a unit whose input is
# negative on every row outputs 0, gets no gradient and stops learning, and
# with no unit left the fit is a constant. Over ten seeds, nine reach a
# training R² of 0.9 or more and one ends flat (see :ref:`small-tables`). A
# wider network, such as the default ``(256, 256)``, does not depend on its
# seed here:
wide = TorchMLPRegressor(random_state=0).fit(X, y)
print(f"hidden_layer_sizes=(256, 256): training R² {wide.score(X, y):.3f}")
