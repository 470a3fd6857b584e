"""Notebooks run top to bottom as scripts (real marimo, real mirror) and are valid marimo apps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))  # marimo notebooks


@pytest.fixture
def env(seeded_mirror):
    folder = seeded_mirror
    return {**os.environ, "DATABASE_URL": f"file:{folder / 'dev.db'}", "LEARNLAB_DUCKDB": str(folder / "analytics.duckdb"),
            "LEARNLAB_BENCH_ROWS": "5000"}  # the benchmark notebook, at a size CI can afford


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_as_a_script(path, env):
    result = subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_passes_marimo_check(path):
    marimo = Path(sys.executable).with_name("marimo")
    result = subprocess.run([str(marimo), "check", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_benchmark_notebook_measures_every_contender_and_the_ratios(env, tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(ROOT / "notebooks" / "mirror_benchmark.py")],
                            env={**env, "LEARNLAB_BENCH_JSON": str(out)}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    phases = {(m["contender"], m["phase"]) for m in results["measures"]}
    oldest = "incremental, oldest deleted"
    assert phases == {("mirror", "first refresh"), ("mirror", "no change"), ("mirror", "incremental"),
                      ("mirror", "incremental with deletes"), ("mirror", oldest), ("scanner", "full copy"),
                      ("pushdown", "incremental"), ("pushdown", "incremental with deletes"), ("pushdown", oldest),
                      *{(dlt, phase) for dlt in ("dlt", "dlt-connectorx")
                        for phase in ("first load", "incremental", "incremental with deletes", oldest)}}
    mirror = {m["phase"]: m["detail"] for m in results["measures"] if m["contender"] == "mirror"}
    updates, deletes = results["changes"]["incremental"], results["changes"]["incremental with deletes"]
    assert mirror["incremental"]["updated"] == updates["updated"] > 0
    assert mirror["incremental"]["deleted"] == 0 and mirror["incremental"]["inserted"] == 0
    assert mirror["incremental with deletes"]["deleted"] == deletes["deleted"] > 0
    assert mirror["incremental with deletes"]["inserted"] == deletes["inserted"] > 0
    assert mirror[oldest]["deleted"] == results["changes"][oldest]["deleted"] > 0
    assert all(m["seconds"] > 0 and m["peak_rss_mb"] > 0 for m in results["measures"])
    assert {"mirror first / scanner copy", "dlt incremental / mirror incremental",
            "dlt incremental with deletes / mirror incremental with deletes"} <= set(results["ratios"])


def test_jupyter_notebook_runs_in_a_real_kernel(env, monkeypatch):
    import nbclient
    import nbformat

    for key in ("DATABASE_URL", "LEARNLAB_DUCKDB"):
        monkeypatch.setenv(key, env[key])
    nb = nbformat.read(ROOT / "notebooks" / "analyst_starter.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "cost_per_plan" in text and "learning_assistant" in text
