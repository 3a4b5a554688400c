"""A formula of the theory: a sympy expression that is also a fast numpy function.

:class:`Formula` pairs an expression with the paper location it encodes. The symbolic side is the
sympy object itself (print it, take ``.latex()``, ``.subs``, simplify); the numeric side is
``formula(**values)``, which broadcasts over numpy arrays. The compiled numpy function is built
once per (expression, argument order) by :func:`sympy.lambdify` and kept in a process-local cache;
it is never stored on the object, so formulas pickle as pure sympy and compiled code is never
pickled.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from theorykit import symbols as S
from theorykit.errors import ParameterError
from theorykit.setting import Setting


@functools.cache
def _compiled(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Callable[..., Any]:
    return sp.lambdify(args, expr, modules=["scipy", "numpy"], cse=True)


@functools.cache
def _sorted_free_symbols(expr: sp.Expr) -> tuple[sp.Symbol, ...]:
    return tuple(sorted(expr.free_symbols, key=lambda symbol: symbol.name))


def _checked(name: str, value: Any) -> np.ndarray:
    """``value`` as float64, checked against the parameter rule of ``name`` if it has one
    (``symbols.PARAMETER_RULES``): a ParameterError names the first value that breaks it."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a number or an array of numbers") from None
    rule = S.PARAMETER_RULES.get(name)
    if rule is None:
        return array
    bound, inclusive, words = rule
    bad = ~(array >= bound) if inclusive else ~(array > bound)
    if np.any(bad | ~np.isfinite(array)):
        first = array[bad | ~np.isfinite(array)].flat[0]
        text = words or f"{name} {'>=' if inclusive else '>'} {bound:g}, finite"
        raise ParameterError(name, float(first), text)
    return array


@dataclasses.dataclass(frozen=True)
class Formula:
    """A named expression with its source in the papers.

    Parameters
    ----------
    name:
        Short identifier (``"lambda_star_adam"``).
    expr:
        The sympy expression.
    source:
        The equation, lemma or theorem it encodes, and its conventions.
    numeric:
        Optional form of ``expr`` that is algebraically equal but evaluates without cancellation in
        float64 (e.g. ``expm1``/``log1p`` for 1 - (1 - eta lam)^P); used only by the numeric side.
    """

    name: str
    expr: sp.Expr
    source: str
    numeric: sp.Expr | None = None

    @property
    def args(self) -> tuple[sp.Symbol, ...]:
        """The free symbols, sorted by name: the keyword arguments of :meth:`__call__`."""
        return _sorted_free_symbols(self.expr)

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(symbol.name for symbol in self.args)

    def __call__(self, **values: Any) -> Any:
        """Evaluate numerically in float64; arrays broadcast. Every free symbol must be given."""
        names = self.arg_names
        missing = [name for name in names if name not in values]
        if missing:
            raise ParameterError(
                missing[0],
                None,
                f"required by formula {self.name!r} (arguments: {', '.join(names)})",
            )
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ParameterError(
                unknown[0],
                values[unknown[0]],
                f"an argument of formula {self.name!r} ({', '.join(names)})",
            )
        arrays = [_checked(name, values[name]) for name in names]
        shape = np.broadcast_shapes(*(array.shape for array in arrays))
        expr = self.expr if self.numeric is None else self.numeric
        # inf and NaN are values here (eps = 0; an overflowed threshold, which bounds.py reads
        # as not a positive finite number and never compares with).
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            result = np.asarray(_compiled(expr, self.args)(*arrays), dtype=np.float64)
        if (
            result.shape != shape
        ):  # an expression free of some arguments does not broadcast by itself
            result = np.broadcast_to(result, shape).copy()
        return float(result) if result.ndim == 0 else result

    def at(self, params: Setting, **overrides: Any) -> Any:
        """Evaluate at a setting (a :class:`~theorykit.params.ProblemParams`).

        ``overrides`` replace the setting's fields (scalars or broadcasting arrays) or supply the
        formula's other arguments; derived quantities (``gamma0``, ``noise_norm``) are recomputed
        from the overridden fields (``ProblemParams.formula_values``), so
        ``f.at(p, sigma0=v) == f.at(p.replace(sigma0=v))`` for every field and formula.
        """
        return self.evaluate(params.formula_values(**overrides))

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """Evaluate with the arguments taken from a larger mapping (extra keys are ignored, missing
        ones raise). Use it to evaluate several formulas of one system, e.g. an
        :class:`~theorykit.updates.AdamUpdate`, from one dict of state and hyper-parameters."""
        return self(**{name: values[name] for name in self.arg_names if name in values})

    def subs(self, values: Mapping[sp.Symbol | str, Any]) -> sp.Expr:
        """Partial symbolic substitution (keys are symbols or their names)."""
        by_name = {symbol.name: symbol for symbol in self.args}
        return self.expr.subs(
            {
                by_name.get(key, key) if isinstance(key, str) else key: value
                for key, value in values.items()
            }
        )

    def latex(self) -> str:
        return sp.latex(self.expr)

    def __str__(self) -> str:
        return f"{self.name} = {sp.sstr(self.expr)}    [{self.source}]"
