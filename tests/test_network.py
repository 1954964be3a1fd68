"""The torch module: layers, activations, dropout, seeded initialisation."""

import math
import pickle

import pytest
import torch
from torch import nn

from skorchless._engine.network import ACTIVATIONS, SeededDropout, build_mlp, linear_layers


def _build(sizes=(5, 4), seed=0, **kwargs):
    kwargs = {"activation": "relu", "dropout": 0.0, **kwargs}
    return build_mlp(3, sizes, 2, init_generator=torch.Generator().manual_seed(seed),
                     **kwargs)


def test_layer_sizes_and_order():
    net = _build((5, 4))
    shapes = [(layer.in_features, layer.out_features) for layer in linear_layers(net)]
    assert shapes == [(3, 5), (5, 4), (4, 2)]
    assert [type(m) for m in net] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert net(torch.zeros(7, 3)).shape == (7, 2)


def test_no_hidden_layer_is_a_linear_model():
    net = _build(())
    assert [type(m) for m in net] == [nn.Linear]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation(name):
    net = _build((4,), activation=name)
    assert isinstance(net[1], ACTIVATIONS[name])
    assert torch.isfinite(net(torch.randn(6, 3, generator=torch.Generator()))).all()


def test_dropout_follows_every_hidden_activation_only():
    net = _build((5, 4), dropout=0.3)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.ReLU, SeededDropout, nn.Linear, nn.ReLU, SeededDropout,
                     nn.Linear]
    assert all(m.p == 0.3 for m in net if isinstance(m, SeededDropout))


@pytest.mark.parametrize("activation, factor", [("relu", 6.0), ("logistic", 2.0)])
def test_glorot_uniform_bounds(activation, factor):
    net = build_mlp(50, (40,), 30, activation=activation, dropout=0.0,
                    init_generator=torch.Generator().manual_seed(0))
    for layer in linear_layers(net):
        bound = math.sqrt(factor / (layer.in_features + layer.out_features))
        for param in (layer.weight, layer.bias):
            assert param.abs().max() <= bound
            assert param.abs().max() > 0.9 * bound  # really spread up to the bound


def test_initialisation_is_decided_by_the_generator_alone():
    torch_state = torch.get_rng_state()
    a, b, c = _build(seed=1), _build(seed=1), _build(seed=2)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)
    assert torch.equal(torch.get_rng_state(), torch_state)  # global generator untouched


def test_seeded_dropout_masks_come_from_its_generator():
    x = torch.ones(200, 10)
    drop = SeededDropout(0.5, torch.Generator().manual_seed(0))
    first = drop(x)
    drop.generator = torch.Generator().manual_seed(0)
    assert torch.equal(first, drop(x))
    kept = first[first != 0]
    assert torch.allclose(kept, torch.full_like(kept, 2.0))  # rescaled by 1 / (1 - p)
    assert 0.4 < (first == 0).float().mean() < 0.6


def test_seeded_dropout_is_the_identity_in_eval_mode_and_at_zero():
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    drop = SeededDropout(0.9, torch.Generator()).eval()
    assert drop(x) is x
    assert SeededDropout(0.0)(x) is x


def test_seeded_dropout_pickles_without_its_generator():
    drop = SeededDropout(0.25, torch.Generator().manual_seed(3))
    restored = pickle.loads(pickle.dumps(drop))
    assert restored.p == 0.25 and restored.generator is None
    assert drop.generator is not None  # the original keeps its generator
