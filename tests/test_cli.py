"""The skorchless command line, run as a subprocess on temporary CSV files."""

import json
import os
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from skorchless import Callback
from skorchless._cli import main

PNG = b"\x89PNG\r\n\x1a\n"
FAST = ["--hidden-layer-sizes", "32", "--max-iter", "60", "--learning-rate-init", "0.01",
        "--n-iter-no-change", "5", "--device", "cpu"]


def skorchless(*args, cwd=None):
    """Run ``python -m skorchless ARGS``; return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "skorchless", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )


@pytest.fixture(scope="module")
def regression_csv(tmp_path_factory):
    """A regression table with numeric, categorical and missing values."""
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "size": rng.uniform(20, 200, n),
        "rooms": rng.integers(1, 6, n),
        "city": rng.choice(["Seoul", "Busan", "Daegu"], n),
        "garden": rng.choice([True, False], n),
    })
    frame["price"] = (3 * frame["size"] + 50 * frame["rooms"]
                      + frame["city"].map({"Seoul": 400, "Busan": 150, "Daegu": 0})
                      + rng.normal(0, 20, n))
    frame.loc[3:8, "size"] = np.nan
    frame.loc[5:15, "city"] = np.nan
    path = tmp_path_factory.mktemp("data") / "houses.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def regression_run(regression_csv):
    report = regression_csv.parent / "report"
    result = skorchless("train", regression_csv, "--target", "price", "--output", report,
                        *FAST)
    return result, report


def test_train_regression_writes_the_report(regression_run, regression_csv):
    result, report = regression_run
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in report.iterdir()) == [
        "learning_curve.png", "metrics.json", "model.joblib", "predicted_vs_true.png",
        "summary.txt",
    ]
    for png in ("learning_curve.png", "predicted_vs_true.png"):
        assert (report / png).read_bytes()[:8] == PNG

    facts = json.loads((report / "metrics.json").read_text())
    assert facts["task"] == "regression" and facts["target"] == "price"
    assert facts["features"] == {"numeric": ["size", "rooms"],
                                 "categorical": ["city", "garden"], "dates": [],
                                 "encoded_width": 2 + 1 + 4 + 2}
    # size, rooms; size was missing (the indicator); city: 3 + missing; garden
    assert facts["rows"]["train"] == 320 and facts["rows"]["test"] == 80
    assert facts["test_scores"]["r2"] > 0.8  # the mean would score 0
    training = facts["training"]
    assert 1 <= training["best_epoch"] <= training["epochs"] == len(facts["history"])
    assert facts["estimator"]["params"]["early_stopping"] is True

    summary = (report / "summary.txt").read_text()
    assert result.stdout.strip() == summary.strip()
    assert "regression of 'price'" in summary
    assert f"r2                 {facts['test_scores']['r2']:.4f}" in summary
    assert f"best epoch         {training['best_epoch']} (its weights were restored)" in summary
    assert f"{training['best_epoch']:>5}" in summary and " *" in summary  # history table


def test_saved_model_predicts_like_the_predict_command(regression_run, regression_csv,
                                                       tmp_path):
    _, report = regression_run
    new = pd.read_csv(regression_csv).drop(columns="price").head(20)
    new.loc[0, "city"] = "Incheon"  # a category never seen in training
    new.loc[1, "rooms"] = np.nan
    new_csv = tmp_path / "new.csv"
    new.to_csv(new_csv, index=False)

    out = tmp_path / "predictions.csv"
    result = skorchless("predict", report / "model.joblib", new_csv, "-o", out)
    assert result.returncode == 0, result.stderr
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["prediction"] and len(predictions) == 20
    assert np.isfinite(predictions["prediction"]).all()

    model = joblib.load(report / "model.joblib")
    expected = model.predict(pd.read_csv(new_csv))  # the frame pandas reads, as is
    np.testing.assert_allclose(predictions["prediction"], expected, rtol=1e-6)


def test_train_classification_is_detected_and_stratified(tmp_path):
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.drop(columns="target").iloc[:, :8]
    frame["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    csv = tmp_path / "cancer.csv"
    frame.to_csv(csv, index=False)

    result = skorchless("train", csv, "--target", "diagnosis", "--output", tmp_path / "r",
                        "--test-size", "0.25", *FAST)
    assert result.returncode == 0, result.stderr
    report = tmp_path / "r"
    assert (report / "confusion_matrix.png").read_bytes()[:8] == PNG
    assert not (report / "predicted_vs_true.png").exists()
    facts = json.loads((report / "metrics.json").read_text())
    assert facts["task"] == "classification"
    scores = facts["test_scores"]
    assert set(scores) == {"accuracy", "balanced_accuracy", "precision_binary",
                           "recall_binary", "f1_binary", "log_loss", "roc_auc"}
    assert scores["accuracy"] > 0.85

    # stratified: the test set keeps the class proportions of the file
    model = joblib.load(report / "model.joblib")
    assert list(model.classes_) == ["benign", "malignant"]
    n_test = facts["rows"]["test"]
    assert n_test == 143
    assert "Classification report (test set)" in result.stdout
    support = {label: int(line.split()[-1]) for line in result.stdout.splitlines()
               for label in ("benign", "malignant") if line.strip().startswith(label)}
    expected = (frame["diagnosis"].value_counts(normalize=True) * n_test).round()
    assert support == expected.astype(int).to_dict()

    predicted = skorchless("predict", report / "model.joblib", csv)  # to standard output
    lines = predicted.stdout.splitlines()
    assert lines[0] == "prediction,proba_benign,proba_malignant"
    assert len(lines) == 1 + len(frame)


def test_dates_are_dates_not_categories(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 300
    sold = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D")
    frame = pd.DataFrame({"size": rng.uniform(20, 200, n), "sold": sold.strftime("%Y-%m-%d")})
    frame["price"] = 3 * frame["size"] + (sold - sold.min()).days.to_numpy() / 3
    frame.loc[4, "sold"] = None
    csv = tmp_path / "sales.csv"
    frame.to_csv(csv, index=False)
    assert main(["train", str(csv), "--target", "price", "--output", str(tmp_path / "r"),
                 "--no-plots", *FAST]) == 0
    facts = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert facts["features"]["dates"] == ["sold"] and facts["features"]["categorical"] == []
    # size; days, day of week and of year (sin, cos); the missing date
    assert facts["features"]["encoded_width"] == 1 + 1 + 4 + 1
    assert facts["test_scores"]["r2"] > 0.9
    assert "1 dates (sold)" in capsys.readouterr().out
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(tmp_path / "r" / "model.joblib"), str(csv), "-o", str(out)]) == 0
    assert np.isfinite(pd.read_csv(out)["prediction"]).all()


def test_small_integer_target_is_a_classification_unless_told(tmp_path, capsys):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=120)})
    frame["grade"] = (frame["x"] > 0).astype(int) + (frame["x"] > 1).astype(int)
    csv = tmp_path / "grades.csv"
    frame.to_csv(csv, index=False)
    fast = ["--hidden-layer-sizes", "8", "--max-iter", "5", "--no-plots", "--quiet"]
    # in-process: what is tested here is the detection, not the process
    assert main(["train", str(csv), "--target", "grade", "--output", str(tmp_path / "a"),
                 *fast]) == 0
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["task"] == "classification"
    assert main(["train", str(csv), "--target", "grade", "--task", "regression",
                 "--output", str(tmp_path / "b"), *fast]) == 0
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["task"] == "regression"
    assert capsys.readouterr() == ("", "")  # --quiet


def test_without_matplotlib_the_report_has_no_plots(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # as if not installed
    frame = pd.DataFrame({"x": np.arange(40.0), "y": np.arange(40.0) ** 0.5})
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    status = main(["train", str(csv), "--target", "y", "--output", str(tmp_path / "r"),
                   "--hidden-layer-sizes", "8", "--max-iter", "3"])
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "metrics.json", "model.joblib", "summary.txt"]
    out, err = capsys.readouterr()
    assert "pip install 'skorchless[plot]'" in err
    assert out.rstrip().endswith("metrics.json, summary.txt, model.joblib")


def _bad_csvs(folder):
    """Write the bad inputs; return {case: (arguments, words the message must hold)}."""
    good = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) % 3,
                         "y": np.arange(30.0) * 2})
    (folder / "empty.csv").write_text("")
    (folder / "header_only.csv").write_text("a,b,y\n")
    good.to_csv(folder / "good.csv", index=False)
    target_garbage = good.astype({"y": object})
    target_garbage.loc[4, "y"] = "n/a?"
    target_garbage.to_csv(folder / "target_garbage.csv", index=False)
    text_target = good.assign(y=["cat", "dog", "fish"] * 10)
    text_target.to_csv(folder / "text_target.csv", index=False)
    feature_garbage = good.astype({"a": object})
    feature_garbage.loc[7, "a"] = "12,5"
    feature_garbage.to_csv(folder / "feature_garbage.csv", index=False)
    (folder / "binary.csv").write_bytes(b"\x00\xff\xfe\x89PNG\x00")
    (folder / "unclosed_quote.csv").write_text('a,b,y\n1,"2,3\n')
    return {
        "missing target column": (["good.csv", "--target", "price"],
                                  ["'price'", "not in the file", "a, b, y"]),
        "empty file": (["empty.csv", "--target", "y"], ["empty.csv is empty"]),
        "header only": (["header_only.csv", "--target", "y"], ["no data rows"]),
        "garbage in target": (["target_garbage.csv", "--target", "y"],
                              ["'y'", "'n/a?'", "data row 5"]),
        "text target for regression": (["text_target.csv", "--target", "y", "--task",
                                        "regression"], ["'y' is not numeric", "'cat'"]),
        "garbage in a feature": (["feature_garbage.csv", "--target", "y"],
                                 ["column 'a'", "'12,5'", "data row 8"]),
        "not a file": (["nowhere.csv", "--target", "y"], ["nowhere.csv: no such file"]),
        "binary file": (["binary.csv", "--target", "y"], ["not a UTF-8 text file"]),
        "broken quoting": (["unclosed_quote.csv", "--target", "y"],
                           ["not a valid CSV file"]),
    }


BAD_CASES = ["missing target column", "empty file", "header only", "garbage in target",
             "text target for regression", "garbage in a feature", "not a file",
             "binary file", "broken quoting"]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Run every bad case at once (each run mostly imports): {case: (process, words)}."""
    folder = tmp_path_factory.mktemp("bad")
    cases = _bad_csvs(folder)
    assert sorted(cases) == sorted(BAD_CASES)
    running = {
        case: subprocess.Popen(
            [sys.executable, "-m", "skorchless", "train", *args, "--output", "out"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder,
        )
        for case, (args, _) in cases.items()
    }
    runs = {}
    for case, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        runs[case] = (process.returncode, stdout, stderr, cases[case][1])
    return folder, runs


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_csv_gives_one_line_and_status_2(bad_runs, case):
    folder, runs = bad_runs
    returncode, stdout, stderr, words = runs[case]
    assert returncode == 2
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("skorchless: error: ")
    for word in words:
        assert word in lines[0]
    assert not (folder / "out").exists()


def test_predict_with_missing_columns_or_a_bad_model(regression_run, tmp_path):
    _, report = regression_run
    csv = tmp_path / "partial.csv"
    pd.DataFrame({"size": [50.0], "city": ["Seoul"]}).to_csv(csv, index=False)
    result = skorchless("predict", report / "model.joblib", csv)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "skorchless: error: the data lacks column(s) the model was trained on: rooms, garden"
    )
    result = skorchless("predict", csv, csv)
    assert result.returncode == 2
    assert "partial.csv is not a model saved by skorchless train" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_demo_trains_both_estimators_on_the_embedded_data(tmp_path):
    result = skorchless("demo", "--output", tmp_path, "--hidden-layer-sizes", "16",
                        "--max-iter", "3", "--no-plots")
    assert result.returncode == 0, result.stderr
    assert "regression of 'price' on diamonds.csv" in result.stdout
    assert "classification of 'cut' on diamonds.csv" in result.stdout
    for target, task in [("price", "regression"), ("cut", "classification")]:
        facts = json.loads((tmp_path / target / "metrics.json").read_text())
        assert facts["task"] == task
        assert facts["rows"]["used"] == 2500
        assert facts["features"]["categorical"] == [
            c for c in ("cut", "color", "clarity") if c != target]


