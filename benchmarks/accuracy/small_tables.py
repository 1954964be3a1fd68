"""Small tables: the defaults for batch size, epochs and validation against their alternatives.

    python benchmarks/accuracy/small_tables.py --threads 1          # every variant
    python benchmarks/accuracy/small_tables.py --variants defaults "previous defaults"
    python benchmarks/accuracy/small_tables.py --datasets "XOR blobs" --variants defaults \
        --toy-seeds 40 --hidden 16                                   # 40 seeds, 16 units
    python benchmarks/accuracy/small_tables.py --threads 1 --fit-times --seeds 0 1 2

Two tables of the tutorials that skorchless replaces, with the tutorials' own
small networks, and the suite's tables below 4,096 training rows (where
``batch_size="auto"`` and ``max_iter="auto"`` depend on the number of rows)
with the default network:

* **XOR blobs**: 80 training rows, four Gaussian blobs (standard deviation
  0.3) centred on (±1, ±1), the label 1 where the two coordinates have
  opposite signs; ``hidden_layer_sizes=(5,)``; accuracy on 200 new rows of the
  same blobs. The data and the network change with the seed.
* **ice cream**: the 10 days of temperature and weekday against revenue
  (near-linear: a linear regression fits them with R² 0.994);
  ``hidden_layer_sizes=(2,)``; R² on the training rows (there are no others).
  The network changes with the seed.
* the suite's tables, split and preprocessed as ``run.py`` does: 10 seeds
  below 500 training rows, ``--seeds`` on the others.

Next to them, a linear model on the same features (``LogisticRegression``,
``RidgeCV``; ``LinearRegression`` for the ice cream) and, on the two tutorial
tables, scikit-learn's MLP with the same hidden layer and its defaults.

A variant is a function of the number of training rows that returns
parameters on top of the defaults, so that the rules of ``"auto"`` can be
replaced by others (``min_steps_per_epoch``, ``min_steps``) for comparison.
Writes ``small_tables.csv`` and ``small_tables.md`` into ``--out``.

``--fit-times`` instead fits the defaults and the previous defaults back to
back on ``--seeds`` of every dataset of the suite (where both resolve to the
same parameters, on the largest ones, one fit of the first seed), and writes
their fit times and the median over the datasets to
``small_tables_fit_times.md``.
"""

import argparse
import math
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline

from skorchless import TorchMLPClassifier, TorchMLPRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import LOADERS, split  # noqa: E402
from models import SKORCHLESS, fit_quietly, predict_quietly, preprocessor  # noqa: E402
from run import HERE, evaluate, limit_threads  # noqa: E402

TOYS = ["XOR blobs", "ice cream"]
TABLES = ["airquality", "wine", "hitters", "penguins", "diabetes", "breast_cancer",
          "titanic", "CreditCard", "attrition", "digits", "HMDA", "chile", "ames", "wage",
          "credit_data", "churn"]
#: Tables with fewer training rows than this get 10 seeds (their test sets are tiny).
FEW_ROWS = 500
LINEAR = "linear model"
SK_MLP = "scikit-learn MLP"
XOR_CENTRES = [[1, 1], [-1, -1], [1, -1], [-1, 1]]  # blobs 0, 1: label 0; 2, 3: label 1
ICE_CREAM = {  # weekday, temperature (°C), revenue (thousands)
    "day": [2, 6, 1, 3, 2, 5, 7, 4, 3, 1],
    "temperature": [22, 33, 20, 25, 24, 30, 35, 28, 26, 21],
    "revenue": [1.51, 2.22, 1.37, 1.77, 1.64, 2.04, 2.42, 1.90, 1.75, 1.45],
}


def fit_rows(n_rows, early_stopping):
    """Rows that ``fit`` trains on: without the validation split when there is one."""
    return n_rows - math.ceil(0.1 * n_rows) if early_stopping else n_rows


def rule(min_steps_per_epoch=16, min_steps=10_000, validation_from=50, max_batch=256,
         max_epochs=200):
    """A variant: ``"auto"`` with other constants, as parameters of the estimator."""
    def params(n_rows):
        early_stopping = n_rows >= validation_from
        n = fit_rows(n_rows, early_stopping)
        batch = max(1, min(max_batch, math.ceil(n / min_steps_per_epoch)))
        epochs = max(max_epochs, math.ceil(min_steps / math.ceil(n / batch)))
        return {"batch_size": batch, "max_iter": epochs, "early_stopping": early_stopping}
    return params


#: name -> function of the number of training rows giving the parameters.
VARIANTS = {
    "defaults": lambda n_rows: {},
    "previous defaults": lambda n_rows: {"batch_size": 256, "max_iter": 200,
                                         "early_stopping": n_rows >= 200},
    # one rule put back to its previous value
    "validation from 200 rows": lambda n_rows: {"early_stopping": n_rows >= 200},
    "batch_size=256, max_iter=200": lambda n_rows: {"batch_size": 256, "max_iter": 200},
    "max_iter=200": lambda n_rows: {"max_iter": 200},
    # the constants of "auto"
    "8 steps per epoch": rule(min_steps_per_epoch=8),
    "32 steps per epoch": rule(min_steps_per_epoch=32),
    "at least 5,000 steps": rule(min_steps=5_000),
}


