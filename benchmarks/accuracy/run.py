"""Accuracy suite: skorchless defaults against scikit-learn's MLP, gradient boosting and pytabkit.

    python benchmarks/accuracy/run.py                 # 26 datasets, seed 0, cheap models
    python benchmarks/accuracy/run.py --quick         # at most 3000 training rows
    python benchmarks/accuracy/run.py --params '{"label_smoothing": 0.0}' --seeds 0 1 2 \\
        --models skorchless --out /tmp/ablation       # a candidate against the defaults
    python benchmarks/accuracy/run.py --models RealMLP-TD TabM-D --recompute-expensive

Every dataset is split 75/25 with ``datasets.split`` (``train_test_split``,
``random_state=seed``, stratified for classification); each model is fitted on
the training part with ``random_state=seed`` and scored on the test part: R²
for regression; accuracy, log-loss and ECE (15 equal-width bins of the top
probability) for classification. A model that raises is recorded with its
error instead of a score.

RealMLP-TD and TabM-D (pytabkit) take minutes per dataset: they are fitted only
with ``--recompute-expensive`` (on ``EXPENSIVE_DATASETS`` unless ``--datasets``
names others), and their rows are kept in ``results/pytabkit.csv`` with the
command that produced them; other runs read them from there.

``--params`` adds, for each skorchless model asked for, a ``[candidate]`` model
with these parameters on top of the defaults, and a table of the candidate
against the defaults. Writes ``results.csv`` (one row per dataset, model and
seed) and ``results.md`` into ``--out``.
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, log_loss, r2_score

from skorchless import TorchMLPRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import DATASETS, load, split  # noqa: E402
from models import (  # noqa: E402
    CHEAP_MODELS,
    EXPENSIVE_MODELS,
    GRADIENT_BOOSTING,
    MODELS,
    SK_MLP_ES,
    SKORCHLESS,
    SKORCHLESS_MODELS,
    base_name,
    candidate_name,
    fit_quietly,
    make_model,
    predict_quietly,
)

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results" / "pytabkit.csv"
QUICK_MAX_TRAIN = 3000
#: Datasets of this many rows or more get only the first --large-seeds seeds.
LARGE_ROWS = 40_000
ECE_BINS = 15
#: The datasets pytabkit's models are fitted on (minutes each on 2 cores).
EXPENSIVE_DATASETS = ["airquality", "wine", "hitters", "penguins", "diabetes", "breast_cancer",
                      "titanic", "CreditCard", "attrition", "digits", "HMDA", "chile", "ames",
                      "wage", "credit_data", "churn", "computers"]
CLASSIFIER_ONLY = {"label_smoothing", "class_weight"}
REGRESSOR_ONLY = {"loss", "huber_delta"}


def limit_threads(n_threads):
    """Use ``n_threads`` threads in torch, BLAS and OpenMP (None: the libraries' default)."""
    if n_threads is None:
        return
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n_threads)
    threadpool_limits(n_threads)


def expected_calibration_error(y_true, proba, classes, n_bins=ECE_BINS):
    """Top-label ECE: the mean |accuracy - confidence| over equal-width bins, by bin size."""
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == y_true
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def _params_for(task, params):
    drop = REGRESSOR_ONLY if task != "regression" else CLASSIFIER_ONLY
    return {k: v for k, v in (params or {}).items() if k not in drop}


