"""Overlapping noise supports: how sharing a coordinate slows a sample's noise memorisation.

Tang et al. 2025 assume disjoint supports (Lemma A.4); in the paper's own experiment (App. D.2,
d = 1000, n = 200, s = 100) every noise coordinate lies in about (n - 1) s / (d - 1) = 20 supports.
The derivation of this module is docs/notes/overlap.md; in short:

* **Sharing.** Under Def. 3.1's uniform supports a coordinate of B_i lies in another sample's
  support with probability ``SHARING`` = s / (d - 1), so it is shared with ``SHARED_SAMPLES`` =
  (n - 1) s / (d - 1) others on average (``SHARED_SAMPLES_PER_BATCH`` = (B - 1) s / (d - 1) of them
  in one batch).
* **Adam.** The first moment of a coordinate k is a sum of per-sample parts (it is linear in the
  gradient, g[k] = sum_i c_i xi_i[k]), so sample i's own push on k is -eta M_i xi_i[k] / sqrt(v[k]).
  The second moment v[k] holds every sample's squared arrivals: V_i xi_i[k]^2 + O_i, the others'
  part O_i (cross terms average out over the beta2 window). Summed over the support, the own drift
  of rho_i is its disjoint-support value eta M_i ||xi_i||_1 / sqrt(V_i) times the **competition
  factor** ``ADAM_COMPETITION`` kappa(x) = E[z^2 / sqrt(z^2 + x)] / E|z| for x = O_i / (V_i
  sigma_p^2), z ~ N(0, 1) the standardised noise values: in closed form kappa(x) = (x/4) e^{x/4}
  [K_1(x/4) - K_0(x/4)], kappa(0) = 1 (disjoint supports), kappa(x) ~ 1/sqrt(x).
* **Sign steps.** A shared coordinate moves by eta sgn(g[k]); the part aligned with sample i is
  E[|xi| sgn(c_i xi + N)] / E|xi| for the other batch members' Gaussian part N of variance O_i:
  ``SIGN_COMPETITION`` kappa(x) = 1 / sqrt(1 + x) with x = O_i / A_i, A_i = c_i^2 sigma_p^2 the
  sample's own squared push.

For both, x = O_i / A_i is the others' squared arrivals on a shared coordinate over the sample's
own (Adam: second moments, A_i = V_i sigma_p^2; sign: this step's pushes); x = 0 without overlap.

Both factors are per sample and per filter and depend on the state (the samples' second moments
or coefficients), so the reduced dynamics evaluate them as they run (``dynamics.reduced``); the
closed-form race of :mod:`theorykit.batch_race` evaluates them at the race's steady state.
Conventions: docs/conventions.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import sympy as sp
from scipy import special

from theorykit import symbols as S
from theorykit.formula import Formula

_X = sp.Symbol("x", nonnegative=True)

SHARING = Formula(
    "sharing",
    S.s / (S.d - 1),
    "Def. 3.1 (supports uniform on [d] minus {1}): probability that a noise coordinate of one "
    "sample lies in the support of another (docs/notes/overlap.md §1)",
)

SHARED_SAMPLES = Formula(
    "shared_samples",
    (S.n - 1) * S.s / (S.d - 1),
    "expected number of other samples whose support holds a given noise coordinate of B_i "
    "(docs/notes/overlap.md §1); 0 for the disjoint supports of Lemma A.4",
)

SHARED_SAMPLES_PER_BATCH = Formula(
    "shared_samples_per_batch",
    (S.B - 1) * S.s / (S.d - 1),
    "expected number of other members of a batch on a given noise coordinate of a sampled "
    "B_i (docs/notes/overlap.md §1)",
)

ADAM_COMPETITION = Formula(
    "adam_competition",
    _X / 4 * sp.exp(_X / 4) * (sp.besselk(1, _X / 4) - sp.besselk(0, _X / 4)),
    "docs/notes/overlap.md §2: E[z^2/sqrt(z^2 + x)] / E|z|, z ~ N(0, 1), the share of Adam's "
    "normalised step that a sample keeps on coordinates whose second moment others feed (x = O_i "
    "/ A_i, A_i = V_i sigma_p^2); 1 at x = 0 (disjoint supports), ~ 1/sqrt(x) for large x; "
    "e^{x/4} overflows float64 beyond x ~ 2800, where adam_competition() evaluates it",
)

SIGN_COMPETITION = Formula(
    "sign_competition",
    1 / sp.sqrt(1 + _X),
    "docs/notes/overlap.md §3: E[|xi| sgn(c xi + N)] / E|xi| for Gaussian xi and a Gaussian "
    "competitor N of variance x c^2 sigma_p^2 (x = O_i / A_i); 1 without competitors (x = 0)",
)


def _adam_competition_exact(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``ADAM_COMPETITION`` for x > 0: y = x/4, kappa = y (k1e(y) - k0e(y)) with the scaled Bessel
    functions k_ne(y) = e^y K_n(y) up to x = 1000; beyond, where their difference cancels, the
    asymptotic series sqrt(pi y / 2) [1/(2y) - 3/(16 y^2) + 45/(256 y^3)] (next term below 1e-10).
    """
    y = x / 4
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        bessel = y * (special.k1e(y) - special.k0e(y))
        series = np.sqrt(np.pi * y / 2) * (1 / (2 * y) - 3 / (16 * y**2) + 45 / (256 * y**3))
    return np.where(x < 1000, bessel, series)


