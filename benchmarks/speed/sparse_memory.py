"""Peak memory of fit and predict on a wide, very sparse matrix.

A 2000 x 50000 CSR matrix with 0.02 % non-zeros (20,000 values, 0.3 MB with
its indices) is what a bag-of-words or one-hot table looks like. Dense, it
would be 800 MB of float64; skorchless keeps it sparse and its first layer
multiplies each batch's non-zeros, so the memory of a fit is that of the
network: the 50000 x 256 first layer (49 MB), Adam's two moments, the weight
average and the best epoch's copy, five copies of about 49 MB each (the
gradient is computed a block of rows at a time, as the optimizer steps it).

Each measurement runs in a fresh process: after the imports, the data (built
from its non-zeros, so that making it costs no dense temporary) and a warm-up
fit on 64 rows of 10 columns (one-time costs: lazy imports), it reads the
resident memory, fits and predicts while a thread samples the resident memory
every millisecond, and reports the peak above that baseline.

::

    python benchmarks/speed/sparse_memory.py            # sparse, default estimator
    python benchmarks/speed/sparse_memory.py --dense    # the same data densified first
"""

import argparse
import json
import subprocess
import sys
import threading
import time

#: The goal: peak memory of fit on this matrix above the baseline, in MB.
GOAL_MB = 300


def measure(dense, rows, columns, density, solver):
    """Fit and predict in this process; return the memory figures in MB."""
    import warnings

    import numpy as np
    import psutil
    import scipy.sparse

    from skorchless import TorchMLPRegressor

    rng = np.random.default_rng(0)
    nnz = int(rows * columns * density)
    X = scipy.sparse.csr_matrix(
        (rng.random(nnz), (rng.integers(0, rows, nnz), rng.integers(0, columns, nnz))),
        shape=(rows, columns))
    y = np.asarray(X.sum(axis=1)).ravel()
    if dense:
        X = X.toarray()

    def fit(X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter reached
            model = TorchMLPRegressor(max_iter=3, solver=solver, random_state=0)
            return model.fit(X, y)

    fit(X[:64, :10], y[:64])
    process = psutil.Process()
    baseline = peak = process.memory_info().rss
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    model = fit(X, y)
    model.predict(X)
    done.set()
    sampler.join()
    first_layer_mb = model.coefs_[0].size * 4 / 2**20  # float32, as trained
    nnz = int(X.nnz if hasattr(X, "nnz") else np.count_nonzero(X))
    return {"dense": dense, "solver": solver, "shape": [rows, columns], "nnz": nnz,
            "first_layer_mb": first_layer_mb,
            "baseline_mb": baseline / 2**20, "peak_mb": peak / 2**20,
            "fit_predict_peak_above_baseline_mb": (peak - baseline) / 2**20}


def main(argv=None):
    """Run the measurement in a child process and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dense", action="store_true", help="densify X before fitting")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=50000)
    parser.add_argument("--density", type=float, default=0.0002)
    parser.add_argument("--solver", default="adam")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.dense, args.rows, args.columns, args.density,
                                 args.solver)))
        return 0
    command = [sys.executable, __file__, "--child", *(argv or sys.argv[1:])]
    result = json.loads(subprocess.run(command, check=True, capture_output=True,
                                       text=True).stdout)
    above = result["fit_predict_peak_above_baseline_mb"]
    print(json.dumps(result, indent=1))
    print(f"peak memory of fit + predict above the baseline: {above:.0f} MB "
          f"(goal: under {GOAL_MB} MB)")
    return 0 if result["dense"] or above < GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
