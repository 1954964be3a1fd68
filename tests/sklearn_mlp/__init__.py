"""scikit-learn's own MLP tests, run against our estimators (see ``swap.py``)."""
