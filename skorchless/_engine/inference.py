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

import warnings

import torch
from torch import nn

from .network import SeededDropout

#: Activations applied in place on the buffers; others run as their module.
_IN_PLACE = {nn.ReLU: torch.relu_, nn.Tanh: torch.tanh_, nn.Sigmoid: torch.sigmoid_,
             nn.Identity: None}


class BinnedLinear:
    """A linear layer over ``[x, bins(x)]``, computed from ``x`` alone (inference only).

    ``bins(x)`` is the piecewise-linear encoding of
    ``_preprocessing.PiecewiseLinearEncoder``: for a column with edges
    ``e_0 < ... < e_K``, bin ``k`` of a value ``v`` is
    ``clamp((v - e_k) / (e_{k+1} - e_k), 0, 1)`` -- 1 for the bins below
    ``v``'s bin ``b``, 0 above it, its position inside its own. So the bins'
    part of the product is ``C[b] + fraction * W[b]``, where ``W[k]`` is the
    weight column of bin ``k`` and ``C[b]`` the sum of those below ``b``:
    two rows of a table per binned column instead of a product with every
    bin column, gathered as one sparse-dense product. The same outputs as
    ``F.linear([x, bins(x)], weight, bias)`` up to rounding.

    Parameters
    ----------
    weight : torch.Tensor of shape (out_features, n_columns + n_bins)
        The trained layer's weight over ``[x, bins(x)]``, bins in the order
        of ``edges``.
    bias : torch.Tensor of shape (out_features,)
    edges : sequence of torch.Tensor
        The bin edges of each of the ``n_columns`` columns of ``x`` (fewer
        than two: no bins), of ``weight``'s dtype.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.inference import BinnedLinear
    >>> weight, edges = torch.randn(2, 4, dtype=torch.float64), [torch.arange(4.0).double()]
    >>> x = torch.tensor([[1.5], [-1.0], [7.0]], dtype=torch.float64)
    >>> bins = ((x - edges[0][:-1]) / edges[0].diff()).clamp(0.0, 1.0)
    >>> dense = torch.cat([x, bins], 1) @ weight.T
    >>> torch.allclose(BinnedLinear(weight, torch.zeros(2).double(), edges)(x), dense)
    True
    """

    def __init__(self, weight, bias, edges):
        n_columns = len(edges)
        binned = [(j, e) for j, e in enumerate(edges) if len(e) > 1]
        counts = [len(e) - 1 for _, e in binned]
        if weight.shape[1] != n_columns + sum(counts):
            raise ValueError(
                f"weight has {weight.shape[1]} columns, but the {n_columns} columns of x "
                f"and their {sum(counts)} bins are {n_columns + sum(counts)}.")
        self.out_features = weight.shape[0]
        self.plain_weight = weight[:, :n_columns].t().contiguous()
        self.bias = bias
        self.binned = torch.tensor([j for j, _ in binned], dtype=torch.int64)
        # Per binned column: its right edges padded with +inf (searchsorted
        # counts the bins below a value); for each bin b = 0..K the rows of
        # C[b] and W[b] in the table (W[K] a zero row: past the last edge),
        # and e_b and e_{b+1} - e_b (0 and 1 past the last edge).
        width = max(counts, default=0) + 1
        right = weight.new_full((len(binned), width - 1), torch.inf)
        left = weight.new_zeros((len(binned), width))
        span = weight.new_ones((len(binned), width))
        cumulative, own, start = [], [], n_columns
        zero = weight.new_zeros((1, weight.shape[0]))
        for i, ((_, e), count) in enumerate(zip(binned, counts, strict=True)):
            right[i, :count] = e[1:]
            left[i, :count] = e[:-1]
            span[i, :count] = e[1:] - e[:-1]
            columns = weight[:, start:start + count].t()
            start += count
            cumulative.append(torch.cat([zero, columns.cumsum(0)]))
            own.append(torch.cat([columns, zero]))
        self.right, self.left, self.span = right, left.reshape(-1), span.reshape(-1)
        self.counts = torch.tensor(counts, dtype=torch.int32)
        rows = torch.tensor([0] + [c + 1 for c in counts], dtype=torch.int32).cumsum(0)
        self.first_row = rows[:-1].int()
        self.slot = torch.arange(len(binned), dtype=torch.int32) * width
        self.table = torch.cat([*cumulative, *own]) if binned else zero[:0]
        self.n_rows = int(rows[-1])  # of the C blocks, which the W blocks follow
        if binned:
            # torch warns once per process that sparse CSR tensors are in beta;
            # the warning is about torch, not for the users of predict.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self._gather(self.table.new_zeros((1, n_columns)))

    def __call__(self, x, out=None):
        """Return ``[x, bins(x)] @ weight.T + bias`` for rows ``x``, in ``out`` if given."""
        out = torch.addmm(self.bias, x, self.plain_weight, out=out)
        if len(self.binned):
            out.addmm_(self._gather(x), self.table)
        return out

    def _gather(self, x):
        # Row i: 1 at C[b] and the fraction at W[b] of each binned column.
        # int32 indices: what the sparse kernels take without a copy.
        binned = x[:, self.binned]
        bins = torch.searchsorted(self.right, binned.t().contiguous(), right=True,
                                  out_int32=True).t()
        bins = torch.minimum(bins, self.counts)
        slot = bins + self.slot
        fraction = ((binned - self.left[slot]) / self.span[slot]).clamp_(0.0, 1.0)
        row = bins + self.first_row
        n, n_binned = bins.shape
        columns = torch.cat([row, row + self.n_rows], dim=1).reshape(-1)
        values = torch.cat([torch.ones_like(fraction), fraction], dim=1).reshape(-1)
        pointers = torch.arange(0, 2 * n_binned * n + 1, 2 * n_binned, dtype=torch.int32)
        return torch.sparse_csr_tensor(pointers, columns, values, check_invariants=False,
                                       size=(n, self.table.shape[0]))


