"""Rows of the training data, dense or sparse, gathered one batch at a time. Torch only.

A sparse ``X`` reaches the engine as ``SparseRows``: the three arrays of a
CSR matrix as tensors on the training device. Nothing densifies it whole:
the training loop, the validation pass, ``predict_raw`` and L-BFGS ask
``gather_rows`` for a block of rows and get it dense, so that memory grows
with the non-zeros and the batch size, not with rows x columns.
"""

from dataclasses import dataclass

import torch

#: Most values of a block of sparse rows densified at once (16 MB of float32):
#: predict chunks and L-BFGS chunks of wide sparse rows hold fewer rows.
DENSE_BLOCK_VALUES = 2**22


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

    def rows(self, rows, out=None):
        """Return the rows ``rows`` (a slice or an index tensor) as a dense tensor.

        Written into ``out`` (a tensor of the result's shape) when given.
        """
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
        if out is None:
            out = torch.zeros((len(rows), self.n_columns), dtype=self.dtype, device=self.device)
        else:
            out.zero_()
        # accumulate: a CSR matrix may hold one position twice (its sum is meant)
        return out.index_put_((batch_row, self.indices[position]), self.values[position],
                              accumulate=True)


def gather_rows(X, rows, out=None):
    """Return the rows ``rows`` of ``X`` (a dense tensor or ``SparseRows``) as a dense tensor.

    Parameters
    ----------
    X : torch.Tensor or SparseRows
    rows : slice or torch.Tensor of int64
        A slice gives a view of a dense ``X``; an index tensor a copy.
    out : torch.Tensor or None
        Written into when given (it must have the result's shape).

    Returns
    -------
    rows : torch.Tensor

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import gather_rows
    >>> gather_rows(torch.arange(6.0).reshape(3, 2), torch.tensor([2, 0]))
    tensor([[4., 5.],
            [0., 1.]])
    """
    if isinstance(X, SparseRows):
        return X.rows(rows, out)
    if out is None:
        return X[rows] if isinstance(rows, slice) else X.index_select(0, rows)
    if isinstance(rows, slice):
        return out.copy_(X[rows])
    return torch.index_select(X, 0, rows, out=out)


def dense(X):
    """Return ``X`` as a dense tensor (``SparseRows`` densified whole: small data only).

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import dense
    >>> dense(torch.ones(2, 2)).shape
    torch.Size([2, 2])
    """
    return X.rows(slice(None)) if isinstance(X, SparseRows) else X


def block_rows(X, rows):
    """Return ``rows``, or fewer for wide ``SparseRows``: rows per densified block.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.sparse import SparseRows, block_rows
    >>> wide = SparseRows(torch.zeros(2, dtype=torch.int64), torch.zeros(0, dtype=torch.int64),
    ...                   torch.zeros(0), n_columns=2**20)
    >>> block_rows(torch.zeros(1, 3), 4096), block_rows(wide, 4096)
    (4096, 4)
    """
    if not isinstance(X, SparseRows):
        return rows
    return max(1, min(rows, DENSE_BLOCK_VALUES // max(X.n_columns, 1)))
