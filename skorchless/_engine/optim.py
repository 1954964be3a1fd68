"""Optimizers: construction, and the direct call of the fused Adam kernel.

Torch only. ``make_optimizer`` builds what an estimator's ``solver`` names,
with scikit-learn's L2 penalty as weight decay on the weights (not the
biases), and the fused kernel where this torch has it for the device.
``optimizer_step`` returns the step the training step calls: the fused Adam
kernel called directly where a one-time probe shows that it computes exactly
what ``optimizer.step()`` computes, else ``optimizer.step`` itself.

``torch._fused_adam_`` / ``torch._fused_adamw_`` are private torch functions;
this module is the only place that calls them, and only after the probe.
"""

import functools

import torch

from .network import linear_layers


def make_optimizer(module, solver, *, learning_rate_init, alpha, batch_size,
                   momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999,
                   epsilon=1e-8):
    """Return the optimizer of ``solver`` over the parameters of ``module``.

    scikit-learn's penalty ``0.5 * alpha * ||W||^2 / batch_size`` is, in
    gradient, a weight decay of ``alpha / batch_size`` on the weight matrices
    (not the biases); for ``"adamw"`` ``alpha`` is the decoupled weight decay.

    Parameters
    ----------
    module : torch.nn.Module
    solver : {"adam", "adamw", "sgd"}
    learning_rate_init : float
    alpha : float
    batch_size : int
    momentum, nesterovs_momentum : float, bool
        Of ``"sgd"``.
    beta_1, beta_2, epsilon : float
        Of ``"adam"`` and ``"adamw"``.

    Returns
    -------
    optimizer : torch.optim.Optimizer

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.optim import make_optimizer
    >>> opt = make_optimizer(torch.nn.Linear(2, 1), "adam", learning_rate_init=1e-3,
    ...                      alpha=1e-4, batch_size=32)
    >>> [group["weight_decay"] for group in opt.param_groups]
    [3.125e-06, 0.0]
    """
    weights = [layer.weight for layer in linear_layers(module)]
    biases = [p for n, p in module.named_parameters() if not n.endswith("weight")]
    decay = alpha if solver == "adamw" else alpha / batch_size
    groups = [{"params": weights, "weight_decay": decay},
              {"params": biases, "weight_decay": 0.0}]
    if decay == 0:  # one group: one fused kernel call per step
        groups = [{"params": weights + biases, "weight_decay": 0.0}]
    device = next(module.parameters()).device
    if solver == "sgd":
        return torch.optim.SGD(
            groups, lr=learning_rate_init, momentum=momentum,
            nesterov=nesterovs_momentum and momentum > 0,
            **_fast_kernel(device, torch.optim.SGD),
        )
    optimizer_class = torch.optim.AdamW if solver == "adamw" else torch.optim.Adam
    return optimizer_class(
        groups, lr=learning_rate_init, betas=(beta_1, beta_2), eps=epsilon,
        **_fast_kernel(device, optimizer_class),
    )


def _fast_kernel(device, optimizer_class):
    # The fused kernel (one call per step for all parameters) where this torch
    # has it for this device, else the multi-tensor one.
    return {"fused": True} if _fused_ok(device, optimizer_class) else {"foreach": True}


@functools.cache
def _fused_ok(device, optimizer_class):
    # Fused kernels arrived device by device (the CPU ones in torch 2.4, and
    # an unsupported device fails only at the first step): one step on a
    # one-element parameter tells, once per process.
    param = torch.zeros(1, device=device, requires_grad=True)
    param.grad = torch.zeros_like(param)
    try:
        optimizer_class([param], lr=0.0, fused=True).step()
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def optimizer_step(optimizer, tensor_lr=False):
    """Return a callable that does ``optimizer.step()``.

    For a fused ``Adam`` or ``AdamW`` without hooks, AMSGrad or tensor learning
    rates -- what the estimators build -- it calls the fused kernel directly,
    as ``optimizer.step()`` ends up doing, without the bookkeeping around it
    (gathering the state per call, hooks, profiling records): about 50 us less
    per step on a CPU. That needs the kernel's private signature, so it is
    used only where ``direct_kernel_ok`` confirmed it; other optimizers get
    ``optimizer.step`` itself.

    With ``tensor_lr=True`` the kernel reads each group's learning rate from a
    tensor on the parameters' device, which ``sync_lr()`` sets from the
    group's ``lr`` (what a schedule changes); a CUDA graph that replays the
    step then follows the schedule.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.optim import optimizer_step
    >>> net = torch.nn.Linear(2, 1)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> optimizer_step(opt) == opt.step
    True
    """
    if not is_plain_fused_adam(optimizer):
        return optimizer.step
    return FusedAdamStep(optimizer, tensor_lr)


