"""Rows of the training data, dense or sparse, gathered one batch at a time. Torch only.

A sparse ``X`` reaches the engine as ``SparseRows``: the three arrays of a
CSR matrix as tensors on the training device. Nothing densifies it whole:
the training loop, the validation pass, ``predict_raw`` and L-BFGS ask
``gather_rows`` for a block of rows. Very sparse rows (at most
``SPARSE_LAYER_MAX_DENSITY`` of the values non-zero) come as a
``SparseBatch``, the non-zeros of the block, which the network's first
``Linear`` layer multiplies without densifying (``linear``, ``apply_module``):
the cost of that layer, forward and backward, grows with the non-zeros, not
with rows x columns. Denser sparse rows are densified a block at a time,
where the dense matrix product is faster.
"""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

#: Most values of a block of sparse rows densified at once (16 MB of float32):
#: predict chunks and L-BFGS chunks of wide sparse rows hold fewer rows.
DENSE_BLOCK_VALUES = 2**22
#: Sparse rows with at most this fraction of non-zeros reach the first layer
#: as a ``SparseBatch``; denser ones are densified per batch. Gathering and
#: scattering rows of the weights runs at memory speed, some 20-50 times
#: fewer operations per second than a dense matrix product on a CPU, so the
#: sparse product pays below a few per cent of non-zeros.
SPARSE_LAYER_MAX_DENSITY = 0.02


@dataclass
class SparseRows:
    """A CSR matrix as tensors, densified a block of rows at a time.

    Parameters
    ----------
    indptr : torch.Tensor of shape (n_rows + 1,), int64
    indices : torch.Tensor of shape (nnz,), int64
        Column of each stored value.
    values : torch.Tensor of shape (nnz,)
        The stored values, in the dtype the dense rows get.
    n_columns : int

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import SparseRows
    >>> X = SparseRows(torch.tensor([0, 1, 1, 3]), torch.tensor([2, 0, 1]),
    ...                torch.tensor([5.0, 6.0, 7.0]), n_columns=3)
    >>> X.shape, X.rows(slice(0, 3))
    ((3, 3), tensor([[0., 0., 5.],
            [0., 0., 0.],
            [6., 7., 0.]]))
    >>> X.rows(torch.tensor([2, 0]))
    tensor([[6., 7., 0.],
            [0., 0., 5.]])
    """

    indptr: torch.Tensor
    indices: torch.Tensor
    values: torch.Tensor
    n_columns: int

    @property
    def shape(self):
        """``(n_rows, n_columns)``, as a dense tensor's shape."""
        return (self.indptr.shape[0] - 1, self.n_columns)

    @property
    def dtype(self):
        """The dtype of the dense rows."""
        return self.values.dtype

    @property
    def device(self):
        """The device the tensors (and the dense rows) are on."""
        return self.values.device

    def __len__(self):
        return self.shape[0]

    def to(self, device, non_blocking=False):
        """Return the same rows with their tensors on ``device``."""
        move = [t.to(device, non_blocking=non_blocking)
                for t in (self.indptr, self.indices, self.values)]
        return SparseRows(*move, n_columns=self.n_columns)

    @property
    def density(self):
        """The fraction of the values that are stored (non-zero)."""
        return self.values.numel() / max(self.shape[0] * self.n_columns, 1)

    def rows(self, rows, out=None):
        """Return the rows ``rows`` (a slice or an index tensor) as a dense tensor.

        Written into ``out`` (a tensor of the result's shape) when given.
        """
        batch = self.batch(rows)
        if out is None:
            out = torch.zeros(batch.shape, dtype=self.dtype, device=self.device)
        else:
            out.zero_()
        # accumulate: a CSR matrix may hold one position twice (its sum is meant)
        return out.index_put_((batch.row, batch.column), batch.values, accumulate=True)

    def batch(self, rows):
        """Return the rows ``rows`` (a slice or an index tensor) as a ``SparseBatch``."""
        if isinstance(rows, slice):
            rows = torch.arange(*rows.indices(len(self)), device=self.device)
        starts = self.indptr[rows]
        counts = self.indptr[rows + 1] - starts
        first = torch.cumsum(counts, 0) - counts  # where each row's values start in the batch
        n_values = int(counts.sum())
        batch_row = torch.repeat_interleave(
            torch.arange(len(rows), device=self.device), counts, output_size=n_values)
        position = (torch.arange(n_values, device=self.device)
                    + torch.repeat_interleave(starts - first, counts, output_size=n_values))
        return SparseBatch(batch_row, self.indices[position], self.values[position],
                           (len(rows), self.n_columns))


