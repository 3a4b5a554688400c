"""dynamics.optimizers: one coordinate step of every optimiser is theorykit's symbolic update
(B.3-B.6, 3.4-3.6)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamics.optimizers import CoordinateOptimizer, Hyper
from theorykit import symbols as S
from theorykit.optimizers import OPTIMIZERS, optimizer_kind
from theorykit.updates import (
    ADAM_FEATURE_UPDATE,
    ADAMW_FEATURE_UPDATE,
    GD_FEATURE_STEP,
    SIGNSGD_FEATURE_STEP,
    SIGNSGDW_FEATURE_STEP,
)

finite = st.floats(-1.0, 1.0, allow_nan=False)
positive = st.floats(1e-4, 0.5)


@settings(max_examples=60, deadline=None)
@given(
    gamma=finite, drive=finite, lam=positive, eta=positive, mom1=finite, mom2=st.floats(0.0, 1.0)
)
def test_one_coordinate_step_is_theorykits_formula(
    gamma: float, drive: float, lam: float, eta: float, mom1: float, mom2: float
) -> None:
    """gamma = w[1] of head +1, data gradient -drive: every kind's step is its
    (B.3)/(B.5)/(3.5)/(3.6) formula."""
    hyper = Hyper(*(np.array([value]) for value in (eta, lam, 0.9, 0.999, 1e-8)))
    expected = {
        "signsgd": SIGNSGD_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta),
        "signsgdw": SIGNSGDW_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta),
        "gd": GD_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta),
    }
    for kind, formula in (("adam", ADAM_FEATURE_UPDATE), ("adamw", ADAMW_FEATURE_UPDATE)):
        expected[kind] = formula.weight.evaluate(
            {
                S.gamma.name: gamma,
                S.drive.name: drive,
                S.lam.name: lam,
                S.eta.name: eta,
                S.mom1.name: mom1,
                S.mom2.name: mom2,
                S.beta1.name: 0.9,
                S.beta2.name: 0.999,
                S.eps.name: 1e-8,
            }
        )
    for kind in OPTIMIZERS:
        optimizer = CoordinateOptimizer(optimizer_kind(kind))
        w = np.array([gamma])
        state = optimizer.init(w)
        if state is not None:
            state.first[:], state.second[:] = mom1, mom2
        optimizer.update(w, np.array([-drive]), hyper, state, t=1)
        # sgn() switches are excluded the same way as in test_updates: float64 vs sympy may pick
        # sides there
        if (
            kind in ("signsgd", "signsgdw")
            and abs(drive - (lam * gamma if kind == "signsgd" else 0.0)) < 1e-9
        ):
            continue
        assert w[0] == pytest.approx(float(expected[kind]), rel=1e-9, abs=1e-12), kind