def xor_blobs(seed, n_rows=80):
    X, blob = make_blobs(n_samples=n_rows, centers=XOR_CENTRES, cluster_std=0.3,
                         random_state=seed)
    return X, (blob >= 2).astype(int)


def toy(name, seed, params, hidden=None):
    """Fit a tutorial's network on its table; return (score, fit seconds, epochs).

    ``params`` is a variant, or ``LINEAR`` or ``SK_MLP`` for the reference models;
    ``hidden`` replaces the tutorial's hidden layers (5 units, 2 units).
    """
    hidden = hidden or ((5,) if name == "XOR blobs" else (2,))
    if name == "XOR blobs":
        X, y = xor_blobs(seed)
        X_test, y_test = xor_blobs(seed + 1000, n_rows=200)
        models = (TorchMLPClassifier, LogisticRegression(),
                  MLPClassifier(hidden_layer_sizes=hidden, random_state=seed))
    else:
        X = np.column_stack([ICE_CREAM["day"], ICE_CREAM["temperature"]]).astype(float)
        X_test = X
        y = y_test = np.array(ICE_CREAM["revenue"])
        models = (TorchMLPRegressor, LinearRegression(),
                  MLPRegressor(hidden_layer_sizes=hidden, random_state=seed))
    if params == LINEAR:
        model = models[1]
    elif params == SK_MLP:
        model = models[2]
    else:
        model = models[0](hidden_layer_sizes=hidden, random_state=seed, device="cpu",
                          **params(len(X)))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    epochs = np.nan if params == LINEAR else model.n_iter_
    return model.score(X_test, y_test), time.perf_counter() - start, epochs


def linear(dataset, seed):
    X_train, X_test, y_train, y_test = split(dataset, seed)
    regression = dataset.task == "regression"
    model = make_pipeline(preprocessor(dataset), RidgeCV(alphas=np.logspace(-3, 3, 13))
                          if regression else LogisticRegression(max_iter=5000))
    start = time.perf_counter()
    fit_quietly(model, X_train, y_train)
    seconds = time.perf_counter() - start
    y_pred = predict_quietly(model, X_test, proba=False)
    score = r2_score(y_test, y_pred) if regression else accuracy_score(y_test, y_pred)
    return score, seconds, np.nan


def run(variants, names, seeds, toy_seeds=10, hidden=None):
    rows = []
    for name in names:
        if name in TOYS:
            jobs = [(variant, seed) for variant in (LINEAR, SK_MLP, *variants)
                    for seed in range(toy_seeds)]
            for variant, seed in jobs:
                score, seconds, epochs = toy(name, seed, VARIANTS.get(variant, variant), hidden)
                rows.append({"dataset": name, "variant": variant, "seed": seed,
                             "score": score, "fit_s": seconds, "epochs": epochs})
        else:
            dataset = LOADERS[name]()
            n_rows = len(split(dataset, 0)[0])
            table_seeds = range(10) if n_rows < FEW_ROWS else seeds
            for seed in table_seeds:
                score, seconds, _ = linear(dataset, seed)
                rows.append({"dataset": name, "variant": LINEAR, "seed": seed,
                             "score": score, "fit_s": seconds, "epochs": np.nan})
            for variant in variants:
                for seed in table_seeds:
                    params = VARIANTS[variant](n_rows)
                    row = evaluate(dataset, SKORCHLESS, seed, skorchless_params=params)
                    if row["error"]:
                        raise RuntimeError(f"{name}, {variant}, seed {seed}: {row['error']}")
                    rows.append({"dataset": name, "variant": variant, "seed": seed,
                                 "score": row["score"], "fit_s": row["fit_s"],
                                 "epochs": row["epochs"]})
        done = pd.DataFrame([r for r in rows if r["dataset"] == name])
        print(done.groupby("variant", sort=False)["score"].mean().round(4).to_dict(), name,
              flush=True)
    return pd.DataFrame(rows)