def evaluate(dataset, model_name, seed, *, max_train=None, skorchless_params=None,
             n_threads=None):
    """Fit one model on one split; return a row of the results table (with ``error`` if any).

    ``skorchless_params`` (skorchless models only) go on top of the defaults.
    """
    X_train, X_test, y_train, y_test = split(dataset, seed)
    if max_train is not None and len(X_train) > max_train:
        X_train, y_train = X_train.iloc[:max_train], y_train[:max_train]
    params = _params_for(dataset.task, skorchless_params)
    row = {"dataset": dataset.name, "task": dataset.task, "metric": dataset.metric,
           "model": model_name, "seed": seed, "n_train": len(X_train), "n_test": len(X_test),
           "params": json.dumps(params) if params else "",
           "score": np.nan, "log_loss": np.nan, "ece": np.nan, "fit_s": np.nan,
           "predict_s": np.nan, "epochs": np.nan, "error": ""}
    try:
        model = make_model(model_name, dataset, seed, params, n_threads)
        start = time.perf_counter()
        fit_quietly(model, X_train, y_train)
        row["fit_s"] = time.perf_counter() - start
        start = time.perf_counter()
        if dataset.task == "regression":
            row["score"] = r2_score(y_test, predict_quietly(model, X_test, proba=False))
        else:
            proba = predict_quietly(model, X_test, proba=True)
            classes = np.asarray(model.classes_)
            row["score"] = accuracy_score(y_test, classes[proba.argmax(axis=1)])
            row["log_loss"] = log_loss(y_test, np.clip(proba, 1e-15, 1), labels=classes)
            row["ece"] = expected_calibration_error(y_test, proba, classes)
        row["predict_s"] = time.perf_counter() - start
        final = model[-1] if hasattr(model, "steps") else model
        row["epochs"] = getattr(final, "n_iter_", np.nan)
    except Exception as error:  # noqa: BLE001 - the error is the result
        row["error"] = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    return row


# --- the report -----------------------------------------------------------------------

def _table(results, column):
    groups = results.groupby(["dataset", "model"], sort=False)[column]
    table = groups.mean().unstack()
    return table.reindex(index=list(dict.fromkeys(results.dataset)),
                         columns=[m for m in _model_order(results) if m in table.columns])


def _model_order(results):
    present = list(dict.fromkeys(results.model))
    order = [m for base in MODELS for m in (base, candidate_name(base)) if m in present]
    return order + [m for m in present if m not in order]


def normalise(mean):
    """Score / best mean score on the dataset; a score below 0 counts as 0."""
    return mean.clip(lower=0).div(mean.max(axis=1), axis=0)


def _fmt(table, fmt, bold=None, errors=None):
    out = table.map(lambda v: "" if pd.isna(v) else format(v, fmt)).astype(object)
    if errors is not None:
        out = out.mask(errors.reindex_like(out).fillna(False).astype(bool), "error")
    if bold is not None:
        for dataset, row in table.iterrows():
            if row.notna().any():
                best = row.idxmax() if bold == "max" else row.idxmin()
                out.loc[dataset, best] = f"**{out.loc[dataset, best]}**"
    return out


def gbdt_lines(mean, model=SKORCHLESS):
    """skorchless against the best of the gradient-boosting models, per dataset."""
    boosting = [m for m in GRADIENT_BOOSTING if m in mean.columns]
    if model not in mean.columns or not boosting:
        return [], None
    best = mean[boosting].max(axis=1)
    best_name = mean[boosting].idxmax(axis=1)
    margin = mean[model] - best
    table = pd.DataFrame({"skorchless": mean[model], "best GBDT": best,
                          "which": best_name, "margin": margin})
    valid = margin.dropna()
    lines = [f"- `{model}` vs the best of {', '.join(boosting)} per dataset: "
             f"ahead or equal on {int((valid >= 0).sum())}/{len(valid)}, behind by more than "
             f"0.01 on {int((valid < -0.01).sum())} "
             f"({', '.join(f'{d} {m:+.3f}' for d, m in valid[valid < -0.01].items()) or '-'}); "
             f"mean margin {valid.mean():+.4f}"]
    return lines, table


