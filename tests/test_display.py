"""LossCurveDisplay: the learning curve of a fitted estimator, drawn with Agg."""

import sys

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skorchless import LossCurveDisplay, TorchMLPClassifier, TorchMLPRegressor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FAST = {"hidden_layer_sizes": (16,), "max_iter": 100, "learning_rate_init": 0.03,
        "n_iter_no_change": 5, "random_state": 0, "device": "cpu"}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=240, n_features=5, noise=10.0, random_state=0)


@pytest.fixture(scope="module")
def regressor(data):
    return TorchMLPRegressor(early_stopping=True, **FAST).fit(*data)


def test_from_estimator_draws_both_curves_and_the_best_epoch(regressor, tmp_path):
    display = LossCurveDisplay.from_estimator(regressor)
    path = tmp_path / "curve.png"
    display.figure_.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    ax = display.ax_
    assert ax.get_xlabel() == "Epoch"
    assert all(tick == int(tick) for tick in ax.get_xticks())  # whole epochs only
    assert ax.get_ylabel() == "Loss (squared_error, scaled target)"
    assert ax.get_title() == "TorchMLPRegressor"
    assert ax.get_yscale() == "linear"
    assert len(ax.get_lines()) == 3  # training, validation, best-epoch marker
    assert display.lines_ == [display.train_line_, display.valid_line_]

    history = regressor.history_
    np.testing.assert_array_equal(display.train_line_.get_xdata(),
                                  [row["epoch"] for row in history])
    np.testing.assert_allclose(display.train_line_.get_ydata(),
                               [row["train_loss"] for row in history])
    np.testing.assert_allclose(display.valid_line_.get_ydata(),
                               [row["valid_loss"] for row in history])
    assert regressor.stop_reason_ == "no_improvement"
    assert regressor.best_epoch_ < len(history)  # the restored epoch is not the last
    assert list(display.best_epoch_line_.get_xdata()) == [regressor.best_epoch_] * 2
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["Training loss", "Validation loss",
                      f"Best epoch ({regressor.best_epoch_})"]


def test_log_scale_on_given_axes(regressor):
    figure, (left, right) = plt.subplots(1, 2)
    display = LossCurveDisplay.from_estimator(regressor, ax=right, log_scale=True,
                                              name="my model")
    assert display.ax_ is right and display.figure_ is figure
    assert right.get_yscale() == "log" and left.get_yscale() == "linear"
    assert right.get_title() == "my model"
    assert not left.get_lines()


def test_style_keywords_reach_matplotlib(regressor):
    display = LossCurveDisplay.from_estimator(
        regressor, train_kw={"color": "red"}, valid_kw={"linestyle": ":"},
        best_kw={"color": "green", "label": "kept"},
    )
    assert display.train_line_.get_color() == "red"
    assert display.valid_line_.get_linestyle() == ":"
    assert display.best_epoch_line_.get_color() == "green"
    assert display.best_epoch_line_.get_label() == "kept"


def test_without_validation_only_the_training_curve(data):
    reg = TorchMLPRegressor(early_stopping=False, **{**FAST, "max_iter": 8})
    with pytest.warns(Warning):  # max_iter reached
        reg.fit(*data)
    display = LossCurveDisplay.from_estimator(reg)
    assert display.valid_line_ is None
    assert display.best_epoch_line_ is None  # the model keeps the last epoch
    assert len(display.ax_.get_lines()) == 1
    assert len(display.train_line_.get_xdata()) == 8


def test_pipeline_and_classifier(data):
    X, y = data
    labels = np.where(y > np.median(y), "high", "low")
    pipe = make_pipeline(StandardScaler(), TorchMLPClassifier(early_stopping=True, **FAST))
    pipe.fit(X, labels)
    display = LossCurveDisplay.from_estimator(pipe)
    assert display.ax_.get_ylabel() == "Loss (cross-entropy)"
    assert display.ax_.get_title() == "TorchMLPClassifier"
    assert len(display.lines_) == 2


def test_plot_from_stored_curves_marks_gaps():
    display = LossCurveDisplay(epochs=[1, 2, 3], train_loss=[3.0, 2.0, 1.0],
                               valid_loss=[None, 2.5, 1.5], best_epoch=3)
    display.plot()
    assert np.isnan(display.valid_line_.get_ydata()[0])
    assert display.ax_.get_ylabel() == "Loss"


def test_log_scale_refuses_non_positive_losses():
    display = LossCurveDisplay(epochs=[1, 2], train_loss=[0.5, -0.25])
    with pytest.raises(ValueError, match="log_scale=True needs positive losses.*-0.25"):
        display.plot(log_scale=True)


def test_errors_for_unfitted_and_foreign_estimators(data):
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(TorchMLPRegressor())
    with pytest.raises(TypeError, match="history_.*LinearRegression"):
        LossCurveDisplay.from_estimator(LinearRegression().fit(*data))


def test_clear_import_error_without_matplotlib(regressor, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="LossCurveDisplay.from_estimator requires matplotlib"):
        LossCurveDisplay.from_estimator(regressor)
