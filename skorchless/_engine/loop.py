"""The training loop: a free function over tensors, returning a ``TrainResult``.

Torch only: no numpy, no scikit-learn, no estimator. Everything it is given is
already a tensor of the right dtype on the right device; everything it decides
(the best epoch, why it stopped) it returns.
"""

import copy
import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from .callbacks import EpochState
from .sparse import (
    SparseBatch,
    SparseRows,
    apply_module,
    block_rows,
    dense,
    gather_rows,
    linear,
    uses_sparse_layer,
)
from .step import make_step

#: Rows per forward pass at inference. On a CPU, chunks small enough for the
#: activations to stay in cache run about twice as fast as large ones
#: (benchmarks/speed/ablation.py); on an accelerator larger launches pay.
CPU_CHUNK_ROWS = 4096
ACCELERATOR_CHUNK_ROWS = 65536
MIN_FORWARD_ROWS = 8


@dataclass
class TensorData:
    """Features, targets and optional per-sample weights on one device.

    Parameters
    ----------
    X : torch.Tensor or SparseRows of shape (n_samples, n_features)
        Sparse rows are gathered one batch (one chunk) at a time.
    y : torch.Tensor of shape (n_samples, ...)
    weight : torch.Tensor of shape (n_samples,) or None
        Sample weights normalised to mean 1, or None for equal weights.
    """

    X: torch.Tensor | SparseRows
    y: torch.Tensor
    weight: torch.Tensor | None = None

    def __len__(self):
        return self.X.shape[0]


@dataclass
class TrainResult:
    """What a call of ``train`` did.

    Attributes
    ----------
    history : list of dict
        One ``EpochState.as_dict()`` per epoch run.
    best_epoch : int
        Epoch whose weights the module holds when selection was applied, else
        the epoch with the lowest monitored loss.
    best_loss : float
        Monitored loss of ``best_epoch`` (inf if no epoch finished).
    stop_reason : str
        ``"max_iter"``, ``"no_improvement"``, ``"callback"`` (a callback asked
        to stop), ``"diverged"`` or ``"interrupted"``; for L-BFGS also
        ``"max_fun"`` and ``"converged"``.
    samples_seen : int
        Training samples processed (``t_`` in scikit-learn's MLP).
    finite_outputs : bool
        False when training diverged and even the starting weights give
        non-finite outputs on the training rows (see ``keep_finite_outputs``).
    """

    history: list = field(default_factory=list)
    best_epoch: int = 0
    best_loss: float = math.inf
    stop_reason: str = "max_iter"
    samples_seen: int = 0
    finite_outputs: bool = True


