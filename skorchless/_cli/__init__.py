"""The ``skorchless`` command: train on a CSV file, predict with a saved model, demo.

::

    skorchless train data.csv --target COLUMN [--task auto] [--output DIR]
    skorchless predict MODEL data.csv [-o predictions.csv]
    skorchless demo [--output DIR]

``train`` reads the CSV with pandas, splits off a test set (stratified for
classification), fits a ``TorchMLPRegressor`` or ``TorchMLPClassifier`` with
early stopping on the table as it is (the estimator fills missing numbers,
one-hot encodes text columns and turns dates into numbers), and writes a
report folder: ``metrics.json``, ``summary.txt``, ``learning_curve.png``,
``predicted_vs_true.png`` or ``confusion_matrix.png``, and ``model.joblib``
(the fitted estimator, for ``joblib.load`` or ``skorchless predict``).

A problem with the data is reported in one line on standard error, with exit
status 2. The work is done in ``tables`` (reading and checking the table) and
``report`` (training and the report folder).
"""

import argparse
import importlib.resources
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from .._regressor import TorchMLPRegressor
from .._version import __version__
from .report import TrainingInterrupted, train_report
from .tables import MAX_CLASSES_AUTO, DataError, feature_frame, read_csv

#: Exit status of a run stopped by a problem with the input.
EXIT_DATA_ERROR = 2
#: The embedded dataset of ``skorchless demo``, and the targets it trains on.
DEMO_DATA = "diamonds.csv"
DEMO_TARGETS = {"price": "regression", "cut": "classification"}