def markdown(results, command, machine, candidate=None):
    mean = _table(results, "score")
    errors = results.assign(err=results.error.fillna("") != "").groupby(
        ["dataset", "model"], sort=False)["err"].all().unstack()
    fit = _table(results, "fit_s")
    seeds = results.groupby("dataset", sort=False)["seed"].nunique()
    classification = [d for d in mean.index
                      if results.loc[results.dataset == d, "task"].iloc[0] != "regression"]
    normalised = normalise(mean)
    info = results.groupby("dataset", sort=False).agg(metric=("metric", "first"),
                                                      n_train=("n_train", "first"),
                                                      seeds=("seed", "nunique"))
    scores = _fmt(mean, ".4f", "max", errors)
    scores.insert(0, "metric", info.metric)
    scores.insert(1, "n_train", info.n_train)
    summary = pd.DataFrame({
        "mean normalised": normalised.mean(),
        "datasets": normalised.notna().sum(),
        "median fit (s)": fit.median(),
        "total fit (s)": fit.sum(),
    })
    out = [
        "# Accuracy suite results", "",
        f"Command{'s' if '`; `' in command else ''}: `{command}`", "",
        f"{seeds.max()} seed(s) per dataset"
        f"{''.join(f', {n} on {d}' for d, n in seeds.items() if n != seeds.max())}; 75/25 split "
        "(`datasets.split`); test-set scores, mean over seeds (best in bold). "
        f"{machine}", "",
        "Fit times are wall-clock on a machine shared with other work: noisy, comparable "
        "within one run only. pytabkit rows (RealMLP-TD, TabM-D) come from "
        "`results/pytabkit.csv` (their own command and load there) unless recomputed.", "",
        "## Summary", "",
        "Normalised score: score / best mean score of any model on the dataset (R² below 0 "
        "counts as 0), averaged over the datasets where the model ran without error.", "",
        summary.to_markdown(floatfmt=("", ".4f", ".0f", ".2f", ".1f")), "",
    ]
    lines, gbdt = gbdt_lines(mean)
    out += lines
    if SK_MLP_ES in mean.columns and SKORCHLESS in mean.columns:
        diff = (mean[SKORCHLESS] - mean[SK_MLP_ES]).dropna()
        out.append(f"- `skorchless` vs `{SK_MLP_ES}`: ahead on {int((diff > 0).sum())}/"
                   f"{len(diff)}; tied or behind on "
                   f"{', '.join(f'{d} {v:+.4f}' for d, v in diff[diff <= 0].items()) or '-'}")
    expensive = [m for m in EXPENSIVE_MODELS if m in mean.columns]
    if expensive:
        # the same splits only: the datasets and seeds where pytabkit ran
        ran = results[results.model.isin(expensive)][["dataset", "seed"]].drop_duplicates()
        same = results.merge(ran, on=["dataset", "seed"])
        sub, sub_fit = normalise(_table(same, "score")), _table(same, "fit_s")
        subset = sub.index
        seeds_ran = sorted(set(ran.seed))
        out += ["", f"### On the {len(subset)} datasets where pytabkit ran (seed "
                f"{', '.join(map(str, seeds_ran))} only, every model)", "",
                pd.DataFrame({"mean normalised": sub.mean(), "datasets": sub.notna().sum(),
                              "median fit (s)": sub_fit.median(),
                              "total fit (s)": sub_fit.sum()}).to_markdown(
                    floatfmt=("", ".4f", ".0f", ".2f", ".1f"))]
    if gbdt is not None:
        out += ["", "### skorchless (pipeline) against the best gradient boosting", "",
                gbdt.to_markdown(floatfmt=(".4f", ".4f", ".4f", "", "+.4f"))]
    if candidate is not None:
        out += ["", "## Candidate against the defaults", "",
                f"Candidate parameters: `{json.dumps(candidate)}` (classifier-only or "
                "regressor-only ones applied where they exist).", ""]
        for model in SKORCHLESS_MODELS:
            cand = candidate_name(model)
            if model in mean.columns and cand in mean.columns:
                delta = (mean[cand] - mean[model])
                valid = delta.dropna()
                frame = pd.DataFrame({"defaults": mean[model], "candidate": mean[cand],
                                      "change": delta, "fit defaults (s)": fit[model],
                                      "fit candidate (s)": fit[cand]})
                paired = results[results.model.isin([model, cand])].pivot_table(
                    index=["dataset", "seed"], columns="model", values="score")
                if cand in paired.columns and model in paired.columns:
                    per_seed = (paired[cand] - paired[model]).groupby(level="dataset")
                    frame["± s.e. (paired over seeds)"] = (
                        per_seed.std() / np.sqrt(per_seed.count())).reindex(frame.index)
                if classification:
                    for metric in ("log_loss", "ece"):
                        table = _table(results, metric)
                        frame[f"{metric.replace('_', '-')} change"] = table[cand] - table[model]
                out += [f"### `{model}`: mean change {valid.mean():+.4f}, better on "
                        f"{int((valid > 0).sum())}, worse on {int((valid < 0).sum())} of "
                        f"{len(valid)}; summed fit {fit[model].sum():.1f} s -> "
                        f"{fit[cand].sum():.1f} s", "",
                        frame.to_markdown(floatfmt=".4f"), ""]
    out += ["", "## Test score (R² or accuracy)", "", scores.to_markdown(), "",
            "## Normalised score", "", normalised.to_markdown(floatfmt=".4f"), ""]
    if classification:
        out += ["## Log-loss (classification; lower is better)", "",
                _fmt(_table(results, "log_loss").loc[classification], ".4f", "min",
                     errors).to_markdown(), "",
                f"## ECE (top label, {ECE_BINS} bins; lower is better)", "",
                _fmt(_table(results, "ece").loc[classification], ".4f", "min",
                     errors).to_markdown(), ""]
    out += ["## Mean fit time (s)", "", _fmt(fit, ".2f", None, errors).to_markdown(), ""]
    failed = results[results.error.fillna("") != ""].drop_duplicates(["dataset", "model"])
    if len(failed):
        out += ["## Errors (the result of the model on that dataset)", "",
                "| dataset | model | error |", "|:--|:--|:--|",
                *(f"| {r.dataset} | {r.model} | {r.error.replace('|', '/')[:160]} |"
                  for r in failed.itertuples()), ""]
    return "\n".join(out)


