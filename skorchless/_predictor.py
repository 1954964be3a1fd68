"""The predict path of a fitted model, prepared once and kept while its weights stand.

``predict`` on a numeric array (or a DataFrame of numbers and categories)
repeats, call after call, work that depends only on the fitted model:
scikit-learn's validation of the fitted transformers, the conversion of the
float32 weights to float64, the dense matrix of the bins and of the one-hot
columns. A ``Predictor`` does that work once: it holds the fitted encoding as
arrays (``_inputs.NumericPlan``, ``_inputs.FramePlan``), the weights in
float64, and the network as predict runs it (``_engine.inference.FrozenMLP``:
the first layer over the bins and categories as a gather). Its results are
the general path's, to float64 rounding.

Small batches run in numpy, whose operations cost about a microsecond each
where torch's cost several; larger ones in torch, in chunks, the bins'
product as a gather (``BinnedLinear``).

Each estimator's predictor is kept beside it, in ``_PREDICTORS`` (weakly:
it goes with the estimator), not in its ``__dict__``: predict leaves the
estimator as it was, and pickles and saved files never hold one. It is
current while the network's parameters are the same tensors, in the same
storage, at the same version: a fit, ``partial_fit``, ``load_state_dict``,
``module_.to(...)`` or an in-place change under ``torch.no_grad()`` makes it
stale, and the next predict builds another. None is kept while the
estimator fits (``fitting``): a scorer may predict between epochs, whose
fused optimizer steps change the weights without advancing their versions.
Changing ``module_``'s weights by hand in a way that leaves the versions
alone (an optimizer step of one's own, a write through ``.data``) is not
seen: use ``load_state_dict``, or refit.
"""

import contextlib
import weakref

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from torch import nn

from ._columns import as_pandas
from ._engine.inference import FrozenMLP
from ._engine.network import linear_layers
from ._tensors import to_tensor

#: Up to this many rows, predict runs in numpy (per operation about 1 us
#: against torch's several, and no thread of torch's waits for another on a
#: busy machine); more rows run in torch, in chunks.
NUMPY_ROWS = 64
#: Fewer rows than this go through torch as this many (predict_raw's reason).
MIN_TORCH_ROWS = 8
#: Rows per forward pass in torch: on 2 threads, 2048 rows of float64 activations
#: per thread (benchmarks/speed: 4096 ran 5-10 % faster than 1024 or 2048).
CHUNK_ROWS = 4096
#: The predictor of each estimator; False while it fits.
_PREDICTORS = weakref.WeakKeyDictionary()


def current_predictor(estimator):
    """Return the predictor of a fitted estimator's weights as they are, or None.

    Built on the first call after a fit (or after the weights changed), then
    kept; None before the first fit, during a fit, and where ``Predictor.build``
    finds none.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._predictor import current_predictor
    >>> reg = TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=2, device="cpu")
    >>> current_predictor(reg) is None
    True
    >>> _ = reg.fit(np.eye(4), np.arange(4.0))
    >>> current_predictor(reg).n_features
    4
    """
    predictor = _PREDICTORS.get(estimator)
    if predictor is False or "module_" not in estimator.__dict__:
        return None
    if predictor is None or not predictor.network.is_copy_of(estimator.module_):
        predictor = _PREDICTORS[estimator] = Predictor.build(estimator)
    return predictor


@contextlib.contextmanager
def fitting(estimator):
    """Keep no predictor for ``estimator`` while the block runs (a fit), nor the one before."""
    _PREDICTORS[estimator] = False
    try:
        yield
    finally:
        _PREDICTORS.pop(estimator, None)


def _relu(h):
    return np.maximum(h, 0.0, out=h)


def _identity(h):
    return h


#: numpy's versions of the activations of the network (others: torch at every size).
NUMPY_ACTIVATIONS = {nn.ReLU: _relu, nn.Identity: _identity, nn.Tanh: np.tanh,
                     nn.Sigmoid: expit}


