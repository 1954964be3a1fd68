"""The CUDA path: the same estimators, tensors and steps on a GPU.

Skipped on machines without CUDA (CI has none); run them where one is present.
"""

import contextlib
import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression

from skorchless import TorchMLPClassifier, TorchMLPRegressor
from skorchless._engine import step as _backprop
from skorchless._engine.loop import TensorData, _batch
from skorchless._engine.losses import squared_error
from skorchless._engine.network import build_mlp
from skorchless._engine.optim import optimizer_step
from skorchless._engine.step import GraphedStep, MLPStep, make_step

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _mlp(device):
    return build_mlp(5, (16, 8), 2, activation="relu", dropout=0.0,
                     init_generator=torch.Generator().manual_seed(0)).to(device)


def test_regressor_fits_and_predicts_on_cuda():
    X, y = make_regression(n_samples=2000, n_features=8, noise=5.0, random_state=0)
    reg = TorchMLPRegressor(hidden_layer_sizes=(32, 32), device="cuda", random_state=0)
    reg.fit(X, y)
    assert reg.device_.type == "cuda"
    assert next(reg.module_.parameters()).device.type == "cuda"
    prediction = reg.predict(X)
    assert isinstance(prediction, np.ndarray) and prediction.dtype == np.float64
    assert reg.score(X, y) > 0.95


def test_auto_device_picks_cuda():
    X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    reg = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, y)
    assert reg.device_.type == "cuda"


def test_classifier_fits_and_predicts_on_cuda():
    X, y = make_classification(n_samples=1500, n_classes=3, n_informative=5,
                               random_state=0)
    clf = TorchMLPClassifier(hidden_layer_sizes=(32,), device="cuda", random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.score(X, y) > 0.85


def test_cuda_and_cpu_fits_reach_the_same_quality():
    X, y = make_regression(n_samples=1500, n_features=6, noise=2.0, random_state=1)
    scores = [
        TorchMLPRegressor(hidden_layer_sizes=(32,), device=device, random_state=0)
        .fit(X, y).score(X, y)
        for device in ("cpu", "cuda")
    ]
    assert abs(scores[0] - scores[1]) < 0.02


def test_a_cuda_model_pickles_and_predicts_the_same():
    X, y = make_regression(n_samples=300, n_features=4, random_state=0)
    reg = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, device="cuda",
                            random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_a_cuda_model_loads_on_the_cpu_when_asked():
    X, y = make_regression(n_samples=300, n_features=4, random_state=0)
    reg = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, device="cuda",
                            random_state=0).fit(X, y)
    on_gpu = reg.predict(X)
    loaded = pickle.loads(pickle.dumps(reg.set_params(device="cpu")))
    assert loaded.device_.type == "cpu"
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.predict(X), on_gpu, rtol=1e-4, atol=1e-4)


def test_hand_written_gradients_match_autograd_on_cuda():
    g = torch.Generator(device="cuda").manual_seed(0)
    module = _mlp("cuda")
    X = torch.randn(64, 5, generator=g, device="cuda")
    y = torch.randn(64, 2, generator=g, device="cuda")
    reference = copy.deepcopy(module)
    squared_error(reference(X), y).mean().backward()
    step = make_step(module, squared_error, torch.optim.SGD(module.parameters(), lr=0.0))
    assert isinstance(step, MLPStep)
    step(X, y, None)
    for p, q in zip(module.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5)


