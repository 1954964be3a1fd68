"""Where numpy meets torch: devices and float32 tensors.

The estimators turn their validated, encoded numpy data into tensors here,
and nowhere else; the engine then only ever sees tensors on their device.
"""

import warnings

import numpy as np
import torch

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
    array : ndarray
        Already validated (finite, numeric).
    device : torch.device
    dtype : torch.dtype, default=torch.float32
    name : str, default="X"
        Name of the data, for the error message.

    Returns
    -------
    tensor : torch.Tensor

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
    array = np.asarray(array)
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
