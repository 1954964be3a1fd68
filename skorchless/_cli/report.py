"""The report of a training run on a table: scores, summary, plots and the model.

``train_report`` is what ``skorchless train`` does once the CSV file is read:
split off a test set, fit the estimator, score it, and write ``metrics.json``,
``summary.txt``, the PNG files and ``model.joblib`` into a folder.
"""

import json
import math
import sys
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn import metrics
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from .._display import LossCurveDisplay
from .._progress import progress_bar_visible
from .._version import __version__
from .tables import DataError, make_model, parse_dates, split_columns, target_column


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the model of the best epoch and the report were written.

    Parameters
    ----------
    summary : str
        The text of ``summary.txt``.
    output : pathlib.Path
        The report folder.
    """

    def __init__(self, summary, output):
        super().__init__(summary, output)
        self.summary = summary
        self.output = output


#: Estimator parameters of ``train`` that differ from the estimators' own defaults.
ESTIMATOR_DEFAULTS = {"early_stopping": True}


def train_report(frame, target, output, *, task="auto", drop=(), test_size=0.2,
                 random_state=0, estimator_params=None, plots=True, progress=False,
                 data_name="data"):
    """Train on ``frame`` to predict ``target``, write a report folder, return its summary.

    What ``skorchless train`` does after reading the CSV file.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, as read from the CSV file.
    target : str
        Column to predict.
    output : str or pathlib.Path
        Report folder, created if needed.
    task : {"auto", "regression", "classification"}, default="auto"
        ``"auto"``: classification when the target is text or boolean or has
        at most ``MAX_CLASSES_AUTO`` distinct integer values.
    drop : sequence of str, default=()
        Columns not to use as features.
    test_size : float, default=0.2
        Fraction of the rows held out as test set.
    random_state : int, default=0
        Seed of the test split and of the estimator.
    estimator_params : dict or None, default=None
        Parameters of the estimator that replace those of ``ESTIMATOR_DEFAULTS``.
    plots : bool, default=True
        Draw the PNG files (needs matplotlib).
    progress : bool, default=False
        Show a progress bar where one can be seen.
    data_name : str, default="data"
        Name of the data in the report.

    Returns
    -------
    summary : str
        The text of ``summary.txt``.

    Raises
    ------
    DataError
        If the data cannot be trained on.
    TrainingInterrupted
        On Ctrl-C during training, once the model of the best epoch so far and
        the report are written.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_diabetes
    >>> from skorchless._cli.report import train_report
    >>> frame = load_diabetes(as_frame=True).frame
    >>> summary = train_report(
    ...     frame, "target", tempfile.mkdtemp(), plots=False,
    ...     estimator_params={"hidden_layer_sizes": (16,), "max_iter": 10})
    >>> print(summary.splitlines()[0])
    skorchless train: regression of 'target' on data
    """
    output = Path(output)
    y, task, n_missing = target_column(frame, target, task)
    unknown = [name for name in drop if name not in frame.columns]
    if unknown:
        raise DataError(f"--drop names column(s) not in the file: {', '.join(unknown)}")
    X = frame.loc[y.index].drop(columns=[target, *drop])
    if X.shape[1] == 0:
        raise DataError(f"no feature columns left besides the target {target!r}")
    X, dates = parse_dates(X)
    numeric, categorical = split_columns(X)
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, random_state=random_state,
            stratify=y if task == "classification" else None,
        )
    except ValueError as exc:
        raise DataError(f"cannot split {len(y)} rows into train and test sets: {exc}") from exc

    params = {**ESTIMATOR_DEFAULTS, "random_state": random_state,
              "verbose": 2 if progress and progress_bar_visible() else 0,
              **(estimator_params or {})}
    model = make_model(task, params)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # the summary says when max_iter ran out
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
    except ValueError as exc:
        raise DataError(f"training failed: {exc}") from exc
    except KeyboardInterrupt:
        # the estimator stopped and kept its best epoch (stop_reason_): report it
        if getattr(model, "stop_reason_", None) != "interrupted":
            raise
        interrupted = True
    else:
        interrupted = False
    fit_seconds = time.perf_counter() - start

    y_pred = model.predict(X_test)
    scores = _scores(task, model, X_test, y_test, y_pred)
    estimator = model
    facts = {
        "task": task, "target": target, "data": data_name,
        "rows": {"used": len(y), "dropped_missing_target": n_missing,
                 "train": len(y_train), "test": len(y_test),
                 "validation_fraction_of_train": estimator.validation_fraction},
        "features": {"numeric": list(map(str, numeric)),
                     "categorical": list(map(str, categorical)),
                     "dates": list(map(str, dates)),
                     "encoded_width": int(estimator._inputs.n_columns_)},
        "test_scores": scores,
        "training": _training_facts(estimator, fit_seconds),
        "estimator": {"class": type(estimator).__name__, "params": estimator.get_params()},
        "history": estimator.history_,
        "versions": _versions(),
    }
    output = _make_folder(output)
    files = ["metrics.json", "summary.txt", "model.joblib"]
    if plots:
        files += _save_plots(output, task, model, y_test, y_pred, target)
    summary = _summary(facts, estimator, output, files,
                       classification_report=metrics.classification_report(
                           y_test, y_pred, zero_division=0)
                       if task == "classification" else None)
    _write(output / "metrics.json", json.dumps(facts, indent=2, default=_json_default))
    _write(output / "summary.txt", summary + "\n")
    try:
        joblib.dump(model, output / "model.joblib")
    except OSError as exc:
        raise DataError(f"cannot write {output / 'model.joblib'}: {exc}") from exc
    if interrupted:
        raise TrainingInterrupted(summary, output)
    return summary


def _scores(task, model, X_test, y_test, y_pred):
    if task == "regression":
        return {
            "r2": metrics.r2_score(y_test, y_pred),
            "mae": metrics.mean_absolute_error(y_test, y_pred),
            "rmse": metrics.root_mean_squared_error(y_test, y_pred),
        }
    proba = model.predict_proba(X_test)
    binary = len(model.classes_) == 2
    average = "binary" if binary else "macro"
    pos_label = model.classes_[1] if binary else 1
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        y_test, y_pred, average=average, pos_label=pos_label, zero_division=0
    )
    scores = {
        "accuracy": metrics.accuracy_score(y_test, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_test, y_pred),
        f"precision_{average}": precision,
        f"recall_{average}": recall,
        f"f1_{average}": f1,
        "log_loss": metrics.log_loss(y_test, proba, labels=model.classes_),
    }
    if binary:
        scores["roc_auc"] = metrics.roc_auc_score(y_test, proba[:, 1])
    return {name: float(value) for name, value in scores.items()}


def _training_facts(estimator, fit_seconds):
    return {
        "epochs": estimator.n_iter_,
        "best_epoch": estimator.best_epoch_,
        "best_validation_loss": estimator.best_validation_loss_,
        "best_validation_score": estimator.best_validation_score_,
        "stop_reason": estimator.stop_reason_,
        "fit_seconds": fit_seconds,
        "device": str(estimator.device_),
    }


def _versions():
    return {"skorchless": __version__, "torch": torch.__version__,
            "scikit-learn": sklearn.__version__, "pandas": pd.__version__,
            "python": sys.version.split()[0]}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


# ------------------------------------------------------------------ the report
def _make_folder(output):
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the report folder {output}: {exc.strerror}") from exc
    return output


def _write(path, text):
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _save_plots(output, task, model, y_test, y_pred, target):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("skorchless: note: matplotlib is not installed, so no plots were drawn; "
              "pip install 'skorchless[plot]' to get them", file=sys.stderr)
        return []
    from sklearn.metrics import ConfusionMatrixDisplay, PredictionErrorDisplay

    written = []

    def save(name, draw):
        figure = Figure(figsize=(6.4, 4.8), layout="constrained")
        draw(figure.subplots())
        figure.savefig(output / name, dpi=100)
        written.append(name)

    history = model.history_
    positive = all(row[key] is None or row[key] > 0
                   for row in history for key in ("train_loss", "valid_loss"))
    save("learning_curve.png", lambda ax: LossCurveDisplay.from_estimator(
        model, ax=ax, log_scale=positive,
        name=f"{type(model).__name__}: learning curve ({target})"))
    if task == "regression":
        def draw_errors(ax):
            PredictionErrorDisplay.from_predictions(
                y_test, y_pred, kind="actual_vs_predicted", ax=ax, random_state=0)
            ax.set_title(f"Test set: predicted against true {target}")
        save("predicted_vs_true.png", draw_errors)
    else:
        def draw_confusion(ax):
            ConfusionMatrixDisplay.from_predictions(
                y_test, y_pred, ax=ax, labels=model.classes_, colorbar=False,
                xticks_rotation=45 if len(model.classes_) > 4 else "horizontal")
            ax.set_title(f"Test set: confusion matrix of {target}")
        save("confusion_matrix.png", draw_confusion)
    return written


_STOP_REASONS = {
    "no_improvement": "no improvement of the validation loss for {patience} epochs",
    "max_iter": "ran all the epochs that --max-iter allows while still improving",
    "max_fun": "reached the most loss evaluations of L-BFGS (max_fun)",
    "converged": "converged (the gradient fell below tol)",
    "callback": "a callback stopped training",
    "diverged": "the loss became NaN or infinite",
    "interrupted": "interrupted",
}


def _summary(facts, estimator, output, files, classification_report=None):
    rows, features = facts["rows"], facts["features"]
    training, task = facts["training"], facts["task"]
    lines = [
        f"skorchless train: {task} of {facts['target']!r} on {facts['data']}",
        f"rows       {rows['used']} used ({rows['train']} train, of which "
        f"{rows['validation_fraction_of_train']:.0%} held out for early stopping; "
        f"{rows['test']} test)"
        + (f"; {rows['dropped_missing_target']} without target dropped"
           if rows["dropped_missing_target"] else ""),
        f"features   {len(features['numeric'])} numeric, "
        f"{len(features['categorical'])} categorical"
        + (f" ({', '.join(features['categorical'])})" if features["categorical"] else "")
        + (f", {len(features['dates'])} dates ({', '.join(features['dates'])})"
           if features["dates"] else "")
        + f" -> {features['encoded_width']} inputs",
        f"model      {type(estimator).__name__}(hidden_layer_sizes="
        f"{estimator.hidden_layer_sizes}, early_stopping=True)",
        "",
        f"Test scores ({rows['test']} rows)",
    ]
    lines += [f"  {name:<18} {value:.4f}" for name, value in facts["test_scores"].items()]
    reason = _STOP_REASONS.get(training["stop_reason"], training["stop_reason"]).format(
        patience=estimator.n_iter_no_change)
    score_name = "accuracy" if task == "classification" else "R²"
    lines += [
        "",
        "Training",
        f"  epochs run         {training['epochs']} ({reason})",
        f"  best epoch         {training['best_epoch']} (its weights were restored): "
        f"validation loss {_fmt(training['best_validation_loss'])}, "
        f"validation {score_name} {_fmt(training['best_validation_score'])}",
        f"  fit time           {training['fit_seconds']:.1f} s on {training['device']}",
        "",
        "History (* best epoch)",
        _history_table(estimator.history_, training["best_epoch"], score_name),
    ]
    if classification_report is not None:
        lines += ["", "Classification report (test set)", classification_report.rstrip()]
    lines += ["", f"Report in {output}/: {', '.join(files)}"]
    return "\n".join(lines)


def _history_table(history, best_epoch, score_name, max_rows=12):
    step = max(1, math.ceil(len(history) / max_rows))
    shown = {row["epoch"] for row in history[::step]} | {best_epoch, history[-1]["epoch"]}
    lines = [f"  {'epoch':>5}  {'train loss':>10}  {'valid loss':>10}  "
             f"{'valid ' + score_name:>14}"]
    for row in history:
        if row["epoch"] in shown:
            mark = " *" if row["epoch"] == best_epoch else ""
            lines.append(f"  {row['epoch']:>5}  {row['train_loss']:>10.4f}  "
                         f"{_fmt(row['valid_loss']):>10}  {_fmt(row['valid_score']):>14}{mark}")
    return "\n".join(lines)


def _fmt(value):
    return "-" if value is None else f"{value:.4f}"
