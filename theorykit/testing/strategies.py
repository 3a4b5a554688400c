"""Public hypothesis strategies for theorykit (in the spirit of ``xarray.testing.strategies``).

Use them in your own property tests::

    from hypothesis import given
    from theorykit.testing import strategies as tks

    @given(tks.admissible_params(optimizer="adam"))
    def test_my_claim(params): ...

* :func:`problem_params` -- any valid :class:`~theorykit.params.ProblemParams` (wide ranges).
* :func:`admissible_params` -- settings inside the data and initialisation conditions of Tang et al.
  2025 (Cond. A.1/A.2) with finite margins, where the finite-size predictions are claimed to apply.
* :func:`small_params` -- settings small enough to train the real CNN in about a second (the
  theory-vs-simulation properties of ``tests/agreement``), every optimiser, with L2 or decoupled
  decay, n s <= d - 1 so that disjoint supports fit.
* :func:`invalid_override` -- one (field, value) pair that breaks the documented rule of that field.

Requires the ``test`` extra (hypothesis).
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from theorykit.optimizers import DECOUPLED_DECAY, OPTIMIZERS
from theorykit.params import MAX_COUNT, SCALE_MAX, SCALE_MIN, ProblemParams

__all__ = ["admissible_params", "invalid_override", "optimizers", "problem_params", "small_params"]


def optimizers() -> st.SearchStrategy[str]:
    """One of :data:`theorykit.optimizers.OPTIMIZERS`."""
    return st.sampled_from(OPTIMIZERS)


def _finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def _log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return _finite(math.log10(lo), math.log10(hi)).map(lambda exponent: 10.0**exponent)


@st.composite
def problem_params(draw: st.DrawFn, optimizer: str | None = None) -> ProblemParams:
    """Any valid setting: n in [2, 5000], d in [2, 10^6], 1 <= s < d, q in [3, 8], all scales
    positive.

    Decoupled-decay optimisers get eta * lam < 1, as the constructor requires.
    """
    name = optimizer if optimizer is not None else draw(optimizers())
    n = draw(st.integers(2, 5000))
    d = draw(st.integers(2, 1_000_000))
    eta = draw(_log_uniform(1e-8, 1.0))
    lam_cap = 0.999 / eta if name in DECOUPLED_DECAY else 1e3
    return ProblemParams(
        n=n,
        d=d,
        s=draw(st.integers(1, d - 1)),
        sigma_p=draw(_log_uniform(1e-4, 10.0)),
        alpha=draw(_finite(0.0, 0.999)),
        m=draw(st.integers(1, 256)),
        q=draw(st.one_of(st.integers(3, 8), _finite(3.0, 8.0))),
        sigma0=draw(_log_uniform(1e-5, 1.0)),
        optimizer=name,
        eta=eta,
        B=draw(st.integers(1, n)),
        lam=draw(st.one_of(st.just(0.0), _log_uniform(1e-9, min(lam_cap, 1e3)))),
        beta1=draw(_finite(0.0, 0.999)),
        beta2=draw(_finite(0.0, 0.9999)),
        eps=draw(st.one_of(st.just(0.0), _log_uniform(1e-12, 1e-2))),
        bias_correction=draw(st.booleans()),
        epochs=draw(st.integers(1, 10**6)),
    )


@st.composite
def admissible_params(draw: st.DrawFn, optimizer: str | None = None) -> ProblemParams:
    """Settings inside Cond. A.1/A.2's data and initialisation scalings, with finite margins.

    * s sigma_p^2 in [0.05, 0.5]     (sigma_p^2 = Theta(1/(s polylog n)), s^{1/2} sigma_p = O~(1))
    * alpha in [0.01, 0.2]           (alpha = o(1))
    * sigma0 in [1e-3, 0.1]          (small initialisation, sigma0 = Theta(d^{-1/4}) for d >= 10^4)
    * m in [4, 64], q in [3, 5]      (m = polylog(n), q >= 3)
    * n in [20, 400], s in [8, 200], d in [s + 1, 10^6], eta in [1e-6, 1e-3], lam in [0, 0.1]

    beta1 in [0, 0.95], beta2 in [0.95, 0.9999] so that beta1^2 < beta2 (Lemma C.1).
    """
    name = optimizer if optimizer is not None else draw(optimizers())
    n = draw(st.integers(20, 400))
    s = draw(st.integers(8, 200))
    noise_l2 = draw(_finite(0.05, 0.5))
    return ProblemParams(
        n=n,
        d=draw(st.integers(s + 1, 1_000_000)),
        s=s,
        sigma_p=math.sqrt(noise_l2 / s),
        alpha=draw(_finite(0.01, 0.2)),
        m=draw(st.integers(4, 64)),
        q=draw(st.one_of(st.integers(3, 5), _finite(3.0, 5.0))),
        sigma0=draw(_log_uniform(1e-3, 0.1)),
        optimizer=name,
        eta=draw(_log_uniform(1e-6, 1e-3)),
        B=draw(st.integers(1, n)),
        lam=draw(st.one_of(st.just(0.0), _log_uniform(1e-8, 0.1))),
        beta1=draw(_finite(0.0, 0.95)),
        beta2=draw(_finite(0.95, 0.9999)),
        eps=draw(_log_uniform(1e-12, 1e-6)),
    )


@st.composite
def small_params(draw: st.DrawFn, optimizer: str | None = None) -> ProblemParams:
    """CNN-sized settings (a few thousand weights, tens of iterations):

    * n even in [8, 24], s in [2, 8], d in [n s + 1, n s + 200] (disjoint supports fit);
    * s sigma_p^2 in [0.1, 1], alpha in [0, 0.3], m in [2, 5], q in {3, 4}, sigma0 in [0.005, 0.05];
    * eta log-uniform in [1e-4, 1e-2] (gradient descent: [1e-3, 0.1]), lam 0 or in [1e-5, 0.1],
      B in [1, n], beta2 in {0.99, 0.999}, either bias correction, epochs in [2, 12].
    """
    name = optimizer if optimizer is not None else draw(optimizers())
    n = 2 * draw(st.integers(4, 12))
    s = draw(st.integers(2, 8))
    d = n * s + 1 + draw(st.integers(0, 200))
    eta = draw(_log_uniform(1e-3, 0.1) if name == "gd" else _log_uniform(1e-4, 1e-2))
    return ProblemParams(
        n=n,
        d=d,
        s=s,
        sigma_p=math.sqrt(draw(_finite(0.1, 1.0)) / s),
        alpha=draw(_finite(0.0, 0.3)),
        m=draw(st.integers(2, 5)),
        q=draw(st.sampled_from([3, 4])),
        sigma0=draw(_log_uniform(0.005, 0.05)),
        optimizer=name,
        eta=eta,
        B=draw(st.integers(1, n)),
        lam=draw(st.one_of(st.just(0.0), _log_uniform(1e-5, 0.1))),
        beta2=draw(st.sampled_from([0.99, 0.999])),
        bias_correction=draw(st.booleans()),
        epochs=draw(st.integers(2, 12)),
    )


_NOT_A_NUMBER = st.sampled_from([float("nan"), float("inf"), float("-inf"), "3", None, True])

#: Counts beyond MAX_COUNT (10^9), as ints and as floats up to where float64 ends.
_TOO_MANY = st.one_of(
    st.integers(min_value=MAX_COUNT + 1, max_value=10**400), _finite(2e9, 1.7e308).map(round)
)
#: Nonzero scales outside the normal float32 range [SCALE_MIN, SCALE_MAX].
_OUT_OF_SCALE = st.one_of(
    _finite(SCALE_MAX * (1 + 1e-6), 1.7e308),
    st.floats(min_value=5e-324, max_value=SCALE_MIN * (1 - 1e-6)),
)

_INVALID_BY_FIELD: dict[str, st.SearchStrategy[object]] = {
    "n": st.one_of(
        st.integers(max_value=1),
        _finite(2.1, 1e4).filter(lambda x: not x.is_integer()),
        _TOO_MANY,
        _NOT_A_NUMBER,
    ),
    "d": st.one_of(st.integers(max_value=1), _TOO_MANY, _NOT_A_NUMBER),
    "s": st.one_of(st.integers(max_value=0), _TOO_MANY, _NOT_A_NUMBER),
    "sigma_p": st.one_of(_finite(-1e6, 0.0), _OUT_OF_SCALE, _NOT_A_NUMBER),
    "alpha": st.one_of(_finite(-1e6, -1e-12), _finite(1.0, 1e6), _NOT_A_NUMBER),
    "m": st.one_of(st.integers(max_value=0), _TOO_MANY, _NOT_A_NUMBER),
    "q": st.one_of(_finite(-1e6, 2.999), _finite(342.001, 1.7e308), _NOT_A_NUMBER),
    "sigma0": st.one_of(_finite(-1e6, 0.0), _OUT_OF_SCALE, _NOT_A_NUMBER),
    "optimizer": st.text(max_size=8).filter(lambda text: text not in OPTIMIZERS),
    "eta": st.one_of(_finite(-1e6, 0.0), _OUT_OF_SCALE, _NOT_A_NUMBER),
    "B": st.one_of(st.integers(max_value=0), _TOO_MANY, _NOT_A_NUMBER),
    "lam": st.one_of(_finite(-1e6, -1e-12), _OUT_OF_SCALE, _NOT_A_NUMBER),
    "beta1": st.one_of(_finite(-1e6, -1e-12), _finite(1.0, 1e6), _NOT_A_NUMBER),
    "beta2": st.one_of(_finite(-1e6, -1e-12), _finite(1.0, 1e6), _NOT_A_NUMBER),
    "eps": st.one_of(_finite(-1e6, -1e-12), _OUT_OF_SCALE, _NOT_A_NUMBER),
    "bias_correction": st.sampled_from([0, 1, "yes", None, 1.0]),
    "epochs": st.one_of(st.integers(max_value=0), _TOO_MANY, _NOT_A_NUMBER),
}


def invalid_override() -> st.SearchStrategy[tuple[str, object]]:
    """A (field, value) pair that breaks that field's rule for any otherwise valid setting.

    Covers every field of :class:`ProblemParams`: out-of-range numbers (counts beyond 10^9, scales
    outside the normal float32 range, q beyond float64's Gamma), non-integers for integer fields,
    NaN and infinities, wrong types, unknown optimiser names.
    """
    return st.sampled_from(sorted(_INVALID_BY_FIELD)).flatmap(
        lambda name: _INVALID_BY_FIELD[name].map(lambda value: (name, value))
    )