@dataclass
class SparseBatch:
    """A block of sparse rows as coordinates: the input of a sparse first layer.

    Parameters
    ----------
    row : torch.Tensor of shape (nnz,), int64
        Row of each value within the block.
    column : torch.Tensor of shape (nnz,), int64
    values : torch.Tensor of shape (nnz,)
    shape : tuple of int
        ``(n_rows, n_columns)`` of the block.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import SparseBatch
    >>> batch = SparseBatch(torch.tensor([0, 1]), torch.tensor([2, 0]),
    ...                     torch.tensor([5.0, 6.0]), (2, 3))
    >>> batch.dense()
    tensor([[0., 0., 5.],
            [6., 0., 0.]])
    """

    row: torch.Tensor
    column: torch.Tensor
    values: torch.Tensor
    shape: tuple

    @property
    def dtype(self):
        """The dtype of the values."""
        return self.values.dtype

    @property
    def device(self):
        """The device of the tensors."""
        return self.values.device

    def to(self, device=None, dtype=None, non_blocking=False):
        """Return the same block on ``device``, its values in ``dtype``."""
        row, column = (t.to(device, non_blocking=non_blocking) for t in (self.row, self.column))
        return SparseBatch(row, column, self.values.to(device, dtype, non_blocking=non_blocking),
                           self.shape)

    def coo(self):
        """Return the block as a sparse COO tensor (duplicates summed when used)."""
        return torch.sparse_coo_tensor(torch.stack([self.row, self.column]), self.values,
                                       self.shape, check_invariants=False)  # valid by making

    def dense(self):
        """Return the block as a dense tensor."""
        out = torch.zeros(self.shape, dtype=self.dtype, device=self.device)
        return out.index_put_((self.row, self.column), self.values, accumulate=True)


def linear(X, weight, bias=None):
    """Return ``X @ weight.T + bias`` for a dense tensor or a ``SparseBatch``.

    A ``SparseBatch`` is multiplied as a sparse COO matrix: work in proportion
    to its non-zeros, in the dtype of its values (where that is not the
    weight's, only the columns it uses are converted). Autograd differentiates
    it (the gradient of ``weight`` is dense, non-zero in the columns the block
    touches).

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import SparseBatch, linear
    >>> batch = SparseBatch(torch.tensor([0, 1]), torch.tensor([2, 0]),
    ...                     torch.tensor([5.0, 6.0]), (2, 3))
    >>> weight = torch.arange(6.0).reshape(2, 3)
    >>> torch.equal(linear(batch, weight), batch.dense() @ weight.T)
    True
    """
    if not isinstance(X, SparseBatch):
        return F.linear(X, weight, bias)
    if X.dtype == weight.dtype:
        out = torch.sparse.mm(X.coo(), weight.t())
    else:  # the columns used, converted
        columns, column = torch.unique(X.column, return_inverse=True)
        used = SparseBatch(X.row, column, X.values, (X.shape[0], len(columns)))
        out = torch.sparse.mm(used.coo(), weight.index_select(1, columns).t().to(X.dtype))
    return out if bias is None else out.add_(bias.to(X.dtype))


#: Values of the temporary each block of ``linear_weight_grad`` computes.
GRAD_BLOCK_VALUES = 2**20


