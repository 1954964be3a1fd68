"""One measurement of the speed suite, run in a fresh process by ``run.py``.

    python benchmarks/speed/worker.py '{"task": "fit", "system": "bare", ...}'

A fresh process per measurement makes the peak RSS that of one system alone.
Prints one JSON object on its last line of output.

Tasks
-----
fit     fit one system on one dataset, then time its predict.
predict predict of one system fitted for an epoch: rows/s on 100k rows (the
        table repeated), and the latency of one-row calls on an array and on a
        DataFrame (systems that take one, fitted on the same table as a frame).
matmul  float32 matrix-multiply throughput (2048^3 and 256^3, the batch shape).
valid   share of a skorchless epoch spent in the validation pass.
grid    GridSearchCV wall time with n_jobs=1 and n_jobs=2 (process and thread
        workers), and the torch thread count seen inside the workers.
tta     time to accuracy: fit one model (skorchless with its defaults, LightGBM,
        HistGradientBoosting) on a table's training part, R^2 on its held-out part.
"""

import gc
import json
import re
import statistics
import sys
import time
from pathlib import Path

import sklearn.neural_network  # noqa: F401  (every fit process imports the same libraries)
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import data  # noqa: E402
import systems  # noqa: E402
from cpuload import Meter  # noqa: E402


def _status_mb(field):
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+)", status)[1]) / 1024


def _reset_peak_rss():
    # Linux: writing 5 resets the peak resident set size (VmHWM) to the current one.
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fit_task(system, dataset, epochs, seed=0, predict_rows=100_000, predict_repeats=3):
    X, y = data.load(dataset)
    # A first fit in a process pays one-time costs (torch.optim imports
    # torch._dynamo, about 1 s of CPU); a tiny fit pays them before the clock starts.
    start = time.perf_counter()
    systems.make(system, 1, seed).fit(X[:512], y[:512])
    warmup_s = time.perf_counter() - start
    model = systems.make(system, epochs, seed)
    gc.collect()
    rss_before = _status_mb("VmRSS")
    peak_reset = _reset_peak_rss()
    with Meter() as meter:
        model.fit(X, y)
    peak_rss = _status_mb("VmHWM")
    if model.epochs_run != epochs:
        raise RuntimeError(f"{system} ran {model.epochs_run} epochs instead of {epochs}.")
    X_pred = X[:predict_rows]
    model.predict(X_pred)  # warm-up
    predict_s = _median_time(lambda: model.predict(X_pred), predict_repeats)
    return {
        "system": system, "dataset": dataset, "rows": X.shape[0], "features": X.shape[1],
        "epochs": epochs, "fit_s": meter.wall_s, "fit_cpu_s": meter.cpu_s,
        "others_cores": meter.others, "warmup_s": warmup_s,
        "predict_rows_per_s": X_pred.shape[0] / predict_s,
        "rss_before_mb": rss_before, "peak_rss_mb": peak_rss,
        "peak_rss_exact": peak_reset, "threads": torch.get_num_threads(),
    }


def _quiet_median(fn, calls, max_others=0.1, attempts=20, pause_s=1.0):
    """Median time of ``calls`` calls of ``fn``, from a run the machine was quiet for.

    Runs the calls until other processes used fewer than ``max_others`` cores
    meanwhile (as ``cpuload.quiet_time``), at most ``attempts`` times; returns
    ``(median_s, others, attempts_used)`` of the quietest run.
    """
    best = None
    for attempt in range(1, attempts + 1):
        times = []
        with Meter() as meter:
            for _ in range(calls):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
        if best is None or meter.others < best[1]:
            best = (statistics.median(times), meter.others, attempt)
        if not meter.others >= max_others:  # also stops when unknown (nan)
            break
        time.sleep(pause_s)
    return best


def predict_task(system, dataset, seed=0, rows=100_000, repeats=5, calls=200, max_others=0.1):
    """Time predict: ``rows`` rows at once (median of ``repeats``), one row (of ``calls``).

    The model is fitted for one epoch (predict's cost does not depend on the
    training). The one-row calls take the first row of the table, as an
    array and, for the systems in ``systems.FRAME_SYSTEMS``, as a one-row
    DataFrame of a model fitted on the table as a frame (columns ``x0``...),
    so that every system checks the feature names it was fitted with. Each
    timing is repeated until other processes kept fewer than ``max_others``
    cores busy during it (``_quiet_median``); ``others_*`` report what they
    used during the timing kept.
    """
    import numpy as np
    import pandas as pd

    X, y = data.load(dataset)
    model = systems.make(system, 1, seed).fit(X, y)
    X_many = np.resize(X, (rows, X.shape[1]))  # the table's rows, repeated
    row = X[:1].copy()
    for _ in range(20):  # warm-up
        model.predict(row)
    model.predict(X_many)
    many_s, others_many, tries_many = _quiet_median(
        lambda: model.predict(X_many), repeats, max_others)
    one_s, others_one, tries_one = _quiet_median(lambda: model.predict(row), calls, max_others)
    result = {"task": "predict", "system": system, "dataset": dataset, "rows": rows,
              "features": X.shape[1], "predict_rows_per_s": rows / many_s,
              "one_row_us": one_s * 1e6, "others_cores": max(others_many, others_one),
              "attempts": tries_many + tries_one, "threads": torch.get_num_threads()}
    if system in systems.FRAME_SYSTEMS:
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        model = systems.make(system, 1, seed).fit(frame, y)
        row = frame.iloc[:1].copy()
        for _ in range(20):
            model.predict(row)
        frame_s, others_frame, _ = _quiet_median(lambda: model.predict(row), calls, max_others)
        result["one_row_frame_us"] = frame_s * 1e6
        result["others_cores_frame"] = others_frame
    return result


