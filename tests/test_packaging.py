"""What a user of the installed package sees: a version, ``python -m theorykit``, the licence and
the papers' URLs in the metadata, type information, a citation file that parses."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import yaml

from validation.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_printed(capsys) -> None:
    try:
        main(["--version"])
    except SystemExit as ended:
        assert ended.code == 0
    assert capsys.readouterr().out.strip() == f"theorykit {importlib.metadata.version('theorykit')}"


def test_python_dash_m_theorykit_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "theorykit", "bounds", "--B", "16", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.lstrip().startswith("{"), result.stderr


def test_the_metadata_names_the_licence_and_the_papers() -> None:
    metadata = importlib.metadata.metadata("theorykit")
    assert "MIT" in (metadata.get("License") or "") + " ".join(metadata.get_all("Classifier"))
    urls = " ".join(metadata.get_all("Project-URL") or [])
    assert "arxiv.org/abs/2510.11354" in urls and "arxiv.org/abs/2108.11371" in urls
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_type_information_and_the_citation_ship() -> None:
    for package in ("theorykit", "dynamics", "validation"):
        assert (ROOT / package / "py.typed").is_file()
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and len(citation["references"]) == 2
    assert citation["version"] == importlib.metadata.version("theorykit")
