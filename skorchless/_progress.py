"""Progress reporting during ``fit``, chosen by the estimators' ``verbose`` level.

``verbose=0`` (the default) prints nothing, so that the workers of a
``GridSearchCV`` stay quiet. ``verbose=1`` prints one line per epoch
(``EpochLogger``). ``verbose=2`` (or more) shows a progress bar over the
epochs (``ProgressBar``) when someone can watch it -- standard error is a
terminal, or the code runs in a Jupyter notebook -- and otherwise falls back to
the lines of ``verbose=1``, which read well in log files.
"""

import sys

from tqdm.auto import tqdm

from ._engine.callbacks import Callback


class ProgressBar(Callback):
    """Show a tqdm progress bar over the epochs of ``fit``.

    The bar counts epochs against ``max_iter`` and shows the training loss,
    the validation loss (when there is a validation set) and the best epoch so
    far. When training stops early the bar is completed and its last line
    tells the restored best epoch and why training stopped. In a Jupyter
    notebook it is the notebook widget (``tqdm.auto``).

    Estimators add one automatically with ``verbose=2``; pass one in
    ``callbacks`` to always have a bar, whatever the output is.

    Parameters
    ----------
    file : file-like or None, default=None
        Where to draw the bar; None is standard error.
    leave : bool, default=True
        Keep the finished bar on screen.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import make_regression
    >>> from skorchless import ProgressBar, TorchMLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    >>> out = io.StringIO()
    >>> reg = TorchMLPRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
    ...                         device="cpu", callbacks=[ProgressBar(file=out)])
    >>> reg = reg.fit(X, y)
    >>> final = out.getvalue().splitlines()[-1]  # the last drawing of the bar
    >>> "5/5" in final and "best_epoch=" in final
    True
    """

    def __init__(self, file=None, leave=True):
        self.file = file
        self.leave = leave

    def on_train_begin(self, max_epochs):
        """Open a bar of ``max_epochs`` steps."""
        self._bar = tqdm(
            total=max_epochs, unit="epoch", file=self.file, leave=self.leave,
            dynamic_ncols=True, desc="fit",
        )
        self._best_epoch = None
        self._postfix = {}

    def on_epoch_end(self, state):
        """Advance the bar by one epoch and show the losses of ``state``."""
        if state.is_best:
            self._best_epoch = state.epoch
        self._postfix = {"train_loss": f"{state.train_loss:.4g}"}
        if state.valid_loss is not None:
            self._postfix["valid_loss"] = f"{state.valid_loss:.4g}"
        self._postfix["best_epoch"] = self._best_epoch
        self._bar.set_postfix(self._postfix, refresh=False)
        self._bar.update(1)

    def on_train_end(self, result):
        """Complete and close the bar, showing the best epoch and the stop reason."""
        bar = getattr(self, "_bar", None)
        if bar is None:
            return
        postfix = {**self._postfix, "best_epoch": result.best_epoch,
                   "stop": result.stop_reason}
        bar.set_postfix(postfix, refresh=False)
        bar.total = bar.n  # stopped early: the bar is complete, not abandoned
        bar.refresh()
        bar.close()
        self._bar = None  # a closed tqdm holds a lock and a stream: do not keep it

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_bar", None)
        return state


def progress_bar_visible(stream=None):
    """Return whether a progress bar on ``stream`` would be seen by someone.

    True in a Jupyter notebook (an IPython kernel), or when ``stream``
    (standard error by default) is a terminal; False when it goes to a file, a
    pipe or a worker process of a parallel job.

    Parameters
    ----------
    stream : file-like or None, default=None
        The stream to check; None is ``sys.stderr``.

    Returns
    -------
    visible : bool

    Examples
    --------
    >>> import io
    >>> from skorchless._progress import progress_bar_visible
    >>> progress_bar_visible(io.StringIO())
    False
    """
    if _in_notebook():
        return True
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _in_notebook():
    ipython = sys.modules.get("IPython")  # never imported here: only if already in use
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})