def fit_times(command, seeds):
    """Mean fit time of the defaults and the previous defaults on every dataset."""
    rows = []
    for name, load in LOADERS.items():
        dataset = load()
        n_rows = len(split(dataset, 0)[0])
        same = rule()(n_rows) == VARIANTS["previous defaults"](n_rows)
        times = {"defaults": [], "previous defaults": []}
        for seed in seeds[:1] if same else seeds:  # the same parameters: one fit
            for variant in times:
                if not (same and variant == "previous defaults"):
                    result = evaluate(dataset, SKORCHLESS, seed,
                                      skorchless_params=VARIANTS[variant](n_rows))
                    times[variant].append(result["fit_s"])
        if same:
            times["previous defaults"] = times["defaults"]
        row = {"dataset": name, "training rows": n_rows,
               **{variant: float(np.mean(t)) for variant, t in times.items()}}
        print(row, flush=True)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("dataset").sort_values("training rows")
    table["ratio"] = table["defaults"] / table["previous defaults"]
    median = table[["defaults", "previous defaults"]].median()
    return "\n".join([
        "# Fit times of the defaults on the suite", "", f"Command: `{command}`", "",
        f"Mean fit time in seconds over seeds {', '.join(map(str, seeds))} (one seed where "
        "both are the same fit). Median over the "
        f"{len(table)} "
        f"datasets: defaults {median['defaults']:.2f} s, previous defaults "
        f"{median['previous defaults']:.2f} s "
        f"({median['defaults'] / median['previous defaults']:.2f} times).", "",
        table.to_markdown(floatfmt=("", ".0f", ".2f", ".2f", ".2f")), "",
    ])


def markdown(results, command):
    results = results.assign(epochs=pd.to_numeric(results.epochs, errors="coerce"))
    present = set(results.variant)
    order = [v for v in ["defaults", *VARIANTS, LINEAR, SK_MLP] if v in present]
    order = list(dict.fromkeys(order))
    groups = results.groupby(["dataset", "variant"], sort=False)
    mean = groups["score"].mean().unstack().reindex(columns=order)
    mean = mean.reindex(results.dataset.unique())
    fit = groups["fit_s"].mean().unstack().reindex(columns=order).reindex(mean.index)
    epochs = groups["epochs"].median().unstack().reindex(columns=order).reindex(mean.index)
    variants = [v for v in order if v not in (LINEAR, SK_MLP, "defaults")]
    tables = mean.drop(index=TOYS, errors="ignore")
    summary = pd.DataFrame({
        "mean change (tables)": tables[variants].sub(tables["defaults"], axis=0).mean(),
        "tables better": (tables[variants].gt(tables["defaults"], axis=0)).sum(),
        "tables worse": (tables[variants].lt(tables["defaults"], axis=0)).sum(),
        **{name: mean.loc[name, variants] if name in mean.index else np.nan
           for name in TOYS},
        "summed fit time (s)": fit[variants].sum(),
    }).rename_axis("variant (against the defaults)")
    seeds = results[results.variant == "defaults"].groupby("dataset")["seed"].nunique()
    mean.insert(0, "seeds", seeds.reindex(mean.index).astype(str))
    return "\n".join([
        "# Small tables: batch size, epochs and validation", "",
        f"Command: `{command}`", "",
        "Score change of each variant against the defaults, averaged over the tables "
        "(R² or accuracy; negative: the variant is worse), and the mean score of the two "
        "tutorial tables. Defaults: " + ", ".join(
            f"{name} {mean.loc[name, 'defaults']:.3f}" for name in TOYS if name in mean.index)
        + f"; summed fit time {fit['defaults'].sum():.1f} s.", "",
        summary.to_markdown(floatfmt=("", "+.4f", ".0f", ".0f", ".3f", ".3f", ".1f")), "",
        "## Mean score per table", "", mean.to_markdown(floatfmt=".4f"), "",
        "## Median epochs per table", "", epochs.to_markdown(floatfmt=".0f"), "",
        "## Mean fit time per table (s)", "", fit.to_markdown(floatfmt=".2f"), "",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--datasets", nargs="+", default=TOYS + TABLES,
                        choices=TOYS + TABLES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help=f"seeds of the tables of {FEW_ROWS} training rows or more")
    parser.add_argument("--toy-seeds", type=int, default=10,
                        help="seeds 0..N-1 of the two tutorial tables")
    parser.add_argument("--hidden", type=int, nargs="+", default=None,
                        help="hidden layers of the tutorial tables' networks instead of "
                        "(5,) and (2,)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--fit-times", action="store_true",
                        help="time the defaults against the previous ones on every dataset")
    parser.add_argument("--report-only", metavar="COMMAND", default=None,
                        help="rewrite small_tables.md from small_tables.csv, naming COMMAND "
                        "as its source")
    args = parser.parse_args(argv)
    if args.report_only is not None:
        results = pd.read_csv(args.out / "small_tables.csv")
        (args.out / "small_tables.md").write_text(markdown(results, args.report_only))
        return
    limit_threads(args.threads)
    command = shlex.join(["python", "benchmarks/accuracy/small_tables.py",
                          *(argv or sys.argv[1:])])
    if args.fit_times:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "small_tables_fit_times.md").write_text(fit_times(command, args.seeds))
        print((args.out / "small_tables_fit_times.md").read_text())
        return
    results = run(args.variants, args.datasets, args.seeds, args.toy_seeds,
                  None if args.hidden is None else tuple(args.hidden))
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "small_tables.csv", index=False)
    (args.out / "small_tables.md").write_text(markdown(results, command))
    print((args.out / "small_tables.md").read_text())


if __name__ == "__main__":
    main()
