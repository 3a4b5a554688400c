"""When a class's test points are misclassified: the race of every filter, read at the horizon
(docs/notes/overlap.md §9).

The race of :mod:`theorykit.batch_race` follows a head's *best* filter, whose feature coefficient
gamma = <w_{j,r}, j v> is the last of its head to reverse. A test point of class y is misclassified
once the other head's filters outweigh its own on the signal patch: head -y's filters with gamma < 0
respond to y v with sigma(-gamma) (Def. 3.2: <w_{-y,r}, y v> = -gamma_{-y,r}). With ReLU^q the
largest terms lead, so class y's test points flip when

    max_r (-gamma_{-y,r}(T))_+  >  max_r (gamma_{y,r}(T))_+

-- the most negative filter of the wrong head against the best filter of the right one. The CNN
shows this before any best filter reverses: runs at test error 0.9 with both best coefficients
positive (notes §9).

Every filter runs the race's linear dynamics (sign-type steps of eta on gamma, the noise
rho(t) = rho0 + R eta t, the reversal ratio A of :data:`theorykit.batch_race.REVERSAL_RATIO`):
the noise term outweighs a filter's feature term while rho > A |gamma|, and then moves |gamma| away
from the class the filter's sign favours. :func:`filter_coefficient` gives gamma(T) in closed form:

* **gamma0 > 0** rises by eta per iteration until rho / gamma reaches A, at
  t_r = (A gamma0 - rho0) / (eta (R - A)) (0 where rho0 >= A gamma0 already, never where R <= A
  and rho0 < A gamma0), then falls by eta, through 0 at t_0 = 2 t_r + gamma0 / eta;
* **below 0** (from the start, or after t_0) the noise term pushes |gamma| up by eta while
  rho > A |gamma|, and the other class's feature term pulls it back while rho < A |gamma|: from a
  negative start |gamma| first shrinks by eta until rho = A |gamma|, at
  t* = (A |gamma0| - rho0) / (eta (R + A)); from then on |gamma| = min(|gamma(t*)| + eta (t - t*),
  rho(t) / A) (it grows by eta where R > A and holds the balance rho / A where R <= A).

So R > A flips a class at some horizon (the best filter reverses) and R <= A does not (the best
filter outgrows rho / A) unless the best filter starts below rho0 / A and falls at once: the
T -> infinity limit (:func:`filter_asymptote`) is the race's own up to such heads, B*_inf of
:func:`theorykit.batch_race.asymptotic_critical_batch_size`.

**Over seeds.** The best and the most negative of a head's m filters start at sigma0 max_r Z_r and
sigma0 min_r Z_r (Lemma A.3, Z_r ~ N(0, 1)); each head has its own rate ratio R e^{-C_race_spread
|eps|} (the race's spread, eps ~ N(0, 1)). :func:`flipped_classes` averages the two classes' flips
over :data:`FLIP_DRAWS` fixed points of a scrambled Sobol sequence (seeded with
:data:`FLIP_SEED`, the same at every call, so B* is a deterministic function of the setting): the
probabilities that 0, 1 and 2 classes flip, a run's test error about 0, 1/2 and 1. A run
memorises when a class flips once the data are fitted: :func:`theorykit.batch_race.race` counts no
flip before Stage I's end (on its initial filters alone a class flips half the time).
Conventions: iterations as in docs/conventions.md; head index 0 is j = +1, 1 is j = -1.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt
from scipy import special

#: Points (a power of 2) of the quasi-random sequence over each head's best and most negative
#: initial filter and |eps| that :func:`flipped_classes` averages over: a probability resolves to
#: 1/FLIP_DRAWS, and its error is below the 0.5 / sqrt(FLIP_DRAWS) ~ 0.008 of independent draws
#: (compare's held-out Brier score moves by 0.0006 of the verdict's between scramblings).
FLIP_DRAWS = 4096
#: Seed of the scrambling of those points.
FLIP_SEED = 20251011


def filter_coefficient(
    gamma0: npt.ArrayLike,
    rate_ratio: npt.ArrayLike,
    reversal_ratio: float,
    rho0: float,
    eta: float,
    horizon: float,
) -> npt.NDArray[np.float64]:
    """gamma(T) of filters starting at ``gamma0`` (any sign) under the linear race with rate ratio
    ``rate_ratio`` (R, broadcast against ``gamma0``), reversal ratio A, noise start rho0 and feature
    step ``eta`` per iteration, at T = ``horizon`` iterations: the closed forms of the module
    docstring (docs/notes/overlap.md §9). Each branch is computed only where a filter needs it
    (both only for starts of either sign)."""
    g0, R = np.broadcast_arrays(np.asarray(gamma0, float), np.asarray(rate_ratio, float))
    race = (reversal_ratio, rho0, eta, horizon)
    positive = g0 > 0
    if positive.all():
        return _from_positive(g0, R, *race)
    if not positive.any():
        return _from_negative(g0, R, *race)
    return np.where(positive, _from_positive(g0, R, *race), _from_negative(g0, R, *race))


def _from_positive(
    g0: npt.NDArray[np.float64],
    R: npt.NDArray[np.float64],
    A: float,
    rho0: float,
    eta: float,
    T: float,
) -> npt.NDArray[np.float64]:
    """:func:`filter_coefficient` for gamma0 > 0: up by eta until t_r, down through 0 at t_0, then
    the negative branch from 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t_r = np.where(
            rho0 >= A * g0, 0.0, np.where(R > A, (A * g0 - rho0) / (eta * (R - A)), np.inf)
        )
        t_zero = 2 * t_r + g0 / eta
        falling = g0 + eta * np.where(t_r >= T, T, 2 * t_r - T)
        fallen = np.minimum(eta * (T - t_zero), (rho0 + R * eta * T) / A)
    return np.where(t_zero >= T, falling, -fallen)


