"""The one error type for bad user input.

Every check in the toolkit that rejects a value raises :class:`ParameterError`, whose message names
the parameter, the offending value and the rule it breaks, so that a typo never surfaces as a
traceback from deep inside sympy, numpy or torch.
"""

from __future__ import annotations

from typing import Any


class ParameterError(ValueError):
    """A parameter value breaks a documented rule.

    Attributes
    ----------
    name:
        The parameter's name as the user spelled it (``"q"``, ``"B"``, ``"sigma_p"``).
    value:
        The rejected value.
    rule:
        The rule, in words, with its source where the rule comes from a paper
        (e.g. ``"q >= 3 (ReLU^q activation; Tang et al. 2025, Def. 3.2)"``).
    """

    def __init__(self, name: str, value: Any, rule: str) -> None:
        self.name = name
        self.value = value
        self.rule = rule
        super().__init__(f"parameter {name!r} = {value!r} breaks the rule: {rule}")

    def __reduce__(self) -> tuple[type, tuple[str, Any, str]]:
        # Keep the three fields when the error crosses a process boundary (executors, pickling).
        return (type(self), (self.name, self.value, self.rule))
