"""Accuracy suite: skorchless defaults against scikit-learn's MLP and gradient boosting.

    python benchmarks/accuracy/run.py            # the full suite (about 15 min, 2 cores)
    python benchmarks/accuracy/run.py --quick    # one seed, at most 3000 training rows

Every dataset is split 80/20 with ``train_test_split(random_state=seed)`` (seed
0 is the reference split of the goals); each model is fitted on the training
part with ``random_state=seed`` and scored on the test part (R² or accuracy).
Writes ``results.csv`` (one row per dataset, model and seed), ``results.md``
(tables and goal checks) and ``results.png`` into ``--out``.
"""

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split

from skorchless import TorchMLPRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import LOADERS  # noqa: E402
from models import (  # noqa: E402
    GRADIENT_BOOSTING,
    SK_MLP,
    SK_MLP_ES,
    SKORCHLESS,
    available_models,
    fit_quietly,
    make_model,
)

HERE = Path(__file__).resolve().parent
QUICK_MAX_TRAIN = 3000
#: Datasets of this many rows or more get only the first LARGE_SEEDS seeds:
#: they are the slow ones, and their large test sets vary little between seeds.
LARGE_ROWS = 40_000
LARGE_SEEDS = 3
SPEED_ROWS = 50_000

# The bar of the goals: RealMLP-TD (pytabkit) defaults on the reference split,
# measured on the same 2-core machine: (score, fit seconds).
REALMLP_TD = {
    "diamonds": (0.9920, 393.0),
    "CPS1988": (0.4835, 170.0),
    "diabetes": (0.3260, 3.0),
    "breast_cancer": (0.9825, 4.0),
    "digits": (0.9833, 14.0),
    "credit_cards": (0.7947, 178.0),
}
TOLERANCE = {"R2": 0.005, "accuracy": 0.01}


def limit_threads(n_threads):
    """Use ``n_threads`` threads in torch, BLAS and OpenMP (None: the libraries' default)."""
    if n_threads is None:
        return
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n_threads)
    threadpool_limits(n_threads)


def split(dataset, seed, quick):
    X_train, X_test, y_train, y_test = train_test_split(
        dataset.X, dataset.y, test_size=0.2, random_state=seed
    )
    if quick and len(X_train) > QUICK_MAX_TRAIN:
        X_train, y_train = X_train.iloc[:QUICK_MAX_TRAIN], y_train[:QUICK_MAX_TRAIN]
    return X_train, X_test, y_train, y_test


def score(dataset, y_true, y_pred):
    if dataset.task == "regression":
        return r2_score(y_true, y_pred)
    return accuracy_score(y_true, y_pred)


