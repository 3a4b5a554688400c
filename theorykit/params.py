"""The problem specification: one validated, immutable parameter object.

:class:`ProblemParams` holds everything the theory of Tang, Zhang, Cao, Zou (NeurIPS 2025,
arXiv 2510.11354) and Zou, Cao, Li, Gu (ICLR 2023, arXiv 2108.11371) needs about a run:

* data (Definition 3.1): ``n`` samples, patch dimension ``d``, noise sparsity ``s``, noise scale
  ``sigma_p``, feature-noise strength ``alpha``;
* model (Definition 3.2): ``m`` filters per head, activation power ``q`` (sigma(z) = max(z, 0)^q),
  initialisation scale ``sigma0``;
* optimiser (eqs. 3.3-3.6, 5.1, B.1-B.2): ``optimizer`` name, learning rate ``eta``, batch size
  ``B``, weight decay ``lam``, Adam moments ``beta1``, ``beta2``, stability constant ``eps``,
  ``bias_correction`` and the horizon ``epochs``.

Conventions (the lam/2 and decoupled decay placements, bias correction, epochs of n/B iterations):
``docs/conventions.md``.

Validation happens at construction: an invalid value raises
:class:`~theorykit.errors.ParameterError` naming the field, the value and the rule. Whether the
*theorems'* asymptotic conditions hold is a separate, softer question answered by
:meth:`ProblemParams.conditions`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from theorykit.constants import HiddenConstants
from theorykit.errors import ParameterError
from theorykit.optimizers import OptimizerKind, optimizer_kind
from theorykit.setting import Setting

if TYPE_CHECKING:
    from theorykit.conditions import ConditionReport

#: Each field's meaning, with its symbol, source and unit (``theorykit bounds --help``, the sweep
#: docs).
FIELD_DOCS: dict[str, str] = {
    "n": "training samples n (Def. 3.1)",
    "d": "patch dimension d (Def. 3.1; coordinate 1 is the feature v = e_1)",
    "s": "noise sparsity s: nonzero noise coordinates per sample (Def. 3.1)",
    "sigma_p": "noise scale sigma_p: std of each noise coordinate (Def. 3.1)",
    "alpha": "feature-noise strength alpha: xi[1] = -alpha y (Def. 3.1)",
    "m": "filters per head m (Def. 3.2)",
    "q": "activation power q: sigma(z) = max(z, 0)^q, q >= 3 (Def. 3.2)",
    "sigma0": "initialisation scale sigma0: w ~ N(0, sigma0^2 I) (Def. 3.2)",
    "optimizer": "optimiser: adam, adamw, signsgd, signsgdw or gd (eqs. 3.3-3.6, 5.1, B.2)",
    "eta": "learning rate eta, per iteration",
    "B": "batch size B, samples per iteration",
    "lam": (
        "weight decay lam: L2 (lam/2)||W||^2 for adam/signsgd/gd, factor (1 - eta lam) for "
        "adamw/signsgdw"
    ),
    "beta1": "Adam first-moment decay beta1 (eq. 3.4)",
    "beta2": "Adam second-moment decay beta2 (eq. 3.4)",
    "eps": "Adam stability constant eps (eq. 3.5)",
    "bias_correction": (
        "torch-style bias correction of Adam's moments, true or false (the paper's eqs. have none)"
    ),
    "epochs": "horizon in epochs of ceil(n/B) iterations",
}


#: Largest value of every count (n, d, s, m, B, epochs). A dataset, dimension, width or horizon
#: beyond 10^9 is outside any run, and the cap keeps every count product the formulas and the CNN
#: form (n d, 2 m d, the horizon epochs ceil(n/B)) below 2^63 and exact in float64.
MAX_COUNT = 10**9
_COUNT_RULE = (
    "<= 10^9 (a count beyond any run; keeps n d, 2 m d and the horizon epochs ceil(n/B) below 2^63)"
)

#: The range of every nonzero real scale (sigma_p, sigma0, eta, lam, eps): the normal float32
#: numbers, the narrowest dtype a run trains in. Within it every product the formulas form (eta T,
#: s sigma_p^2, eps/(lam eta), lam eta n/B, 1/eta, gamma0/eta) stays a finite nonzero float64.
SCALE_MIN = 2.0**-126
SCALE_MAX = (2.0 - 2.0**-23) * 2.0**127
_SCALE_RULE = (
    f"in [{SCALE_MIN:.5g}, {SCALE_MAX:.5g}] (a normal float32, the narrowest dtype a run trains "
    "in; keeps eta T, s sigma_p^2, eps/(lam eta) and 1/eta finite in float64)"
)


def _python_scalar(value: Any) -> Any:
    """A numpy scalar (as a table cell holds it) as the Python number or text it stands for."""
    return value.item() if hasattr(value, "item") else value


def _integer(name: str, value: Any, minimum: int, rule: str) -> int:
    """A whole number in [minimum, :data:`MAX_COUNT`]: the counts of Def. 3.1/3.2 and the
    horizon."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(name, value, f"must be an integer; {rule}")
    if isinstance(value, numbers.Integral):
        as_int = int(value)
    else:
        try:
            as_float = float(value)
        except OverflowError:  # a rational number beyond float64
            raise ParameterError(name, value, f"{name} {_COUNT_RULE}") from None
        if not math.isfinite(as_float) or as_float != int(as_float):
            raise ParameterError(name, value, f"must be an integer; {rule}")
        as_int = int(as_float)
    if as_int < minimum:
        raise ParameterError(name, value, rule)
    if as_int > MAX_COUNT:
        raise ParameterError(name, value, f"{name} {_COUNT_RULE}")
    return as_int


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(name, value, "must be a real number")
    try:
        as_float = float(value)
    except OverflowError:  # an integer or rational number beyond float64
        raise ParameterError(name, value, "must be finite (not NaN or infinity)") from None
    if not math.isfinite(as_float):
        raise ParameterError(name, value, "must be finite (not NaN or infinity)")
    return as_float


