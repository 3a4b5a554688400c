"""The finite-size verdict against the CNN, per run and per grid point, and a report's conclusion
(torch-free).

A verdict (:func:`theorykit.verdict.finite_size_verdict`) is a claim about one setting; the CNN
answers with one outcome per seed (:func:`dynamics.outcomes.outcome`, "failed" for a run whose
weights turned NaN/inf). :class:`VerdictCheck` pairs them: the verdict **holds** when every
finished seed has its outcome, **misses** when any seed has another, and is **not called** where the
verdict declines (:data:`theorykit.verdict.UNDETERMINED`, the horizon too short for the model).
Every report prints the measured outcome per seed, the verdict and this check; misses are listed
with the verdict's margin, and verdicts whose constants were fitted on the setting are marked
in-sample (:mod:`theorykit.calibration`).

:func:`conclusion_lines` is the first section of every report: the paper's claims reproduced (k of
K, seed by seed, with the thresholds used), the prediction's agreement per criterion
(:mod:`validation.reports.agreement`), the verdict's hits and misses, and which of them are
in-sample.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from theorykit.bounds import theorem_outcome
from theorykit.calibration import in_sample_note
from theorykit.params import ProblemParams
from theorykit.verdict import Verdict, finite_size_verdict
from validation.reports.agreement import RunAgreement
from validation.reports.agreement_report import criteria_text, criterion_counts
from validation.reports.tables import lines_by_reason
from validation.runs.records import RunRecord


@dataclasses.dataclass(frozen=True)
class VerdictCheck:
    """A grid point's (or a named run's) finite-size ``verdict`` against the CNN ``outcomes`` of
    its seeds (by data seed)."""

    name: str
    verdict: Verdict
    outcomes: dict[int, str]
    #: The asymptotic theorem at the setting (:func:`theorykit.bounds.theorem_outcome`): its
    #: outcome class (None: no theorem applies) and its words (or why none applies).
    theorem: str | None = None
    theorem_words: str = ""

    @classmethod
    def of(cls, name: str, params: ProblemParams, records: Sequence[RunRecord]) -> VerdictCheck:
        return cls(
            name,
            finite_size_verdict(params),
            {record.data_seed: record.outcome for record in records},
            *theorem_outcome(params),
        )

    @property
    def finished(self) -> dict[int, str]:
        return {seed: label for seed, label in self.outcomes.items() if label != "failed"}

    def _against(self, label: str) -> str:
        """ "holds" when every finished seed has outcome ``label``, "misses" when one has
        another, "no run" when every seed failed."""
        if not self.finished:
            return "no run"
        return "holds" if all(o == label for o in self.finished.values()) else "misses"

    @property
    def theorem_status(self) -> str:
        """The asymptotic theorem against the CNN: "holds", "misses", "no theorem" or "no run"."""
        return "no theorem" if self.theorem is None else self._against(self.theorem)

    @property
    def status(self) -> str:
        """The finite-size verdict against the CNN: "holds", "misses", "not called" (undetermined
        verdict) or "no run" (every seed failed)."""
        return self._against(self.verdict.outcome) if self.verdict.called else "not called"

    def measured_text(self) -> str:
        """``"0: memorises noise, 1: learns feature"``."""
        return ", ".join(f"{seed}: {label}" for seed, label in self.outcomes.items())

    def cell(self) -> str:
        """The report's "verdict vs CNN" cell: yes, NO (k of K seeds), not called, no run."""
        if self.status == "misses":
            wrong = sum(label != self.verdict.outcome for label in self.finished.values())
            return f"NO ({wrong} of {len(self.finished)} seeds)"
        return {"holds": "yes"}.get(self.status, self.status)

    def miss_line(self) -> str:
        return (
            f"- {self.name}: the verdict says {self.verdict.outcome} (margin "
            f"{self.verdict.margin:.3g}: {self.verdict.reason}); the CNN: {self.measured_text()}"
            + (f" [{in_sample_note(self.verdict.in_sample)}]" if self.verdict.in_sample else "")
        )


