"""The hand-written back-propagation gives autograd's gradients and training."""

import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression

from skorchless import Callback, TorchMLPClassifier, TorchMLPRegressor
from skorchless._engine.losses import binary_cross_entropy, cross_entropy, squared_error
from skorchless._engine.network import SeededDropout, build_mlp
from skorchless._engine.optim import optimizer_step
from skorchless._engine.sparse import SparseRows
from skorchless._engine.step import AutogradStep, MLPStep, make_step


def _mlp(activation="relu", sizes=(7, 5), n_inputs=4, n_outputs=3, dropout=0.0):
    return build_mlp(
        n_inputs, sizes, n_outputs, activation=activation, dropout=dropout,
        init_generator=torch.Generator().manual_seed(0),
    )


def _losses():
    import torch.nn.functional as F

    return {
        "squared": lambda out, y: ((out - y) ** 2).mean(1),
        "huber": lambda out, y: F.huber_loss(out, y, reduction="none", delta=0.5).mean(1),
        "cross_entropy": lambda out, y: F.cross_entropy(
            out, y, reduction="none", label_smoothing=0.1),
    }


def _autograd_grads(module, loss_fn, X, y, weight):
    module = copy.deepcopy(module)
    losses = loss_fn(module(X), y)
    loss = losses.mean() if weight is None else (losses * weight).mean()
    loss.backward()
    return loss.detach(), [p.grad for p in module.parameters()]


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("loss_name", ["squared", "huber", "cross_entropy"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sizes", [(7, 5), (6,), ()])
def test_gradients_match_autograd(activation, loss_name, weighted, sizes):
    g = torch.Generator().manual_seed(1)
    module = _mlp(activation, sizes)
    X = torch.randn(11, 4, generator=g)
    if loss_name == "cross_entropy":
        y = torch.randint(0, 3, (11,), generator=g)
    else:
        y = torch.randn(11, 3, generator=g)
    weight = torch.rand(11, generator=g) * 2 if weighted else None
    loss_fn = _losses()[loss_name]
    expected_loss, expected = _autograd_grads(module, loss_fn, X, y, weight)

    optimizer = torch.optim.SGD(module.parameters(), lr=0.0)
    step = make_step(module, loss_fn, optimizer)
    assert isinstance(step, MLPStep)
    loss = step(X, y, weight)

    torch.testing.assert_close(loss, expected_loss)
    for p, grad in zip(module.parameters(), expected, strict=True):
        torch.testing.assert_close(p.grad, grad, rtol=1e-5, atol=1e-6)
    step.close()
    assert all(p.grad is None for p in module.parameters())


def _sparse_batch(n_rows, n_columns, generator):
    # Rows with 0-3 non-zeros each, one position repeated (its sum is meant).
    counts = torch.randint(0, 4, (n_rows,), generator=generator)
    indptr = torch.cat([torch.zeros(1, dtype=torch.int64), counts.cumsum(0)])
    indices = torch.randint(0, n_columns, (int(counts.sum()),), generator=generator)
    indices[1] = indices[0] if counts[0] >= 2 else indices[1]
    values = torch.randn(len(indices), generator=generator)
    rows = SparseRows(indptr, indices, values, n_columns=n_columns)
    return rows.batch(slice(None)), rows.rows(slice(None))


@pytest.mark.parametrize("sizes", [(7, 5), ()])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_a_sparse_batch_gives_the_gradients_of_its_dense_rows(sizes, dropout):
    g = torch.Generator().manual_seed(2)
    module = _mlp(sizes=sizes, n_inputs=40, dropout=dropout)
    batch, X = _sparse_batch(13, 40, g)
    y = torch.randn(13, 3, generator=g)
    loss_fn = _losses()["squared"]
    steps = []
    for inputs in (X, batch):
        copied = copy.deepcopy(module)
        step = make_step(copied, loss_fn, torch.optim.SGD(copied.parameters(), lr=0.0))
        torch.manual_seed(0)  # the same dropout masks
        steps.append((step(inputs, y, None), [p.grad.clone() for p in copied.parameters()]))
        assert isinstance(step, AutogradStep if dropout and sizes else MLPStep)
    (dense_loss, dense_grads), (sparse_loss, sparse_grads) = steps
    torch.testing.assert_close(sparse_loss, dense_loss)
    for sparse_grad, dense_grad in zip(sparse_grads, dense_grads, strict=True):
        torch.testing.assert_close(sparse_grad, dense_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("module", [
    _mlp("gelu"),
    _mlp(dropout=0.2),
    torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False)),
    torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()),
    torch.nn.Linear(3, 2),
])
def test_other_modules_take_the_autograd_step(module):
    step = make_step(module, lambda out, y: out.sum(1), torch.optim.SGD(
        module.parameters(), lr=0.1))
    assert isinstance(step, AutogradStep)