def _scale(name: str, value: float, shown: object, zero_allowed: bool) -> None:
    """Refuse a nonzero scale outside :data:`SCALE_MIN`..:data:`SCALE_MAX` (``value`` already
    finite and of the right sign)."""
    if zero_allowed and value == 0:
        return
    if not SCALE_MIN <= value <= SCALE_MAX:
        zero = f"{name} = 0 or " if zero_allowed else ""
        raise ParameterError(name, shown, f"{zero}{name} {_SCALE_RULE}")


#: ln of the smallest normal float64: sigma0^(q-1) below exp(this) is zero in float64.
_LN_FLOAT64_MIN = math.log(sys.float_info.min)
#: Gamma((q+1)/2) (the moment E|Z|^q of Gaussian noise) overflows float64 beyond this q.
_Q_GAMMA_LIMIT = 342


def _check_q_representable(q: float, sigma0: float, shown: object) -> None:
    """Refuse a q whose formulas leave float64: sigma0^(q-1) (Lemma C.5, Cor. 4.3) must be a
    nonzero finite float and Gamma((q+1)/2) finite; beyond either, thresholds print 0, inf or
    nan."""
    if q > _Q_GAMMA_LIMIT:
        raise ParameterError(
            "q", shown, f"q <= {_Q_GAMMA_LIMIT} (Gamma((q+1)/2) in E|xi_k|^q overflows float64)"
        )
    if sigma0 != 1.0 and (q - 1) * abs(math.log(sigma0)) > -_LN_FLOAT64_MIN:
        limit = 1 - _LN_FLOAT64_MIN / abs(math.log(sigma0))
        raise ParameterError(
            "q", shown, f"q <= {limit:.4g} at sigma0 = {sigma0:g} (sigma0^(q-1) must be a float64)"
        )


