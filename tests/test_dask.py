"""Scaling out: grid search on a Dask cluster, dask-ml's wrappers, out-of-core partial_fit.

The clusters are ``distributed.LocalCluster``: two worker processes for the grid search
(estimators travel as pickles), one in-process worker for dask-ml's ``Incremental`` and
``ParallelPostFit`` (whose graphs the scheduler still pickles, but nothing hops between
processes, so the results can be compared exactly).
"""

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


# dask-ml: Incremental streams the blocks of a dask array through partial_fit, one
# block after the other on a worker; ParallelPostFit predicts block by block.


def _in_blocks(X, y, n_block):
    return [(X[i:i + n_block], y[i:i + n_block]) for i in range(0, len(X), n_block)]


@pytest.fixture(scope="module")
def in_process_client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def arrays(table):
    _, in_memory, held_out = table
    return (in_memory.drop(columns="y").to_numpy(), in_memory["y"].to_numpy(),
            held_out.drop(columns="y").to_numpy(), held_out["y"].to_numpy())


SMALL = {"hidden_layer_sizes": (32,), "learning_rate_init": 0.01, "random_state": 0,
         "device": "cpu"}


def test_incremental_over_dask_blocks_is_partial_fit_over_the_same_blocks(
        in_process_client, arrays):
    pytest.importorskip("dask_ml")
    da = pytest.importorskip("dask.array")
    from dask_ml.wrappers import Incremental

    X, y, X_test, y_test = arrays
    X_blocks, y_blocks = da.from_array(X, chunks=(250, -1)), da.from_array(y, chunks=250)

    # one pass, blocks in their order: exactly the local loop over the same blocks
    inc = Incremental(TorchMLPRegressor(**SMALL), shuffle_blocks=False).fit(X_blocks, y_blocks)
    local = TorchMLPRegressor(**SMALL)
    for X_block, y_block in _in_blocks(X, y, 250):
        local.partial_fit(X_block, y_block)
    assert isinstance(inc.estimator_, TorchMLPRegressor)
    assert inc.estimator_.t_ == len(X) and len(inc.estimator_.history_) == 4
    np.testing.assert_array_equal(inc.predict(X_test), local.predict(X_test))

    # blocks shuffled with random_state: dask-ml's order, still the same updates
    order = list(range(4))
    np.random.RandomState(3).shuffle(order)
    shuffled = Incremental(TorchMLPRegressor(**SMALL), random_state=3).fit(X_blocks, y_blocks)
    local = TorchMLPRegressor(**SMALL)
    blocks = _in_blocks(X, y, 250)
    for i in order:
        local.partial_fit(*blocks[i])
    np.testing.assert_array_equal(shuffled.predict(X_test), local.predict(X_test))


def test_incremental_passes_are_the_local_passes(in_process_client, arrays):
    pytest.importorskip("dask_ml")
    da = pytest.importorskip("dask.array")
    from dask_ml.wrappers import Incremental

    X, y, X_test, y_test = arrays
    X_blocks, y_blocks = da.from_array(X, chunks=(250, -1)), da.from_array(y, chunks=250)
    n_passes = 8

    inc = Incremental(TorchMLPRegressor(**SMALL), shuffle_blocks=False)
    for _ in range(n_passes):
        inc.partial_fit(X_blocks, y_blocks)  # each call: one pass over every block
    local = TorchMLPRegressor(**SMALL)
    for _ in range(n_passes):
        for X_block, y_block in _in_blocks(X, y, 250):
            local.partial_fit(X_block, y_block)

    assert inc.estimator_.t_ == n_passes * len(X)
    assert len(inc.estimator_.loss_curve_) == n_passes * 4
    # Between calls the fitted model travels in the graph as a pickle, which
    # carries Adam's moments and the shuffling generator: the same updates.
    np.testing.assert_array_equal(inc.predict(X_test), local.predict(X_test))
    assert local.score(X_test, y_test) > 0.95


def test_incremental_classifier_passes_classes_to_partial_fit(in_process_client):
    pytest.importorskip("dask_ml")
    da = pytest.importorskip("dask.array")
    from dask_ml.wrappers import Incremental
    from sklearn.datasets import make_classification

    from skorchless import TorchMLPClassifier

    X, y = make_classification(n_samples=900, n_features=6, random_state=0)
    X, X_test, y, y_test = X[:600], X[600:], y[:600], y[600:]
    params = {**SMALL, "hidden_layer_sizes": (16,)}
    inc = Incremental(TorchMLPClassifier(**params), shuffle_blocks=False)
    X_blocks, y_blocks = da.from_array(X, chunks=(200, -1)), da.from_array(y, chunks=200)
    inc.fit(X_blocks, y_blocks, classes=[0, 1])

    local = TorchMLPClassifier(**params)
    for X_block, y_block in _in_blocks(X, y, 200):
        local.partial_fit(X_block, y_block, classes=[0, 1])
    np.testing.assert_array_equal(inc.estimator_.classes_, [0, 1])
    np.testing.assert_array_equal(inc.predict_proba(X_test), local.predict_proba(X_test))
    for _ in range(7):  # one optimizer step per block: it takes a few passes to learn
        inc.partial_fit(X_blocks, y_blocks, classes=[0, 1])
    assert inc.score(X_test, y_test) > 0.8


def test_parallel_post_fit_predicts_block_by_block_as_locally(in_process_client, arrays):
    pytest.importorskip("dask_ml")
    da = pytest.importorskip("dask.array")
    dd = pytest.importorskip("dask.dataframe")
    from dask_ml.wrappers import ParallelPostFit
    from sklearn.datasets import make_classification

    from skorchless import TorchMLPClassifier

    X, y, X_test, _ = arrays
    reg = TorchMLPRegressor(**SMALL, max_iter=5).fit(X, y)
    # blocks of uneven sizes, none a multiple of a batch
    X_blocks = da.from_array(X, chunks=((333, 333, 334), (5,)))
    predicted = ParallelPostFit(reg).predict(X_blocks)
    assert isinstance(predicted, da.Array) and predicted.chunks == ((333, 333, 334),)
    np.testing.assert_array_equal(predicted.compute(), reg.predict(X))
    # the same without dask-ml: one map_blocks
    mapped = X_blocks.map_blocks(reg.predict, drop_axis=1, dtype="float64")
    np.testing.assert_array_equal(mapped.compute(), reg.predict(X))

    Xc, yc = make_classification(n_samples=500, n_features=6, n_classes=3,
                                 n_informative=4, random_state=0)
    clf = TorchMLPClassifier(**SMALL, max_iter=5).fit(Xc, yc.astype(str))
    blocks = da.from_array(Xc, chunks=(120, -1))
    wrapped = ParallelPostFit(clf)
    np.testing.assert_array_equal(wrapped.predict(blocks).compute(), clf.predict(Xc))
    # the last block (20 rows) is predicted in numpy, the whole in torch: the
    # same to float64 rounding (see skorchless._predictor)
    np.testing.assert_allclose(wrapped.predict_proba(blocks).compute(),
                               clf.predict_proba(Xc), rtol=1e-12, atol=1e-15)

    # a dask DataFrame: each partition is a pandas frame with the fitted column names
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    by_name = TorchMLPRegressor(**SMALL, max_iter=5).fit(frame, y)
    partitions = dd.from_pandas(frame, npartitions=3)
    np.testing.assert_array_equal(ParallelPostFit(by_name).predict(partitions).compute(),
                                  by_name.predict(frame))