def train(
    module,
    train_data,
    valid_data,
    *,
    loss_fn,
    optimizer,
    schedule,
    batch_size,
    max_epochs,
    shuffle,
    generator,
    early_stopping,
    select_best,
    score_fn=None,
    monitor="loss",
    first_epoch=1,
    callbacks=(),
    average=None,
):
    """Train ``module`` and return a ``TrainResult``.

    Each epoch runs mini-batch steps over ``train_data``, then evaluates
    ``valid_data`` if given. The monitored loss (validation loss, else training loss) feeds
    ``early_stopping``. Training ends when the epochs run out, patience runs
    out, the loss stops being finite (``"diverged"``; that epoch is the last
    row of the history, with a NaN validation score) or the user presses
    Ctrl-C (``"interrupted"``). The module then holds the best weights if
    ``select_best`` is true, or if training diverged or was interrupted;
    otherwise it keeps the weights of its last epoch.

    Parameters
    ----------
    module : torch.nn.Module
    train_data : TensorData
    valid_data : TensorData or None
    loss_fn : callable
        ``loss_fn(output, y)`` returns one loss per sample, shape (n,).
    optimizer : torch.optim.Optimizer
    schedule : LearningRateSchedule
    batch_size : int
    max_epochs : int
    shuffle : bool
        Draw a new order of the training rows every epoch.
    generator : torch.Generator
        On the data's device; draws the order of the rows.
    early_stopping : EarlyStopping
    select_best : bool
        Restore the weights of the best epoch at the end.
    score_fn : callable or None
        ``score_fn(valid_output)`` returns the validation score.
    monitor : {"loss", "score"}, default="loss"
        What ``early_stopping`` tracks with a validation set: its loss, or
        its score (maximised).
    first_epoch : int
        Number of the first epoch (to keep counting across calls).
    callbacks : sequence of Callback
    average : WeightAverage or None
        Updated after every step; its averaged weights are the ones validated,
        snapshotted and left in ``module``.

    Returns
    -------
    result : TrainResult

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.callbacks import EarlyStopping
    >>> from skorchless._engine.loop import TensorData, train
    >>> from skorchless._engine.schedules import LearningRateSchedule
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(64, 2, generator=g)
    >>> data = TensorData(X, X.sum(1, keepdim=True))
    >>> net = torch.nn.Linear(2, 1)
    >>> _ = torch.nn.init.zeros_(net.weight), torch.nn.init.zeros_(net.bias)
    >>> opt = torch.optim.Adam(net.parameters(), lr=0.1)
    >>> result = train(
    ...     net, data, None,
    ...     loss_fn=lambda out, y: ((out - y) ** 2).mean(1),
    ...     optimizer=opt, schedule=LearningRateSchedule(opt, "constant", 0.1, 0.5),
    ...     batch_size=16, max_epochs=50, shuffle=True, generator=g,
    ...     early_stopping=EarlyStopping(patience=5, tol=1e-4), select_best=False)
    >>> result.history[-1]["train_loss"] < 0.01
    True
    """
    result = TrainResult()
    # With a validation set the best weights were seen to give finite outputs:
    # the starting weights need not be kept beside them (keep_finite_outputs).
    early_stopping.start(module, epoch=first_epoch - 1, keep_start=valid_data is None)
    for callback in callbacks:
        callback.on_train_begin(max_epochs)
    step = make_step(module, loss_fn, optimizer,
                     batch=(batch_size, train_data.X, train_data.y, train_data.weight))
    try:
        for epoch in range(first_epoch, first_epoch + max_epochs):
            start = time.perf_counter()
            lr = schedule.lr
            if not module.training:
                module.train()
            if average is not None:
                average.use_trained()
            train_loss = _minibatch_epoch(step, train_data, batch_size, shuffle, generator,
                                          average)
            if average is not None:
                average.use_average()
            result.samples_seen += len(train_data)
            valid_loss = valid_score = None
            if valid_data is not None:
                valid_loss, valid_score = _validate(module, valid_data, loss_fn, score_fn)
            state = EpochState(epoch, train_loss, valid_loss, valid_score, lr,
                               time.perf_counter() - start, module=module,
                               monitor_score=monitor == "score")
            if not all(math.isfinite(v) for v in (train_loss, valid_loss or 0.0)):
                # recorded as scikit-learn records it: the epoch's values, NaN score
                if score_fn is not None:
                    state.valid_score = math.nan
                result.history.append(state.as_dict())
                result.stop_reason = "diverged"
                break
            out_of_patience = early_stopping.update(state)
            state.is_best = early_stopping.best_epoch == epoch
            result.history.append(state.as_dict())
            asked_to_stop = [bool(callback.on_epoch_end(state)) for callback in callbacks]
            schedule.epoch_end(len(train_data))
            if out_of_patience:
                if schedule.plateau():
                    early_stopping.reset_patience()
                else:
                    result.stop_reason = "no_improvement"
                    break
            if any(asked_to_stop):
                result.stop_reason = "callback"
                break
    except KeyboardInterrupt:
        result.stop_reason = "interrupted"
    finally:
        step.close()
    if average is not None:
        average.use_average()
    module.eval()
    if select_best or result.stop_reason in ("diverged", "interrupted"):
        early_stopping.restore(module)
    result.best_epoch = early_stopping.best_epoch
    result.best_loss = early_stopping.best_loss
    if result.stop_reason == "diverged":
        keep_finite_outputs(module, train_data.X, early_stopping.start_state, result,
                            first_epoch)
    for callback in callbacks:
        callback.on_train_end(result)
    return result


