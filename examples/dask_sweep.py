"""A sweep on a Dask cluster: batch size x optimiser, trained by the cluster's workers, stored and
reported by this driver.

The driver expands the sweep (every value checked before anything trains), sends one task per
stacked ensemble to the workers through ``dask://HOST:PORT`` (validation.sweeps.executors) and
writes each finished group to the SQLite store at once; workers need this package installed, not a
shared file system. Three ways to get a scheduler:

    python examples/dask_sweep.py                       # a LocalCluster on this machine
    python examples/dask_sweep.py --scheduler HOST:8786 # a running cluster
    python examples/dask_sweep.py --slurm 4             # 4 SLURM jobs via dask-jobqueue

(``--slurm`` needs ``pip install dask-jobqueue`` and a SLURM login node; the job's cores, memory
and walltime below are a template to adapt.) Writes ``runs/examples/dask-sweep/`` with
``results.sqlite``, ``report.md`` and ``test_error_vs_batch.png``. The flags, the packages they
need and ``--out`` are checked before a cluster starts; every error ends in one line
(validation.cli.entry_points).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from theorykit.errors import ParameterError
from validation import (
    MachineError,
    ResultsStore,
    check_out_dir,
    open_executor,
    parse_spec_text,
    run_reporting_errors,
    run_sweep,
    write_sweep_report,
)

SPEC = """
name = "dask-sweep"
seeds = [0, 1]
[params]
eta = 5e-5
epochs = {epochs}
bias_correction = true
{extra}
[grid]
optimizer = ["adam", "adamw"]
B = {batches}
lam = [0.01]
[engine]
record_every = {record_every}
test_size = 1000
"""


@contextlib.contextmanager
def scheduler(address: str | None, slurm_jobs: int, smoke: bool) -> Iterator[str]:
    """HOST:PORT of a Dask scheduler: the given one, a SLURMCluster's, or a LocalCluster's."""
    if address:
        yield address
        return
    if slurm_jobs:
        from dask_jobqueue import SLURMCluster
        from distributed import Client

        with SLURMCluster(cores=8, processes=1, memory="16GB", walltime="02:00:00") as cluster:
            cluster.scale(jobs=slurm_jobs)
            with Client(cluster) as client:
                client.wait_for_workers(1)
                yield cluster.scheduler_address.removeprefix("tcp://")
        return
    from distributed import LocalCluster

    workers = 1 if smoke else 2
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster:
        yield cluster.scheduler_address.removeprefix("tcp://")


def check_cluster_flags(address: str | None, slurm_jobs: int) -> None:
    """Refuse, before any cluster starts, a negative ``--slurm``, ``--slurm`` beside
    ``--scheduler``, ``--slurm`` without dask-jobqueue or off a SLURM login node, and a missing
    ``distributed``."""
    if slurm_jobs < 0:
        raise ParameterError("slurm", slurm_jobs, "a number of SLURM jobs >= 1 (0: no SLURM)")
    if slurm_jobs and address:
        raise ParameterError("slurm", slurm_jobs, "0 with --scheduler (one source of workers)")
    if slurm_jobs:
        try:
            import dask_jobqueue  # noqa: F401
        except ImportError:
            raise ParameterError(
                "slurm", slurm_jobs, "needs dask-jobqueue: pip install dask-jobqueue"
            ) from None
        if shutil.which("sbatch") is None:
            raise MachineError(
                "--slurm submits jobs with sbatch, which is not on PATH: run on a SLURM login node"
            )
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise MachineError(
            "this example needs the 'distributed' package: pip install 'theorykit[sweep]'"
        ) from None


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="HOST:PORT",
        help="a running Dask scheduler to send the tasks to (default: a LocalCluster)",
    )
    parser.add_argument(
        "--slurm",
        type=int,
        default=0,
        metavar="JOBS",
        help="start JOBS SLURM jobs as workers via dask-jobqueue (default: 0, no SLURM)",
    )
    parser.add_argument(
        "--out",
        default="runs/examples/dask-sweep",
        help="output directory: results.sqlite, report.md, plots (default: %(default)s)",
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny sweep, for the tests")
    args = parser.parse_args(argv)
    check_cluster_flags(args.scheduler, args.slurm)
    out = check_out_dir(args.out)
    if args.smoke:
        text = SPEC.format(
            epochs=5, extra="n = 40\ns = 20\nm = 5", batches="[4, 20]", record_every=5
        )
    else:
        text = SPEC.format(epochs=300, extra="", batches="[2, 10, 50, 100]", record_every=25)
    spec = parse_spec_text(text)
    out.mkdir(parents=True, exist_ok=True)
    with (
        ResultsStore(out / "results.sqlite") as store,
        scheduler(args.scheduler, args.slurm, args.smoke) as address,
        open_executor(f"dask://{address}") as executor,
    ):
        outcome = run_sweep(spec, store, executor)
    print(
        f"{outcome.added} runs trained, {outcome.already} already stored, errors: "
        f"{list(outcome.errors) or 'none'}"
    )
    write_sweep_report(out / "results.sqlite", out)
    path = out / "test_error_vs_batch.png"
    print(f"written: {out / 'report.md'}, {path}")
    return path


if __name__ == "__main__":
    sys.exit(run_reporting_errors(Path(__file__).name, main))