#: The tabulated ``ADAM_COMPETITION``: log kappa on a uniform grid of log x from 1e-8 to 1e12; below
#: it kappa = 1, above it sqrt(pi/2)/sqrt(x), the large-x limit (1e-9 relative at 1e12).
_LOG_START, _LOG_STOP, _POINTS = np.log(1e-8), np.log(1e12), 40_001
_LOG_STEP = (_LOG_STOP - _LOG_START) / (_POINTS - 1)
_LOG_GRID = np.linspace(_LOG_START, _LOG_STOP, _POINTS)
_LOG_KAPPA = np.log(_adam_competition_exact(np.exp(_LOG_GRID)))
_LOG_GRID.flags.writeable = False
_LOG_KAPPA.flags.writeable = False


def adam_competition_table() -> tuple[
    float, float, npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """The table behind :func:`adam_competition` and :func:`adam_competition_inverse`: (log x of
    the first point, the uniform step in log x, log x, log kappa), for compiled re-implementations
    (``dynamics.kernel``) that must interpolate exactly as these functions do. Read-only arrays."""
    return _LOG_START, _LOG_STEP, _LOG_GRID, _LOG_KAPPA


def adam_competition(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``ADAM_COMPETITION`` in numpy for x in [0, inf]: kappa(0) = 1, kappa(inf) = 0, and in
    between linear interpolation of log kappa on a uniform grid of 40001 values of log x from 1e-8
    to 1e12 (relative error below 1e-7 against the exact Bessel form, which is slower:
    the hot loop of ``dynamics.reduced`` calls this every step on every sample and filter)."""
    values = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        position = (np.log(values) - _LOG_START) / _LOG_STEP
        below = np.clip(np.floor(position), 0, _POINTS - 2)
        below = np.nan_to_num(below).astype(np.int64)
        fraction = position - below
        inside = np.exp(_LOG_KAPPA[below] * (1 - fraction) + _LOG_KAPPA[below + 1] * fraction)
        tail = np.sqrt(np.pi / 2) / np.sqrt(values)
    return np.where(values < 1e-8, 1.0, np.where(values > 1e12, tail, inside))


def adam_competition_inverse(kappa: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The x with ``adam_competition(x) = kappa`` for kappa in (0, 1) (0 for kappa >= 1, inf for
    kappa <= 0), from the same table: the effective competition of a sample whose coordinates see
    unequal others."""
    values = np.asarray(kappa, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_x = np.interp(-np.log(values), -_LOG_KAPPA, _LOG_GRID)
    return np.where(values >= 1.0, 0.0, np.where(values <= 0.0, np.inf, np.exp(log_x)))


def sign_competition(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``SIGN_COMPETITION`` in numpy: 1 / sqrt(1 + x), 0 at x = inf."""
    return 1.0 / np.sqrt(1.0 + np.asarray(x, dtype=np.float64))