def keep_finite_outputs(module, X, start_state, result, first_epoch):
    """Keep weights whose outputs on ``X`` are finite: the divergence policy.

    After a divergence the module holds the best epoch's weights; without a
    validation set they were never evaluated after their last step. If their
    outputs on the training rows ``X`` overflow, the starting weights
    (``start_state``) are restored and ``result.best_epoch`` becomes the epoch
    before this call; ``result.finite_outputs`` tells whether even those give
    finite outputs (False when there are none to restore: the estimators
    then raise, as for any divergence from the first epoch on).

    Parameters
    ----------
    module : torch.nn.Module
    X : torch.Tensor
    start_state : dict or None
        ``snapshot(module)`` taken before training, if still held.
    result : TrainResult
        Updated in place.
    first_epoch : int

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.loop import TrainResult, keep_finite_outputs
    >>> from skorchless._engine.network import snapshot
    >>> net = torch.nn.Linear(1, 1)
    >>> start, result = snapshot(net), TrainResult(best_epoch=3)
    >>> _ = torch.nn.init.constant_(net.weight, float("inf"))
    >>> keep_finite_outputs(net, torch.ones(4, 1), start, result, first_epoch=1)
    >>> result.best_epoch, result.finite_outputs
    (0, True)
    """
    if torch.isfinite(predict_raw(module, X)).all():
        return
    result.best_epoch = first_epoch - 1
    if start_state is None:
        result.finite_outputs = False
        return
    module.load_state_dict(start_state)
    result.finite_outputs = bool(torch.isfinite(predict_raw(module, X)).all())


def _minibatch_epoch(step, data, batch_size, shuffle, generator, average):
    # Batches are gathered from the resident tensors (views when not
    # shuffling, unless the step wants them in its own input tensors; very
    # sparse rows come as SparseBatch, other sparse rows are densified into
    # one batch tensor, reused). The epoch loss is summed on the device: the
    # steps queue without waiting, and the one host synchronisation is at the end.
    n = len(data)
    order = None
    if shuffle:
        order = torch.randperm(n, generator=generator, device=data.X.device)
    total = torch.zeros((), device=data.X.device)
    inputs = step.inputs
    if (inputs is None and isinstance(data.X, SparseRows)
            and not uses_sparse_layer(data.X)):  # one dense batch, reused
        inputs = (torch.empty((min(batch_size, n), data.X.n_columns), dtype=data.X.dtype,
                              device=data.X.device), None, None)
    for start in range(0, n, batch_size):
        X, y, weight = _batch(data, start, start + batch_size, order, inputs)
        total.add_(step(X, y, weight), alpha=X.shape[0])
        if average is not None:
            average.update()
    return total.item() / n


def _batch(data, start, stop, order, out=None):
    # Rows start:stop of the data (in ``order`` if given), as (X, y, weight),
    # dense; written into the tensors ``out`` when given and the batch fills them.
    rows = slice(start, stop) if order is None else order[start:stop]
    if out is None or min(stop, len(data)) - start != out[0].shape[0]:
        out = (None, None, None)
    return tuple(None if source is None else gather_rows(source, rows, target, sparse=True)
                 for source, target in zip((data.X, data.y, data.weight), out, strict=True))


def _validate(module, data, loss_fn, score_fn):
    # One inference pass over the validation set; returns the (weighted) mean
    # loss and, when that is finite, the score.
    output = predict_raw(module, data.X)
    losses = loss_fn(output, data.y)
    if data.weight is None:
        loss = losses.mean().item()
    else:
        loss = ((losses * data.weight).sum() / data.weight.sum()).item()
    score = None
    if score_fn is not None and math.isfinite(loss):
        score = score_fn(output)
    return loss, score


