"""Optimiser kinds as data: a preconditioner composed with a weight-decay placement.

Every optimiser of the two papers is one choice of two parts (optax's idea of an optimiser as a
composition of transforms):

* the **preconditioner** turns the gradient g into a step: ``adam`` (moment recursions (3.4), step
  m / (sqrt(v) + eps), eq. (3.5)), ``sign`` (sgn(g), eqs. (5.1)/(B.1)) or ``none`` (g itself);
* the **decay** says where lam enters: ``l2`` (lam w added to the gradient, objective (3.1), so it
  passes through the preconditioner) or ``decoupled`` (w <- (1 - eta lam) w outside it, eqs. (3.6),
  (B.2)).

======== ============== ========= ============================================
name     preconditioner decay     source (Tang et al. 2025 unless marked)
======== ============== ========= ============================================
adam     adam           l2        eqs. (3.3)-(3.5)
adamw    adam           decoupled eq. (3.6)
signsgd  sign           l2        eqs. (5.1)/(B.1)
signsgdw sign           decoupled eq. (B.2)
gd       none           l2        GD on objective (3.1) (Zou et al. 2023)
======== ============== ========= ============================================

The symbolic updates (:mod:`theorykit.updates`), the numpy optimiser of the reduced dynamics
(``dynamics.optimizers``) and the torch optimiser of the CNN (``validation.cnn.optim``) all branch
on these two fields, never on names. Conventions (lam/2 in the loss, bias correction, sgn(0) = 0):
``docs/conventions.md``. Standard library only.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from theorykit.errors import ParameterError

Preconditioner = Literal["adam", "sign", "none"]
Decay = Literal["l2", "decoupled"]
#: The two theorem families of Tang et al. 2025: "adam" (Thms 4.1/4.2, Cor 4.3) and "adamw" (Thms
#: 4.4/4.5).
Family = Literal["adam", "adamw"]


@dataclasses.dataclass(frozen=True)
class OptimizerKind:
    """One optimiser: its name, preconditioner, decay placement and the equations it encodes."""

    name: str
    preconditioner: Preconditioner
    decay: Decay
    source: str

    @property
    def has_moments(self) -> bool:
        """True for the Adam preconditioner, which carries the moments m, v of eq. (3.4)."""
        return self.preconditioner == "adam"

    @property
    def decoupled(self) -> bool:
        """True when the decay is the factor (1 - eta lam) of eqs. (3.6)/(B.2)."""
        return self.decay == "decoupled"

    @property
    def family(self) -> Family | None:
        """The theorem family: adaptive with L2 is "adam" (Adam and its sign surrogate, Thms
        4.1/4.2), decoupled is "adamw" (Thms 4.4/4.5); plain GD belongs to neither (Zou et al.
        2023)."""
        if self.decoupled:
            return "adamw"
        return None if self.preconditioner == "none" else "adam"


KINDS: dict[str, OptimizerKind] = {
    kind.name: kind
    for kind in (
        OptimizerKind("adam", "adam", "l2", "eqs. (3.3)-(3.5): L2 inside the moments"),
        OptimizerKind("adamw", "adam", "decoupled", "eq. (3.6): decoupled decay (1 - eta lam)"),
        OptimizerKind("signsgd", "sign", "l2", "eqs. (5.1)/(B.1): sign of the L2 gradient"),
        OptimizerKind("signsgdw", "sign", "decoupled", "eq. (B.2): sign step, decoupled decay"),
        OptimizerKind("gd", "none", "l2", "gradient descent on objective (3.1) (Zou et al. 2023)"),
    )
}

#: Every optimiser name, in table order.
OPTIMIZERS: tuple[str, ...] = tuple(KINDS)


def optimizer_kind(name: object) -> OptimizerKind:
    """The :class:`OptimizerKind` called ``name``; :class:`ParameterError` for an unknown one."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ParameterError("optimizer", name, f"one of {', '.join(OPTIMIZERS)}")
    return kind


def names(
    *,
    preconditioner: Preconditioner | None = None,
    decay: Decay | None = None,
    family: Family | None = None,
) -> frozenset[str]:
    """The names of the kinds with the given parts (every given condition must hold)."""
    return frozenset(
        kind.name
        for kind in KINDS.values()
        if (preconditioner is None or kind.preconditioner == preconditioner)
        and (decay is None or kind.decay == decay)
        and (family is None or kind.family == family)
    )


#: Adam's moments (eq. 3.4): adam, adamw.
ADAM_MOMENTS = names(preconditioner="adam")
#: Decoupled decay (3.6)/(B.2): adamw, signsgdw.
DECOUPLED_DECAY = names(decay="decoupled")
#: The theorem families: Adam's statements cover adam and signsgd, AdamW's cover adamw and signsgdw.
ADAM_FAMILY = names(family="adam")
ADAMW_FAMILY = names(family="adamw")
