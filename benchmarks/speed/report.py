"""Turn the measurements of ``run.py`` into results.csv, results.md and a plot."""

import ast
import os
import platform
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from data import REAL
from systems import DEFAULTS_SYSTEM, layer_sizes

BASE = "bare"
OURS = "skorchless"


def train_flops_per_epoch(rows, features):
    """Forward 2 * rows * sum(in * out), backward twice that."""
    sizes = layer_sizes(features)
    return 6 * rows * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def _paired_ratio(fits, dataset, num, den, column="fit_s"):
    # Median over repeats of num/den, each ratio between runs of the same repeat.
    part = fits[fits.dataset == dataset].pivot_table(
        index="repeat", columns="system", values=column, aggfunc="first")
    if num not in part or den not in part:
        return np.nan
    ratios = (part[num] / part[den]).dropna()
    return float(ratios.median()) if len(ratios) else np.nan


def summarise_fits(fits, matmul_gflops):
    table = (fits.groupby(["dataset", "system"], sort=False)
             .agg(rows=("rows", "first"), features=("features", "first"),
                  epochs=("epochs", "first"), fit_s=("fit_s", "median"),
                  best_fit_s=("fit_s", "min"), fit_cpu_s=("fit_cpu_s", "median"),
                  others=("others_cores", "median"), warmup_s=("warmup_s", "median"),
                  predict_rows_per_s=("predict_rows_per_s", "median"),
                  peak_rss_mb=("peak_rss_mb", "median"),
                  rss_before_mb=("rss_before_mb", "median"), runs=("fit_s", "size"))
             .reset_index())
    table["s_per_epoch"] = table.fit_s / table.epochs
    flops = [train_flops_per_epoch(r, f) for r, f in zip(table.rows, table.features, strict=True)]
    table["gflops"] = np.array(flops) * table.epochs / table.fit_s / 1e9
    table["of_matmul"] = table.gflops / matmul_gflops
    table["fit_vs_bare"] = [_paired_ratio(fits, d, s, BASE)
                            for d, s in zip(table.dataset, table.system, strict=True)]
    table["rss_vs_bare"] = [_paired_ratio(fits, d, s, BASE, "peak_rss_mb")
                            for d, s in zip(table.dataset, table.system, strict=True)]
    return table


def _fmt(value):
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def markdown_table(frame):
    lines = ["| " + " | ".join(frame.columns) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _slope(x, y):
    # Exponent b of y ~ x^b, least squares in log-log.
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0]) if len(x) > 1 else np.nan


def goals(table, fits, valid, matmul_gflops):
    """Rows of (goal, measured, met) from the issue, computed from this run."""
    rows = []

    def add(goal, measured, met):
        rows.append({"goal": goal, "measured": measured, "met": "yes" if met else "**no**"})

    def value(dataset, system, column):
        hit = table[(table.dataset == dataset) & (table.system == system)][column]
        return float(hit.iloc[0]) if len(hit) else np.nan

    for dataset in REAL:
        r = _paired_ratio(fits, dataset, OURS, BASE)
        add(f"fit time <= 1.0x the bare loop ({dataset})", f"{r:.2f}x", r <= 1.0)
    for other in ("skorch", "sklearn"):
        speedups = {d: _paired_ratio(fits, d, other, OURS) for d in table.dataset.unique()}
        speedups = {d: s for d, s in speedups.items() if np.isfinite(s)}
        if speedups:
            worst = min(speedups, key=speedups.get)
            add(f">= 2.5x faster than {other} (every dataset)",
                f"{min(speedups.values()):.2f}x (lowest, {worst}); "
                f"{max(speedups.values()):.2f}x (highest)", min(speedups.values()) >= 2.5)
    for dataset in REAL:
        share = value(dataset, OURS, "gflops") / matmul_gflops
        add(f"training throughput >= 0.5 of matmul ({dataset})",
            f"{value(dataset, OURS, 'gflops'):.0f} GFLOP/s = {share:.2f} of "
            f"{matmul_gflops:.0f}", share >= 0.5)
    for dataset in REAL:
        r = _paired_ratio(fits, dataset, OURS, "sklearn", "predict_rows_per_s")
        add(f"predict >= 1.5x sklearn MLP rows/s ({dataset})", f"{r:.2f}x", r >= 1.5)
    for row in valid.itertuples():
        share = row.valid_pass_s / row.epoch_s
        add(f"validation pass <= 10% of epoch time ({row.dataset})",
            f"{100 * share:.1f}% ({1000 * row.valid_pass_s:.1f} ms of "
            f"{1000 * row.epoch_s:.0f} ms)", share <= 0.10)
    synth = table[table.dataset.str.startswith("synthetic") & (table.system == OURS)]
    if len(synth) > 1:
        t = _slope(synth.rows, synth.s_per_epoch)
        m = _slope(synth.rows, synth.peak_rss_mb - synth.rss_before_mb)
        add("time per epoch linear in rows (log-log slope, synthetic)", f"{t:.2f}",
            0.9 <= t <= 1.1)
        big = synth[synth.rows >= 100_000]
        mb = _slope(big.rows, big.peak_rss_mb - big.rss_before_mb) if len(big) > 1 else m
        add("fit memory linear in rows (slope of the peak-RSS increase, >= 100k rows)",
            f"{mb:.2f} (all sizes: {m:.2f})", mb <= 1.1)
    for dataset in table.dataset.unique():
        r = _paired_ratio(fits, dataset, OURS, BASE, "peak_rss_mb")
        if np.isfinite(r):
            add(f"peak RSS <= 1.1x the bare loop ({dataset})", f"{r:.2f}x", r <= 1.1)
    return pd.DataFrame(rows)


