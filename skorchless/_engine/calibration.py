"""Temperature scaling of a classifier's outputs, fitted after training. Torch only.

Guo et al. (2017), "On Calibration of Modern Neural Networks": one scalar
divides the logits, chosen to minimise the log-loss of held-out rows. It
moves no decision (the arg-max and the sign of a logit stay), only how sure
the probabilities are.
"""

import math

import torch

from .losses import weighted_mean
from .network import linear_layers

#: Range of the searched inverse temperature ``1 / T``.
INVERSE_TEMPERATURE_RANGE = (1e-2, 1e2)
#: Golden-section steps: the interval shrinks to 0.618 ** 60 (about 3e-13) of its width.
SEARCH_STEPS = 60


@torch.no_grad()
def fit_temperature(logits, y, loss_fn, weight=None):
    """Return the temperature ``T`` minimising the mean ``loss_fn(logits / T, y)``.

    The log-loss is convex in ``1 / T``, so a golden-section search over
    ``log(1 / T)`` in ``INVERSE_TEMPERATURE_RANGE`` finds it.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_outputs)
    y : torch.Tensor
        The labels, as ``loss_fn`` takes them.
    loss_fn : callable
        ``loss_fn(output, y)`` returns one loss per sample (unsmoothed).
    weight : torch.Tensor or None
        Sample weights, normalised to mean 1.

    Returns
    -------
    temperature : float

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.calibration import fit_temperature
    >>> from skorchless._engine.losses import cross_entropy
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    >>> y = torch.tensor([0, 1, 1, 0])  # one of four wrong: too sure at T = 1
    >>> fit_temperature(logits, y, cross_entropy(0.0)) > 1.0
    True
    """
    logits = logits.double()

    def loss_at(log_beta):
        return weighted_mean(loss_fn(logits * math.exp(log_beta), y), weight).item()

    low, high = (math.log(v) for v in INVERSE_TEMPERATURE_RANGE)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss_at(a), loss_at(b)
    for _ in range(SEARCH_STEPS):
        if loss_a <= loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss_at(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss_at(b)
    log_beta = (low + high) / 2.0
    if not loss_at(log_beta) < loss_at(0.0):  # no better than as trained
        return 1.0
    return math.exp(-log_beta)


@torch.no_grad()
def scale_outputs(module, factor):
    """Multiply the outputs of ``module`` (its last ``Linear`` layer) by ``factor``, in place.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.calibration import scale_outputs
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 1))
    >>> x = torch.ones(1, 2)
    >>> before = net(x).item()
    >>> scale_outputs(net, 0.5)
    >>> abs(net(x).item() - before / 2) < 1e-6
    True
    """
    last = linear_layers(module)[-1]
    last.weight.mul_(factor)
    if last.bias is not None:
        last.bias.mul_(factor)