def test_direct_fused_adam_equals_optimizer_step_on_cuda():
    def trained(direct):
        module = _mlp("cuda")
        optimizer = torch.optim.Adam(module.parameters(), lr=0.01, fused=True)
        step = optimizer_step(optimizer) if direct else optimizer.step
        g = torch.Generator(device="cuda").manual_seed(0)
        for _ in range(5):
            for p in module.parameters():
                p.grad = torch.randn(p.shape, generator=g, device="cuda")
            step()
        return [p.detach() for p in module.parameters()]

    for a, b in zip(trained(True), trained(False), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("graphs", [False, True])
def test_training_steps_never_wait_for_the_gpu(graphs, monkeypatch):
    # The "no host synchronisation per batch": batches gathered from
    # the resident tensors, the step, the optimizer and the loss sum all queue.
    monkeypatch.setattr(_backprop, "CUDA_GRAPHS", graphs)
    g = torch.Generator(device="cuda").manual_seed(0)
    data = TensorData(torch.randn(1000, 5, device="cuda"), torch.randn(1000, 2, device="cuda"))
    module = _mlp("cuda")
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    optimizer.step()  # creates the optimizer state (the first step of a fit)
    step = make_step(module, squared_error, optimizer, batch=(128, data.X, data.y, None))
    assert isinstance(step, GraphedStep) == graphs
    for _ in range(GraphedStep.WARMUP_STEPS + 1):  # warm up and record
        step(*_batch(data, 0, 128, None, step.inputs))
    order = torch.randperm(len(data), generator=g, device="cuda")
    total = torch.zeros((), device="cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for start in range(0, len(data), 128):
            X, y, weight = _batch(data, start, start + 128, order, step.inputs)
            total.add_(step(X, y, weight), alpha=X.shape[0])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert not graphs or step.graph
    step.close()
    assert torch.isfinite(total).item()


#: Turns the CUDA graphs off: eager steps throughout.
NO_GRAPHS = (_backprop, "CUDA_GRAPHS", False)


@pytest.mark.parametrize("params", [
    {"learning_rate": "adaptive", "early_stopping": True, "n_iter_no_change": 2},
    {"learning_rate": "invscaling", "shuffle": False, "loss": "huber"},
    {"solver": "adamw", "alpha": 0.01, "ema_decay": None, "batch_size": 100},
])
def test_regressor_trains_the_same_with_cuda_graphs(params, fit_before_and_after):
    X, y = make_regression(n_samples=1234, n_features=6, noise=3.0, random_state=0)
    graphed, eager = fit_before_and_after(
        lambda: TorchMLPRegressor(hidden_layer_sizes=(32, 16), max_iter=15, device="cuda",
                                  random_state=0, **params),
        X, y, NO_GRAPHS, sample_weight=np.linspace(0.5, 2.0, len(y)),
    )
    assert graphed.n_iter_ == eager.n_iter_
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(graphed.predict(X), eager.predict(X), rtol=1e-3, atol=1e-3)


def test_classifier_trains_the_same_with_cuda_graphs(fit_before_and_after):
    X, y = make_classification(n_samples=1500, n_classes=3, n_informative=5,
                               random_state=0)
    graphed, eager = fit_before_and_after(
        lambda: TorchMLPClassifier(hidden_layer_sizes=(32,), max_iter=10, device="cuda",
                                   label_smoothing=0.1, random_state=0),
        X, y, NO_GRAPHS,
    )
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(graphed.predict_proba(X), eager.predict_proba(X), atol=1e-4)


def test_the_graph_follows_the_learning_rate():
    # A zero learning rate set after recording freezes the weights.
    data = TensorData(torch.randn(512, 5, device="cuda"), torch.randn(512, 2, device="cuda"))
    module = _mlp("cuda")
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2, fused=True)
    step = make_step(module, squared_error, optimizer, batch=(64, data.X, data.y, None))
    for start in range(0, 512, 64):
        step(*_batch(data, start, start + 64, None, step.inputs))
    assert step.graph
    optimizer.param_groups[0]["lr"] = 0.0
    before = [p.detach().clone() for p in module.parameters()]
    step(*_batch(data, 0, 64, None, step.inputs))
    for p, q in zip(module.parameters(), before, strict=True):
        assert torch.equal(p.detach(), q)
    step.close()


@contextlib.contextmanager
def _gpu_memory_limited_to(extra_bytes):
    # This process may reserve only ``extra_bytes`` more GPU memory (a limit
    # of torch's allocator, so tests in other processes are not starved).
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    limit = torch.cuda.memory_reserved() + extra_bytes
    torch.cuda.set_per_process_memory_fraction(limit / total)
    try:
        yield
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)


def test_training_data_larger_than_the_gpu_memory_is_a_clear_error():
    X = np.random.default_rng(0).standard_normal((1_000_000, 50))
    reg = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=1, device="cuda")
    with _gpu_memory_limited_to(64 * 2**20), pytest.raises(
        MemoryError, match="X .* does not fit in the free memory of device"
    ):
        reg.fit(X, X[:, 0])


def test_predict_needs_gpu_memory_for_one_chunk_only():
    X = np.random.default_rng(0).standard_normal((1_000_000, 50))
    reg = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=1, device="cuda",
                            random_state=0).fit(X[:2000], X[:2000, 0])
    expected = reg.predict(X[:1000])
    with _gpu_memory_limited_to(128 * 2**20):  # X on the GPU would take 200 MB
        prediction = reg.predict(X)
    assert prediction.shape == (1_000_000,)
    np.testing.assert_allclose(prediction[:1000], expected, rtol=1e-5, atol=1e-6)
