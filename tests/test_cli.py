"""The CLI: every command has help and is in the README; errors are one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import typer.main
from typer.testing import CliRunner

from learnlab.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def command_names() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        names.append(name)
        for sub in getattr(cmd, "commands", {}):
            names.append(f"{name} {sub}")
    return names


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    group = typer.main.get_command(app)
    for name in command_names():
        cmd = group
        for part in name.split():
            cmd = cmd.commands[part]
        assert (cmd.help or "").strip(), f"{name} has no help"
        assert f"learnlab {name}" in readme, f"`learnlab {name}` is not in the README"


def test_migrate_then_health(tmp_path):
    env = {"DATABASE_URL": f"file:{tmp_path / 'cli.db'}"}
    result = runner.invoke(app, ["migrate"], env=env)
    assert result.exit_code == 0 and "empty -> 0001_init" in result.output
    result = runner.invoke(app, ["health"], env=env)
    assert result.exit_code == 0 and result.output.startswith("healthy at ")


def test_health_reports_an_unhealthy_database(tmp_path):
    result = runner.invoke(app, ["health"], env={"DATABASE_URL": f"file:{tmp_path}/missing/dir/x.db"})
    assert result.exit_code == 1 and "unhealthy" in result.output and "does not exist" in result.output


def test_sync_on_a_plain_file_says_there_is_nothing_to_do(tmp_path):
    result = runner.invoke(app, ["sync"], env={"DATABASE_URL": f"file:{tmp_path / 'x.db'}"})
    assert result.exit_code == 0 and "not a replica" in result.output


def test_errors_are_one_line_and_exit_1(tmp_path):
    result = runner.invoke(app, ["migrate"], env={"DATABASE_URL": f"file:{tmp_path}/no/such/dir/x.db"})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: cannot create the database {tmp_path}/no/such/dir/x.db: the folder {tmp_path}/no/such/dir does not exist"
    ]


def test_backup_verify_restore_commands(tmp_path):
    env = {"DATABASE_URL": f"file:{tmp_path / 'app.db'}"}
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    result = runner.invoke(app, ["backup", "--to", str(tmp_path / "b")], env=env)
    assert result.exit_code == 0 and "verified" in result.output
    path = result.output.split(":")[0]
    result = runner.invoke(app, ["verify-backup", path], env=env)
    assert result.exit_code == 0 and result.output.strip().endswith("ok")
    result = runner.invoke(app, ["restore", path, "--yes"], env=env)
    assert result.exit_code == 0 and "restored" in result.output
    (tmp_path / "junk.db").write_text("junk")
    result = runner.invoke(app, ["verify-backup", str(tmp_path / "junk.db")], env=env)
    assert result.exit_code == 1