@torch.inference_mode()
def predict_raw(module, X, chunk_rows=None):
    """Return the raw outputs of ``module`` on ``X``, computed in chunks.

    Parameters
    ----------
    module : torch.nn.Module
    X : torch.Tensor or SparseRows of shape (n_samples, n_features)
        On the module's device, or on the CPU (each chunk is then moved to the
        module's device, so that large data need not fit there at once);
        sparse rows are gathered one chunk at a time. Of
        another floating dtype than the module's parameters (float64 for a
        float32 network), the forward pass runs in ``X``'s dtype, with the
        parameters converted for it.
    chunk_rows : int or None
        Rows per forward pass; None picks ``CPU_CHUNK_ROWS`` on a CPU, else
        ``ACCELERATOR_CHUNK_ROWS`` (fewer for wide sparse rows: ``block_rows``).

    Returns
    -------
    output : torch.Tensor of shape (n_samples, n_outputs)

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.loop import predict_raw
    >>> predict_raw(torch.nn.Linear(3, 2), torch.zeros(10, 3), chunk_rows=4).shape
    torch.Size([10, 2])
    """
    n_rows = X.shape[0]
    if n_rows < MIN_FORWARD_ROWS:
        # CPU kernels take another code path (matrix-vector) for one or two
        # rows, which rounds differently; padding keeps a row's prediction the
        # same whether it comes alone or in a batch.
        X = dense(X)
        X = torch.cat([X, X[:1].expand(MIN_FORWARD_ROWS - n_rows, -1)])
    device = next(module.parameters(), torch.empty(0, device=X.device)).device
    if chunk_rows is None:
        chunk_rows = CPU_CHUNK_ROWS if device.type == "cpu" else ACCELERATOR_CHUNK_ROWS
        chunk_rows = max(block_rows(X, chunk_rows), MIN_FORWARD_ROWS)
    bounds = [*range(0, X.shape[0], chunk_rows), X.shape[0]]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < MIN_FORWARD_ROWS:
        del bounds[-2]  # no tiny last chunk, for the same reason
    was_training = module.training
    if was_training:
        module.eval()
    forward = _forward_in(module, X.dtype, sparse=uses_sparse_layer(X))
    try:
        chunks = [forward(gather_rows(X, slice(a, b), sparse=True).to(device, non_blocking=True))
                  for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    finally:
        if was_training:
            module.train()
    return (torch.cat(chunks) if len(chunks) != 1 else chunks[0])[:n_rows]


def _forward_in(module, dtype, sparse=False):
    # The module's forward pass (of dense rows or, if ``sparse``, a
    # SparseBatch), in ``dtype``. For a Sequential of Linear layers and
    # parameter-free layers (what build_mlp makes) the Linear weights are
    # converted once for this call (predict_raw's chunks share them; a first
    # layer given a SparseBatch converts the columns it uses instead): nothing
    # is cached across calls that could go stale, nothing is swapped that
    # threads would see. Any other module is converted as a copy.
    tensors = [*module.parameters(), *module.buffers()]
    if all(t.dtype == dtype or not t.is_floating_point() for t in tensors):
        return lambda x: apply_module(module, x)
    layers = list(module) if type(module) is nn.Sequential else []
    if not layers or not all(type(m) is nn.Linear or not [*m.parameters(), *m.buffers()]
                             for m in layers):
        converted = copy.deepcopy(module).to(dtype)
        return lambda x: apply_module(converted, x)

    steps = [
        (layer.weight.to(dtype), None if layer.bias is None else layer.bias.to(dtype))
        if type(layer) is nn.Linear and not (sparse and i == 0)
        else (layer.weight, layer.bias) if type(layer) is nn.Linear else layer
        for i, layer in enumerate(layers)
    ]

    def forward(x):
        if isinstance(x, SparseBatch) and not isinstance(steps[0], tuple):
            x = x.dense()
        for step in steps:
            x = linear(x, *step) if isinstance(step, tuple) else step(x)
        return x

    return forward