@dataclasses.dataclass(frozen=True)
class ProblemParams(Setting):
    """Validated parameters of the two-layer CNN problem and its optimiser: the fields of
    :class:`theorykit.setting.Setting` (defaults there), each checked at construction.

    Source of each rule: Definition 3.1 (data), Definition 3.2 (CNN), eqs. (3.3)-(3.6) and (5.1),
    (B.1)-(B.2) (optimisers) of Tang et al. 2025. See the module docstring for the lambda/2 and
    bias-correction conventions. All values are stored as Python ``int``/``float`` (float64).

    Where float64 ends: every count (n, d, s, m, B, epochs) is at most :data:`MAX_COUNT`, every
    nonzero real scale (sigma_p, sigma0, eta, lam, eps) a normal float32 (:data:`SCALE_MIN` to
    :data:`SCALE_MAX`), and q keeps sigma0^(q-1) (Lemma C.5, Cor. 4.3) and Gamma((q+1)/2) finite
    nonzero floats; beyond them the formulas overflow or underflow.
    """

    def __post_init__(self) -> None:
        # Each group checks its fields in this order, so the first broken rule is the one named.
        self._validate_data_sizes()
        self._validate_scales()
        self._validate_model()
        self._validate_batch()
        self._validate_decay()
        self._validate_adam()
        self._store("epochs", _integer("epochs", self.epochs, 1, "epochs >= 1"))

    def _store(self, name: str, value: Any) -> None:
        """Set a field of the frozen instance to its validated value."""
        object.__setattr__(self, name, value)

    def _validate_data_sizes(self) -> None:
        """n, d and s of Definition 3.1."""
        self._store("n", _integer("n", self.n, 2, "n >= 2 (both labels must be possible)"))
        self._store("d", _integer("d", self.d, 2, "d >= 2 (coordinate 1 is the feature v = e_1)"))
        self._store("s", _integer("s", self.s, 1, "s >= 1 (Def. 3.1: s noise coordinates)"))
        if self.s > self.d - 1:
            raise ParameterError(
                "s",
                self.s,
                f"s <= d - 1 = {self.d - 1} (Def. 3.1: supports drawn from [d] minus {{1}})",
            )

    def _validate_scales(self) -> None:
        """The positive scales sigma_p, sigma0 (Defs. 3.1, 3.2) and eta, and alpha (Def. 3.1)."""
        for name in ("sigma_p", "sigma0", "eta"):
            value = _real(name, getattr(self, name))
            if value <= 0:
                raise ParameterError(name, value, f"{name} > 0")
            _scale(name, value, getattr(self, name), zero_allowed=False)
            self._store(name, value)
        alpha = _real("alpha", self.alpha)
        if not 0.0 <= alpha < 1.0:
            raise ParameterError(
                "alpha", self.alpha, "0 <= alpha < 1 (Def. 3.1: alpha in (0, 1); 0 = ablation)"
            )
        self._store("alpha", alpha)

    def _validate_model(self) -> None:
        """m and q of Definition 3.2 (sigma0 already checked: q's float64 limit reads it)."""
        self._store("m", _integer("m", self.m, 1, "m >= 1 (filters per head, Def. 3.2)"))
        q = _real("q", self.q)
        if q < 3:
            raise ParameterError(
                "q", self.q, "q >= 3 for the theorems (ReLU^q activation; Def. 3.2)"
            )
        _check_q_representable(q, self.sigma0, shown=self.q)
        self._store("q", int(q) if q == int(q) else q)

    def _validate_batch(self) -> None:
        """The optimiser's name and the batch size B <= n."""
        optimizer_kind(self.optimizer)  # an unknown name raises, naming the field
        self._store("B", _integer("B", self.B, 1, "B >= 1"))
        if self.n < self.B:
            raise ParameterError(
                "B", self.B, f"B <= n = {self.n} (a batch is drawn without replacement)"
            )

    def _validate_decay(self) -> None:
        """lam >= 0, and eta lam < 1 for decoupled decay (eq. 3.6)."""
        lam = _real("lam", self.lam)
        if lam < 0:
            raise ParameterError("lam", lam, "lam >= 0")
        _scale("lam", lam, self.lam, zero_allowed=True)
        self._store("lam", lam)
        if self.kind.decoupled and self.eta * lam >= 1:
            raise ParameterError(
                "lam",
                lam,
                f"eta * lam < 1 for decoupled decay (1 - eta*lam) > 0, eq. (3.6); eta = {self.eta}",
            )

    def _validate_adam(self) -> None:
        """Adam's beta1, beta2 (Sec. 3, eq. 3.4), eps (eq. 3.5) and the bias-correction switch."""
        for name in ("beta1", "beta2"):
            value = _real(name, getattr(self, name))
            if not 0.0 <= value < 1.0:
                raise ParameterError(name, value, f"0 <= {name} < 1 (Sec. 3, Adam moments)")
            self._store(name, value)
        eps = _real("eps", self.eps)
        if eps < 0:
            raise ParameterError("eps", eps, "eps >= 0 (Adam stability constant)")
        _scale("eps", eps, self.eps, zero_allowed=True)
        self._store("eps", eps)
        if not isinstance(self.bias_correction, bool):
            raise ParameterError("bias_correction", self.bias_correction, "must be True or False")

    @property
    def kind(self) -> OptimizerKind:
        """The optimiser as data: preconditioner and decay (:mod:`theorykit.optimizers`)."""
        return optimizer_kind(self.optimizer)

    @property
    def iterations_per_epoch(self) -> int:
        """ceil(n/B): the optimiser steps of one epoch as the simulators take them (every sample
        once, the last batch smaller when B does not divide n); :attr:`steps_per_epoch` is the
        theorems' n/B."""
        return math.ceil(self.n / self.B)

    @property
    def iterations(self) -> int:
        """The horizon in iterations: ``epochs`` x :attr:`iterations_per_epoch`, the optimiser
        steps a run of these parameters takes."""
        return self.epochs * self.iterations_per_epoch

    @property
    def decoupled_decay(self) -> bool:
        """True for AdamW/SignSGDW, whose decay is the factor (1 - eta*lam) of eq. (3.6)."""
        return self.kind.decoupled

    def formula_values(self, **overrides: Any) -> dict[str, Any]:
        """Every field and the derived scalars of :func:`theorykit.initialization.derived_values`
        (``gamma0``, ``noise_norm``) by symbol name: what ``Formula.at`` evaluates with.

        ``overrides`` replace fields (scalars or broadcasting arrays) or add the formula's other
        arguments (hidden constants, ``P``, ``horizon``); the derived scalars are computed from
        the overridden fields, never kept from this setting. A derived scalar itself cannot be
        overridden: its fields can (:data:`theorykit.initialization.DERIVED_FROM`)."""
        # Imported here, not at the top: the derived scalars need scipy and sympy, which
        # constructing and validating a setting does not.
        from theorykit.initialization import DERIVED_FROM, derived_values

        for name, sources in DERIVED_FROM.items():
            if name in overrides:
                raise ParameterError(
                    name,
                    overrides[name],
                    f"derived from {', '.join(sources)}; override those fields instead",
                )
        if not any(field in overrides for fields in DERIVED_FROM.values() for field in fields):
            return {**self._formula_base, **overrides}  # the derived scalars are this setting's
        fields = {**self.to_dict(), **overrides}
        return {**derived_values(fields), **fields}

    @functools.cached_property
    def _formula_base(self) -> dict[str, Any]:
        """:meth:`formula_values` without overrides, computed once per setting (a B* search
        evaluates its formulas at one setting thousands of times); callers get copies."""
        from theorykit.initialization import derived_values

        fields = self.to_dict()
        return {**derived_values(fields), **fields}

    def replace(self, **changes: Any) -> ProblemParams:
        """A copy with ``changes`` applied and validated again."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ParameterError(
                unknown[0], changes[unknown[0]], f"a field of ProblemParams ({field_names()})"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_record(cls, row: Any) -> ProblemParams:
        """The parameters of one row of a results table -- any mapping that holds every field,
        such as a row of ``validation.store.results.ResultsStore.dataframe()``,
        ``trajectory_frame()`` or ``prediction_frame()`` (a pandas Series or a dict); other
        columns are ignored, numpy scalars read as Python numbers."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [name for name in names if name not in row]
        if missing:
            raise ParameterError("row", missing, "a row holding every ProblemParams field")
        return cls(**{name: _python_scalar(row[name]) for name in names})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ProblemParams:
        """Build from a mapping; an unknown or missing key raises :class:`ParameterError`."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                raise ParameterError(
                    str(key), values[key], f"a field of ProblemParams ({field_names()})"
                )
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
        for key in required:
            if key not in values:
                raise ParameterError(key, None, "is required")
        return cls(**values)

    def conditions(self, constants: HiddenConstants | None = None) -> ConditionReport:
        """Which of the theorems' conditions hold here: see :mod:`theorykit.conditions`."""
        # Imported here, not at the top: the conditions are sympy formulas, which constructing
        # and validating a setting does not need.
        from theorykit.conditions import check_conditions

        return check_conditions(self, constants)


