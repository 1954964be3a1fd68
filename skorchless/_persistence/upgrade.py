"""Read the fitted state of skorchless 0.1 into today's objects.

Version 0.1 kept the input encoding in ``_categorical_columns`` and
``_input_scaler`` and the target's state in ``_y_center`` / ``_y_scale``
(regressor) or ``_label_binarizer`` / ``_multilabel`` (classifier). Pickles
and safe-format files of that version hold those names; ``upgrade_fitted``
turns them into the ``InputEncoder`` and target object the estimators use now.
"""

from .._inputs import InputEncoder
from .._targets import ClassificationTarget, RegressionTarget

_OLD_NAMES = ("_categorical_columns", "_input_scaler", "_y_center", "_y_scale",
              "_label_binarizer", "_multilabel")


def upgrade_fitted(fitted, params, n_inputs):
    """Return the fitted attributes ``fitted`` in today's layout (unchanged if already).

    Parameters
    ----------
    fitted : dict
        Fitted attributes (a pickle's state also holds the parameters).
    params : dict
        The estimator's parameters.
    n_inputs : int
        Width of the network's input layer.

    Returns
    -------
    fitted : dict

    Examples
    --------
    >>> import numpy as np
    >>> from skorchless._persistence.upgrade import upgrade_fitted
    >>> old = {"_categorical_columns": [], "_input_scaler": None, "n_outputs_": 1,
    ...        "_y_center": np.zeros(1), "_y_scale": np.ones(1)}
    >>> params = {"input_scaling": None, "n_bins": None, "loss": "huber", "huber_delta": 1.0}
    >>> new = upgrade_fitted(old, params, n_inputs=3)
    >>> type(new["_inputs"]).__name__, type(new["_target"]).__name__
    ('InputEncoder', 'RegressionTarget')
    """
    if "_inputs" in fitted or not any(name in fitted for name in _OLD_NAMES):
        return fitted
    fitted = dict(fitted)
    inputs = InputEncoder(params["input_scaling"], params["n_bins"])
    inputs.categorical_ = list(fitted.pop("_categorical_columns", None) or [])
    inputs.transformer_ = fitted.pop("_input_scaler", None)
    inputs.n_columns_ = n_inputs
    if "_label_binarizer" in fitted:
        target = ClassificationTarget(params["class_weight"], params["label_smoothing"])
        target.binarizer = fitted.pop("_label_binarizer")
        target.classes_ = target.binarizer.classes_
        target.multilabel = bool(fitted.pop("_multilabel"))
    else:
        target = RegressionTarget(params["loss"], params["huber_delta"])
        target.center = fitted.pop("_y_center")
        target.scale = fitted.pop("_y_scale")
        target.n_outputs = fitted["n_outputs_"]
    fitted["_inputs"], fitted["_target"] = inputs, target
    return fitted
