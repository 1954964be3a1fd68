"""Per-sample losses, with the closed form of their output gradient where known.

Torch only. A ``Loss`` is called as ``loss(output, y)`` and returns one loss
per sample; ``with_grad`` (when not None) also returns the gradient of each
sample's loss with respect to its row of ``output``, so that the hand-written
step needs no autograd for the default losses.
"""

import torch
import torch.nn.functional as F


class Loss:
    """A per-sample loss, with the closed form of its gradient where known.

    Parameters
    ----------
    per_sample : callable
        ``per_sample(output, y)`` returns one loss per sample, shape (n,).
    with_grad : callable or None
        ``with_grad(output, y)`` returns the per-sample losses and, for each
        sample, the gradient of its loss with respect to its row of
        ``output`` (shape of ``output``), without autograd.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.losses import squared_error
    >>> losses, grad = squared_error.with_grad(torch.ones(2, 1), torch.zeros(2, 1))
    >>> losses.tolist(), grad.tolist()
    ([1.0, 1.0], [[2.0], [2.0]])
    """

    def __init__(self, per_sample, with_grad=None):
        self.per_sample = per_sample
        self.with_grad = with_grad

    def __call__(self, output, y):
        """Return one loss per sample."""
        return self.per_sample(output, y)


def weighted_mean(losses, weight):
    """Mean of per-sample ``losses``, weighted by ``weight`` (normalised to mean 1) if given.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.losses import weighted_mean
    >>> weighted_mean(torch.tensor([1.0, 3.0]), torch.tensor([0.5, 1.5])).item()
    2.5
    """
    return losses.mean() if weight is None else (losses * weight).mean()


def _squared_error_with_grad(output, y):
    diff = output - y
    return diff.square().mean(1), diff.mul_(2.0 / diff.shape[1])


#: Mean over the outputs of the squared errors.
squared_error = Loss(lambda output, y: ((output - y) ** 2).mean(1), _squared_error_with_grad)


#: The ``loss`` options of the regressor.
REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber", "poisson")


def regression_loss(name, huber_delta=1.0):
    """Return the ``Loss`` of a regressor's ``loss`` parameter.

    Parameters
    ----------
    name : {"squared_error", "absolute_error", "huber", "poisson"}
        ``"poisson"`` takes the output as the log of the mean.
    huber_delta : float, default=1.0
        Threshold of ``"huber"``.

    Returns
    -------
    loss : Loss

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.losses import regression_loss
    >>> regression_loss("absolute_error")(torch.zeros(1, 2), torch.ones(1, 2)).tolist()
    [1.0]
    """
    if name == "squared_error":
        return squared_error
    if name == "absolute_error":
        return Loss(lambda out, y: (out - y).abs().mean(1))
    if name == "huber":
        return Loss(lambda out, y: F.huber_loss(out, y, reduction="none",
                                                delta=huber_delta).mean(1))
    if name == "poisson":
        return Loss(lambda out, y: (out.exp() - y * out).mean(1))
    raise ValueError(f"Unknown regression loss {name!r}.")


def cross_entropy(label_smoothing):
    """Return the softmax cross-entropy ``Loss`` for integer class labels.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.losses import cross_entropy
    >>> loss = cross_entropy(0.0)
    >>> round(loss(torch.zeros(1, 2), torch.tensor([1])).item(), 4)
    0.6931
    """
    def per_sample(output, y):
        return F.cross_entropy(output, y, reduction="none", label_smoothing=label_smoothing)

    def with_grad(output, y):
        log_p = torch.log_softmax(output, 1)
        n_classes = output.shape[1]
        target = torch.full_like(log_p, label_smoothing / n_classes)
        target.scatter_(1, y.unsqueeze(1), 1.0 - label_smoothing + label_smoothing / n_classes)
        losses = -(target * log_p).sum(1)
        return losses, log_p.exp_().sub_(target)

    return Loss(per_sample, with_grad)


def _zero(output, y):
    return output.sum(1) * 0.0


#: The loss of a classifier that saw one class: it predicts that class with
#: probability 1 whatever the output, so its log-loss is 0.
zero_loss = Loss(_zero, lambda output, y: (_zero(output, y), torch.zeros_like(output)))


def binary_cross_entropy(label_smoothing, multilabel):
    """Return the sigmoid cross-entropy ``Loss`` (labels 0/1, one column per label).

    A sample's loss is the sum over its labels, as in scikit-learn's MLP.

    Examples
    --------
    >>> import torch
    >>> from skorchless._engine.losses import binary_cross_entropy
    >>> loss = binary_cross_entropy(0.0, multilabel=False)
    >>> round(loss(torch.zeros(1, 1), torch.tensor([1])).item(), 4)
    0.6931
    """
    def target_of(y, dtype):
        target = (y if multilabel else y.unsqueeze(1)).to(dtype)
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
        return target

    def losses_of(output, target):
        # summed over the labels, as scikit-learn's log-loss of multilabel targets
        return F.binary_cross_entropy_with_logits(output, target, reduction="none").sum(1)

    def per_sample(output, y):
        return losses_of(output, target_of(y, output.dtype))

    def with_grad(output, y):
        target = target_of(y, output.dtype)
        return losses_of(output, target), torch.sigmoid(output).sub_(target)

    return Loss(per_sample, with_grad)