def test_frozen_parameters_take_the_autograd_step():
    module = _mlp()
    module[0].weight.requires_grad_(False)
    assert not MLPStep.supports(module)


def test_dropout_modules_are_not_plain():
    module = _mlp(dropout=0.3)
    assert any(isinstance(m, SeededDropout) for m in module)
    assert not MLPStep.supports(module)


#: Turns the hand-written step off: every module takes the autograd step.
AUTOGRAD_ONLY = (MLPStep, "supports", staticmethod(lambda module: False))


def test_regressor_trains_as_with_autograd(fit_before_and_after):
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    fast, slow = fit_before_and_after(
        lambda: TorchMLPRegressor(hidden_layer_sizes=(16, 16), max_iter=3,
                                  early_stopping=False, random_state=0),
        X, y, AUTOGRAD_ONLY,
    )
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(fast.predict(X), slow.predict(X), rtol=1e-3, atol=1e-3)


def test_classifier_trains_as_with_autograd(fit_before_and_after):
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4,
                               random_state=0)
    fast, slow = fit_before_and_after(
        lambda: TorchMLPClassifier(hidden_layer_sizes=(16,), activation="tanh",
                                   max_iter=3, early_stopping=False, random_state=0),
        X, y, AUTOGRAD_ONLY, sample_weight=np.linspace(0.5, 2.0, len(y)),
    )
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-4)


def test_no_gradient_buffers_are_left_after_fit():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    reg = TorchMLPRegressor(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, y)
    assert all(p.grad is None for p in reg.module_.parameters())


def test_a_callback_that_clears_the_gradients_does_not_break_training():
    # The step and its gradient buffers live for the whole fit; a callback
    # may call zero_grad() (set_to_none) on the module between epochs.
    class ClearGradients(Callback):
        estimator = None

        def on_epoch_end(self, state):
            self.estimator.module_.zero_grad()

    X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    params = dict(hidden_layer_sizes=(8,), max_iter=4, early_stopping=False, random_state=0)
    callback = ClearGradients()
    cleared = callback.estimator = TorchMLPRegressor(callbacks=[callback], **params)
    cleared.fit(X, y)
    plain = TorchMLPRegressor(**params).fit(X, y)
    np.testing.assert_array_equal(cleared.loss_curve_, plain.loss_curve_)


def test_fit_inside_no_grad_trains_as_outside():
    X, y = make_regression(n_samples=80, n_features=3, random_state=0)
    for dropout in (0.0, 0.1):  # the hand-written step and the autograd one
        params = dict(hidden_layer_sizes=(8,), max_iter=20, learning_rate_init=0.01,
                      dropout=dropout, random_state=0)
        with torch.no_grad():
            inside = TorchMLPRegressor(**params).fit(X, y)
        outside = TorchMLPRegressor(**params).fit(X, y)
        assert inside.loss_curve_[-1] < 0.9 * inside.loss_curve_[0]
        np.testing.assert_allclose(inside.loss_curve_, outside.loss_curve_)


