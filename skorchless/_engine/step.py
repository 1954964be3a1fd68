"""The training step: forward, backward and optimizer step on one batch.

Two implementations behind one call, ``step(X, y, weight) -> loss``:

* ``AutogradStep`` works for any module: forward, loss, ``backward()``,
  ``optimizer.step()``.
* ``MLPStep`` serves the network ``build_mlp`` makes in its common forms
  (linear layers with ReLU, tanh, logistic or identity activations, no
  dropout). It runs the forward pass without building an autograd graph and
  back-propagates through the layers by hand, as scikit-learn's MLP does, into
  gradient buffers allocated once. The gradient of the loss with respect to
  the network's outputs comes in closed form for the default losses (a
  ``Loss`` with ``with_grad``), else from autograd on the loss alone. The
  gradients are the same to float32 rounding (tests/test_step.py).
* ``GraphedStep`` (CUDA, fused Adam) records an ``MLPStep`` once as a CUDA
  graph and replays it for every full batch: one launch instead of a few
  dozen, which is most of a small network's step time on a GPU.

Each takes the batch's ``X`` dense or as a ``SparseBatch`` (very sparse rows:
the first layer multiplies the non-zeros only, see ``sparse.linear``).

Torch only.
"""

import torch
from torch import nn

from .losses import weighted_mean
from .optim import FusedAdamStep, is_plain_fused_adam, optimizer_step
from .sparse import apply_module, linear, linear_weight_grad, uses_sparse_layer

#: Activations whose backward pass ``MLPStep`` computes from the activation's
#: output: the gradient with respect to its input, given ``grad`` with respect
#: to its output ``h`` -- one fused kernel each, the ones autograd uses.
_BACKWARD_FROM_OUTPUT = {
    nn.ReLU: lambda grad, h: torch.ops.aten.threshold_backward(grad, h, 0),
    nn.Tanh: torch.ops.aten.tanh_backward,
    nn.Sigmoid: torch.ops.aten.sigmoid_backward,
    nn.Identity: lambda grad, h: grad,
}
#: Record the training step as a CUDA graph where ``GraphedStep`` applies.
CUDA_GRAPHS = True
_IN_PLACE = {
    nn.ReLU: torch.Tensor.relu_,
    nn.Tanh: torch.Tensor.tanh_,
    nn.Sigmoid: torch.Tensor.sigmoid_,
    nn.Identity: lambda h: h,
}


def make_step(module, loss_fn, optimizer, batch=None):
    """Return the fastest training step that computes the gradients of ``module``.

    Parameters
    ----------
    module : torch.nn.Module
    loss_fn : callable
        ``loss_fn(output, y)`` returns one loss per sample.
    optimizer : torch.optim.Optimizer
        Over the parameters of ``module``.
    batch : tuple or None
        ``(batch_size, X, y, weight)``: the batch size and the training
        tensors the batches come from. Given, on a CUDA device, a plain MLP
        with fused Adam gets a ``GraphedStep`` (unless its batches come as
        ``SparseBatch``, whose size varies).

    Returns
    -------
    step : GraphedStep, MLPStep or AutogradStep
        ``step(X, y, weight)`` trains on one batch and returns its (detached)
        mean loss. Its ``inputs`` are None, or the tensors into which full
        batches should be gathered.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.step import make_step
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(),
    ...                           torch.nn.Linear(4, 1))
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> step = make_step(net, lambda out, y: ((out - y) ** 2).mean(1), opt)
    >>> type(step).__name__
    'MLPStep'
    >>> step(torch.ones(3, 2), torch.zeros(3, 1), None).shape
    torch.Size([])
    """
    if not MLPStep.supports(module):
        return AutogradStep(module, loss_fn, optimizer)
    sparse = batch is not None and uses_sparse_layer(batch[1])
    if batch is not None and not sparse and GraphedStep.supports(module, optimizer):
        return GraphedStep(MLPStep(module, loss_fn, optimizer, tensor_lr=True), *batch)
    return MLPStep(module, loss_fn, optimizer, sparse_inputs=sparse)