def _from_negative(
    g0: npt.NDArray[np.float64],
    R: npt.NDArray[np.float64],
    A: float,
    rho0: float,
    eta: float,
    T: float,
) -> npt.NDArray[np.float64]:
    """:func:`filter_coefficient` for gamma0 <= 0: |gamma| shrinks until rho = A |gamma| (t*), then
    min(|gamma(t*)| + eta (t - t*), rho / A)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t_star = np.maximum(0.0, (A * -g0 - rho0) / (eta * (R + A)))
        grown = np.minimum(-g0 - 2 * eta * t_star + eta * T, (rho0 + R * eta * T) / A)
    return np.where(t_star >= T, g0 + eta * T, -grown)


def filter_asymptote(
    gamma0: npt.ArrayLike, rate_ratio: npt.ArrayLike, reversal_ratio: float, rho0: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(slope, offset) with gamma(T) = slope eta T + offset + o(1) as T -> infinity, of the closed
    forms of :func:`filter_coefficient` (the same arguments but the step and the horizon): slope 1
    for a positive filter that never reverses, -1 for a filter falling by eta (R >= A), -R/A for
    one held at the balance rho / A (R < A)."""
    g0, R = np.broadcast_arrays(np.asarray(gamma0, float), np.asarray(rate_ratio, float))
    A = reversal_ratio
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        falls_at_once = rho0 >= A * g0
        reverses = falls_at_once | (R > A)
        rise = np.where(falls_at_once, 0.0, (A * g0 - rho0) / (R - A))  # eta t_r
        zero = 2 * rise + g0  # eta t_0
        balance = np.maximum(0.0, (A * -g0 - rho0) / (R + A))  # eta t*
        start = np.where(g0 > 0, -zero, -g0 - 2 * balance)  # |gamma| - eta T, once growing by eta
        slope = np.where(R >= A, -1.0, -R / A)
        offset = np.where(R > A, -start, np.where(R < A, -rho0 / A, -np.minimum(start, rho0 / A)))
    grows = (g0 > 0) & ~reverses
    return np.where(grows, 1.0, slope), np.where(grows, g0, offset)


