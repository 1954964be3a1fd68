"""What ``save`` and ``export_onnx`` take: an estimator, or a fitted Pipeline or search around one.

A fitted search (``GridSearchCV``, ``RandomizedSearchCV``, ``HalvingGridSearchCV``,
...) stands for its ``best_estimator_``: the model it predicts with. Its
``cv_results_`` are a report of the search, kept by the user as a table, not
a model, so they are not saved. A ``Pipeline`` stands for its steps: scikit-
learn transformers, then a skorchless estimator as the last step.
"""

from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._base import BaseTorchMLP


def unwrap(model, caller):
    """Return ``(model, estimator)``: the Pipeline or estimator to store, and its estimator.

    Parameters
    ----------
    model : estimator, Pipeline or fitted search
    caller : str
        The public function, for the error messages.

    Returns
    -------
    model : TorchMLPRegressor, TorchMLPClassifier or Pipeline
        A search replaced by its ``best_estimator_``.
    estimator : TorchMLPRegressor or TorchMLPClassifier
        ``model`` itself, or its last step; fitted.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator (or the search) is not fitted.
    ValueError
        If a search was fitted with ``refit=False`` (it has no model), or the
        model is not a skorchless estimator or a Pipeline ending in one.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skorchless import TorchMLPRegressor
    >>> from skorchless._wrapped import unwrap
    >>> X = np.arange(40.0).reshape(20, 2)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     pipe = make_pipeline(StandardScaler(), TorchMLPRegressor(max_iter=2)).fit(X, X[:, 0])
    >>> model, estimator = unwrap(pipe, "skorchless.save")
    >>> model is pipe, type(estimator).__name__
    (True, 'TorchMLPRegressor')
    """
    if isinstance(model, BaseSearchCV):
        check_is_fitted(model)
        if not hasattr(model, "best_estimator_"):
            raise ValueError(
                f"{caller} stores the model a search predicts with, its best_estimator_; "
                f"this {type(model).__name__} was fitted with refit=False and has none. "
                "Fit it with refit=True, or fit the best parameters yourself."
            )
        model = model.best_estimator_
    estimator = model.steps[-1][1] if isinstance(model, Pipeline) else model
    if not isinstance(estimator, BaseTorchMLP):
        raise ValueError(
            f"{caller} takes a TorchMLPRegressor or TorchMLPClassifier, a Pipeline "
            "ending in one, or a fitted search over them; got "
            f"{_describe(model, estimator)}."
        )
    check_is_fitted(estimator, "module_")
    return model, estimator


def transformers(model):
    """Return the ``(name, transformer)`` steps of a Pipeline before its last (none else).

    Steps set to None or ``"passthrough"`` are left out.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skorchless._wrapped import transformers
    >>> transformers(Pipeline([("a", "passthrough"), ("s", StandardScaler()), ("m", None)]))
    [('s', StandardScaler())]
    """
    if not isinstance(model, Pipeline):
        return []
    return [(name, step) for name, step in model.steps[:-1]
            if step is not None and not (isinstance(step, str) and step == "passthrough")]


def _describe(model, estimator):
    if estimator is model:
        return f"a {type(model).__name__}"
    return f"a {type(model).__name__} whose last step is a {type(estimator).__name__}"
