"""`learnlab bench mirror` at a tiny size: it runs every contender and reports sane fields
(no timing assertions: the numbers belong to the machine)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from learnlab.cli import app
from learnlab.mirror.bench import format_results, run_bench

pytestmark = pytest.mark.slow


OLDEST = "incremental, oldest deleted"
PHASES = {("mirror", "first refresh"), ("mirror", "no change"), ("mirror", "incremental"),
          ("mirror", "incremental with deletes"), ("mirror", OLDEST), ("scanner", "full copy"),
          ("pushdown", "incremental"), ("pushdown", "incremental with deletes"), ("pushdown", OLDEST),
          *{(dlt, phase) for dlt in ("dlt", "dlt-connectorx") for phase in ("first load", "incremental",
                                                                           "incremental with deletes", OLDEST)}}


def test_bench_reports_every_contender(tmp_path):
    results = run_bench(rows=3000, changed=0.01, folder=tmp_path / "b", json_path=tmp_path / "b.json", repeat=2)
    phases = {(m["contender"], m["phase"]) for m in results["measures"]}
    assert phases == PHASES and len(results["measures"]) == len(PHASES)
    # The incremental phase ran twice per contender from the same state (the median is shown):
    # both runs saw the same change, and what followed started from one run's result.
    for m in results["measures"]:
        runs = m["detail"].get("runs_seconds")
        if m["phase"] == "incremental":
            assert len(runs) == 2 and round(m["seconds"], 3) == min(runs)  # the lower middle of two
        else:
            assert runs is None
    assert not (tmp_path / "b" / "saved").exists() or not any((tmp_path / "b" / "saved").iterdir())
    for m in results["measures"]:
        assert m["seconds"] > 0 and m["peak_rss_mb"] > 10 and m["rows"] >= 0
    by = {(m["contender"], m["phase"]): m for m in results["measures"]}
    assert by[("mirror", "first refresh")]["rows"] == 3000 and by[("scanner", "full copy")]["rows"] == 3000
    # The scenario: updates only; then deletions and as many inserts.
    updates, deletes = results["changes"]["incremental"], results["changes"]["incremental with deletes"]
    incremental = by[("mirror", "incremental")]["detail"]
    assert incremental["updated"] == updates["updated"] > 0
    assert incremental["deleted"] == 0 and incremental["inserted"] == 0
    assert incremental["rows_mirrored"] == 3000
    with_deletes = by[("mirror", "incremental with deletes")]["detail"]
    assert with_deletes["deleted"] == deletes["deleted"] > 0
    assert with_deletes["inserted"] == deletes["inserted"] == deletes["deleted"]
    assert with_deletes["rows_mirrored"] == 3000
    # Then the oldest rows deleted (a retention job): the mirror sees them, dlt's cursor nothing.
    oldest_change = results["changes"][OLDEST]
    oldest = by[("mirror", OLDEST)]["detail"]
    assert oldest["deleted"] == oldest_change["deleted"] > 0 and oldest["inserted"] == oldest["updated"] == 0
    assert oldest["rows_mirrored"] == 3000 - oldest_change["deleted"]
    # As `learnlab mirror` does, each refresh prepared the next once published (timed apart): the
    # updates were replayed onto the other file then, not by the refresh with deletes.
    assert incremental["then_prepared_rows"] == updates["updated"] and with_deletes["replayed"] == 0
    # The reference floor reads the updated rows (and, the second time, the inserts with them).
    assert by[("pushdown", "incremental")]["rows"] >= updates["updated"]
    assert "pushdown incremental / mirror incremental" in results["ratios"]
    # dlt's cursor (either backend) sees the updated rows and the inserts, never the deletions.
    for dlt in ("dlt", "dlt-connectorx"):
        assert by[(dlt, "first load")]["rows"] == 3000
        assert by[(dlt, "incremental")]["rows"] == updates["updated"]
        assert by[(dlt, "incremental with deletes")]["detail"]["rows_in_target"] == 3000 + deletes["inserted"]
        assert by[(dlt, OLDEST)]["rows"] == 0
        assert by[(dlt, OLDEST)]["detail"]["rows_in_target"] == 3000 + deletes["inserted"]
    assert set(results["ratios"]) >= {"mirror first / scanner copy", "mirror first / mirror incremental",
                                      "dlt incremental / mirror incremental",
                                      "dlt-connectorx first / mirror first",
                                      "dlt-connectorx incremental / mirror incremental",
                                      "mirror first / mirror incremental with deletes",
                                      "dlt incremental with deletes / mirror incremental with deletes",
                                      f"mirror first / mirror {OLDEST}", f"dlt {OLDEST} / mirror {OLDEST}"}
    assert json.loads((tmp_path / "b.json").read_text())["rows"] == 3000
    text = format_results(results)
    assert "mirror" in text and "scanner" in text and "dlt" in text and "peak RSS" in text
    assert f"incremental: {updates['updated']} updated;" in text
    assert f"incremental with deletes: {deletes['deleted']} deleted, {deletes['inserted']} inserted" in text
    assert f"{OLDEST}: {oldest_change['deleted']} deleted" in text


def test_the_pushdown_floor_needs_the_mirrors_first_copy(tmp_path):
    with pytest.raises(ValueError, match="add mirror"):
        run_bench(rows=100, folder=tmp_path / "p", contenders=["pushdown", "scanner"])


@pytest.mark.parametrize("args, says", [(["--contenders", "pushdown"], "add mirror"),
                                         (["--contenders", "mirror,nope"], "unknown contenders ['nope']"),
                                         (["--contenders", ","], "no contender"),
                                         (["--rows", "10"], "--rows"), (["--changed", "2"], "--changed"),
                                         (["--repeat", "0"], "--repeat")])
def test_bench_command_names_the_bad_option(tmp_path, args, says):
    out = CliRunner().invoke(app, ["bench", "mirror", "--dir", str(tmp_path / "x"), *args])
    assert out.exit_code == 2 and says in out.output
    assert not (tmp_path / "x").exists()  # nothing was built


def test_bench_command(tmp_path):
    out = CliRunner().invoke(app, ["bench", "mirror", "--rows", "1000", "--contenders", "mirror,scanner",
                                   "--dir", str(tmp_path / "c")])
    assert out.exit_code == 0, out.output
    assert "first refresh" in out.output and "full copy" in out.output
