"""Every command, option and public function is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from seawall.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, click.Command]]:
    assert isinstance(cli, click.Group)
    return sorted(cli.commands.items())


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_command_is_documented(name: str, command: click.Command) -> None:
    assert f"seawall {name}" in README, f"README does not show 'seawall {name}'"
    assert command.help and len(command.help) > 40
    for param in command.params:
        if isinstance(param, click.Option):
            flag = max(param.opts, key=len)
            assert flag in README, f"README does not mention {name} {flag}"
            assert param.help, f"{name} {flag} has no help text"


def test_readme_starts_with_what_and_two_commands() -> None:
    head = README.split("\n## ", 2)
    assert "Seawall" in head[0]
    assert re.search(r"^python3\.11 -m venv .*seawall demo", README, re.M)
    assert re.search(r"^python3\.11 -m venv .*\[test\].*pytest", README, re.M)


@pytest.mark.parametrize("name", ["group_metrics", "regression_metrics", "audit"])
def test_library_functions_are_documented(name: str) -> None:
    assert f"{name}(" in README