class AutogradStep:
    """Training step of any module: forward, loss, ``backward()``, optimizer step."""

    inputs = None

    def __init__(self, module, loss_fn, optimizer):
        self.module = module
        self.loss_fn = loss_fn
        self.optimizer = optimizer

    def __call__(self, X, y, weight):
        """Train on one batch; return its mean loss."""
        with torch.enable_grad():  # also when fit runs under torch.no_grad()
            loss = weighted_mean(self.loss_fn(apply_module(self.module, X), y), weight)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        self.optimizer.step()
        return loss.detach()

    def close(self):
        """Nothing to release."""


class MLPStep:
    """Training step of a plain MLP with hand-written back-propagation.

    For ``z_i = h_{i-1} W_i^T + b_i`` and ``h_i = f(z_i)``, the backward pass
    is ``dW_i = g_i^T h_{i-1}``, ``db_i = sum(g_i)`` and
    ``g_{i-1} = (g_i W_i) * f'(z_{i-1})``, where ``g_L`` is the gradient of
    the loss with respect to the outputs. The gradients are written into
    buffers that the parameters hold as ``.grad`` until ``close()``; the step
    lives for one ``train`` call, during which nothing else touches the
    gradients. ``tensor_lr=True`` passes the learning rate to the fused Adam
    kernel as a device tensor (see ``optimizer_step``).

    With ``sparse_inputs=True`` (the batches come as ``SparseBatch``) and the
    direct fused Adam kernel, the first layer's weight gradient has no buffer:
    the kernel gets it a block of rows at a time (``FusedAdamStep``), computed
    from the batch's non-zeros, so that a wide first layer costs no copy of
    its weights for its gradient.
    """

    inputs = None

    def __init__(self, module, loss_fn, optimizer, tensor_lr=False, sparse_inputs=False):
        self.loss_fn = loss_fn
        self.loss_with_grad = getattr(loss_fn, "with_grad", None)
        self.optimizer_step = optimizer_step(optimizer, tensor_lr=tensor_lr)
        layers = list(module)
        self.weights = [lin.weight for lin in layers[0::2]]
        self.biases = [lin.bias for lin in layers[0::2]]
        self.activations = [type(a) for a in layers[1::2]]
        self.params = [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]
        self.first_grad_in_blocks = sparse_inputs and isinstance(self.optimizer_step,
                                                                FusedAdamStep)
        self.grads = [None if i == 0 and self.first_grad_in_blocks else torch.zeros_like(p)
                      for i, p in enumerate(self.params)]
        self._attach_grads()

    def _attach_grads(self):
        # The parameters hold the buffers as ``.grad``, which the optimizer
        # reads; a callback between epochs may have cleared them (zero_grad).
        for p, g in zip(self.params, self.grads, strict=True):
            if p.grad is not g:
                p.grad = g

    @staticmethod
    def supports(module):
        """Whether ``module`` is Linear, (activation, Linear)* with known activations."""
        if type(module) is not nn.Sequential or len(module) % 2 == 0:
            return False
        layers = list(module)
        return (
            all(type(m) is nn.Linear and m.bias is not None for m in layers[0::2])
            and all(type(m) in _BACKWARD_FROM_OUTPUT for m in layers[1::2])
            and all(p.requires_grad for p in module.parameters())
        )

    def __call__(self, X, y, weight):
        """Train on one batch; return its mean loss."""
        with torch.no_grad():
            hidden = [X]
            output = linear(X, self.weights[0], self.biases[0])  # X may be a SparseBatch
            for weight_, bias, activation in zip(
                self.weights[1:], self.biases[1:], self.activations, strict=True
            ):
                hidden.append(_IN_PLACE[activation](output))
                output = torch.addmm(bias, hidden[-1], weight_.t())
            loss, grad = self._output_gradient(output, y, weight)
            for i in range(len(self.weights) - 1, -1, -1):
                if self.grads[2 * i] is not None:
                    linear_weight_grad(hidden[i], grad, out=self.grads[2 * i])
                torch.sum(grad, 0, out=self.grads[2 * i + 1])
                if i > 0:
                    grad = _BACKWARD_FROM_OUTPUT[self.activations[i - 1]](
                        grad.mm(self.weights[i]), hidden[i])
        self._attach_grads()
        if not self.first_grad_in_blocks:
            self.optimizer_step()
            return loss
        # rows a:b of the first weight's gradient are grad[:, a:b].T @ X
        self.optimizer_step(grad_rows=(self.weights[0], lambda a, b, out: linear_weight_grad(
            X, grad[:, a:b], out=out)))
        return loss

    def _output_gradient(self, output, y, weight):
        # The mean loss of the batch and its gradient with respect to ``output``.
        if self.loss_with_grad is None:
            with torch.enable_grad():  # autograd differentiates the loss only
                output.requires_grad_()
                loss = weighted_mean(self.loss_fn(output, y), weight)
                (grad,) = torch.autograd.grad(loss, output)
            return loss.detach(), grad
        with torch.no_grad():
            losses, grad = self.loss_with_grad(output, y)
            n = output.shape[0]
            if weight is None:
                return losses.mean(), grad.div_(n)
            return (losses * weight).mean(), grad.mul_(weight.unsqueeze(1) / n)

    def close(self):
        """Release the gradient buffers."""
        for p in self.params:
            p.grad = None