def is_plain_fused_adam(optimizer):
    """Whether ``optimizer`` is a plain fused Adam/AdamW whose kernel can be called directly.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.optim import is_plain_fused_adam
    >>> net = torch.nn.Linear(2, 1)
    >>> is_plain_fused_adam(torch.optim.Adam(net.parameters(), foreach=True))
    False
    """
    hooks = (getattr(optimizer, "_optimizer_step_pre_hooks", None),
             getattr(optimizer, "_optimizer_step_post_hooks", None))
    plain = (
        type(optimizer) in (torch.optim.Adam, torch.optim.AdamW)
        and all(h is not None and not h for h in hooks)
        and all(
            group.get("fused") and not group.get("amsgrad") and not group.get("maximize")
            and not group.get("capturable") and not group.get("differentiable")
            and not isinstance(group["lr"], torch.Tensor)
            for group in optimizer.param_groups
        )
    )
    if not plain:
        return False
    device = optimizer.param_groups[0]["params"][0].device
    return direct_kernel_ok(device, type(optimizer))


@functools.cache
def direct_kernel_ok(device, optimizer_class):
    """Whether calling the fused kernel directly gives what ``optimizer.step()`` gives.

    Probed once per process, device and class: three steps of a tiny problem,
    by ``optimizer.step()``, by ``FusedAdamStep`` and by ``FusedAdamStep`` in
    blocks of rows, must leave bitwise equal parameters and state (the state
    of the direct calls is created by ``FusedAdamStep``). Any error (the
    private signature changed) or difference means no.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.optim import direct_kernel_ok
    >>> isinstance(direct_kernel_ok(torch.device("cpu"), torch.optim.Adam), bool)
    True
    """
    if not (hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")):
        return False
    runs = []
    for how in ("step", "direct", "blocks"):
        param = torch.linspace(-1.0, 1.0, 12, device=device).reshape(3, 4).requires_grad_()
        optimizer = optimizer_class([param], lr=0.1, weight_decay=0.01, fused=True)
        direct = FusedAdamStep(optimizer)
        try:
            for i in range(3):
                grad = torch.full_like(param, 0.5 - i)
                if how == "blocks":  # two rows at a time, param.grad unset
                    direct(grad_rows=(param, lambda a, b, out, g=grad: out.copy_(g[a:b])),
                           block_values=8)
                    continue
                param.grad = grad
                direct() if how == "direct" else optimizer.step()
        except (RuntimeError, TypeError, ValueError, AttributeError, KeyError):
            return False
        state = optimizer.state[param]
        runs.append([param.detach(), state["exp_avg"], state["exp_avg_sq"], state["step"]])
    return all(torch.equal(a, b) and a.dtype == b.dtype
               for other in runs[1:] for a, b in zip(runs[0], other, strict=True))

class FusedAdamStep:
    """Call the fused Adam/AdamW kernel on an optimizer's parameters and state.

    The first call creates the optimizer's state as ``optimizer.step()``
    would (zero moments, a float32 step count on the parameter's device);
    every call passes the same state tensors to the kernel.

    A parameter whose gradient is not held whole (``grad_rows``) is stepped a
    block of rows at a time through one small buffer: the kernel is
    elementwise, so the result is the same. The sparse first layer uses it,
    so that a wide layer's gradient costs a few MB, not a copy of the weights.

    Parameters
    ----------
    optimizer : torch.optim.Adam or torch.optim.AdamW
        Fused, without hooks or AMSGrad.
    tensor_lr : bool, default=False
        Pass the learning rates as device tensors (see ``sync_lr``).
    """

    #: Values of a parameter stepped at once when its gradient comes in blocks.
    BLOCK_VALUES = 2**20

    def __init__(self, optimizer, tensor_lr=False):
        self.optimizer = optimizer
        self.groups = None
        self.lr_tensors = None
        if tensor_lr:
            device = optimizer.param_groups[0]["params"][0].device
            self.lr_tensors = [torch.tensor(float(group["lr"]), device=device)
                               for group in optimizer.param_groups]
            self.lr_values = [float(group["lr"]) for group in optimizer.param_groups]

    def sync_lr(self):
        """Copy the groups' learning rates into the tensors the kernel reads."""
        for i, group in enumerate(self.optimizer.param_groups):
            if group["lr"] != self.lr_values[i]:
                self.lr_tensors[i].fill_(group["lr"])
                self.lr_values[i] = group["lr"]

    def __call__(self, grad_rows=None, block_values=None):
        """Do one optimizer step.

        Parameters
        ----------
        grad_rows : (param, fill) or None
            A parameter whose ``.grad`` is not read: ``fill(start, stop, out)``
            writes the rows ``start:stop`` of its gradient into ``out``.
        block_values : int or None
            Values per block of ``grad_rows`` (default ``BLOCK_VALUES``).
        """
        if self.groups is None:
            self.groups = self._state_lists()
        blocked, fill = grad_rows or (None, None)
        for i, (group, (kernel, params, exp_avgs, exp_avg_sqs, steps)) in enumerate(zip(
            self.optimizer.param_groups, self.groups, strict=True
        )):
            beta1, beta2 = group["betas"]
            options = dict(amsgrad=False, lr=group["lr"] if self.lr_tensors is None
                           else self.lr_tensors[i], beta1=beta1, beta2=beta2,
                           weight_decay=group["weight_decay"], eps=group["eps"],
                           maximize=False, grad_scale=None, found_inf=None)
            torch._foreach_add_(steps, 1)
            whole = [j for j, p in enumerate(params) if p is not blocked]
            if whole:
                kernel(*([t[j] for j in whole] for t in (params, [p.grad for p in params],
                                                         exp_avgs, exp_avg_sqs)),
                       [], [steps[j] for j in whole], **options)
            if len(whole) < len(params):
                j = next(j for j, p in enumerate(params) if p is blocked)
                self._step_in_blocks(kernel, fill, block_values or self.BLOCK_VALUES,
                                     params[j], exp_avgs[j], exp_avg_sqs[j], steps[j], options)

    @staticmethod
    def _step_in_blocks(kernel, fill, block_values, param, exp_avg, exp_avg_sq, step, options):
        rows = max(1, block_values // max(param[0].numel(), 1))
        buffer = torch.empty((min(rows, len(param)), *param.shape[1:]), dtype=param.dtype,
                             device=param.device)
        with torch.no_grad():
            for start in range(0, len(param), rows):
                stop = min(start + rows, len(param))
                grad = fill(start, stop, buffer[: stop - start])
                kernel([param[start:stop]], [grad], [exp_avg[start:stop]],
                       [exp_avg_sq[start:stop]], [], [step], **options)

    def _state_lists(self):
        # Per group: its kernel (decoupled weight decay or not) and its tensors,
        # the state created as optimizer.step() creates it where there is none.
        lists = []
        for group in self.optimizer.param_groups:
            decoupled = (type(self.optimizer) is torch.optim.AdamW
                         or group.get("decoupled_weight_decay", False))
            params = list(group["params"])
            for p in params:
                state = self.optimizer.state[p]
                if "exp_avg" not in state:
                    state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(
                        p, memory_format=torch.preserve_format)
            states = [self.optimizer.state[p] for p in params]
            lists.append((torch._fused_adamw_ if decoupled else torch._fused_adam_,
                          params, [s["exp_avg"] for s in states],
                          [s["exp_avg_sq"] for s in states], [s["step"] for s in states]))
        return lists
