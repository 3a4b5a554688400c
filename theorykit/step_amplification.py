"""Adam's step on a coordinate whose gradient grows: the factor by which a Stage-I coordinate of
:mod:`theorykit.batch_race` moves faster than eta per iteration (Tang et al. 2025, eqs. 3.4-3.5;
Lemma C.1 bounds Adam's normalised step by Theta(1), not by 1; docs/notes/overlap.md §8).

The second moment v averages the squared gradients of the last ~1/(1 - beta2) iterations. While a
coordinate's gradient grows, that average lags behind the current square, and the normalised step
m / sqrt(v) exceeds 1. In Stage I both coordinates of the race grow linearly from their start x0 at
a rate r per iteration -- the feature gamma from gamma0 at eta, a memorising sample's noise rho
from rho0 at R eta -- and the gradient is |ell| sigma'(x) with |ell| near its initial 1/2, so
g(t) is proportional to x(t)^{q-1}. Per iteration t:

* m(t) = (1 - beta1^t) g(t): beta1's memory, ~1/(1 - beta1) iterations, is short against the
  growth, and its lag is left out;
* v(t) = (1 - beta2) sum_{s <= t} beta2^{t-s} g(s)^2, the recursion of eq. 3.4;
* with bias correction (torch-style) m and v are divided by 1 - beta1^t and 1 - beta2^t.

The coordinate's rate is a r, a the mean of m(t) / sqrt(v(t)) over the window [1, W]; a depends
on how fast x grows, so it is the fixed point of x(t) = x0 + a r t, iterated from a = 1. a -> 1
where beta2's memory is short against the growth (beta2 = 0.9: 1.01 at the paper's setting), and
it grows with the growth remembered: 1.64 for the feature at App. D.2 (beta2 = 0.999), 1.85 at
q = 4. Against Adam's own recursion on such a coordinate (x moved by its actual steps, beta1's
lag included) the fixed point is 0.4% high for the feature and 2.8% for the noise at App. D.2
with bias correction, 9% and 16% without, where the first steps are largest and x grows faster
than linearly (docs/notes/overlap.md §8). The noise's gradient arrives once per period P; the
race's S(P) (``theorykit.closed_forms.PERIODIC_SPIKE_STEP_SUM``) is the steady state of those
spikes, and the growth multiplies it by the factor of a gradient present at every iteration,
computed here. eps is left out, as in S(P); sign steps (no moments) have a = 1. No constant of
its own.
Conventions: docs/conventions.md.
"""

from __future__ import annotations

import functools

import numpy as np

from theorykit.errors import ParameterError

#: At most this many iterations of the fixed point a = mean step(x0 + a r t) from a = 1, stopped
#: once a changes by less than :data:`CONVERGED` relative (the map is increasing and contracts:
#: five to seven at the settings of ``theorykit compare``).
FIXED_POINT_ITERATIONS = 30
CONVERGED = 1e-6
#: Iterations computed one by one; past them (windows longer than any Stage I of the settings
#: compared) the step is held at its last value, where the growth has long become slow against
#: beta2's memory.
WINDOW_POINTS = 50_000


@functools.lru_cache(maxsize=4096)
def growth_amplification(
    start: float,
    rate: float,
    q: float,
    beta1: float,
    beta2: float,
    bias_correction: bool,
    window: float,
) -> float:
    """The mean normalised Adam step over the first ``window`` iterations of a coordinate that
    grows from ``start`` at ``rate`` times this factor per iteration, its gradient proportional to
    x^{q-1} (the module docstring); 1 for a window shorter than one iteration. Computed on squares
    relative to the last one (a scale-free ratio: no under- or overflow at the float limits of the
    parameters); an iteration whose squares all round to 0 takes the ratio g^2 / v = 1 / (1 -
    beta2) of a growth so fast that its own square dominates v (exact at t = 1)."""
    if not start > 0:
        raise ParameterError("start", start, "a positive start of the growing coordinate")
    if not rate > 0:
        raise ParameterError("rate", rate, "a positive rate of growth")
    if not 0 <= beta1 < 1 or not 0 < beta2 < 1:
        raise ParameterError("beta2", (beta1, beta2), "0 <= beta1 < 1 and 0 < beta2 < 1")
    if not window >= 1:
        return 1.0
    # here, not at the top: scipy.signal loads scipy.stats, 0.3 s of every command's start
    from scipy import signal

    points = int(min(window, WINDOW_POINTS))
    t = np.arange(1, points + 1, dtype=float)
    first_bias = -np.expm1(t * np.log(beta1)) if beta1 > 0 else np.ones_like(t)
    second_bias = -np.expm1(t * np.log(beta2))  # 1 - beta2^t, accurate where it is near 0
    amplification = 1.0
    for _ in range(FIXED_POINT_ITERATIONS):
        log_square = 2 * (q - 1) * np.log1p(amplification * (rate / start) * t)
        squared = np.exp(log_square - log_square[-1])
        second = signal.lfilter([1 - beta2], [1, -beta2], squared)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(second > 0, squared / second, 1 / (1 - beta2))
        step = np.sqrt(ratio * second_bias) if bias_correction else first_bias * np.sqrt(ratio)
        total = float(step.sum()) + (window - points) * float(step[-1])
        previous, amplification = amplification, total / window
        if abs(amplification - previous) <= CONVERGED * amplification:
            break
    return amplification