def field_names() -> str:
    """The comma-separated field names of :class:`ProblemParams`, for error messages."""
    return ", ".join(f.name for f in dataclasses.fields(ProblemParams))


def tang2025_synthetic(**overrides: Any) -> ProblemParams:
    """The synthetic setting of Tang et al. 2025, Appendix D.2.

    d = 1000, n = 200, s = 0.1 d = 100, sigma_p = 1/sqrt(s) = 0.1, alpha = 0.2, m = 20,
    sigma0 = 0.01, eta = 5e-5, (beta1, beta2) = (0.9, 0.999), 10^4 epochs, Adam with lam = 1e-5 and
    B = 16. The paper does not state q; q = 3 reproduces Table 1 (notes §6.4).
    ``overrides`` replace any field (e.g. ``optimizer="adamw", lam=0.01, B=2``).
    """
    base = ProblemParams(
        n=200,
        d=1000,
        s=100,
        sigma_p=0.1,
        alpha=0.2,
        m=20,
        q=3,
        sigma0=0.01,
        optimizer="adam",
        eta=5e-5,
        B=16,
        lam=1e-5,
    )
    return base.replace(**overrides) if overrides else base


#: Named base settings by the name the CLI and sweep specs use (``--preset``, a spec's ``base``).
NAMED_SETTINGS: dict[str, Callable[..., ProblemParams]] = {"tang2025-synthetic": tang2025_synthetic}
