"""Values as messages show them: plain Python, never numpy reprs.

``f"{np.int64(42000)!r}"`` reads ``np.int64(42000)`` since numpy 2; a message
should say ``42000``. Every error and warning that shows a value the user
gave (a label, a class, a size) passes it through ``plain`` first.
"""

import numpy as np


def plain(value):
    """Return ``value`` with numpy scalars and arrays turned into Python values and lists.

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._messages import plain
    >>> plain(np.int64(42000)), plain(np.array(["a", "b"])), plain((np.float32(0.5), 1))
    (42000, ['a', 'b'], (0.5, 1))
    """
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value
