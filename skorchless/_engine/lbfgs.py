"""Full-batch training with L-BFGS, as scikit-learn's ``solver="lbfgs"``. Torch only."""

import math
import time

import torch

from .callbacks import EpochState
from .loop import CPU_CHUNK_ROWS, TrainResult, keep_finite_outputs
from .losses import weighted_mean
from .network import snapshot
from .sparse import SparseRows, apply_module, block_rows, gather_rows


def train_lbfgs(
    module,
    data,
    *,
    loss_fn,
    l2_penalty,
    max_iter,
    max_fun,
    tol,
    first_epoch=1,
    callbacks=(),
):
    """Minimise the full-batch loss of ``module`` with L-BFGS.

    Like scikit-learn's ``solver="lbfgs"``: no mini-batches and no validation
    set; it stops after ``max_iter`` iterations, ``max_fun`` loss evaluations,
    or once the largest gradient entry is below ``tol``. Each iteration is
    one row of the history (its loss is the loss at the start of the next
    iteration). If the loss stops being finite, the starting weights are
    restored (see ``loop.keep_finite_outputs``). Callbacks run after the fit,
    once per iteration, and cannot stop it. Sparse rows (``SparseRows``) are
    gathered a block at a time (``sparse.block_rows``), each chunk's gradient
    accumulated before the next is gathered: the full batch is never dense at once.

    Parameters
    ----------
    module : torch.nn.Module
    data : TensorData
    loss_fn : callable
        ``loss_fn(output, y)`` returns one loss per sample.
    l2_penalty : float
        Coefficient ``c`` of the penalty ``0.5 * c * sum(W ** 2)`` over the
        weight matrices (not the biases).
    max_iter : int
    max_fun : int
    tol : float
    first_epoch : int
        Number given to the first iteration.
    callbacks : sequence of Callback
        Their ``on_epoch_end`` runs once per iteration, after the fit.

    Returns
    -------
    result : TrainResult

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.lbfgs import train_lbfgs
    >>> from skorchless._engine.loop import TensorData
    >>> X = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    >>> net = torch.nn.Linear(2, 1)
    >>> result = train_lbfgs(net, TensorData(X, X.sum(1, keepdim=True)),
    ...                      loss_fn=lambda out, y: ((out - y) ** 2).mean(1),
    ...                      l2_penalty=0.0, max_iter=50, max_fun=1000, tol=1e-6)
    >>> result.history[-1]["train_loss"] < 1e-6
    True
    """
    weights = [p for name, p in module.named_parameters() if name.endswith("weight")]
    optimizer = torch.optim.LBFGS(
        module.parameters(), lr=1.0, max_iter=max_iter, max_eval=max_fun,
        tolerance_grad=tol, tolerance_change=1e-9, history_size=10,
        line_search_fn="strong_wolfe",
    )
    state = optimizer.state[optimizer.param_groups[0]["params"][0]]
    start_weights = snapshot(module)
    losses = []  # the loss at the start of each iteration

    def closure():
        optimizer.zero_grad(set_to_none=True)
        value = 0.0
        for i, loss in enumerate(_loss_parts(module, data, loss_fn)):
            if l2_penalty and i == 0:  # the penalty once, with the first part
                loss = loss + 0.5 * l2_penalty * sum((w * w).sum() for w in weights)
            loss.backward()
            value += loss.item()
        if state.get("n_iter", 0) >= len(losses):
            losses.append(value)
        return torch.tensor(value)

    result = TrainResult()
    started = time.perf_counter()
    module.train()
    try:
        optimizer.step(closure)
        closure()  # the loss after the last iteration
    except KeyboardInterrupt:
        result.stop_reason = "interrupted"
    except RuntimeError as exc:
        # torch's line search can step so far that the weights overflow float32
        if "overflow" not in str(exc):
            raise
        result.stop_reason = "diverged"
    module.eval()
    n_iter = state.get("n_iter", 0)
    curve = losses[1 : n_iter + 1]
    if result.stop_reason == "diverged" or not all(math.isfinite(v) for v in curve):
        module.load_state_dict(start_weights)
        result.stop_reason = "diverged"
        curve = [v for v in curve if math.isfinite(v)]
    elif result.stop_reason != "interrupted":
        if state.get("func_evals", 0) >= max_fun:
            result.stop_reason = "max_fun"
        elif n_iter < max_iter:
            result.stop_reason = "converged"
    seconds = (time.perf_counter() - started) / max(len(curve), 1)
    for i, loss in enumerate(curve):
        epoch_state = EpochState(first_epoch + i, loss, None, None, 1.0, seconds,
                                 is_best=i == len(curve) - 1)
        result.history.append(epoch_state.as_dict())
        for callback in callbacks:
            callback.on_epoch_end(epoch_state)
    result.samples_seen = len(data) * len(curve)
    result.best_epoch = first_epoch + len(curve) - 1
    result.best_loss = curve[-1] if curve else math.inf
    if result.stop_reason == "diverged":
        keep_finite_outputs(module, data.X, start_weights, result, first_epoch)
    for callback in callbacks:
        callback.on_train_end(result)
    return result


def _loss_parts(module, data, loss_fn):
    # The full-batch loss as parts whose sum it is, each to back-propagate
    # before the next is computed: one part for dense rows, one per chunk of
    # sparse rows (the chunk's share of the weighted mean).
    if not isinstance(data.X, SparseRows):
        yield weighted_mean(loss_fn(module(data.X), data.y), data.weight)
        return
    n, chunk = len(data), block_rows(data.X, CPU_CHUNK_ROWS)
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        weight = None if data.weight is None else data.weight[rows]
        X = gather_rows(data.X, rows, sparse=True)
        yield (weighted_mean(loss_fn(apply_module(module, X), data.y[rows]), weight)
               * (X.shape[0] / n))
