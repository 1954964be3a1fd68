"""The network as predict runs it: a frozen copy, with a cheap first layer over bins.

Torch only. ``FrozenMLP.of`` copies a trained ``build_mlp`` network for
inference in one dtype (float64 for float64 data): its weights converted
once, the input scaling in front, and, over bins, the first layer as
``BinnedLinear``, which computes the product with the piecewise-linear
encoding without building it. It runs the rows in chunks through buffers
allocated once per call (fresh tensors of a few MB cost page faults each
time), the activations in place. The trained network is not changed;
training never sees these objects.
"""

import itertools
import math
import warnings

import torch
from torch import nn

from .network import SeededDropout

#: Scaled values below this magnitude square without overflow.
_HUGE = 1e150
#: Rows scaled and binned at once (the activations go by chunks of fewer).
BLOCK_ROWS = 65536
#: Activations applied in place on the buffers; others run as their module.
_IN_PLACE = {nn.ReLU: torch.relu_, nn.Tanh: torch.tanh_, nn.Sigmoid: torch.sigmoid_,
             nn.Identity: None}


def _state(module):
    # A Sequential's layers, and where each parameter sits, its storage and its
    # version. The objects themselves are kept: a freed one's address cannot
    # come back as another's. (Module.parameters() walks the modules through
    # a memo set, several times slower, which one-row predict calls would pay.)
    layers = [module, *module._modules.values()]
    return layers, [(layer._parameters, name, p, p.data_ptr(), p._version)
                    for layer in layers for name, p in layer._parameters.items()
                    if p is not None]