def summarise_predicts(predicts):
    """Per table and system: rows/s on 100k rows, one-row latency (array, DataFrame)."""
    columns = {"predict_rows_per_s": "median", "one_row_us": "median",
               "others_cores": "median"}
    if "one_row_frame_us" in predicts:
        columns["one_row_frame_us"] = "median"
    table = (predicts.groupby(["dataset", "system"], sort=False).agg(columns)
             .reset_index())
    for column in ("predict_rows_per_s", "one_row_us", "one_row_frame_us"):
        if column in table:  # each system's over sklearn's, paired within repeats
            table[f"{column}_x_sklearn"] = [
                _paired_ratio(predicts, d, s, "sklearn", column)
                for d, s in zip(table.dataset, table.system, strict=True)]
    return table


def predict_goals(predicts):
    """Rows of (goal, measured, met): the defaults' predict against scikit-learn's MLP."""
    rows = []
    for dataset in predicts.dataset.unique():
        r = _paired_ratio(predicts, dataset, DEFAULTS_SYSTEM, "sklearn", "predict_rows_per_s")
        rows.append({"goal": f"predict with the defaults >= 2x sklearn MLP rows/s "
                             f"(100k rows of {dataset})",
                     "measured": f"{r:.2f}x", "met": "yes" if r >= 2 else "**no**"})
        for column, what in [("one_row_us", "an array"), ("one_row_frame_us", "a DataFrame")]:
            if column not in predicts:
                continue
            r = _paired_ratio(predicts, dataset, DEFAULTS_SYSTEM, "sklearn", column)
            ours = predicts[(predicts.dataset == dataset)
                            & (predicts.system == DEFAULTS_SYSTEM)][column].median()
            rows.append({"goal": f"one-row predict with the defaults <= sklearn MLP's "
                                 f"latency ({dataset}, {what})",
                         "measured": f"{ours:.0f} us, {r:.2f}x sklearn's",
                         "met": "yes" if r <= 1 else "**no**"})
    return pd.DataFrame(rows)