def _tta_model(model, categorical):
    if model == "skorchless-defaults":
        from skorchless import TorchMLPRegressor

        return TorchMLPRegressor(random_state=0)
    if model == "lightgbm":
        import lightgbm

        return lightgbm.LGBMRegressor(random_state=0, verbose=-1)
    if model == "hgb":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            random_state=0, categorical_features="from_dtype" if categorical else None)
    raise ValueError(f"Unknown model {model!r}; use skorchless-defaults, lightgbm or hgb.")


def tta_task(model, dataset):
    from sklearn.metrics import r2_score

    X_train, X_test, y_train, y_test = data.load_split(dataset)
    categorical = hasattr(X_train, "select_dtypes") and (
        len(X_train.select_dtypes("category").columns) > 0)
    est = _tta_model(model, categorical)
    with Meter() as meter:
        est.fit(X_train, y_train)
    start = time.perf_counter()
    predicted = est.predict(X_test)
    predict_s = time.perf_counter() - start
    epochs = getattr(est, "n_iter_", None)
    return {"task": "tta", "model": model, "dataset": dataset, "rows": len(y_train),
            "test_rows": len(y_test), "fit_s": meter.wall_s, "fit_cpu_s": meter.cpu_s,
            "others_cores": meter.others,
            "r2": float(r2_score(y_test, predicted)), "predict_s": predict_s,
            "iterations": int(epochs) if epochs is not None else None}


def matmul_task(repeats=10):
    def gflops(size, repeats):
        a, b = torch.randn(size, size), torch.randn(size, size)
        for _ in range(3):
            a @ b
        return 2 * size**3 / _median_time(lambda: a @ b, repeats) / 1e9

    return {"task": "matmul", "threads": torch.get_num_threads(),
            "matmul_gflops": gflops(2048, repeats), "matmul256_gflops": gflops(256, 50 * repeats)}


def valid_task(dataset, epochs, seed=0):
    """Time the validation pass inside the real loop, against the whole epoch.

    Fits skorchless with an explicit validation set of 10 % of the rows (the
    default ``validation_fraction``); the loop's validation step
    (``skorchless._engine.loop._validate``: forward pass, loss, score) is wrapped
    with a timer.
    """
    import skorchless._engine.loop as training

    X, y = data.load(dataset)
    n_valid = X.shape[0] // 10
    pass_times = []
    validate = training._validate

    def timed_validate(*args, **kwargs):
        start = time.perf_counter()
        out = validate(*args, **kwargs)
        pass_times.append(time.perf_counter() - start)
        return out

    training._validate = timed_validate
    model = systems.SkorchlessSystem(epochs, seed).model
    model.set_params(early_stopping=True)
    model.fit(X[n_valid:], y[n_valid:], X_val=X[:n_valid], y_val=y[:n_valid])
    epoch_s = statistics.median(h["seconds"] for h in model.history_)
    return {"task": "valid", "dataset": dataset, "epochs": epochs,
            "valid_rows": n_valid, "epoch_s": epoch_s,
            "valid_pass_s": statistics.median(pass_times)}


def _threads_probe(_):
    # Runs inside a joblib worker: torch's thread count before and after a fit.
    import warnings

    from skorchless import TorchMLPRegressor

    before = torch.get_num_threads()
    X, y = data.synthetic(500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=2, device="cpu")
        model.fit(X, y)
    return {"before": before, "after": torch.get_num_threads()}


def grid_task(rows, epochs, repeats):
    import warnings

    from joblib import Parallel, delayed, parallel_config
    from sklearn.model_selection import GridSearchCV

    X, y = data.synthetic(rows)
    grid = {"alpha": [1e-4, 1e-3], "learning_rate_init": [1e-3, 3e-3]}

    def search(n_jobs, backend):
        model = systems.SkorchlessSystem(epochs, 0).model
        with parallel_config(backend=backend), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            GridSearchCV(model, grid, cv=2, n_jobs=n_jobs).fit(X, y)

    walls = {"n_jobs=1": [], "n_jobs=2 loky": [], "n_jobs=2 threading": []}
    main_threads = torch.get_num_threads()
    start = time.perf_counter()
    search(2, "loky")  # untimed: starts the process workers and pays their imports
    first_loky_s = time.perf_counter() - start
    search(1, "loky")
    for _ in range(repeats):  # interleaved
        for key, (n_jobs, backend) in zip(
            walls, [(1, "loky"), (2, "loky"), (2, "threading")], strict=True
        ):
            start = time.perf_counter()
            search(n_jobs, backend)
            walls[key].append(time.perf_counter() - start)
    probes = {
        backend: Parallel(n_jobs=2, backend=backend)(
            delayed(_threads_probe)(i) for i in range(2))
        for backend in ("loky", "threading")
    }
    return {"task": "grid", "rows": rows, "epochs": epochs, "fits": 4 * 2,
            "main_threads_before": main_threads, "main_threads_after": torch.get_num_threads(),
            "first_loky_s": first_loky_s,
            **{f"wall_{k}": statistics.median(v) for k, v in walls.items()},
            "worker_threads_loky": probes["loky"],
            "worker_threads_threading": probes["threading"]}


TASKS = {"fit": fit_task, "predict": predict_task, "matmul": matmul_task,
         "valid": valid_task, "grid": grid_task, "tta": tta_task}


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    result = TASKS[spec.pop("task")](**spec)
    result.setdefault("task", "fit")
    print(json.dumps(result))