class BinnedLinear:
    """A linear layer over ``[x, bins(x), one-hot]``, computed from ``x`` (inference only).

    ``bins(x)`` is the piecewise-linear encoding of
    ``_preprocessing.PiecewiseLinearEncoder``: for a column with edges
    ``e_0 < ... < e_K``, bin ``k`` of a value ``v`` is
    ``clamp((v - e_k) / (e_{k+1} - e_k), 0, 1)`` -- 1 for the bins below
    ``v``'s bin ``b``, 0 above it, its position inside its own. So the bins'
    part of the product is ``C[b] + fraction * W[b]``, where ``W[k]`` is the
    weight column of bin ``k`` and ``C[b]`` the sum of those below ``b``; a
    one-hot block (categories) adds the weight column of its hot column. A
    few rows of a table per input column instead of a product with every
    column, gathered as one sparse-dense product. The same outputs as
    ``F.linear([x, bins(x), one-hot], weight, bias)`` up to rounding.

    Parameters
    ----------
    weight : torch.Tensor of shape (out_features, n_columns + n_bins + n_onehot)
        The trained layer's weight over ``[x, bins(x), one-hot]``, bins in
        the order of ``edges``.
    bias : torch.Tensor of shape (out_features,)
    edges : sequence of torch.Tensor
        The bin edges of each of the ``n_columns`` columns of ``x`` (fewer
        than two: no bins), of ``weight``'s dtype.
    onehot : sequence of int, default=()
        The width of each one-hot block (one per categorical column).

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.inference import BinnedLinear
    >>> weight, edges = torch.randn(2, 6, dtype=torch.float64), [torch.arange(4.0).double()]
    >>> x = torch.tensor([[1.5], [-1.0], [7.0]], dtype=torch.float64)
    >>> codes = torch.tensor([[0], [1], [-1]])  # the hot column of each row's block (-1: none)
    >>> bins = ((x - edges[0][:-1]) / edges[0].diff()).clamp(0.0, 1.0)
    >>> onehot = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    >>> dense = torch.cat([x, bins, onehot], 1) @ weight.T
    >>> layer = BinnedLinear(weight, torch.zeros(2).double(), edges, onehot=[2])
    >>> torch.allclose(layer(x, codes=codes), dense)
    True
    """

    def __init__(self, weight, bias, edges, onehot=()):
        n_columns = len(edges)
        binned = [(j, e) for j, e in enumerate(edges) if len(e) > 1]
        counts = [len(e) - 1 for _, e in binned]
        n_inputs = n_columns + sum(counts) + sum(onehot)
        if weight.shape[1] != n_inputs:
            raise ValueError(
                f"weight has {weight.shape[1]} columns, but the {n_columns} columns of x, "
                f"their {sum(counts)} bins and {sum(onehot)} one-hot columns are {n_inputs}.")
        self.out_features = weight.shape[0]
        self.plain_weight = weight[:, :n_columns].t().contiguous()
        self.bias = bias
        self.binned = torch.tensor([j for j, _ in binned], dtype=torch.int64)
        # The table: per binned column, the rows C[0..K] (C[0] = 0); then per
        # binned column the rows W[0..K] (W[K] = 0: past the last edge); then
        # per one-hot block a zero row (no hot column) and a row per column.
        # The bias is in the C rows of the first binned column (every row of
        # x gathers one of them), else in the zero and hot rows of the first
        # block, else added by the product with x. For searchsorted, each
        # column's right edges padded with +inf; for the fraction, e_b and
        # e_{b+1} - e_b of each C row (0 and 1 past the last edge).
        right = weight.new_full((len(binned), max(counts, default=0)), torch.inf)
        cumulative, own, left, span = [], [], [], []
        zero, start = weight.new_zeros((1, weight.shape[0])), n_columns
        for i, ((_, e), count) in enumerate(zip(binned, counts, strict=True)):
            right[i, :count] = e[1:]
            left.append(torch.cat([e[:-1], e.new_zeros(1)]))
            span.append(torch.cat([e[1:] - e[:-1], e.new_ones(1)]))
            columns = weight[:, start:start + count].t()
            start += count
            cumulative.append(torch.cat([zero, columns.cumsum(0)]) + (bias if i == 0 else 0))
            own.append(torch.cat([columns, zero]))
        blocks = []
        for k, width in enumerate(onehot):
            block = torch.cat([zero, weight[:, start:start + width].t()])
            blocks.append(block + (bias if k == 0 and not binned else 0))
            start += width
        starts = list(itertools.accumulate((count + 1 for count in counts), initial=0))
        self.first_row = torch.tensor(starts[:-1], dtype=torch.int32)[:, None]
        self.n_rows = starts[-1]  # of the C blocks, which the W blocks follow
        self.w_offset = torch.tensor([[0], [self.n_rows]], dtype=torch.int32)
        self.counts = torch.tensor(counts, dtype=torch.int32)[:, None]
        # the row of each block's zero row, past the C and W blocks
        self.block_row = torch.tensor(list(itertools.accumulate(
            (width + 1 for width in onehot[:-1]), initial=2 * self.n_rows)),
            dtype=torch.int64)[:len(onehot)]
        self.right = right
        self.table = torch.cat([*cumulative, *own, *blocks]) if binned or blocks else zero[:0]
        self.edges = (torch.stack([torch.cat(left), torch.cat(span)], dim=1) if binned
                      else zero[0, :0].reshape(0, 2))
        self.add_bias = not (binned or blocks)
        if not self.add_bias:
            # torch warns once per process that sparse CSR tensors are in beta;
            # the warning is about torch, not for the users of predict.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self(self.table.new_zeros((1, n_columns)),
                     codes=torch.zeros((1, len(onehot)), dtype=torch.int64))

    def workspace(self, n_rows):
        """Return buffers for ``entries`` of up to ``n_rows`` rows (one caller at a time)."""
        width = 2 * len(self.binned) + len(self.block_row)
        return (torch.arange(0, width * n_rows + 1, width, dtype=torch.int32),
                self.table.new_ones((n_rows, width)))

    def __call__(self, x, out=None, codes=None):
        """Return ``[x, bins(x), one-hot(codes)] @ weight.T + bias`` for rows ``x``.

        ``codes``: per row and one-hot block, the hot column within the block
        (-1: none); ``out``: where to write.
        """
        workspace = self.workspace(len(x))
        return self.product(x, self.entries(x, codes, workspace), out=out)

    def product(self, x, entries, out=None):
        """Return the layer's outputs of rows ``x`` from their ``entries`` (in ``out``)."""
        if self.add_bias:
            return torch.addmm(self.bias, x, self.plain_weight, out=out)
        out = torch.mm(x, self.plain_weight, out=out)
        pointers, columns, values = entries
        n = len(x)
        gather = torch.sparse_csr_tensor(pointers[:n + 1], columns[:n].reshape(-1),
                                         values[:n].reshape(-1), check_invariants=False,
                                         size=(n, self.table.shape[0]))
        return out.addmm_(gather, self.table)

    def entries(self, x, codes, workspace, bounded=False):
        """Return the sparse rows that gather the bins' and categories' part of rows ``x``.

        ``(pointers, columns, values)``: row i holds 1 at C[b] and the
        fraction at W[b] of each binned column, 1 at the hot (or zero) row of
        each one-hot block, columns in increasing order, the same number in
        every row (so that the entries of rows ``a:b`` are
        ``pointers[:b - a + 1], columns[a:b], values[a:b]``). int32 indices:
        what the sparse kernels take without a copy. ``bounded``: ``x`` is
        finite, so that no value passes the +inf padding of the right edges.
        """
        pointers, values = workspace
        n, n_binned = len(x), len(self.binned)
        values = values[:n]
        columns = torch.empty((n, 0), dtype=torch.int32)
        if n_binned:
            binned = torch.index_select(x.t(), 0, self.binned)           # (F, n)
            rows = torch.searchsorted(self.right, binned, right=True, out_int32=True)
            if not bounded:
                torch.minimum(rows, self.counts, out=rows)
            rows.add_(self.first_row)
            edges = self.edges[rows]                                     # (F, n, 2)
            fraction = values[:, n_binned:2 * n_binned].t()              # (F, n) view
            torch.sub(binned, edges[..., 0], out=fraction)
            fraction.div_(edges[..., 1]).clamp_(0.0, 1.0)
            columns = (rows.t()[:, None, :] + self.w_offset).reshape(n, -1)
        if len(self.block_row):
            hot = (codes + 1 + self.block_row).int()
            columns = torch.cat([columns, hot], dim=1) if n_binned else hot
        return pointers, columns, values