def evaluate(dataset, model_name, seed, *, quick=False, skorchless_params=None):
    """Fit one model on one split; return a row of the results table."""
    X_train, X_test, y_train, y_test = split(dataset, seed, quick)
    model = make_model(model_name, dataset, seed, skorchless_params)
    start = time.perf_counter()
    fit_quietly(model, X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = model.predict(X_test)
    predict_s = time.perf_counter() - start
    final = model[-1] if hasattr(model, "steps") else model
    return {
        "dataset": dataset.name, "task": dataset.task, "metric": dataset.metric,
        "model": model_name, "seed": seed, "n_train": len(X_train),
        "score": score(dataset, y_test, y_pred), "fit_s": fit_s, "predict_s": predict_s,
        "epochs": getattr(final, "n_iter_", np.nan),
    }


def summarise(results):
    """Return the mean score and fit time per dataset and model, and normalised scores."""
    groups = results.groupby(["dataset", "model"], sort=False)
    mean = groups["score"].mean().unstack()
    std = groups["score"].std().unstack()
    fit = groups["fit_s"].mean().unstack()
    mean, std, fit = (t.reindex(results.dataset.unique()) for t in (mean, std, fit))
    # A score below 0 (an R² worse than predicting the mean) counts as 0.
    normalised = mean.clip(lower=0).div(mean.max(axis=1), axis=0)
    return mean, std, fit, normalised


def goal_lines(results, mean, normalised, speed_s):
    lines = []
    models = list(mean.columns)
    if SKORCHLESS not in models:
        return lines
    ours = mean[SKORCHLESS]
    for rival in (SK_MLP, SK_MLP_ES):
        if rival in models:
            lost = [d for d in mean.index if not ours[d] > mean.loc[d, rival]]
            not_on = f"; not on: {', '.join(lost)}" if lost else ""
            lines.append(f"- skorchless beats {rival} on {len(mean) - len(lost)}/{len(mean)} "
                         f"datasets (mean over seeds){not_on} "
                         f"-> {'MET' if not lost else 'NOT MET'}")
    boosting = [m for m in GRADIENT_BOOSTING if m in models]
    if boosting:
        best = max(boosting, key=lambda m: normalised[m].mean())
        gap = normalised[SKORCHLESS].mean() - normalised[best].mean()
        wins = int((ours > mean[best]).sum())
        lines.append(f"- mean normalised score: skorchless {normalised[SKORCHLESS].mean():.4f}, "
                     f"best gradient boosting ({best}) {normalised[best].mean():.4f}, "
                     f"difference {gap:+.4f} -> {'MET' if gap >= -0.01 else 'NOT MET'} "
                     "(goal: no more than 0.01 behind)")
        lines.append(f"- skorchless ahead of {best} on {wins}/{len(mean)} datasets -> "
                     f"{'MET' if 3 * wins >= len(mean) else 'NOT MET'} (goal: a third)")
    reference = results[(results.seed == 0) & (results.model == SKORCHLESS)].set_index("dataset")
    for name, (bar, seconds) in REALMLP_TD.items():
        if name not in reference.index:
            continue
        row = reference.loc[name]
        ok = row.score >= bar - TOLERANCE[row.metric] and row.fit_s <= seconds / 10
        lines.append(f"- {name} (seed 0): {row.metric} {row.score:.4f} vs RealMLP-TD {bar:.4f} "
                     f"- {TOLERANCE[row.metric]}; fit {row.fit_s:.1f} s vs {seconds / 10:.1f} s "
                     f"(a tenth of RealMLP's) -> {'MET' if ok else 'NOT MET'}")
    if speed_s is not None:
        lines.append(f"- default fit on {SPEED_ROWS} rows of diamonds: {speed_s:.1f} s -> "
                     f"{'MET' if speed_s < 40 else 'NOT MET'} (goal: under 40 s)")
    return lines


def markdown(results, speed_s, command, load):
    mean, std, fit, normalised = summarise(results)
    order = [m for m in available_models() if m in mean.columns]
    mean, std, fit, normalised = (t[order] for t in (mean, std, fit, normalised))
    metric = results.groupby("dataset")["metric"].first()
    n_train = results.groupby("dataset")["n_train"].first()
    seeds = results.groupby("dataset", sort=False)["seed"].nunique()
    seed_note = ", ".join(f"{n} on {d}" for d, n in seeds.items() if n != seeds.max())
    scores = mean.map(lambda v: f"{v:.4f}")
    scores = scores + std.fillna(0).map(lambda v: f" ± {v:.4f}")
    for dataset, row in mean.iterrows():
        best = row.idxmax()
        scores.loc[dataset, best] = f"**{scores.loc[dataset, best]}**"
    scores.insert(0, "metric", metric)
    scores.insert(1, "n_train", n_train)
    normalised.loc["**mean**"] = normalised.mean()
    out = [
        "# Accuracy suite results", "",
        f"Command: `{command}`", "",
        f"{seeds.max()} seeds per dataset ({seed_note or 'all datasets'}); 80/20 split "
        "with `random_state=seed`; test-set score, mean ± std over seeds (best in bold). "
        "Machine: "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} with {torch.get_num_threads()} "
        f"threads, {platform.python_implementation()} {platform.python_version()}; "
        f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end (other work "
        "shares the CPUs: fit times are comparable within this run only).", "",
        "## Test score", "", scores.to_markdown(), "",
        "## Normalised score (score / best mean score on the dataset; below 0 counts as 0)",
        "",
        normalised.to_markdown(floatfmt=".4f"), "",
        "## Mean fit time (s)", "", fit.to_markdown(floatfmt=".2f"), "",
        "## Goals", "", *goal_lines(results, mean, normalised, speed_s), "",
    ]
    return "\n".join(out)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean, _, fit, normalised = summarise(results)
    order = [m for m in available_models() if m in mean.columns]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 5.5))
    normalised[order].plot.bar(ax=ax1, width=0.8)
    ax1.set_ylim(0.85, 1.005)  # lower bars are cut: scikit-learn's MLP on diabetes is at 0
    ax1.set_ylabel("score / best score on the dataset")
    ax1.set_title("Test score (mean over seeds), normalised; axis from 0.85")
    ax1.legend(fontsize=8, loc="lower left")
    fit[order].plot.bar(ax=ax2, width=0.8, logy=True, legend=False)
    ax2.set_ylabel("fit time (s, log scale)")
    ax2.set_title("Mean fit time")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def warm_up():
    """Fit a tiny network once, so that no timed fit pays for torch's start-up."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    fit_quietly(TorchMLPRegressor(max_iter=2, device="cpu", random_state=0), X, X.sum(axis=1))


def time_large_fit():
    """Fit the default regressor on 50,000 rows of diamonds; return the seconds."""
    dataset = LOADERS["diamonds"]()
    X, y = dataset.X.iloc[:SPEED_ROWS], dataset.y[:SPEED_ROWS]
    model = make_model(SKORCHLESS, dataset, 0)
    start = time.perf_counter()
    fit_quietly(model, X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"seed 0 only, at most {QUICK_MAX_TRAIN} training rows")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)),
                        help=f"seeds (datasets of {LARGE_ROWS} rows or more: the first "
                             f"{LARGE_SEEDS})")
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--models", nargs="+", default=available_models(),
                        choices=available_models())
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of every library (default: theirs, all cores)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    seeds = [0] if args.quick else args.seeds
    args.out.mkdir(parents=True, exist_ok=True)
    warm_up()
    load_start = os.getloadavg()[0]
    rows = []
    for name in args.datasets:
        dataset = LOADERS[name]()
        for seed in seeds if len(dataset.X) < LARGE_ROWS else seeds[:LARGE_SEEDS]:
            for model_name in args.models:
                row = evaluate(dataset, model_name, seed, quick=args.quick)
                rows.append(row)
                print(f"{name:14s} seed {seed}  {model_name:30s} {row['metric']} "
                      f"{row['score']:.4f}  fit {row['fit_s']:7.2f} s  epochs {row['epochs']}",
                      flush=True)
    results = pd.DataFrame(rows)
    speed_s = None if args.quick or SKORCHLESS not in args.models else time_large_fit()
    command = shlex.join(["python", "benchmarks/accuracy/run.py", *(argv or sys.argv[1:])])
    results.to_csv(args.out / "results.csv", index=False)
    load = (load_start, os.getloadavg()[0])
    (args.out / "results.md").write_text(markdown(results, speed_s, command, load))
    plot(results, args.out / "results.png")
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
