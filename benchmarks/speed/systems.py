"""The systems the speed suite compares, all training the same thing.

Same network (two hidden ReLU layers of 256, one output), same optimizer (Adam,
learning rate 1e-3, no L2 penalty; the fused kernel for every torch system),
same batch size (256), shuffled every epoch, for exactly ``epochs`` epochs with
no validation. Each takes float64 numpy ``X, y``, as users pass them, and pays
for its own conversions inside ``fit`` and ``predict``.
"""

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HIDDEN = (256, 256)
BATCH_SIZE = 256
LEARNING_RATE = 1e-3
SYSTEMS = ("bare", "skorchless", "skorch", "sklearn")
#: skorchless with its default ``alpha`` and ``input_scaling`` (run on the real tables).
DEFAULTS_SYSTEM = "skorchless-defaults"
#: The systems whose predict takes a pandas DataFrame (and checks its feature names).
FRAME_SYSTEMS = ("skorchless", DEFAULTS_SYSTEM, "sklearn")


def layer_sizes(n_features, hidden=HIDDEN):
    return [n_features, *hidden, 1]


def torch_mlp(n_features, hidden=HIDDEN):
    sizes = layer_sizes(n_features, hidden)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class BareLoop:
    """A hand-written PyTorch loop, as fast as we know how to write one.

    Tensors are built once; each epoch draws a permutation and gathers every
    batch with ``index_select``; fused Adam; the epoch loss is summed on the
    device and read once per epoch (as any loop that logs it must).
    """

    def __init__(self, epochs, seed, device="cpu", batch_size=BATCH_SIZE):
        self.epochs = epochs
        self.seed = seed
        self.device = torch.device(device)
        self.batch_size = batch_size

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        X = torch.from_numpy(X).to(self.device, torch.float32)
        y = torch.from_numpy(y).to(self.device, torch.float32).reshape(-1, 1)
        self.model = model = torch_mlp(X.shape[1]).to(self.device)
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=True)
        generator = torch.Generator(self.device).manual_seed(self.seed)
        n = X.shape[0]
        self.loss_curve_ = []
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=generator, device=self.device)
            total = torch.zeros((), device=self.device)
            for start in range(0, n, self.batch_size):
                idx = order[start : start + self.batch_size]
                loss = F.mse_loss(model(X.index_select(0, idx)), y.index_select(0, idx))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total.add_(loss.detach(), alpha=idx.shape[0])
            self.loss_curve_.append(total.item() / n)
        return self

    def predict(self, X):
        with torch.inference_mode():
            X = torch.from_numpy(X).to(self.device, torch.float32)
            return self.model(X).cpu().numpy().ravel()

    @property
    def epochs_run(self):
        return len(self.loss_curve_)


class SkorchSystem:
    """skorch's ``NeuralNetRegressor`` with fused Adam and no train split."""

    def __init__(self, epochs, seed, device="cpu", batch_size=BATCH_SIZE):
        self.epochs = epochs
        self.seed = seed
        self.device = device
        self.batch_size = batch_size

    def fit(self, X, y):
        from skorch import NeuralNetRegressor

        torch.manual_seed(self.seed)
        self.net = NeuralNetRegressor(
            torch_mlp(X.shape[1]), criterion=nn.MSELoss, optimizer=torch.optim.Adam,
            optimizer__fused=True, lr=LEARNING_RATE, max_epochs=self.epochs,
            batch_size=self.batch_size, train_split=None, iterator_train__shuffle=True,
            device=self.device, verbose=0,
        )
        # skorch needs float32 and a 2-D target: the user converts, so it is timed.
        self.net.fit(X.astype(np.float32), y.astype(np.float32).reshape(-1, 1))
        return self

    def predict(self, X):
        return self.net.predict(X.astype(np.float32)).ravel()

    @property
    def epochs_run(self):
        return len(self.net.history)


class SklearnSystem:
    """scikit-learn's ``MLPRegressor`` for exactly ``epochs`` epochs (tol=0, no stopping)."""

    def __init__(self, epochs, seed, device="cpu", batch_size=BATCH_SIZE):
        from sklearn.neural_network import MLPRegressor

        if str(device) != "cpu":
            raise ValueError(f"scikit-learn's MLP runs on the CPU only, not {device!r}.")
        self.model = MLPRegressor(
            hidden_layer_sizes=HIDDEN, solver="adam", alpha=0.0, batch_size=batch_size,
            learning_rate_init=LEARNING_RATE, max_iter=epochs, shuffle=True, tol=0.0,
            early_stopping=False, n_iter_no_change=np.inf, random_state=seed,
        )

    def fit(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the plan
            self.model.fit(X, y)
        return self

    def predict(self, X):
        return self.model.predict(X)

    @property
    def epochs_run(self):
        return self.model.n_iter_


#: The defaults of skorchless that the other systems do not have: the L2
#: penalty, the scaling of the inputs, their piecewise-linear encoding (which
#: widens the input layer) and the moving average of the weights.
EXTRAS_OFF = {"alpha": 0.0, "input_scaling": None, "n_bins": None, "ema_decay": None}


class SkorchlessSystem:
    """``TorchMLPRegressor`` for exactly ``epochs`` epochs, no validation split.

    ``defaults=False`` turns off ``EXTRAS_OFF``, so that it trains the same
    network on the same inputs as the other systems; ``defaults=True`` keeps
    them, to show what they cost.
    """

    def __init__(self, epochs, seed, defaults=False, device="cpu", batch_size=BATCH_SIZE):
        from skorchless import TorchMLPRegressor

        params = TorchMLPRegressor().get_params()
        extra = {} if defaults else {k: v for k, v in EXTRAS_OFF.items() if k in params}
        self.model = TorchMLPRegressor(
            hidden_layer_sizes=HIDDEN, solver="adam", batch_size=batch_size,
            learning_rate_init=LEARNING_RATE, max_iter=epochs, shuffle=True,
            early_stopping=False, n_iter_no_change=np.inf, device=device,
            random_state=seed, **extra,
        )

    def fit(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the plan
            self.model.fit(X, y)
        return self

    def predict(self, X):
        return self.model.predict(X)

    @property
    def epochs_run(self):
        return self.model.n_iter_


def make(system, epochs, seed, device="cpu", batch_size=BATCH_SIZE):
    """Return the system named ``system``, unfitted, for ``device``."""
    kwargs = {"device": device, "batch_size": batch_size}
    if system == "bare":
        return BareLoop(epochs, seed, **kwargs)
    if system == "skorch":
        return SkorchSystem(epochs, seed, **kwargs)
    if system == "sklearn":
        return SklearnSystem(epochs, seed, **kwargs)
    if system in ("skorchless", DEFAULTS_SYSTEM):
        return SkorchlessSystem(epochs, seed, defaults=system == DEFAULTS_SYSTEM, **kwargs)
    raise ValueError(f"Unknown system {system!r}.")
