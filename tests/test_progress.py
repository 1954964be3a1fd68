"""Progress output by verbose level: silent, one line per epoch, or a tqdm bar."""

import io
import pickle
import re
import sys
import types

import pytest
from sklearn.datasets import make_regression
from sklearn.model_selection import GridSearchCV

from skorchless import EpochState, ProgressBar, TorchMLPRegressor, _base
from skorchless._engine.loop import TrainResult
from skorchless._progress import progress_bar_visible

FAST = {"hidden_layer_sizes": (8,), "max_iter": 60, "learning_rate_init": 0.05,
        "n_iter_no_change": 3, "early_stopping": True, "random_state": 0, "device": "cpu"}
EPOCH_LINE = re.compile(r"^Iteration \d+, loss = [0-9.]+, validation loss = [0-9.]+", re.M)


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=200, n_features=3, noise=5.0, random_state=0)


def _bar_visible(monkeypatch, visible):
    # where the estimators look it up
    monkeypatch.setattr(_base, "progress_bar_visible", lambda stream=None: visible)


def test_silent_by_default(data, capsys):
    reg = TorchMLPRegressor(**FAST).fit(*data)
    assert reg.verbose == 0
    assert capsys.readouterr() == ("", "")


def test_verbose_1_prints_one_line_per_epoch(data, capsys):
    reg = TorchMLPRegressor(verbose=1, **FAST).fit(*data)
    out, err = capsys.readouterr()
    assert len(EPOCH_LINE.findall(out)) == reg.n_iter_
    assert err == ""


def test_verbose_2_falls_back_to_lines_when_nobody_watches(data, capsys, monkeypatch):
    _bar_visible(monkeypatch, False)
    reg = TorchMLPRegressor(verbose=2, **FAST).fit(*data)
    out, err = capsys.readouterr()
    assert len(EPOCH_LINE.findall(out)) == reg.n_iter_
    assert "epoch/s" not in err and "it/s" not in err


def test_verbose_2_shows_a_bar_in_a_terminal(data, capsys, monkeypatch):
    _bar_visible(monkeypatch, True)
    reg = TorchMLPRegressor(verbose=2, **FAST).fit(*data)
    out, err = capsys.readouterr()
    assert out == ""
    assert reg.stop_reason_ == "no_improvement" and reg.n_iter_ < FAST["max_iter"]
    final = err.splitlines()[-1]
    # stopped early: the bar is completed at the epochs run, not left at n/max_iter
    assert f"{reg.n_iter_}/{reg.n_iter_}" in final
    assert f"best_epoch={reg.best_epoch_}" in final
    assert "stop=no_improvement" in final
    assert "train_loss=" in final and "valid_loss=" in final


def test_bar_shows_the_best_epoch_so_far():
    bar = ProgressBar(file=io.StringIO())
    bar.on_train_begin(max_epochs=10)
    shown = []
    for epoch, loss, is_best in [(1, 0.9, True), (2, 0.5, True), (3, 0.7, False)]:
        bar.on_epoch_end(EpochState(epoch, 1.0, loss, 0.5, 1e-3, 0.0, is_best))
        shown.append(bar._bar.postfix)
    assert [re.search(r"best_epoch=(\d+)", text).group(1) for text in shown] == ["1", "2", "2"]
    assert "valid_loss=0.7" in shown[-1]
    bar.on_train_end(TrainResult(best_epoch=2, stop_reason="no_improvement"))
    assert bar._bar is None


def test_grid_search_workers_stay_quiet(data, capsys):
    grid = GridSearchCV(TorchMLPRegressor(**FAST), {"alpha": [1e-4, 1e-2]}, cv=2)
    grid.fit(*data)
    assert capsys.readouterr() == ("", "")


def test_estimator_with_a_bar_pickles_after_fit(data):
    reg = TorchMLPRegressor(callbacks=[ProgressBar(file=io.StringIO())], **FAST).fit(*data)
    restored = pickle.loads(pickle.dumps(reg))
    assert (restored.predict(data[0]) == reg.predict(data[0])).all()


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_bar_visible_on_terminals_and_in_notebooks(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert progress_bar_visible(_Stream(tty=True))
    assert not progress_bar_visible(_Stream(tty=False))
    closed = io.StringIO()
    closed.close()
    assert not progress_bar_visible(closed)  # isatty() raises on a closed stream

    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    fake_ipython = types.SimpleNamespace(get_ipython=lambda: shell)
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert progress_bar_visible(_Stream(tty=False))  # a Jupyter kernel
    shell.config = {}
    assert not progress_bar_visible(_Stream(tty=False))  # a plain IPython terminal
