"""The training engine: torch only.

Everything here works on tensors already on their device; nothing imports
numpy, pandas, scipy or scikit-learn (``tests/test_architecture.py`` holds the
wall). The estimators call ``loop.train`` / ``lbfgs.train_lbfgs`` and turn
the ``TrainResult`` they return into fitted attributes.

- ``network``: the MLP module and its initialisation;
- ``losses``: per-sample losses, with closed-form output gradients;
- ``step``: one training step (autograd, hand-written, CUDA graph);
- ``optim``: optimizers, the direct fused-Adam kernel call and its probe;
- ``schedules``, ``averaging``: learning rates, the weight average;
- ``callbacks``: what the loop reports each epoch, and who listens;
- ``loop``, ``lbfgs``: the training loops.
"""
