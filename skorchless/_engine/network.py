"""Build the torch module of a multi-layer perceptron.

Torch only: this module knows nothing of numpy, pandas or scikit-learn.
"""

import math

import torch
from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "selu": nn.SELU,
    "mish": nn.Mish,
}


class SeededDropout(nn.Module):
    """Dropout that draws its masks from its own ``torch.Generator``.

    ``torch.nn.Dropout`` draws from the global generator, which would make a
    fit depend on (and change) global state. This one takes the generator of
    the fit, so that ``random_state`` alone decides every mask.

    Parameters
    ----------
    p : float
        Probability of zeroing an activation during training.
    generator : torch.Generator or None
        Source of randomness; ``None`` uses the global generator.
    """

    def __init__(self, p, generator=None):
        super().__init__()
        self.p = p
        self.generator = generator

    def forward(self, x):
        """Zero activations with probability ``p`` and rescale the rest."""
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep, generator=self.generator)
        return x * mask / keep

    def __getstate__(self):
        state = self.__dict__.copy()
        state["generator"] = None  # generators do not pickle; masks are train-only
        return state

    def extra_repr(self):
        return f"p={self.p}"


def build_mlp(
    n_inputs,
    hidden_layer_sizes,
    n_outputs,
    *,
    activation,
    dropout,
    init_generator,
    dropout_generator=None,
    device="cpu",
):
    """Return an ``nn.Sequential`` MLP with Glorot-uniform initial weights.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; empty for a linear model.
    n_outputs : int
        Number of output units (raw scores: no output activation).
    activation : str
        A key of ``ACTIVATIONS``.
    dropout : float
        Dropout probability after each hidden activation.
    init_generator : torch.Generator
        CPU generator for the initial weights, so that they are the same on
        every device.
    dropout_generator : torch.Generator or None
        Generator, on ``device``, for the dropout masks.
    device : torch.device or str
        Where the parameters live.

    Returns
    -------
    module : torch.nn.Sequential
        Linear layers, each hidden one followed by the activation (and dropout).

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.network import build_mlp
    >>> net = build_mlp(3, (8,), 1, activation="relu", dropout=0.0,
    ...                 init_generator=torch.Generator().manual_seed(0))
    >>> net(torch.zeros(5, 3)).shape
    torch.Size([5, 1])
    """
    sizes = [n_inputs, *hidden_layer_sizes, n_outputs]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        # skip_init: nn.Linear's own initialisation would draw from (and so
        # advance) the global torch generator; ours draws from init_generator.
        linear = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
        _glorot_uniform_(linear, activation, init_generator)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(SeededDropout(dropout, dropout_generator))
    return nn.Sequential(*layers).to(device)


def _glorot_uniform_(linear, activation, generator):
    # The initialisation of scikit-learn's MLP: U(-b, b) with
    # b = sqrt(factor / (fan_in + fan_out)), factor 2 for logistic, else 6.
    factor = 2.0 if activation == "logistic" else 6.0
    bound = math.sqrt(factor / (linear.in_features + linear.out_features))
    with torch.no_grad():
        linear.weight.uniform_(-bound, bound, generator=generator)
        linear.bias.uniform_(-bound, bound, generator=generator)


def linear_layers(module):
    """Return the ``nn.Linear`` layers of ``module`` in forward order.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.network import linear_layers
    >>> len(linear_layers(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())))
    1
    """
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def snapshot(module):
    """Return a copy of ``module``'s ``state_dict`` (detached clones), to restore later.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.network import snapshot
    >>> net = torch.nn.Linear(1, 1)
    >>> saved = snapshot(net)
    >>> _ = torch.nn.init.zeros_(net.weight)
    >>> _ = net.load_state_dict(saved)
    """
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def use_generator(module, generator):
    """Make every ``SeededDropout`` of ``module`` draw its masks from ``generator``.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.network import SeededDropout, use_generator
    >>> net = torch.nn.Sequential(SeededDropout(0.5))
    >>> generator = torch.Generator()
    >>> use_generator(net, generator)
    >>> net[0].generator is generator
    True
    """
    for layer in module.modules():
        if isinstance(layer, SeededDropout):
            layer.generator = generator
