"""Learning-rate schedulers (spec §9): the implemented forms agree with torch's schedulers,
(the printed forms that differ are errata: nerva_edu.errata, tests/test_errata.py)."""

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from nerva_edu.schedulers import (Constant, Exponential, MultiStep, StepBased, TimeBased,
                                  parse_scheduler)


def torch_rates(make_scheduler, eta0, steps):
    """η_0 .. η_{steps-1} from a torch scheduler."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=eta0)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_constant():
    assert [Constant(0.3)(i) for i in range(4)] == [0.3] * 4


def test_time_based_is_keras_inverse_time_decay_not_the_printed_recursion():
    eta0, d = 0.1, 0.1
    scheduler = TimeBased(eta0, d)
    assert [scheduler(i) for i in range(50)] == pytest.approx([eta0 / (1 + d * i) for i in range(50)])
    assert scheduler(20) == pytest.approx(eta0 / 3)      # the intended one decays gently


@settings(max_examples=25, deadline=None)
@given(d=st.floats(0.1, 0.9), r=st.integers(1, 6))
def test_step_based_is_torch_steplr(d, r):
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=r, gamma=d), 0.5, 30)
    assert [StepBased(0.5, d, r)(i) for i in range(30)] == pytest.approx(expected, rel=1e-12)




@settings(max_examples=25, deadline=None)
@given(d=st.floats(0.0, 0.5))
def test_exponential_is_torch_exponentiallr(d):
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=math.exp(-d)), 0.2, 25)
    assert [Exponential(0.2, d)(i) for i in range(25)] == pytest.approx(expected, rel=1e-10)


@settings(max_examples=25, deadline=None)
@given(milestones=st.lists(st.integers(1, 20), min_size=1, max_size=4, unique=True).map(sorted),
       gamma=st.floats(0.1, 0.9))
def test_multi_step_is_torch_multisteplr(milestones, gamma):
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones, gamma), 0.3, 30)
    assert [MultiStep(0.3, gamma, tuple(milestones))(i) for i in range(30)] == pytest.approx(expected, rel=1e-12)




@pytest.mark.parametrize("text, expected", [
    ("0.01", Constant(0.01)),
    ("Constant(0.1)", Constant(0.1)),
    ("TimeBased(0.1, 0.001)", TimeBased(0.1, 0.001)),
    ("StepBased(0.1, d=0.5, r=10)", StepBased(0.1, 0.5, 10)),
    ("Exponential(0.1, d=0.05)", Exponential(0.1, 0.05)),
    ("MultiStep(0.1, 0.1, 50, 75)", MultiStep(0.1, 0.1, (50, 75))),
])
def test_parse(text, expected):
    assert parse_scheduler(text) == expected


@pytest.mark.parametrize("text, message", [
    ("Cosine(0.1)", "accepted: Constant, TimeBased, StepBased, Exponential, MultiStep"),
    ("TimeBased(0.1)", "missing argument 'd'"),
    ("StepBased(0.1, 0.5, 2.5)", "must be a positive integer"),
    ("Constant(-1)", "eta0 must be a finite number > 0, got -1.0"),
    ("MultiStep(0.1, 0.5)", "at least one milestone"),
    ("MultiStep(0.1, 0.5, 20, 10)", "increasing"),
])
def test_parse_rejects_bad_values(text, message):
    with pytest.raises(ValueError, match=message):
        parse_scheduler(text)