def _closed_form_losses():
    return {
        "squared_error": (squared_error, lambda g: torch.randn(9, 2, generator=g)),
        "cross_entropy": (cross_entropy(0.1), lambda g: torch.randint(0, 4, (9,),
                                                                     generator=g)),
        "cross_entropy_no_smoothing": (cross_entropy(0.0),
                                       lambda g: torch.randint(0, 4, (9,), generator=g)),
        "binary": (binary_cross_entropy(0.1, multilabel=False),
                   lambda g: torch.randint(0, 2, (9,), generator=g)),
        "multilabel": (binary_cross_entropy(0.0, multilabel=True),
                       lambda g: torch.randint(0, 2, (9, 3), generator=g).float()),
    }


@pytest.mark.parametrize("name", list(_closed_form_losses()))
def test_closed_form_output_gradients_match_autograd(name):
    loss, make_y = _closed_form_losses()[name]
    g = torch.Generator().manual_seed(0)
    y = make_y(g)
    n_outputs = {"squared_error": 2, "binary": 1, "multilabel": 3}.get(name, 4)
    output = torch.randn(9, n_outputs, generator=g, requires_grad=True)
    per_sample = loss(output, y)
    rows = [torch.autograd.grad(per_sample[i], output, retain_graph=True)[0][i]
            for i in range(9)]
    losses, grad = loss.with_grad(output.detach().clone(), y)
    torch.testing.assert_close(losses, per_sample.detach())
    torch.testing.assert_close(grad, torch.stack(rows))


@pytest.mark.parametrize("name", list(_closed_form_losses()))
@pytest.mark.parametrize("weighted", [False, True])
def test_steps_with_closed_form_losses_match_autograd(name, weighted):
    loss, make_y = _closed_form_losses()[name]
    g = torch.Generator().manual_seed(2)
    y = make_y(g)
    n_outputs = {"squared_error": 2, "binary": 1, "multilabel": 3}.get(name, 4)
    module = _mlp("relu", (6, 5), n_outputs=n_outputs)
    X = torch.randn(9, 4, generator=g)
    weight = torch.rand(9, generator=g) * 2 if weighted else None
    expected_loss, expected = _autograd_grads(module, loss, X, y, weight)
    step = make_step(module, loss, torch.optim.SGD(module.parameters(), lr=0.0))
    torch.testing.assert_close(step(X, y, weight), expected_loss)
    for p, grad in zip(module.parameters(), expected, strict=True):
        torch.testing.assert_close(p.grad, grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer_class", [torch.optim.Adam, torch.optim.AdamW])
def test_direct_fused_adam_steps_equal_optimizer_steps(optimizer_class):
    def trained(direct):
        module = _mlp("relu", (6,), n_outputs=2)
        weights = [m.weight for m in module if isinstance(m, torch.nn.Linear)]
        biases = [m.bias for m in module if isinstance(m, torch.nn.Linear)]
        optimizer = optimizer_class(
            [{"params": weights, "weight_decay": 0.01}, {"params": biases, "weight_decay": 0.0}],
            lr=0.01, fused=True)
        step = optimizer_step(optimizer) if direct else optimizer.step
        assert (step != optimizer.step) == direct
        g = torch.Generator().manual_seed(0)
        for i in range(6):
            for p in module.parameters():
                p.grad = torch.randn(p.shape, generator=g)
            optimizer.param_groups[0]["lr"] = 0.01 / (i + 1)  # as a schedule does
            step()
        return [p.detach() for p in module.parameters()], optimizer.state_dict()

    (direct, direct_state), (regular, regular_state) = trained(True), trained(False)
    for a, b in zip(direct, regular, strict=True):
        assert torch.equal(a, b)
    for key, state in regular_state["state"].items():
        for name, value in state.items():
            assert torch.equal(direct_state["state"][key][name], value)


def test_optimizers_with_hooks_or_amsgrad_step_as_usual():
    module = _mlp()
    amsgrad = torch.optim.Adam(module.parameters(), fused=True, amsgrad=True)
    assert optimizer_step(amsgrad) == amsgrad.step
    hooked = torch.optim.Adam(module.parameters(), fused=True)
    hooked.register_step_pre_hook(lambda *args: None)
    assert optimizer_step(hooked) == hooked.step
    unfused = torch.optim.Adam(module.parameters(), foreach=True)
    assert optimizer_step(unfused) == unfused.step


def test_direct_fused_adam_starts_from_existing_state():
    module = _mlp("relu", (6,), n_outputs=1)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01, fused=True)
    for p in module.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    step = optimizer_step(optimizer)
    steps_before = [optimizer.state[p]["step"].item() for p in module.parameters()]
    moments_before = [optimizer.state[p]["exp_avg"].clone() for p in module.parameters()]
    step()
    assert [optimizer.state[p]["step"].item() for p in module.parameters()] == [
        s + 1 for s in steps_before]
    # the moments went on from the existing ones (a fresh state would hold 0.1)
    assert all(torch.allclose(optimizer.state[p]["exp_avg"], 0.9 * m + 0.1)
               for p, m in zip(module.parameters(), moments_before, strict=True))


