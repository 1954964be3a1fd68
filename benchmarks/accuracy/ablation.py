"""Ablation of the skorchless defaults: each default against the value it replaced.

    python benchmarks/accuracy/ablation.py            # all variants (about 60 min, 1 core)
    python benchmarks/accuracy/ablation.py --quick    # at most 3000 training rows
    python benchmarks/accuracy/ablation.py --variants defaults "no label smoothing"

Each variant is the default estimator with one setting put back to its
previous value (or to an alternative that was tried). Scores use the splits
and seeds of ``run.py`` (the 26 datasets of the widened suite, behind the
standard pipeline); datasets with fewer than 5000 rows get more seeds, since
their test sets are small. Writes ``ablation.csv`` and ``ablation.md``. For one
candidate against the defaults, with the peers' tables beside it, use
``run.py --params``. (``results/ablation*.md`` in the repository were measured
on the earlier nine-dataset suite, 80/20 splits.)
"""

import argparse
import json
import shlex
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import LOADERS  # noqa: E402
from models import SKORCHLESS  # noqa: E402
from run import HERE, QUICK_MAX_TRAIN, evaluate, limit_threads  # noqa: E402

SMALL_ROWS = 5000

#: name -> parameters that differ from the defaults.
VARIANTS = {
    "defaults": {},
    # each default put back to the value it replaced
    "learning_rate_init=1e-3": {"learning_rate_init": 1e-3},
    "no quantile bins (n_bins=None)": {"n_bins": None},
    "no label smoothing": {"label_smoothing": 0.0},
    "no weight averaging (ema_decay=None)": {"ema_decay": None},
    # alternatives measured and not kept
    "input_scaling='standard'": {"input_scaling": "standard"},
    "learning_rate='cosine', max_iter=60": {"learning_rate": "cosine", "max_iter": 60,
                                            "n_iter_no_change": 60},
    "solver='adamw', alpha=0.1": {"solver": "adamw", "alpha": 0.1},
    "beta_2=0.95": {"beta_2": 0.95},
    "dropout=0.1": {"dropout": 0.1},
    "validation_fraction=0.2": {"validation_fraction": 0.2},
    "n_iter_no_change=20": {"n_iter_no_change": 20},
    "batch_size=128": {"batch_size": 128},
    "hidden_layer_sizes=(128, 128)": {"hidden_layer_sizes": (128, 128)},
    "hidden_layer_sizes=(256, 256, 256)": {"hidden_layer_sizes": (256, 256, 256)},
    "activation='silu'": {"activation": "silu"},
}
CLASSIFIER_ONLY = {"label_smoothing", "class_weight"}


def seeds_for(dataset, seeds, small_seeds):
    return list(range(small_seeds)) if len(dataset.X) < SMALL_ROWS else seeds


def run(variants, dataset_names, seeds, small_seeds, quick):
    rows, done = [], {}
    for name in dataset_names:
        dataset = LOADERS[name]()
        for variant, params in variants.items():
            if dataset.task == "regression":
                params = {k: v for k, v in params.items() if k not in CLASSIFIER_ONLY}
            for seed in seeds_for(dataset, seeds, small_seeds):
                key = (repr(sorted(params.items())), seed)
                if key not in done:  # a classifier-only variant on regression: reuse
                    done[key] = evaluate(dataset, SKORCHLESS, seed,
                                         max_train=QUICK_MAX_TRAIN if quick else None,
                                         skorchless_params=params)
                rows.append({**done[key], "variant": variant})
            scores = [r["score"] for r in rows if r["variant"] == variant
                      and r["dataset"] == name]
            print(f"{name:14s} {variant:40s} {sum(scores) / len(scores):.4f}", flush=True)
        done.clear()
    return pd.DataFrame(rows)


def markdown(results, command):
    order = list(dict.fromkeys(results.variant))
    groups = results.groupby(["dataset", "variant"], sort=False)
    mean = groups["score"].mean().unstack()[order].reindex(results.dataset.unique())
    fit = groups["fit_s"].mean().unstack()[order].reindex(mean.index)
    relative = mean.sub(mean[order[0]], axis=0)
    summary = pd.DataFrame({
        "mean score change": relative.mean(),
        "datasets better": (relative > 0).sum(),
        "datasets worse": (relative < 0).sum(),
        "total fit time (s)": fit.sum(),
    }).rename_axis("variant")
    seeds = results.groupby("dataset")["seed"].nunique()
    mean.insert(0, "seeds", seeds.astype(str))
    return "\n".join([
        "# Ablation of the defaults", "", f"Command: `{command}`", "",
        f"Score change against `{order[0]}` (R² or accuracy, mean over datasets of the "
        "mean over seeds); negative: the variant is worse than the defaults.", "",
        summary.to_markdown(floatfmt=("", "+.4f", ".0f", ".0f", ".1f")), "",
        "## Mean test score per dataset", "", mean.to_markdown(floatfmt=".4f"), "",
        "## Mean fit time per dataset (s)", "", fit.to_markdown(floatfmt=".2f"), "",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--params", type=json.loads, default=None,
                        help="an extra variant: JSON of estimator parameters")
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--small-seeds", type=int, default=10,
                        help=f"seeds 0..N-1 for datasets under {SMALL_ROWS} rows")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--report-only", metavar="COMMAND", default=None,
                        help="rewrite ablation.md from ablation.csv, naming COMMAND as its source")
    args = parser.parse_args(argv)
    if args.report_only is not None:
        results = pd.read_csv(args.out / "ablation.csv")
        (args.out / "ablation.md").write_text(markdown(results, args.report_only))
        return
    limit_threads(args.threads)
    variants = {name: VARIANTS[name] for name in args.variants}
    if args.params is not None:
        variants[json.dumps(args.params)] = args.params
    results = run(variants, args.datasets, args.seeds, args.small_seeds, args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out / "ablation.csv", index=False)
    command = shlex.join(["python", "benchmarks/accuracy/ablation.py",
                          *(argv or sys.argv[1:])])
    (args.out / "ablation.md").write_text(markdown(results, command))
    print((args.out / "ablation.md").read_text())


if __name__ == "__main__":
    main()
