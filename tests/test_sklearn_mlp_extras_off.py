"""scikit-learn's test_mlp.py on our estimators, with our extras switched off."""

from sklearn_mlp.swap import load_sklearn_mlp_tests

load_sklearn_mlp_tests(globals(), extras="off")