class FrozenMLP:
    """A trained ``build_mlp`` network copied for inference in one dtype, on the CPU.

    Built by ``FrozenMLP.of``. Called on rows ``X`` (of its dtype), it
    scales them (``(x - center) / scale``, then ``smooth_clip`` when ``clip``
    is set, as ``_preprocessing`` does in numpy) and runs the layers, a
    chunk of rows at a time; the first layer reads the bins of ``X`` and,
    where there are one-hot blocks, the hot column of each (``codes``).

    Attributes
    ----------
    first : BinnedLinear or None
        The first layer over bins and one-hot blocks; None when the inputs
        have neither.
    layers : list of (weight, bias, activation)
        Weight of shape (n_in, n_out), bias, and the activation after the
        layer (None: none); the first layer's weight is over
        ``[X, bins(X), one-hot]``.
    """

    def __init__(self, layers, *, center=None, scale=None, clip=None, edges=None,
                 onehot=(), source=None):
        self.layers = layers
        self._source = None if source is None else _state(source)
        self.center, self.scale = center, scale
        dtype = layers[0][0].dtype
        self.bound = None if clip is None else torch.tensor(float(clip), dtype=dtype)
        self.first = None
        if edges is not None or len(onehot):
            weight, bias, _ = layers[0]
            if edges is None:
                edges = [weight.new_empty(0)] * (weight.shape[0] - sum(onehot))
            self.first = BinnedLinear(weight.t(), bias, edges, onehot)

    @classmethod
    def of(cls, module, dtype, **scaling):
        """Return the frozen copy of ``module``, or None when it is not a ``build_mlp`` network.

        Parameters
        ----------
        module : torch.nn.Sequential
            The trained network: ``nn.Linear`` layers, parameter-free torch
            activations, dropout (the identity at inference).
        dtype : torch.dtype
            Of the copy's weights (converted once) and of its inputs.
        **scaling
            ``center``, ``scale`` (tensors of ``dtype``), ``clip`` (the
            bound), ``edges`` (the bins of each input, tensors of ``dtype``)
            and ``onehot`` (the width of each one-hot block after them):
            see the class.

        Returns
        -------
        network : FrozenMLP or None

        Examples
        --------
        >>> import torch
        >>> from skorchless._engine.inference import FrozenMLP
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
        ...                           torch.nn.Linear(4, 1))
        >>> frozen = FrozenMLP.of(net, torch.float64)
        >>> frozen(torch.zeros(5, 3, dtype=torch.float64)).shape
        torch.Size([5, 1])
        """
        if type(module) is not nn.Sequential:
            return None
        layers = []
        for layer in module:
            if type(layer) is nn.Linear and layer.bias is not None:
                weight, bias = (p.detach().to("cpu", dtype, copy=True)
                                for p in (layer.weight, layer.bias))
                layers.append([weight.t().contiguous(), bias, None])
            elif isinstance(layer, (SeededDropout, nn.Dropout)):
                continue  # the identity at inference
            elif (layers and layers[-1][2] is None and type(layer).__module__.startswith(
                    "torch.nn.modules") and not [*layer.parameters(), *layer.buffers()]):
                layers[-1][2] = layer
            else:
                return None
        if not layers or layers[-1][2] is not None:
            return None
        return cls([tuple(layer) for layer in layers], **scaling, source=module)

    def is_copy_of(self, module):
        """Whether ``module``'s layers and parameters are still those this copy was made of.

        The same layer objects, holding the same parameter tensors, in the
        same storage, at the same version (which in-place changes advance:
        ``load_state_dict``, updates under ``torch.no_grad()``; not the
        fused optimizers' steps, nor writes through ``.data``).
        """
        layers, parameters = self._source
        return (module is layers[0] and len(module._modules) == len(layers) - 1
                and all(a is b for a, b in zip(module._modules.values(), layers[1:],
                                               strict=True))
                and all(where.get(name) is p and p.data_ptr() == pointer
                        and p._version == version
                        for where, name, p, pointer, version in parameters))

    def __call__(self, X, codes=None, chunk_rows=2048):
        """Return the outputs of rows ``X`` (n_samples, n_inputs), a chunk of rows at a time.

        ``codes`` (n_samples, n_blocks): the hot column of each one-hot block
        (-1: none), when the first layer has blocks. The scaling and the
        sparse rows of the first layer are computed for ``BLOCK_ROWS`` rows
        at once (a few large operations, which run on all threads), the
        layers for ``chunk_rows`` (whose activations stay in cache).
        """
        n_rows = X.shape[0]
        chunk_rows = min(chunk_rows, n_rows)
        block_rows = min(max(BLOCK_ROWS, chunk_rows), n_rows)
        out = X.new_empty((n_rows, self.layers[-1][0].shape[1]))
        # Two buffers per hidden width, used in turn; the last layer writes into out.
        buffers = {}
        scaled = X.new_empty((block_rows, X.shape[1]))
        workspace = None if self.first is None else self.first.workspace(block_rows)
        largest = self._largest(X)
        for block in range(0, n_rows, block_rows):
            end = min(block + block_rows, n_rows)
            x = self._scaled(X[block:end], scaled[:end - block], largest)
            entries = None if self.first is None else self.first.entries(
                x, None if codes is None else codes[block:end], workspace, largest < _HUGE)
            for start in range(0, end - block, chunk_rows):
                stop = min(start + chunk_rows, end - block)
                h = x[start:stop]
                for i, (weight, bias, activation) in enumerate(self.layers):
                    if i == len(self.layers) - 1:
                        target = out[block + start:block + stop]
                    else:
                        pair = buffers.setdefault(weight.shape[1], [
                            X.new_empty((chunk_rows, weight.shape[1])) for _ in range(2)])
                        target = pair[i % 2][:stop - start]
                    if i == 0 and self.first is not None:
                        pointers, columns, values = entries
                        h = self.first.product(h, (pointers, columns[start:stop],
                                                   values[start:stop]), out=target)
                    else:
                        h = torch.addmm(bias, h, weight, out=target)
                    if type(activation) in _IN_PLACE:
                        if _IN_PLACE[type(activation)] is not None:
                            _IN_PLACE[type(activation)](h)
                    elif activation is not None:
                        h = activation(h)
        return out

    def _largest(self, X):
        # A bound on the magnitude of the scaled values, from X's largest
        # (inf where they may be infinite, or X holds NaN): it decides once per
        # call whether the clip needs smooth_clip's care for huge values.
        if not len(X) or (self.bound is None and self.first is None):
            return 0.0
        low, high = (float(v) for v in torch.aminmax(X))
        largest = max(-low, high) if low == low and high == high else math.inf
        if self.center is not None:
            largest += float(self.center.abs().max()) if len(self.center) else 0.0
        if self.scale is not None and len(self.scale):
            smallest = float(self.scale.abs().min())
            largest = largest / smallest if smallest > 0 else math.inf
        return largest

    def _scaled(self, x, out, largest):
        if self.center is None and self.scale is None and self.bound is None:
            return x
        if self.center is not None:
            x = torch.sub(x, self.center, out=out)
        if self.scale is not None:
            x = torch.div(x, self.scale, out=out)
        if self.bound is None:
            return x
        if largest < _HUGE:
            # bound * x / hypot(bound, x) = x / sqrt(1 + (x / bound)^2), where
            # the square cannot overflow: cheaper than hypot, to float rounding
            t = x / self.bound
            return x.div_(t.mul_(t).add_(1.0).sqrt_())
        return torch.where(torch.isinf(x), torch.copysign(self.bound, x),
                           self.bound * (x / torch.hypot(self.bound, x)))