def test_a_gradient_in_blocks_steps_as_the_whole_gradient():
    runs = []
    for blocks in (False, True):
        module = _mlp("relu", (6,), n_outputs=1)
        optimizer = torch.optim.Adam(module.parameters(), lr=0.01, weight_decay=1e-3,
                                     fused=True)
        step = optimizer_step(optimizer)
        first = module[0].weight
        for i in range(3):
            grads = [torch.full_like(p, 0.3 * i - 0.4) for p in module.parameters()]
            for p, g in zip(module.parameters(), grads, strict=True):
                p.grad = None if blocks and p is first else g
            if blocks:
                step(grad_rows=(first, lambda a, b, out, g=grads[0]: out.copy_(g[a:b])),
                     block_values=8)  # two rows of 4 at a time
            else:
                step()
        runs.append([p.detach().clone() for p in module.parameters()])
    for whole, in_blocks in zip(*runs, strict=True):
        assert torch.equal(whole, in_blocks)


# ------------------------------------------------- the probe of the direct kernel
def test_the_direct_kernel_is_used_only_where_its_probe_passes(monkeypatch):
    from skorchless._engine import optim

    net = torch.nn.Linear(3, 1)
    optimizer = torch.optim.Adam(net.parameters(), fused=True)
    assert isinstance(optimizer_step(optimizer), optim.FusedAdamStep)

    def changed_signature(*args, **kwargs):
        raise TypeError("_fused_adam_() got an unexpected keyword argument 'grad_scale'")

    # A torch whose private kernel changed: the probe fails, optimizer.step is used.
    monkeypatch.setattr(optim.FusedAdamStep, "__call__", lambda self: changed_signature())
    optim.direct_kernel_ok.cache_clear()
    try:
        assert not optim.direct_kernel_ok(torch.device("cpu"), torch.optim.Adam)
        assert optimizer_step(optimizer) == optimizer.step
    finally:
        monkeypatch.undo()
        optim.direct_kernel_ok.cache_clear()
    assert optim.direct_kernel_ok(torch.device("cpu"), torch.optim.Adam)


def test_a_direct_kernel_that_computes_otherwise_is_not_used(monkeypatch):
    from skorchless._engine import optim

    real = optim.FusedAdamStep.__call__

    def off_by_a_little(self, **kwargs):
        real(self, **kwargs)
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                p.data.add_(1e-6)

    monkeypatch.setattr(optim.FusedAdamStep, "__call__", off_by_a_little)
    optim.direct_kernel_ok.cache_clear()
    try:
        assert not optim.direct_kernel_ok(torch.device("cpu"), torch.optim.AdamW)
    finally:
        monkeypatch.undo()
        optim.direct_kernel_ok.cache_clear()


def test_estimators_train_the_same_with_the_direct_kernel_forced_off(
        fit_before_and_after, regression_data):
    from skorchless._engine import optim

    X, y = regression_data
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "device": "cpu", "random_state": 0}
    optim.direct_kernel_ok.cache_clear()
    before, after = fit_before_and_after(
        lambda: TorchMLPRegressor(**params), X, y,
        (optim, "direct_kernel_ok", lambda device, cls: False))
    np.testing.assert_allclose(after.loss_curve_, before.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(after.predict(X), before.predict(X), rtol=1e-4, atol=1e-6)