def test_console_script_reports_usage_errors():
    executable = shutil.which("skorchless")
    if executable is None:
        pytest.skip("the skorchless console script is not installed")
    usage = subprocess.run([executable, "train", "data.csv"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert usage.stderr.startswith("usage: skorchless train")
    assert "the following arguments are required: --target" in usage.stderr


def test_unset_options_take_the_estimators_defaults():
    # The command line trains the estimator users get in Python, not another one.
    from skorchless import TorchMLPRegressor
    from skorchless._cli import _estimator_params, _parser

    args = _parser().parse_args(["train", "data.csv", "--target", "y"])
    assert _estimator_params(args) == {"device": "auto"}
    assert TorchMLPRegressor(**_estimator_params(args)).get_params() == \
        TorchMLPRegressor().get_params()
    given = _parser().parse_args(["train", "data.csv", "--target", "y",
                                  "--learning-rate-init", "0.01"])
    assert _estimator_params(given)["learning_rate_init"] == 0.01
    help_text = skorchless("train", "--help").stdout
    assert f"(default: {TorchMLPRegressor().learning_rate_init})" in " ".join(help_text.split())


def test_every_stop_reason_has_a_sentence_in_the_report():
    from skorchless._cli.report import _STOP_REASONS

    documented = {"no_improvement", "max_iter", "max_fun", "converged", "callback",
                  "diverged", "interrupted"}
    assert set(_STOP_REASONS) == documented



# ------------------------------------------------ CSV files as users have them
def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def _diabetes_lines(sep=",", decimal="."):
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.iloc[:120]
    return frame.to_csv(sep=sep, decimal=decimal, index=False).splitlines()


def test_semicolons_without_sep_suggest_it(tmp_path, capsys):
    data = _write(tmp_path / "d.csv", _diabetes_lines(sep=";", decimal=","))
    assert main(["train", str(data), "--target", "target"]) == 2
    assert "looks separated by semicolons: pass --sep ';'" in capsys.readouterr().err


def test_decimal_commas_are_named_and_read_with_decimal(tmp_path, capsys):
    data = _write(tmp_path / "d.csv", _diabetes_lines(sep=";", decimal=","))
    assert main(["train", str(data), "--target", "target", "--sep", ";"]) == 2
    assert "decimal commas" in capsys.readouterr().err
    out = tmp_path / "report"
    assert main(["train", str(data), "--target", "target", "--sep", ";", "--decimal", ",",
                 "--output", str(out), "--max-iter", "3", "--no-plots", "--quiet"]) == 0
    features = json.loads((out / "metrics.json").read_text())["features"]
    assert len(features["numeric"]) == 10 and not features["categorical"]


@pytest.mark.parametrize("header", ['""', "rownames"])
def test_an_r_rownames_column_is_dropped(tmp_path, header, capsys):
    lines = _diabetes_lines()
    lines = [f"{header},{lines[0]}"] + [f"{i},{line}" for i, line in enumerate(lines[1:], 1)]
    data = _write(tmp_path / "d.csv", lines)
    out = tmp_path / "report"
    assert main(["train", str(data), "--target", "target", "--output", str(out),
                 "--max-iter", "3", "--no-plots"]) == 0
    assert "is an index" in capsys.readouterr().err
    features = json.loads((out / "metrics.json").read_text())["features"]
    assert "rownames" not in features["numeric"] and len(features["numeric"]) == 10


class CtrlC(Callback):
    """Presses Ctrl-C at the end of epoch 3."""

    def on_epoch_end(self, state):
        if state.epoch == 3:
            raise KeyboardInterrupt


def test_ctrl_c_writes_the_best_model_and_the_report(tmp_path):
    from sklearn.datasets import load_diabetes

    from skorchless._cli.report import TrainingInterrupted, train_report

    frame = load_diabetes(as_frame=True).frame
    with pytest.warns(UserWarning, match="interrupted"), pytest.raises(TrainingInterrupted):
        train_report(frame, "target", tmp_path, plots=False,
                     estimator_params={"max_iter": 50, "callbacks": [CtrlC()]})
    assert {"model.joblib", "metrics.json", "summary.txt"} <= set(os.listdir(tmp_path))
    assert joblib.load(tmp_path / "model.joblib").stop_reason_ == "interrupted"
    assert json.loads((tmp_path / "metrics.json").read_text())["training"][
        "stop_reason"] == "interrupted"