def linear_weight_grad(X, grad, out):
    """Write ``grad.T @ X`` (the gradient of ``linear``'s weight) into ``out``.

    For a ``SparseBatch``, computed as ``(X.T @ grad).T`` a block of rows of
    ``out`` at a time, through temporaries of ``GRAD_BLOCK_VALUES`` values.

    Parameters
    ----------
    X : torch.Tensor or SparseBatch of shape (n, in_features)
    grad : torch.Tensor of shape (n, out_features)
        The gradient with respect to the layer's output.
    out : torch.Tensor of shape (out_features, in_features)

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import SparseBatch, linear_weight_grad
    >>> batch = SparseBatch(torch.tensor([0, 1]), torch.tensor([2, 0]),
    ...                     torch.tensor([5.0, 6.0]), (2, 3))
    >>> grad = torch.ones(2, 2)
    >>> torch.equal(linear_weight_grad(batch, grad, torch.empty(2, 3)),
    ...             grad.T @ batch.dense())
    True
    """
    if not isinstance(X, SparseBatch):
        return torch.mm(grad.t(), X, out=out)
    transposed = X.coo().t()
    rows = max(1, GRAD_BLOCK_VALUES // max(X.shape[1], 1))
    for start in range(0, out.shape[0], rows):
        out[start : start + rows].copy_(
            torch.sparse.mm(transposed, grad[:, start : start + rows]).t())
    return out


def apply_module(module, X):
    """Return ``module(X)`` for a dense tensor or a ``SparseBatch``.

    A ``SparseBatch`` goes through the first layer of a Sequential that starts
    with a ``Linear`` as ``linear`` does; any other module gets it dense.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import SparseBatch, apply_module
    >>> batch = SparseBatch(torch.tensor([0]), torch.tensor([1]), torch.tensor([2.0]), (1, 2))
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    >>> torch.allclose(apply_module(net, batch), net(batch.dense()))
    True
    """
    if not isinstance(X, SparseBatch):
        return module(X)
    if type(module) is nn.Sequential and len(module) and type(module[0]) is nn.Linear:
        return module[1:](linear(X, module[0].weight, module[0].bias))
    return module(X.dense())


def gather_rows(X, rows, out=None, sparse=False):
    """Return the rows ``rows`` of ``X`` (a dense tensor or ``SparseRows``).

    Parameters
    ----------
    X : torch.Tensor or SparseRows
    rows : slice or torch.Tensor of int64
        A slice gives a view of a dense ``X``; an index tensor a copy.
    out : torch.Tensor or None
        Written into when given (it must have the result's shape).
    sparse : bool, default=False
        Return the rows of a ``SparseRows`` as a ``SparseBatch`` when they are
        sparse enough for a sparse first layer (``uses_sparse_layer``).

    Returns
    -------
    rows : torch.Tensor or SparseBatch

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import gather_rows
    >>> gather_rows(torch.arange(6.0).reshape(3, 2), torch.tensor([2, 0]))
    tensor([[4., 5.],
            [0., 1.]])
    """
    if isinstance(X, SparseRows):
        return X.batch(rows) if sparse and uses_sparse_layer(X) else X.rows(rows, out)
    if out is None:
        return X[rows] if isinstance(rows, slice) else X.index_select(0, rows)
    if isinstance(rows, slice):
        return out.copy_(X[rows])
    return torch.index_select(X, 0, rows, out=out)


def uses_sparse_layer(X):
    """Whether the rows of ``X`` reach the first layer as a ``SparseBatch``.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import uses_sparse_layer
    >>> uses_sparse_layer(torch.zeros(2, 2))
    False
    """
    return isinstance(X, SparseRows) and X.density <= SPARSE_LAYER_MAX_DENSITY


def dense(X):
    """Return ``X`` as a dense tensor (``SparseRows`` densified whole: small data only).

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import dense
    >>> dense(torch.ones(2, 2)).shape
    torch.Size([2, 2])
    """
    if isinstance(X, SparseBatch):
        return X.dense()
    return X.rows(slice(None)) if isinstance(X, SparseRows) else X


def block_rows(X, rows):
    """Return ``rows``, or fewer for wide ``SparseRows`` densified: rows per block.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import SparseRows, block_rows
    >>> rows = SparseRows(torch.tensor([0, 3]), torch.tensor([0, 1, 2]), torch.ones(3),
    ...                   n_columns=100)  # 3 % non-zeros: densified
    >>> block_rows(torch.zeros(1, 3), 10**6), block_rows(rows, 10**6)
    (1000000, 41943)
    """
    if not isinstance(X, SparseRows) or uses_sparse_layer(X):
        return rows
    return max(1, min(rows, DENSE_BLOCK_VALUES // max(X.n_columns, 1)))