class Predictor:
    """What predict needs of a fitted estimator on numbers (and categories), prepared once.

    Built by ``Predictor.build``; see the module's docstring.

    Attributes
    ----------
    n_features : int
    feature_names : list of str or None
        ``feature_names_in_`` of the estimator, as a list.
    plan : _inputs.NumericPlan
        The encoding of the numbers.
    frame : _inputs.FramePlan or None
        For a model fitted on a DataFrame with categorical columns: how its
        columns become numbers and one-hot columns.
    network : _engine.inference.FrozenMLP
        The frozen float64 network, the input scaling in front.
    layers : list of (ndarray, ndarray, callable) or None
        Weight (n_in, n_out), bias and numpy activation of each layer, in
        float64, the first over the encoded columns with their bins and
        one-hot columns; None when an activation has no numpy version here.
    """

    def __init__(self, estimator, plan, network, frame=None):
        self.n_features = estimator.n_features_in_
        names = getattr(estimator, "feature_names_in_", None)
        self.feature_names = None if names is None else list(names)
        self.plan = plan
        self.frame = frame
        self.network = network
        self.layers = _numpy_layers(network)
        widths = [] if frame is None else frame.widths
        self._block_start = np.cumsum([0, *widths[:-1]]).astype(np.intp)
        self._n_onehot = sum(widths)

    @classmethod
    def build(cls, estimator):
        """Return the predictor of a fitted estimator, or None where there is none.

        None for a network on an accelerator (predict sends it the rows),
        for input other than numbers and categories (sparse matrices, date
        columns), and for networks of other layers than ``build_mlp`` makes.
        """
        module = estimator.module_
        if any(p.device.type != "cpu" for p in module.parameters()):
            return None
        frame = estimator._inputs.frame_plan()
        plan = frame.numbers if frame is not None else estimator._inputs.numeric_plan()
        if plan is None:
            return None
        widths = [] if frame is None else frame.widths
        linears = linear_layers(module)
        if not linears or linears[0].in_features != (
                plan.n_columns + len(plan.bin_column) + sum(widths)):
            return None

        def tensor(values):
            return None if values is None else torch.tensor(values, dtype=torch.float64)

        network = FrozenMLP.of(
            module, torch.float64, center=tensor(plan.center), scale=tensor(plan.scale),
            clip=plan.clip, edges=None if plan.edges is None else [
                tensor(e) for e in plan.edges], onehot=widths)
        if network is None:
            return None
        return cls(estimator, plan, network, frame)

    def rows(self, X):
        """Return ``(numbers, finite, codes)`` of what the predictor takes, or None.

        It takes what the general path's validation would pass unchanged,
        without a warning, and of float64 values: a 2-D array of numbers
        (float64, integers, bool) with the fitted number of columns, for a
        model fitted without feature names; a DataFrame with exactly the
        fitted columns, in order, for one fitted with them -- of numbers,
        or, for a model fitted with categorical columns, of numpy numbers and
        categories (see ``_inputs.FramePlan.columns``); no infinity (NaN is a
        missing value). Anything else (float32 values among them) goes the
        general way, with its checks and messages. ``numbers``: float64,
        ``finite``: whether they are free of NaN too, ``codes``: the hot
        column of each one-hot block (None without categories).
        """
        codes = None
        if not isinstance(X, np.ndarray | pd.DataFrame):
            X = as_pandas(X, "X")  # polars, pyarrow: the same pandas frame
        if isinstance(X, np.ndarray):
            if self.feature_names is not None:
                return None
        elif isinstance(X, pd.DataFrame):
            if self.feature_names is None or X.columns.tolist() != self.feature_names:
                return None
            if self.frame is not None:
                columns = self.frame.columns(X) if len(X) else None
                if columns is None:
                    return None
                X, codes = columns
            else:
                X = X.to_numpy()
        else:
            return None
        if X.ndim != 2 or len(X) == 0 or (codes is None and X.shape[1] != self.n_features):
            return None
        if X.dtype != np.float64:
            if X.dtype.kind not in "biu":
                return None
            X = X.astype(np.float64)
        finite = bool(np.isfinite(X).all())
        if not finite and np.isinf(X).any():
            return None
        return X, finite, codes

    def raw(self, X, finite=False, codes=None):
        """Return the network outputs (float64) of rows as ``rows`` returns them.

        A row's outputs are the same bits whatever rows come with it, within
        each path: a single row is computed as two (one alone would take the
        matrix-vector kernels, which round differently), fewer than
        ``MIN_TORCH_ROWS`` as that many. Between the numpy and the torch
        path they differ by float64 rounding.
        """
        n_rows = len(X)
        numpy = self.layers is not None and n_rows <= NUMPY_ROWS
        padded = 2 if numpy else MIN_TORCH_ROWS
        if n_rows < padded:
            X = np.concatenate([X, np.repeat(X[:1], padded - n_rows, axis=0)])
            if codes is not None:
                codes = np.concatenate([codes, np.repeat(codes[:1], padded - n_rows, axis=0)])
        if numpy:
            h = self.plan.transform(X, finite)
            if codes is not None:
                h = np.concatenate([h, self._onehot(codes)], axis=1)
            with np.errstate(over="ignore", invalid="ignore"):  # torch's silence
                for weight, bias, activation in self.layers:
                    h = h @ weight
                    h += bias
                    h = activation(h)
            return h[:n_rows]
        X = to_tensor(self.plan.fill_rows(X, finite), torch.device("cpu"), dtype=torch.float64)
        with torch.inference_mode():
            return self.network(X, codes=None if codes is None else torch.from_numpy(codes),
                                chunk_rows=CHUNK_ROWS)[:n_rows].numpy()

    def _onehot(self, codes):
        onehot = np.zeros((len(codes), self._n_onehot))
        rows, blocks = np.nonzero(codes >= 0)
        onehot[rows, self._block_start[blocks] + codes[rows, blocks]] = 1.0
        return onehot


def _numpy_layers(network):
    # The frozen network's layers as numpy arrays (shared memory) with numpy
    # activations; None when an activation has no numpy version here.
    layers = []
    for weight, bias, activation in network.layers:
        if activation is not None and type(activation) not in NUMPY_ACTIVATIONS:
            return None
        layers.append((weight.numpy(), bias.numpy(),
                       _identity if activation is None else NUMPY_ACTIVATIONS[type(activation)]))
    return layers
