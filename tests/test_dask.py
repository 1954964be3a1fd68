"""Scaling out: grid search on a Dask cluster, and out-of-core training by partial_fit."""

import os

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, make_regression
from sklearn.model_selection import GridSearchCV

from skorchless import TorchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = {"hidden_layer_sizes": (8,), "max_iter": 15, "learning_rate_init": 0.01,
        "random_state": 0, "device": "cpu"}


def test_grid_search_on_a_dask_cluster_matches_the_local_search():
    distributed = pytest.importorskip("distributed")
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:150], y[:150]
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(8,), (16,)]}

    local = GridSearchCV(TorchMLPRegressor(**TINY), grid, cv=2).fit(X, y)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 host="127.0.0.1", dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            remote = GridSearchCV(TorchMLPRegressor(**TINY), grid, cv=2, n_jobs=-1)
            remote.fit(X, y)
        worker_pids = set(client.run(os.getpid).values())

    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(remote.cv_results_["split1_test_score"],
                                  local.cv_results_["split1_test_score"])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    X, y = make_regression(n_samples=1200, n_features=5, noise=5.0, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]).assign(y=y)
    frame = frame.round(4)  # short decimals: every CSV parser reads back the same floats
    path = tmp_path_factory.mktemp("big") / "table.csv"
    frame.iloc[:1000].to_csv(path, index=False)
    return path, frame.iloc[:1000], frame.iloc[1000:]


def test_out_of_core_training_over_csv_chunks(table):
    path, in_memory, held_out = table
    features = [f"x{i}" for i in range(5)]

    reg = TorchMLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                            random_state=0, device="cpu")
    n_passes = 8
    for _ in range(n_passes):
        for chunk in pd.read_csv(path, chunksize=250):
            reg.partial_fit(chunk[features], chunk["y"])

    assert len(reg.history_) == n_passes * 4  # one entry per partial_fit call
    assert reg.t_ == n_passes * len(in_memory)
    assert list(reg.feature_names_in_) == features
    assert reg.score(held_out[features], held_out["y"]) > 0.9

    # the same as training on the same chunks held in memory
    same = TorchMLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                             random_state=0, device="cpu")
    for _ in range(n_passes):
        for start in range(0, len(in_memory), 250):
            chunk = in_memory.iloc[start:start + 250]
            same.partial_fit(chunk[features], chunk["y"])
    np.testing.assert_array_equal(reg.predict(held_out[features]),
                                  same.predict(held_out[features]))


def test_out_of_core_training_over_dask_array_blocks(table):
    da = pytest.importorskip("dask.array")
    _, in_memory, held_out = table
    X = in_memory.drop(columns="y").to_numpy()
    y = in_memory["y"].to_numpy()
    X_blocks = da.from_array(X, chunks=(250, -1))
    y_blocks = da.from_array(y, chunks=250)

    reg = TorchMLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                            random_state=0, device="cpu")
    for _ in range(8):
        for i in range(X_blocks.numblocks[0]):
            reg.partial_fit(X_blocks.blocks[i].compute(), y_blocks.blocks[i].compute())
    assert reg.t_ == 8 * len(X)
    assert reg.score(held_out.drop(columns="y").to_numpy(), held_out["y"]) > 0.9