def main(argv=None):
    """Run the ``skorchless`` command line and return its exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 when the data or the arguments are unusable.

    Examples
    --------
    >>> import contextlib, io, os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from skorchless._cli import main
    >>> folder = tempfile.mkdtemp()
    >>> csv = os.path.join(folder, "iris.csv")
    >>> load_iris(as_frame=True).frame.to_csv(csv, index=False)
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     status = main(["train", csv, "--target", "target", "--output", folder,
    ...                    "--hidden-layer-sizes", "16", "--max-iter", "10", "--no-plots"])
    >>> status
    0
    >>> sorted(os.listdir(folder))
    ['iris.csv', 'metrics.json', 'model.joblib', 'summary.txt']
    >>> main(["train", csv, "--target", "species"])
    2
    """
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except DataError as exc:
        print(f"skorchless: error: {exc}", file=sys.stderr)
        return EXIT_DATA_ERROR
    except TrainingInterrupted as exc:
        if not args.quiet:
            print(exc.summary)
        print(f"skorchless: interrupted; the model of the best epoch so far and its report "
              f"are in {exc.output}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("skorchless: interrupted", file=sys.stderr)
        return 130


# ---------------------------------------------------------------- arguments
def _parser():
    parser = argparse.ArgumentParser(
        prog="skorchless",
        description="Train PyTorch MLPs on CSV files the scikit-learn way.",
    )
    parser.add_argument("--version", action="version", version=f"skorchless {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train on a CSV file and write a report folder",
        description="Train on a CSV file: split off a test set, fit with early stopping, "
        "and write metrics, plots and the fitted model to a report folder.",
    )
    train.add_argument("data", type=Path, help="CSV file with a header row")
    train.add_argument("--target", required=True, help="name of the column to predict")
    train.add_argument("--output", type=Path, default=None,
                       help="report folder (default: DATA-report in the current folder)")
    _add_training_options(train)
    train.set_defaults(command=_train_command)

    predict = commands.add_parser(
        "predict", help="predict a CSV file with a saved model",
        description="Predict the rows of a CSV file with a model.joblib written by "
        "'skorchless train'. Load only models you trust: joblib files can run code.",
    )
    predict.add_argument("model", type=Path, help="model.joblib of a report folder")
    predict.add_argument("data", type=Path, help="CSV file with the feature columns")
    predict.add_argument("-o", "--output", type=Path, default=None,
                         help="CSV file to write (default: standard output)")
    predict.add_argument("--sep", default=",", help="field separator of DATA (default: ,)")
    predict.add_argument("--decimal", default=".",
                         help="decimal mark of the numbers of DATA (default: .)")
    predict.set_defaults(command=_predict_command)

    demo = commands.add_parser(
        "demo", help="train on the embedded diamonds dataset and print the reports",
        description="Train a regressor (price) and a classifier (cut) on 2,500 diamonds "
        "from ggplot2's dataset, shipped with skorchless, and print both reports.",
    )
    demo.add_argument("--output", type=Path, default=Path("skorchless-demo"),
                      help="report folder (default: skorchless-demo)")
    _add_training_options(demo, data_options=False)
    demo.set_defaults(command=_demo_command)
    return parser


def _add_training_options(parser, data_options=True):
    if data_options:
        parser.add_argument(
            "--task", choices=["auto", "regression", "classification"], default="auto",
            help="'auto' (default): classification when the target is text or boolean "
            f"or has at most {MAX_CLASSES_AUTO} distinct integer values, else regression",
        )
        parser.add_argument("--drop", nargs="+", default=[], metavar="COLUMN",
                            help="columns not to use as features (identifiers, leaks)")
        parser.add_argument("--sep", default=",", help="field separator (default: ,)")
        parser.add_argument("--decimal", default=".",
                            help="decimal mark of the numbers, e.g. ',' (default: .)")
        parser.add_argument("--loss", default="squared_error",
                            choices=["squared_error", "absolute_error", "huber", "poisson"],
                            help="loss of a regression (default: squared_error)")
    parser.add_argument("--test-size", type=_fraction, default=0.2,
                        help="fraction of the rows held out as test set (default: 0.2)")
    parser.add_argument("--random-state", type=int, default=0,
                        help="seed of the split and the training (default: 0)")
    # The estimator's own defaults apply to what is not given (shown in the help).
    default = TorchMLPRegressor().get_params()
    parser.add_argument("--hidden-layer-sizes", type=_positive_int, nargs="+", metavar="N",
                        help="width of each hidden layer (default: "
                        f"{' '.join(map(str, default['hidden_layer_sizes']))})")
    parser.add_argument("--max-iter", type=_positive_int,
                        help=f"maximum number of epochs (default: {default['max_iter']})")
    parser.add_argument("--learning-rate-init", type=float,
                        help=f"learning rate of Adam (default: {default['learning_rate_init']})")
    parser.add_argument("--validation-fraction", type=_fraction,
                        help="fraction of the training rows held out for early stopping "
                        f"(default: {default['validation_fraction']})")
    parser.add_argument("--n-iter-no-change", type=_positive_int,
                        help="epochs without improvement before stopping (default: "
                        f"{default['n_iter_no_change']})")
    parser.add_argument("--device", default="auto",
                        help="'auto' (default), 'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument("--quiet", action="store_true",
                        help="print no progress bar and no summary")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG files")


def _fraction(text):
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


# ----------------------------------------------------------------- commands
def _train_command(args):
    frame = read_csv(args.data, sep=args.sep, decimal=args.decimal)
    if "dropped_index" in frame.attrs and not args.quiet:
        print(f"skorchless: the first column {frame.attrs['dropped_index']!r} is an index "
              "(row names); it is not used as a feature", file=sys.stderr)
    report = train_report(
        frame, args.target, args.output or Path(f"{args.data.stem}-report"),
        task=args.task, drop=args.drop, data_name=str(args.data),
        estimator_params={**_estimator_params(args), "loss": args.loss}, **_run_options(args),
    )
    if not args.quiet:
        print(report)
    return 0


def _demo_command(args):
    source = importlib.resources.files("skorchless") / "_demo_data" / DEMO_DATA
    with importlib.resources.as_file(source) as path:
        frame = read_csv(path)
    for target, task in DEMO_TARGETS.items():
        report = train_report(
            frame, target, args.output / target, task=task,
            data_name=f"{DEMO_DATA} (embedded in skorchless, {len(frame)} rows)",
            estimator_params=_estimator_params(args), **_run_options(args),
        )
        if not args.quiet:
            print(report, end="\n\n")
    return 0


def _estimator_params(args):
    given = {
        "hidden_layer_sizes": None if args.hidden_layer_sizes is None
        else tuple(args.hidden_layer_sizes),
        "max_iter": args.max_iter,
        "learning_rate_init": args.learning_rate_init,
        "validation_fraction": args.validation_fraction,
        "n_iter_no_change": args.n_iter_no_change,
    }
    return {"device": args.device, **{k: v for k, v in given.items() if v is not None}}


def _run_options(args):
    return {"test_size": args.test_size, "random_state": args.random_state,
            "plots": not args.no_plots, "progress": not args.quiet}


def _predict_command(args):
    model = _load_model(args.model)
    frame = read_csv(args.data, sep=args.sep, decimal=args.decimal)
    X = feature_frame(model, frame)
    try:
        predictions = _predictions(model, X)
    except ValueError as exc:
        raise DataError(f"cannot predict {args.data}: {exc}") from exc
    if args.output is None:
        predictions.to_csv(sys.stdout, index=False)
    else:
        try:
            predictions.to_csv(args.output, index=False)
        except OSError as exc:
            raise DataError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    return 0


def _predictions(model, X):
    predictions = pd.DataFrame(index=X.index)
    y_pred = np.asarray(model.predict(X))
    if y_pred.ndim == 1:
        predictions["prediction"] = y_pred
    else:
        for i in range(y_pred.shape[1]):
            predictions[f"prediction_{i}"] = y_pred[:, i]
    if hasattr(model, "predict_proba") and hasattr(model, "classes_") and y_pred.ndim == 1:
        proba = model.predict_proba(X)
        for label, column in zip(model.classes_, proba.T, strict=True):
            predictions[f"proba_{label}"] = column
    return predictions


def _load_model(path):
    try:
        model = joblib.load(path)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise DataError(f"{path} is not a model saved by skorchless train: {exc}") from exc
    if not hasattr(model, "predict"):
        raise DataError(f"{path} holds a {type(model).__name__}, not a model")
    return model
