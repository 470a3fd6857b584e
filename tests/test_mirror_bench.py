"""`learnlab bench mirror` at a tiny size: it runs every contender and reports sane fields
(no timing assertions: the numbers belong to the machine)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from learnlab.cli import app
from learnlab.mirror.bench import format_results, run_bench

pytestmark = pytest.mark.slow


def test_bench_reports_every_contender(tmp_path):
    results = run_bench(rows=3000, changed=0.01, folder=tmp_path / "b", json_path=tmp_path / "b.json")
    phases = {(m["contender"], m["phase"]) for m in results["measures"]}
    assert phases == {("mirror", "first refresh"), ("mirror", "no change"), ("mirror", "incremental"),
                      ("scanner", "full copy"), ("dlt", "first load"), ("dlt", "incremental")}
    for m in results["measures"]:
        assert m["seconds"] > 0 and m["peak_rss_mb"] > 10 and m["rows"] >= 0
    by = {(m["contender"], m["phase"]): m for m in results["measures"]}
    assert by[("mirror", "first refresh")]["rows"] == 3000 and by[("scanner", "full copy")]["rows"] == 3000
    change = results["change"]
    incremental = by[("mirror", "incremental")]["detail"]
    assert (incremental["updated"], incremental["deleted"], incremental["inserted"]) == (
        change["updated"], change["deleted"], change["inserted"])
    assert incremental["rows_mirrored"] == 3000 - change["deleted"] + change["inserted"]
    assert set(results["ratios"]) >= {"mirror first / scanner copy", "mirror first / mirror incremental"}
    assert json.loads((tmp_path / "b.json").read_text())["rows"] == 3000
    text = format_results(results)
    assert "mirror" in text and "scanner" in text and "dlt" in text and "peak RSS" in text


def test_bench_command(tmp_path):
    out = CliRunner().invoke(app, ["bench", "mirror", "--rows", "1000", "--contenders", "mirror,scanner",
                                   "--dir", str(tmp_path / "c")])
    assert out.exit_code == 0, out.output
    assert "first refresh" in out.output and "full copy" in out.output
