"""The training loop on a 20-row tensor, with a scripted validation loss.

The validation targets carry a sentinel value; the loss function recognises
them and returns the loss of the script for the current epoch, so that each
test decides exactly which epoch is best and when patience runs out.
"""

import math

import pytest
import torch
from torch import nn

from skorchless import Callback, EarlyStopping
from skorchless._engine.loop import TensorData, TrainResult, _batch, train
from skorchless._engine.schedules import LearningRateSchedule

SENTINEL = 1234.5


class Recorder(Callback):
    """Count epochs for the scripted loss and keep a copy of the weights of each."""

    def __init__(self, module):
        self.module = module
        self.current = 1
        self.weights = {}
        self.events = []

    def on_train_begin(self, max_epochs):
        self.events.append(("begin", max_epochs))

    def on_epoch_end(self, state):
        self.events.append(("epoch", state.epoch))
        self.weights[state.epoch] = {k: v.clone() for k, v in self.module.state_dict().items()}
        self.current = state.epoch + 1

    def on_train_end(self, result):
        self.events.append(("end", result.stop_reason))


class InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, state):
        if state.epoch == self.epoch:
            raise KeyboardInterrupt


def _net(seed=0):
    net = nn.utils.skip_init(nn.Linear, 2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.randn(1, 2, generator=torch.Generator().manual_seed(seed)))
        net.bias.zero_()
    return net


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(20, 2, generator=g)
    return TensorData(X, X @ torch.tensor([[1.0], [-2.0]]))


def run(script=None, *, patience=3, tol=0.0, max_epochs=20, select_best=True,
        train_script=None, first_epoch=1, extra_callbacks=(), lr=0.05, seed=0):
    """Train a linear model; return (result, recorder, module, initial weights)."""
    module = _net()
    initial = {k: v.clone() for k, v in module.state_dict().items()}
    recorder = Recorder(module)
    recorder.current = first_epoch
    valid = None
    if script is not None:
        valid = TensorData(torch.zeros(4, 2), torch.full((4, 1), SENTINEL))

    def loss_fn(output, y):
        epoch = recorder.current - first_epoch
        if bool((y == SENTINEL).all()):
            return torch.full((len(y),), float(script[epoch]))
        losses = ((output - y) ** 2).mean(1)
        if train_script is not None:
            return losses * 0 + train_script[epoch]
        return losses

    optimizer = torch.optim.SGD(module.parameters(), lr=lr)
    result = train(
        module, _data(), valid,
        loss_fn=loss_fn, optimizer=optimizer,
        schedule=LearningRateSchedule(optimizer, "constant", lr, 0.5),
        batch_size=5, max_epochs=max_epochs, shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        early_stopping=EarlyStopping(patience, tol), select_best=select_best,
        first_epoch=first_epoch, callbacks=[recorder, *extra_callbacks],
    )
    return result, recorder, module, initial


def assert_weights(module, weights):
    state = module.state_dict()
    assert state.keys() == weights.keys()
    for key in state:
        assert torch.equal(state[key], weights[key]), key


def test_stops_exactly_when_patience_runs_out_and_restores_the_best_weights():
    result, recorder, module, _ = run([5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0], patience=3)
    assert result.stop_reason == "no_improvement"
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5, 6]  # 3 + patience
    assert result.best_epoch == 3 and result.best_loss == 3.0
    assert_weights(module, recorder.weights[3])
    assert not torch.equal(module.weight, recorder.weights[6]["weight"])
    assert [h["is_best"] for h in result.history] == [True, True, True, False, False, False]


def test_ties_keep_the_earlier_epoch():
    result, recorder, module, _ = run([5.0, 3.0, 3.0, 3.0, 3.0, 3.0], patience=3)
    assert result.best_epoch == 2
    assert len(result.history) == 5
    assert_weights(module, recorder.weights[2])


def test_improvements_smaller_than_tol_move_the_best_epoch_but_not_the_patience():
    result, recorder, module, _ = run([5.0, 4.99, 4.98, 4.97, 1.0], patience=3, tol=0.1)
    assert len(result.history) == 4
    assert result.best_epoch == 4
    assert_weights(module, recorder.weights[4])


def test_an_improvement_greater_than_tol_resets_the_patience():
    result, _, _, _ = run([5.0, 5.0, 5.0, 4.0, 4.0, 4.0, 4.0], patience=3, tol=0.5)
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5, 6, 7]
    assert result.best_epoch == 4


def test_without_select_best_the_last_weights_are_kept():
    result, recorder, module, _ = run([5.0, 3.0, 4.0, 4.0, 4.0], patience=3,
                                      select_best=False)
    assert result.best_epoch == 2
    assert_weights(module, recorder.weights[5])