def dataset_table(names):
    rows = []
    for name in names:
        d = load(name)
        spec = DATASETS[name]
        rows.append({"dataset": name, "source": spec.source, "task": f"{d.task}: {d.target}",
                     "rows": len(d.X), "numeric": len(d.numeric_columns),
                     "categorical": len(d.categorical_columns), "dates": len(d.date_columns),
                     "columns with NaN": int(d.X.isna().any().sum()), "why": spec.why})
    return pd.DataFrame(rows).to_markdown(index=False)


# --- running --------------------------------------------------------------------------

def warm_up():
    """Fit a tiny network once, so that no timed fit pays for torch's start-up."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    fit_quietly(TorchMLPRegressor(max_iter=2, device="cpu", random_state=0), X, X.sum(axis=1))


def machine_line(load_start):
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return (f"Machine: {os.cpu_count()} CPUs, torch {torch.__version__} with "
            f"{torch.get_num_threads()} threads, {platform.python_implementation()} "
            f"{platform.python_version()}; load average {load_start:.2f} at the start, "
            f"{os.getloadavg()[0]:.2f} at the end (`uptime` at the end: {uptime}).")


def read_cache(path, datasets, seeds, models):
    if not path.exists():
        return pd.DataFrame()
    cache = pd.read_csv(path, keep_default_na=False, na_values=[""])
    cache["error"] = cache["error"].fillna("")
    return cache[cache.dataset.isin(datasets) & cache.seed.isin(seeds) & cache.model.isin(models)]


def write_cache(path, rows, command, machine):
    new = pd.DataFrame(rows).assign(command=command, machine=machine)
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False, na_values=[""])
        keys = set(zip(new.dataset, new.model, new.seed, strict=True))
        keep = [k not in keys for k in zip(old.dataset, old.model, old.seed, strict=True)]
        new = pd.concat([old[keep], new], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    new.to_csv(path, index=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--large-seeds", type=int, default=1,
                        help=f"datasets of {LARGE_ROWS} rows or more: only this many seeds")
    parser.add_argument("--params", type=json.loads, default=None,
                        help="JSON of skorchless parameters: a candidate against the defaults")
    parser.add_argument("--quick", action="store_true",
                        help=f"at most {QUICK_MAX_TRAIN} training rows")
    parser.add_argument("--recompute-expensive", action="store_true",
                        help="fit RealMLP-TD / TabM-D (else: read them from the cache)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of every library (default: theirs, all cores)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite results.md from results.csv (and the cache)")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "benchmarks/accuracy/run.py", *(argv or sys.argv[1:])])
    limit_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    cheap = [m for m in args.models if m in CHEAP_MODELS]
    expensive = [m for m in args.models if m in EXPENSIVE_MODELS]
    if args.params is not None:
        cheap += [candidate_name(m) for m in cheap if m in SKORCHLESS_MODELS]
    if args.report_only:
        results = pd.read_csv(args.out / "results.csv", keep_default_na=False, na_values=[""])
        results = results[~results.model.isin(EXPENSIVE_MODELS)]
        machine = (args.out / "machine.txt").read_text().strip()
    else:
        warm_up()
        rows, expensive_rows = [], []
        run_expensive = expensive if args.recompute_expensive else []
        chosen = set(args.datasets) if args.datasets != list(DATASETS) else set(EXPENSIVE_DATASETS)
        for name in args.datasets:
            if not cheap and name not in chosen:
                continue
            dataset = load(name)
            seeds = args.seeds if len(dataset.X) < LARGE_ROWS else args.seeds[:args.large_seeds]
            for seed in seeds:
                for model_name in cheap + (run_expensive if name in chosen else []):
                    row = evaluate(dataset, model_name, seed,
                                   max_train=QUICK_MAX_TRAIN if args.quick else None,
                                   skorchless_params=args.params
                                   if model_name != base_name(model_name) else None,
                                   n_threads=args.threads)
                    if model_name in EXPENSIVE_MODELS:  # cached at once: runs are long
                        expensive_rows.append(row)
                        write_cache(args.cache, [row], command, machine_line(load_start))
                    else:
                        rows.append(row)
                    extra = (f"  log-loss {row['log_loss']:.4f}  ECE {row['ece']:.4f}"
                             if row["task"] != "regression" else "")
                    shown = row["error"][:90] if row["error"] else (
                        f"{row['metric']} {row['score']:.4f}{extra}  fit {row['fit_s']:7.2f} s")
                    print(f"{name:14s} seed {seed}  {model_name:32s} {shown}", flush=True)
            if rows:  # after each dataset, so that an interrupted run keeps what it did
                pd.DataFrame(rows).assign(command=command).to_csv(args.out / "results.csv",
                                                                  index=False)
                (args.out / "machine.txt").write_text(machine_line(load_start) + "\n")
        machine = machine_line(load_start)
        (args.out / "machine.txt").write_text(machine + "\n")
        results = pd.DataFrame(rows).assign(command=command) if rows else pd.DataFrame(
            columns=["model"])
        results.to_csv(args.out / "results.csv", index=False)
    if expensive and not results.empty:
        cached = read_cache(args.cache, set(results.dataset), set(results.seed), expensive)
        results = pd.concat([results, cached.drop(columns=["command", "machine"],
                                                  errors="ignore")], ignore_index=True)
    if results.empty:
        return
    results["error"] = results["error"].fillna("")
    commands = [command]
    if "command" in results.columns:  # rows of several runs (--report-only on merged files)
        commands = list(dict.fromkeys(results["command"].dropna())) or commands
        results = results.drop(columns="command")
    report = markdown(results, "`; `".join(commands), machine, args.params)
    report += "\n## Datasets\n\n" + dataset_table(list(dict.fromkeys(results.dataset))) + "\n"
    (args.out / "results.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