@functools.lru_cache(maxsize=1)
def _uniform_draws() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """FLIP_DRAWS points of a scrambled Sobol sequence in [0, 1)^6 (seeded with
    :data:`FLIP_SEED`): per head a uniform for the max, one for the min (FLIP_DRAWS, 2, 2), and
    |eps| = Phi^{-1}((1 + w) / 2) per head (FLIP_DRAWS, 2)."""
    from scipy.stats import qmc  # here, not at the top: scipy.stats adds 0.3 s to every CLI's start

    points = qmc.Sobol(d=6, scramble=True, seed=FLIP_SEED).random(FLIP_DRAWS)
    uniforms = points[:, :4].reshape(FLIP_DRAWS, 2, 2)
    spread = special.ndtri((1 + points[:, 4:]) / 2)
    uniforms.setflags(write=False)
    spread.setflags(write=False)
    return uniforms, spread


@functools.lru_cache(maxsize=64)
def _initial_draws(m: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(extremes, |eps|): per draw and head, max_r Z_r and min_r Z_r of m standard normals
    (FLIP_DRAWS, 2, 2), and |eps| (FLIP_DRAWS, 2); read-only, the same for every call. By
    inversion, without drawing m normals: the max is Phi^{-1}(U^{1/m}), the min, that of the
    other m - 1 below the max, Phi^{-1}(Phi(max) (1 - V^{1/(m-1)})) (the max itself for m = 1);
    1 - U^{1/m} as -expm1(log(U) / m), exact for large m."""
    uniforms, spread = _uniform_draws()
    u, v = uniforms[..., 0], uniforms[..., 1]
    largest = -special.ndtri(-np.expm1(np.log(u) / m))
    if m == 1:
        smallest = largest
    else:
        smallest = special.ndtri(special.ndtr(largest) * -np.expm1(np.log(v) / (m - 1)))
    extremes = np.stack([largest, smallest], axis=-1)
    extremes.setflags(write=False)
    return extremes, spread


def flipped_classes(
    m: int,
    sigma0: float,
    rate_ratio: float,
    reversal_ratio: float,
    rho0: float,
    eta: float,
    horizon: float,
    spread: float,
) -> tuple[float, float, float]:
    """Probabilities that 0, 1 and 2 classes' test points are misclassified at T = ``horizon``
    (the module docstring's criterion) over :data:`FLIP_DRAWS` draws of each head's best and
    most negative initial filter (sigma0 max / min of m standard normals) and of its rate ratio
    R e^{-spread |eps|}; the race's A, rho0 and feature step ``eta`` (Adam's amplified one).
    ``horizon`` = inf reads the classes that flip at every long enough horizon
    (:func:`filter_asymptote`: the faster-growing side wins, the offsets break a tie)."""
    extremes, eps = _initial_draws(m)
    head_ratio = (rate_ratio * np.exp(-spread * eps))[:, :, None]
    gamma0 = sigma0 * extremes
    if math.isinf(horizon):
        slope, offset = filter_asymptote(gamma0, head_ratio, reversal_ratio, rho0)
        own = slope[..., 0] > 0  # the best filter positive for ever
        right = (np.where(own, slope[..., 0], 0.0), np.where(own, offset[..., 0], 0.0))
        other = slope[..., 1] < 0  # the most negative filter negative for ever
        wrong = (np.where(other, -slope[..., 1], 0.0), np.where(other, -offset[..., 1], 0.0))
        flipped = (wrong[0] > right[0][:, ::-1]) | (
            (wrong[0] == right[0][:, ::-1]) & (wrong[1] > right[1][:, ::-1])
        )
    else:
        race = (head_ratio[..., 0], reversal_ratio, rho0, eta, horizon)
        # Apart from small m, every best filter starts positive and every most negative one
        # negative: filter_coefficient then computes one branch for each.
        best = filter_coefficient(gamma0[..., 0], *race)
        lowest = filter_coefficient(gamma0[..., 1], *race)
        right_side = np.maximum(best, 0.0)  # the best filter's positive part, per head
        wrong_side = np.maximum(-lowest, 0.0)  # the most negative filter's magnitude
        flipped = wrong_side > right_side[:, ::-1]
    flips = flipped.sum(axis=1)
    counts = np.bincount(flips, minlength=3) / FLIP_DRAWS
    return float(counts[0]), float(counts[1]), float(counts[2])