def test_max_epochs():
    result, recorder, module, _ = run([5.0, 4.0, 3.0, 2.0], max_epochs=4, patience=3)
    assert result.stop_reason == "max_iter"
    assert len(result.history) == 4 and result.best_epoch == 4
    assert result.samples_seen == 4 * 20
    assert_weights(module, recorder.weights[4])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("select_best", [True, False])
def test_divergent_validation_loss_stops_and_restores_the_best_weights(bad, select_best):
    result, recorder, module, _ = run([5.0, 3.0, 4.0, bad, 1.0], select_best=select_best)
    assert result.stop_reason == "diverged"
    assert len(result.history) == 4  # the divergent epoch is the last row, not the best
    assert not math.isfinite(result.history[-1]["valid_loss"])
    assert not result.history[-1]["is_best"]
    assert result.best_epoch == 2
    assert_weights(module, recorder.weights[2])
    assert recorder.events[-1] == ("end", "diverged")


def test_divergent_training_loss_without_validation_restores_the_best_epoch():
    result, recorder, module, _ = run(None, train_script=[3.0, 2.0, math.nan, 1.0],
                                      select_best=False)
    assert result.stop_reason == "diverged"
    assert result.best_epoch == 2
    assert_weights(module, recorder.weights[2])


def test_divergence_at_the_first_epoch_restores_the_starting_weights():
    result, _, module, initial = run([math.nan], first_epoch=11)
    assert result.stop_reason == "diverged" and len(result.history) == 1
    assert result.best_epoch == 10  # the epoch before the first: the starting weights
    assert_weights(module, initial)


def test_keyboard_interrupt_stops_and_restores_the_best_weights_so_far():
    result, recorder, module, _ = run([5.0, 3.0, 4.0, 4.5, 1.0], patience=10,
                                      select_best=False, extra_callbacks=[InterruptAt(4)])
    assert result.stop_reason == "interrupted"
    assert len(result.history) == 4 and result.best_epoch == 2
    assert_weights(module, recorder.weights[2])
    assert recorder.events[-1] == ("end", "interrupted")


def test_callbacks_run_in_order_once_per_epoch():
    result, recorder, _, _ = run([3.0, 2.0, 1.0], max_epochs=3, first_epoch=5)
    assert recorder.events == [("begin", 3), ("epoch", 5), ("epoch", 6), ("epoch", 7),
                               ("end", "max_iter")]
    assert [h["epoch"] for h in result.history] == [5, 6, 7]


def test_history_holds_plain_numbers_only():
    result, _, _, _ = run([3.0, 2.0, 1.0], max_epochs=3)
    assert isinstance(result, TrainResult)
    for row in result.history:
        assert set(row) == {"epoch", "train_loss", "valid_loss", "valid_score",
                            "learning_rate", "seconds", "is_best"}
        assert all(not isinstance(v, torch.Tensor) for v in row.values())
        assert row["learning_rate"] == 0.05 and row["seconds"] >= 0


def test_real_training_reduces_the_loss():
    result, _, module, _ = run(None, max_epochs=30, patience=math.inf, lr=0.1)
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.01 * losses[0]
    assert not module.training  # left in eval mode


def test_the_generator_alone_decides_the_order_of_the_rows():
    weights = [run(None, max_epochs=3, seed=seed)[2].weight.detach() for seed in (1, 1, 2)]
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])


def test_early_stopping_snapshots_are_independent_copies():
    module = _net()
    stopper = EarlyStopping(patience=2, tol=0.0)
    stopper.start(module)
    before = module.weight.detach().clone()
    with torch.no_grad():
        module.weight.add_(1.0)
    assert torch.equal(stopper.best_state["weight"], before)
    stopper.restore(module)
    assert torch.equal(module.weight, before)


@pytest.mark.parametrize("shuffled", [False, True])
def test_full_batches_are_gathered_into_the_step_inputs(shuffled):
    g = torch.Generator().manual_seed(0)
    data = TensorData(torch.randn(10, 3, generator=g), torch.randn(10, 1, generator=g),
                      torch.rand(10, generator=g))
    order = torch.randperm(10, generator=g) if shuffled else None
    rows = order if shuffled else torch.arange(10)
    out = (torch.empty(4, 3), torch.empty(4, 1), torch.empty(4))
    X, y, weight = _batch(data, 4, 8, order, out)
    assert X is out[0] and y is out[1] and weight is out[2]
    assert torch.equal(X, data.X[rows[4:8]]) and torch.equal(weight, data.weight[rows[4:8]])
    # The last, smaller batch comes as new tensors; the inputs keep the last full one.
    X, y, weight = _batch(data, 8, 12, order, out)
    assert X.shape[0] == 2 and X is not out[0]
    assert torch.equal(y, data.y[rows[8:]]) and torch.equal(out[0], data.X[rows[4:8]])