def plot(table, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    synth = table[table.dataset.str.startswith("synthetic")]
    for system, part in synth.groupby("system", sort=False):
        part = part.sort_values("rows")
        line, = ax.plot(part.rows, part.s_per_epoch, marker="o", label=system)
        real = table[(table.system == system) & table.dataset.isin(list(REAL))]
        ax.scatter(real.rows, real.s_per_epoch, marker="x", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows (lines: synthetic, 50 features; x: diamonds, CPS1988)")
    ax.set_ylabel("seconds per epoch")
    ax.set_title("MLP (256, 256), Adam, batch 256: time per epoch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_report(records, out, *, plan, wall_s):
    df = pd.DataFrame(records)
    df.to_csv(out / "results.csv", index=False)
    errors = df[df["error"].notna()] if "error" in df else df.iloc[:0]
    ok = df.drop(errors.index)
    matmul = ok[ok.task == "matmul"]
    matmul_gflops = float(matmul.matmul_gflops.median())
    fits = ok[ok.task == "fit"]
    predicts = ok[ok.task == "predict"]
    measured = fits if len(fits) else predicts
    valid = ok[ok.task == "valid"]
    if len(valid):
        valid = (valid.groupby("dataset", sort=False)
                 .agg(epoch_s=("epoch_s", "median"), valid_pass_s=("valid_pass_s", "median"),
                      valid_rows=("valid_rows", "first")).reset_index())
    grid = ok[ok.task == "grid"]

    threads = int(matmul.threads.iloc[0])
    md = [
        "# Speed suite results",
        "",
        f"Plan `{plan}`, {int(measured.repeat.max()) + 1} interleaved repeat(s)"
        + (f", {wall_s / 60:.1f} min" if np.isfinite(wall_s) else "")
        + f". {_cpu_name()}, {os.cpu_count()} logical CPUs, "
        f"{threads} torch thread(s) per process; torch {_version('torch')}, "
        f"scikit-learn {_version('scikit-learn')}, skorch {_version('skorch')}, "
        f"skorchless {_version('skorchless')}.",
        "",
        f"float32 matmul: **{matmul_gflops:.0f} GFLOP/s** at 2048x2048 "
        f"(median of {len(matmul)} runs; range {matmul.matmul_gflops.min():.0f}-"
        f"{matmul.matmul_gflops.max():.0f}), {matmul.matmul256_gflops.median():.0f} "
        "GFLOP/s at 256x256 (one batch-sized product).",
        "",
        f"Other processes kept a median of {measured.others_cores.median():.2f} core(s) "
        f"busy during the timed {'fits' if len(fits) else 'predict calls'} (highest "
        f"{measured.others_cores.max():.2f}, of {os.cpu_count()}); on a quiet machine "
        "this is about 0.",
        "",
        "## Goals",
        "",
    ]
    if not len(fits):
        md += [markdown_table(predict_goals(predicts)), ""] if len(predicts) else []
        md += _predict_section(predicts)
        (out / "results.md").write_text("\n".join(md) + "\n")
        return
    table = summarise_fits(fits, matmul_gflops)
    every_goal = goals(table, fits, valid, matmul_gflops)
    if len(predicts):
        every_goal = pd.concat([every_goal, predict_goals(predicts)], ignore_index=True)
    md += [
        markdown_table(every_goal),
        "",
        "## Fit and predict, medians over repeats",
        "",
        "`fit x bare` and `RSS x bare`: median over repeats of the ratio to the bare loop "
        "in the same repeat. `best`: the fastest repeat. `CPU s`: CPU time of the process "
        "during `fit` (all threads). `others`: cores' worth of CPU that other processes "
        "used meanwhile -- 0 on a quiet machine; where it is not, the wall times are "
        "not to be trusted (two OpenMP threads slow down many-fold when a core is taken). "
        "`warm-up s`: a 1-epoch fit on 512 rows run first in the process, which pays the "
        "one-time costs (imports, lazy initialisation) outside the timed fit. "
        "GFLOP/s: 6 x rows x sum(in x out) per epoch over the fit time. "
        "Peak RSS: highest resident memory of the process during `fit` (data loaded "
        "before); `+MB`: its increase during `fit`. Predict: rows/s on up to 100k "
        "training rows.",
        "",
    ]
    shown = table.assign(
        peak_increase=table.peak_rss_mb - table.rss_before_mb)[[
            "dataset", "system", "rows", "features", "epochs", "fit_s", "best_fit_s",
            "fit_cpu_s", "others", "s_per_epoch", "gflops", "of_matmul", "fit_vs_bare",
            "predict_rows_per_s", "peak_rss_mb", "peak_increase", "rss_vs_bare", "warmup_s",
            "runs"]]
    shown.columns = ["dataset", "system", "rows", "features", "epochs", "fit s", "best",
                     "CPU s", "others", "s/epoch", "GFLOP/s", "of matmul", "fit x bare",
                     "predict rows/s", "peak RSS MB", "+MB", "RSS x bare", "warm-up s", "runs"]
    md += [markdown_table(shown), ""]
    md += ["## Speed-ups of skorchless (paired medians)", "",
           "| dataset | vs skorch | vs sklearn MLP | vs bare loop | predict vs sklearn |",
           "|---|---|---|---|---|"]
    for dataset in table.dataset.unique():
        cells = [_paired_ratio(fits, dataset, "skorch", OURS),
                 _paired_ratio(fits, dataset, "sklearn", OURS),
                 _paired_ratio(fits, dataset, BASE, OURS),
                 _paired_ratio(fits, dataset, OURS, "sklearn", "predict_rows_per_s")]
        md.append(f"| {dataset} | " + " | ".join(f"{_fmt(c)}x" for c in cells) + " |")
    if (table.system == DEFAULTS_SYSTEM).any():
        md += ["", f"`{DEFAULTS_SYSTEM}`: skorchless with its defaults `alpha=1e-4` (two "
               "parameter groups in Adam), `input_scaling='robust'`, `n_bins='auto'` "
               "and `ema_decay=0.99` (a moving average of the weights after every step) "
               "(fitted and applied inside `fit` and `predict`; the bins widen the input "
               "layer, so its GFLOP/s column counts the narrower network and understates "
               "its work); the `skorchless` rows turn these off, so that every system "
               "trains the same network on the same inputs."]
    if len(valid):
        md += ["", "## Validation pass", "",
               "skorchless with a 10 % validation set; the loop's validation step "
               "(inference in chunks, loss, R²) timed inside the real loop.", "",
               markdown_table(valid.assign(share=valid.valid_pass_s / valid.epoch_s))]
    if len(grid):
        g = grid.iloc[0]
        w1 = g["wall_n_jobs=1"]
        md += ["", "## Parallel search", "",
               f"GridSearchCV, 4 candidates x cv=2 on synthetic {int(g.rows):,} rows, "
               f"{int(g.epochs)} epochs per fit (median of repeats):", "",
               "| n_jobs | wall s | ratio to n_jobs=1 |", "|---|---|---|",
               f"| 1 | {w1:.1f} | 1.00 |",
               f"| 2 (loky processes) | {g['wall_n_jobs=2 loky']:.1f} | "
               f"{g['wall_n_jobs=2 loky'] / w1:.2f} |",
               f"| 2 (threading) | {g['wall_n_jobs=2 threading']:.1f} | "
               f"{g['wall_n_jobs=2 threading'] / w1:.2f} |", "",
               f"Measured after one untimed search with each setting; the very first "
               f"n_jobs=2 search (process start and imports in the workers) took "
               f"{g.first_loky_s:.1f} s.", "",
               f"torch threads in the main process before/after: "
               f"{int(g.main_threads_before)}/{int(g.main_threads_after)}; inside loky workers "
               f"(before/after a fit): {_probe(g.worker_threads_loky)}; inside threading "
               f"workers: {_probe(g.worker_threads_threading)}."]
    md += [""] + _predict_section(predicts)
    if len(errors):
        md += ["", "## Failed measurements", ""]
        md += [f"- {r.get('task')} {r.get('system', '')} {r.get('dataset', '')}: {r['error']}"
               for _, r in errors.iterrows()]
    (out / "results.md").write_text("\n".join(md) + "\n")
    plot(table, out / "epoch_time.png")


def _predict_section(predicts):
    if not len(predicts):
        return []
    table = summarise_predicts(predicts)
    names = {"dataset": "dataset", "system": "system",
             "predict_rows_per_s": "rows/s (100k rows)", "predict_rows_per_s_x_sklearn":
             "x sklearn", "one_row_us": "one row, array (us)", "one_row_us_x_sklearn":
             "x sklearn", "one_row_frame_us": "one row, DataFrame (us)",
             "one_row_frame_us_x_sklearn": "x sklearn", "others_cores": "others"}
    shown = table[[c for c in names if c in table]]
    shown.columns = [names[c] for c in shown.columns]
    return ["## Predict", "",
            "Each system fitted for one epoch on the table (and, for the DataFrame column, "
            "on the table as a DataFrame); `rows/s`: predict on 100k rows (the table's "
            "rows repeated), median of 5 calls; `one row`: median of 200 calls on the "
            "first row, after 20 untimed ones. Each timing is run again (up to 20 times, "
            "a second apart) until other processes kept fewer than 0.1 cores busy during "
            "it; `others`: what they kept busy during the timings used (0 on a quiet "
            "machine). `x sklearn`: the ratio to scikit-learn's MLP in the same repeat "
            "(rows/s: higher is faster; latency: lower is faster), median over repeats.",
            "", markdown_table(shown), ""]


def _probe(probes):
    if isinstance(probes, str):  # read back from results.csv
        probes = ast.literal_eval(probes)
    return ", ".join(f"{p['before']}/{p['after']}" for p in probes)