class GraphedStep:
    """An ``MLPStep`` recorded once as a CUDA graph and replayed for full batches.

    The training loop gathers every full batch into ``inputs`` (static
    tensors of the batch's shape); the first ``WARMUP_STEPS`` such batches
    train eagerly on a side stream (as capture requires), the next one is
    recorded, and from then on each full batch is one ``replay()``. Other
    batches (the last, smaller one of an epoch) run the ``MLPStep`` eagerly.
    The learning rate reaches the recorded Adam kernel through a device
    tensor, updated before each call, so schedules apply as usual.

    Parameters
    ----------
    step : MLPStep
        Built with ``tensor_lr=True``.
    batch_size : int
    X, y : torch.Tensor
        The training tensors, for the shapes and dtypes of the batches.
    weight : torch.Tensor or None
        The sample weights, if any.
    """

    #: Eager steps before recording; they also create the optimizer state.
    WARMUP_STEPS = 3

    def __init__(self, step, batch_size, X, y, weight=None):
        self.step = step
        self.inputs = tuple(
            None if t is None else torch.empty((batch_size, *t.shape[1:]), dtype=t.dtype,
                                               device=t.device)
            for t in (X, y, weight)
        )
        self.graph = None
        self.loss = None
        self.eager_full_steps = 0
        self.side_stream = torch.cuda.Stream(X.device)

    @staticmethod
    def supports(module, optimizer):
        """Whether ``module`` is on the current CUDA device and ``optimizer`` is fused Adam."""
        device = next(module.parameters()).device
        return (
            CUDA_GRAPHS and device.type == "cuda" and hasattr(torch.cuda, "CUDAGraph")
            and device.index in (None, torch.cuda.current_device())
            and is_plain_fused_adam(optimizer)
        )

    def __call__(self, X, y, weight):
        """Train on one batch; return its mean loss."""
        self.step.optimizer_step.sync_lr()
        if X is not self.inputs[0]:
            return self.step(X, y, weight)
        if self.graph is None and self.eager_full_steps < self.WARMUP_STEPS:
            self.eager_full_steps += 1
            current = torch.cuda.current_stream(X.device)
            self.side_stream.wait_stream(current)
            with torch.cuda.stream(self.side_stream):
                loss = self.step(X, y, weight)
            current.wait_stream(self.side_stream)
            return loss
        if self.graph is None:
            self.graph = self._record(X, y, weight)
        if self.graph is False:  # recording failed: eager steps throughout
            return self.step(X, y, weight)
        self.graph.replay()
        return self.loss

    def _record(self, X, y, weight):
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.loss = self.step(X, y, weight)
        except RuntimeError:
            return False
        return graph

    def close(self):
        """Release the graph and the gradient buffers."""
        self.graph = None
        self.step.close()