class FrozenMLP:
    """A trained ``build_mlp`` network copied for inference in one dtype, on the CPU.

    Built by ``FrozenMLP.of``. Called on rows ``X`` (of its dtype), it
    scales them (``(x - center) / scale``, then ``smooth_clip`` when ``clip``
    is set, as ``_preprocessing`` does in numpy) and runs the layers, a
    chunk of rows at a time.

    Attributes
    ----------
    first : BinnedLinear or None
        The first layer over bins; None when the inputs have none.
    layers : list of (weight, bias, activation)
        Weight of shape (n_in, n_out), bias, and the activation after the
        layer (None: none); the first layer's weight is over
        ``[x, bins(x)]``.
    """

    def __init__(self, layers, *, center=None, scale=None, clip=None, edges=None):
        self.layers = layers
        self.center, self.scale = center, scale
        dtype = layers[0][0].dtype
        self.bound = None if clip is None else torch.tensor(float(clip), dtype=dtype)
        self.first = None
        if edges is not None:
            weight, bias, _ = layers[0]
            self.first = BinnedLinear(weight.t(), bias, edges)

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
            bound) and ``edges`` (the bins of each input, tensors of
            ``dtype``): see the class.

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
        return cls([tuple(layer) for layer in layers], **scaling)

    def __call__(self, X, chunk_rows=2048):
        """Return the outputs of rows ``X`` (n_samples, n_inputs), a chunk of rows at a time."""
        n_rows = X.shape[0]
        chunk_rows = min(chunk_rows, n_rows)
        out = X.new_empty((n_rows, self.layers[-1][0].shape[1]))
        # Two buffers per hidden width, used in turn; the last layer writes into out.
        buffers = {}
        scaled = X.new_empty((chunk_rows, X.shape[1]))
        for start in range(0, n_rows, chunk_rows):
            stop = min(start + chunk_rows, n_rows)
            h = self._scaled(X[start:stop], scaled[:stop - start])
            for i, (weight, bias, activation) in enumerate(self.layers):
                if i == len(self.layers) - 1:
                    target = out[start:stop]
                else:
                    pair = buffers.setdefault(weight.shape[1], [
                        X.new_empty((chunk_rows, weight.shape[1])) for _ in range(2)])
                    target = pair[i % 2][:stop - start]
                if i == 0 and self.first is not None:
                    h = self.first(h, out=target)
                else:
                    h = torch.addmm(bias, h, weight, out=target)
                if type(activation) in _IN_PLACE:
                    if _IN_PLACE[type(activation)] is not None:
                        _IN_PLACE[type(activation)](h)
                elif activation is not None:
                    h = activation(h)
        return out

    def _scaled(self, x, out):
        if self.center is None and self.scale is None and self.bound is None:
            return x
        if self.center is not None:
            x = torch.sub(x, self.center, out=out)
        if self.scale is not None:
            x = torch.div(x, self.scale, out=out)
        if self.bound is not None:
            infinite = torch.isinf(x)
            if infinite.any():  # smooth_clip's limit: +-bound
                x = torch.where(infinite, torch.copysign(self.bound, x),
                                self.bound * (x / torch.hypot(self.bound, x)), out=out)
            else:
                x = torch.div(x, torch.hypot(self.bound, x), out=out).mul_(self.bound)
        return x
