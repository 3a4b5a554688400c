"""Which runs go together and in what order: grid points in numeric order, series by parameter.

:func:`ordered_groups` is :func:`validation.runs.records.group_runs` (runs grouped by name and
configuration) ordered by the values of the parameters that vary (:func:`varying_fields`), in
field order and numerically -- ``B = 2`` before ``B = 100``, ``lam = 1e-5`` before ``0.001`` --
never by the text of the name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from validation.runs.records import RunRecord, group_runs


def varying_fields(records: Sequence[RunRecord]) -> list[str]:
    """ProblemParams fields whose value differs between records, in field order."""
    values: dict[str, set] = defaultdict(set)
    for record in records:
        for field, value in record.params.to_dict().items():
            values[field].add(value)
    return [field for field, seen in values.items() if len(seen) > 1]


def order_key(record: RunRecord, fields: Sequence[str]) -> tuple[Any, ...]:
    """A record's place: its values of ``fields``, numbers as numbers, text as text."""
    params = record.params.to_dict()
    return tuple(
        (0, params[field], "")
        if isinstance(params[field], int | float)
        else (1, 0, str(params[field]))
        for field in fields
    )


def ordered_groups(records: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    """The groups of :func:`group_runs` in numeric order of the varying parameters."""
    fields = varying_fields(records)
    groups = group_runs(records)
    return dict(sorted(groups.items(), key=lambda item: order_key(item[1][0], fields)))
