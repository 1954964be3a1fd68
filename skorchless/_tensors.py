"""Where numpy meets torch: devices, float32 tensors, and torch input.

The estimators turn their validated, encoded numpy data into tensors here,
and nowhere else; the engine then only ever sees tensors on their device
(a sparse matrix as ``SparseRows``, densified by the engine a batch at a
time). The other way, ``from_torch`` turns the torch tensors a user passes
as ``X`` or ``y`` into the numpy (or scipy) arrays the validation takes.
"""

import warnings

import numpy as np
import scipy.sparse
import torch
from torch.utils.data import DataLoader, Dataset

from ._engine.sparse import SparseRows

FLOAT32_MAX = float(np.finfo(np.float32).max)


def resolve_device(device):
    """Return the ``torch.device`` that ``device`` names.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``; also ``"mps"`` where available.

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        If the string is not a device, or names a device that is not present.

    Examples
    --------
    >>> from skorchless._tensors import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            "The 'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N'. "
            f"Got {device!r} instead."
        ) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"The 'device' parameter is {device!r} but CUDA is not available "
                "on this machine; use device='auto' or 'cpu'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"The 'device' parameter is {device!r} but only "
                f"{torch.cuda.device_count()} CUDA device(s) are present."
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"The 'device' parameter is {device!r} but MPS is not available.")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            "The 'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N'. "
            f"Got {device!r} instead."
        )
    return resolved


def to_tensor(array, device, dtype=torch.float32, name="X"):
    """Return ``array`` as a contiguous tensor of ``dtype`` on ``device``.

    Parameters
    ----------
    array : ndarray or scipy sparse matrix
        Already validated (finite, numeric). A sparse matrix becomes
        ``SparseRows`` (its non-zeros only, on ``device``).
    device : torch.device
    dtype : torch.dtype, default=torch.float32
    name : str, default="X"
        Name of the data, for the error message.

    Returns
    -------
    tensor : torch.Tensor or SparseRows

    Raises
    ------
    ValueError
        If a float value is not finite or does not fit in float32.
    MemoryError
        If the tensor does not fit in the memory of a CUDA ``device``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorchless._tensors import to_tensor
    >>> to_tensor(np.ones((2, 3)), torch.device("cpu")).dtype
    torch.float32
    """
    if scipy.sparse.issparse(array):
        array = array.tocsr()
        _check_float32(array.data, dtype, name)
        return SparseRows(
            *(_as_tensor(a, torch.int64) for a in (array.indptr, array.indices)),
            _as_tensor(array.data, dtype), n_columns=array.shape[1],
        ).to(device)
    array = np.asarray(array)
    _check_float32(array, dtype, name)
    tensor = _as_tensor(np.ascontiguousarray(array), dtype)
    try:
        return tensor.to(device, non_blocking=True)
    except torch.cuda.OutOfMemoryError as exc:
        size_gb = tensor.numel() * tensor.element_size() / 2**30
        raise MemoryError(
            f"{name} ({' x '.join(map(str, tensor.shape))} values, {size_gb:.2f} GB as "
            f"{str(dtype).removeprefix('torch.')}) does not fit in the free memory of "
            f"device {str(device)!r}. Train on it in chunks with partial_fit, or use "
            "device='cpu'."
        ) from exc


def _check_float32(array, dtype, name):
    if dtype == torch.float32 and array.size and array.dtype.kind == "f":
        largest = np.maximum(array.max(), -array.min())  # no temporary copy of array
        if not np.isfinite(largest):
            raise ValueError(
                f"{name} holds values too extreme to scale (the scaled values are "
                "NaN or infinite); rescale it first."
            )
        if float(largest) > FLOAT32_MAX:
            raise ValueError(
                f"{name} contains values larger than float32 can hold "
                f"(max |value| = {largest:.3g}); rescale it first."
            )


def _as_tensor(array, dtype):
    # torch converts (on all its threads, into memory from its own allocator:
    # about 10x faster than numpy's astype on a first fit of 1M x 50 rows,
    # which faults in fresh pages); numpy where torch cannot share the array.
    shareable = (
        array.dtype.isnative and array.dtype.kind in "biuf"
        and array.dtype not in (np.uint16, np.uint32, np.uint64)
    )
    if not shareable:
        numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
        array = np.ascontiguousarray(array, dtype=numpy_dtype)
    with warnings.catch_warnings():
        # A read-only array (a joblib memmap in a parallel search) is shared
        # as is: nothing in the package writes to X or y.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array).to(dtype)


def to_numpy(tensor, dtype=None):
    """Return ``tensor`` as a numpy array on the host (a copy), in ``dtype`` if given.

    Examples
    --------
    >>> import torch
    >>> from skorchless._tensors import to_numpy
    >>> to_numpy(torch.ones(2), dtype="float64").dtype
    dtype('float64')
    """
    array = tensor.detach().cpu().numpy()
    return array.astype(dtype) if dtype is not None else array.copy()


def from_torch(value, name):
    """Return a torch tensor as the numpy array (or scipy CSR matrix) it holds.

    Detached, copied to the host, ``bfloat16`` (which numpy lacks) widened
    to float32; a sparse tensor (any layout) becomes a CSR matrix. Anything
    that is not a tensor is returned as it is, but a torch ``Dataset`` or
    ``DataLoader`` is refused: its items may be anything (features and
    targets together, transforms applied lazily), so the estimator cannot
    know what to take from it.

    Parameters
    ----------
    value : object
    name : str
        What ``value`` is (``"X"``, ``"y"``), for the error message.

    Returns
    -------
    value : ndarray, scipy.sparse.csr_matrix or the object given

    Raises
    ------
    TypeError
        If ``value`` is a ``Dataset`` or ``DataLoader``.

    Examples
    --------
    >>> import torch
    >>> from skorchless._tensors import from_torch
    >>> from_torch(torch.ones(2, requires_grad=True, dtype=torch.bfloat16), "X")
    array([1., 1.], dtype=float32)
    >>> from_torch(torch.eye(2).to_sparse(), "X").nnz
    2
    """
    if isinstance(value, (Dataset, DataLoader)):
        raise TypeError(
            f"{name} is a torch {type(value).__name__}; pass the data itself as arrays "
            "or tensors: fit(X, y) with X of shape (n_samples, n_features) and y of "
            "shape (n_samples,). For a TensorDataset: X, y = dataset.tensors; for a "
            "DataLoader: X, y = map(torch.cat, zip(*loader))."
        )
    if not isinstance(value, torch.Tensor):
        return value
    value = value.detach()
    if value.dtype == torch.bfloat16:
        value = value.float()
    if value.layout == torch.strided:
        return value.cpu().numpy()
    coo = value.to_sparse_coo().coalesce().cpu()
    row, column = coo.indices().numpy()
    return scipy.sparse.csr_matrix((coo.values().numpy(), (row, column)), shape=coo.shape)