def verdict_lines(checks: Sequence[VerdictCheck]) -> list[str]:
    """The "finite-size verdict against the CNN" section: counts, then every miss with its
    margin, then what was not called and why (one line per reason)."""
    if not checks:
        return []
    count = _status_counts(checks)
    misses = [check.miss_line() for check in checks if check.status == "misses"]
    theorem_misses = [
        f"- {check.name}: the theorem says {check.theorem}; the CNN: {check.measured_text()}"
        for check in checks
        if check.theorem_status == "misses"
    ]
    not_called = [
        (check.name, check.verdict.reason.split(":")[-1].strip())
        for check in checks
        if check.status == "not called"
    ]
    lines = [
        "## The finite-size verdict against the CNN",
        "",
        f"Called at {len(checks) - count['not called']} of {len(checks)} runs: holds at "
        f"{count['holds']}, misses at {count['misses']} (a verdict holds only when every seed has "
        f"its outcome); not called at {count['not called']} (undetermined at the horizon).",
    ]
    if misses:
        lines += ["", "Misses:", "", *misses]
    if theorem_misses:
        lines += [
            "",
            "Where an asymptotic theorem applies (hidden constants at their defaults, "
            "theorykit.constants.HiddenConstants) and the CNN has another outcome:",
            "",
            *theorem_misses,
        ]
    if not_called:
        lines += ["", "Not called (the horizon is shorter than the model's time scale):", ""]
    lines += lines_by_reason("not called at", not_called)
    return [*lines, ""]


def _status_counts(checks: Sequence[VerdictCheck]) -> dict[str, int]:
    """How many checks have each :attr:`VerdictCheck.status`."""
    statuses = ("holds", "misses", "not called", "no run")
    return {status: sum(c.status == status for c in checks) for status in statuses}


@dataclasses.dataclass(frozen=True)
class ClaimResult:
    """One of the paper's claims, checked over seeds: ``held`` of ``seeds`` seeds meet it."""

    text: str
    held: int
    seeds: int


def conclusion_lines(
    claims: Sequence[ClaimResult] = (),
    checks: Sequence[VerdictCheck] = (),
    runs: Sequence[RunAgreement] = (),
    notes: Sequence[str] = (),
) -> list[str]:
    """The "Conclusion" section that opens a report: the paper's claims reproduced (each with the
    seeds that meet it), the finite-size verdict's hits, misses and refusals, the predicted
    trajectories' agreement per criterion, in-sample marks, and ``notes``."""
    lines = ["## Conclusion", ""]
    if claims:
        full = sum(claim.held == claim.seeds and claim.seeds > 0 for claim in claims)
        lines.append(
            f"- The paper's empirical claims: {full} of {len(claims)} reproduced on every seed "
            "(" + "; ".join(f"{c.text}: {c.held}/{c.seeds} seeds" for c in claims) + ")."
        )
    if checks:
        count = _status_counts(checks)
        in_sample = sorted({label for c in checks for label in c.verdict.in_sample})
        lines.append(
            f"- The finite-size verdict: holds at {count['holds']}, misses at {count['misses']}, "
            f"not called at {count['not called']} of {len(checks)} runs"
            + (
                f"; in-sample (its constants were fitted on {'; '.join(in_sample)}): a hit there "
                "confirms the fit, not the model."
                if in_sample
                else "; every verdict is held out (no constant it uses was fitted here)."
            )
        )
    if checks:
        applies = [c for c in checks if c.theorem_status in ("holds", "misses")]
        missed = sum(c.theorem_status == "misses" for c in applies)
        lines.append(
            f"- The asymptotic theorems (read with their hidden constants, "
            f"theorykit.constants.HiddenConstants) apply at {len(applies)} of {len(checks)} runs; "
            f"the CNN has their outcome at {len(applies) - missed} and another at {missed}"
            + (" (listed under the finite-size verdict)." if missed else ".")
        )
    if runs:
        agreeing = sum(run.agrees() for run in runs)
        lines.append(
            f"- The predicted trajectories agree with the CNN on every criterion at {agreeing} of "
            f"{len(runs)} runs (per criterion, holds / applies: "
            f"{criteria_text(criterion_counts(runs))})."
        )
    lines += [f"- {note}" for note in notes]
    return [*lines, ""]
