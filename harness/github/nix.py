"""What counts as using Nix, and as installing it, in a workflow step.

Shared by the bootstrap rule (BOOT001), the job roles of the publication rules, and the
job graph. Action references are compared without their `@ref`, case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.github.repo import EffectiveStep
from harness.github.shell import Command, commands

NIX_COMMANDS = frozenset(
    {
        "nix",
        "nix-build",
        "nix-shell",
        "nix-store",
        "nix-env",
        "nix-instantiate",
        "nix-channel",
        "nix-collect-garbage",
        "nix-copy-closure",
        "nix-prefetch-url",
        "nix-hash",
        "nix-daemon",
        "nixos-rebuild",
        "home-manager",
        "attic",
        "cachix",
        "devenv",
        "nix-fast-build",
        "nix-eval-jobs",
        "nom",
        "nom-build",
        "colmena",
        "nixos-generate",
        "nix-prefetch-git",
    }
)
"""Command words that need a working Nix."""

INSTALLER_ACTIONS = frozenset(
    {
        "cachix/install-nix-action",
        "determinatesystems/nix-installer-action",
        "determinatesystems/determinate-nix-action",
        "nixbuild/nix-quick-install-action",
        "samueldr/lix-gha-installer-action",
    }
)
"""Actions that install Nix on the runner."""

NIX_ACTIONS = frozenset(
    {
        "determinatesystems/flakehub-push",
        "determinatesystems/flakehub-cache-action",
        "determinatesystems/magic-nix-cache-action",
        "determinatesystems/flake-checker-action",
        "determinatesystems/update-flake-lock",
        "ryanccn/attic-action",
        "cachix/cachix-action",
        "nix-community/cache-nix-action",
        "workflow/nix-shell-action",
        "rrbutani/use-nix-shell-action",
    }
)
"""Actions that need Nix to be installed already."""

_INSTALLER_URL = re.compile(
    r"(nixos\.org/nix/install|releases\.nixos\.org/nix/[^\s]*/install"
    r"|install\.determinate\.systems/nix|install\.lix\.systems/lix|nix-installer)"
)
_SHELLS = frozenset({"sh", "bash", "zsh", "dash"})
_PIPE_TARGETS = _SHELLS | {"sudo"}  # `curl ... | sudo sh -s -- install`


def action_name(uses: str | None) -> str | None:
    """`Owner/Repo/path@ref` -> `owner/repo/path`; None for local, docker and absent refs."""
    if not uses or uses.startswith(("./", "docker://")):
        return None
    return uses.split("@", 1)[0].strip().lower()


def _action_in(uses: str | None, names: frozenset[str]) -> bool:
    name = action_name(uses)
    if name is None:
        return False
    return name in names or "/".join(name.split("/")[:2]) in names


def installer_command(command: Command) -> bool:
    """True for a command that installs Nix: an installer piped into a shell, or run by one."""
    text = command.text()
    if command.name in ("curl", "wget") and command.piped_to in _PIPE_TARGETS:
        return bool(_INSTALLER_URL.search(text))
    if command.name in _SHELLS and _INSTALLER_URL.search(text):
        return True
    return command.name == "nix-installer" and "install" in command.args


def _downloads(command: Command) -> set[str]:
    """Files a `curl`/`wget` of a Nix installer writes (`-o F`, `-O F`, `curl -O`)."""
    args = list(command.args)
    out: set[str] = set()
    remote_name = command.name == "wget"
    for index, word in enumerate(args):
        value = args[index + 1] if index + 1 < len(args) else None
        if word.startswith(("--output=", "--output-document=")):
            out.add(word.split("=", 1)[1])
        elif word in ("--output", "--output-document") and value:
            out.add(value)
        elif word.startswith("-") and not word.startswith("--"):
            flag = "O" if command.name == "wget" else "o"
            if word.endswith(flag) and value:
                out.add(value)
                remote_name = False
            elif command.name == "curl" and "O" in word[1:]:
                remote_name = True
    if remote_name:
        url = next((a for a in args if _INSTALLER_URL.search(a)), "")
        out.add(url.rstrip("/").rsplit("/", 1)[-1])
    return {name.removeprefix("./") for name in out if name}


def installing(commands: list[Command]) -> list[bool]:
    """Which of a script's commands install Nix, including an installer downloaded to a file
    first and run from it (`curl -o install.sh URL`, then `sh install.sh`)."""
    downloaded: set[str] = set()
    flags = []
    for command in commands:
        flag = installer_command(command)
        if command.name in ("curl", "wget") and _INSTALLER_URL.search(command.text()):
            downloaded |= _downloads(command)
        elif not flag and downloaded:
            run = command.args if command.name in _SHELLS else command.words[:1]
            flag = any(word.removeprefix("./") in downloaded for word in run)
        flags.append(flag)
    return flags


def _installs_nix(step: EffectiveStep) -> bool:
    """True when this step installs Nix (an installer action or an installer script)."""
    if _action_in(step.step.uses, INSTALLER_ACTIONS):
        return True
    return any(installing(step.commands()))


def _installs_first(step: EffectiveStep) -> bool:
    """True when the step installs Nix before anything in it needs Nix.

    An installer action, or a script whose installer command comes before its first Nix
    command (`curl -L https://nixos.org/nix/install | sh` then `nix build`).
    """
    if _action_in(step.step.uses, INSTALLER_ACTIONS):
        return True
    commands = step.commands()
    for command, installs in zip(commands, installing(commands), strict=True):
        if installs:
            return True
        if command.name in NIX_COMMANDS:
            return False
    return False


@dataclass(frozen=True)
class NixUse:
    """Where and how a step needs Nix."""

    description: str
    line: int


def _nix_use(step: EffectiveStep) -> NixUse | None:
    """What in this step needs Nix (a command, a custom shell or an action), or None."""
    if _action_in(step.step.uses, NIX_ACTIONS):
        return NixUse(f"uses {step.step.uses}", step.step.line)
    if step.step.shell:
        for command in commands(step.step.shell.replace("{0}", "script")):
            if command.name in NIX_COMMANDS:
                return NixUse(f"runs its script with `shell: {step.step.shell}`", step.step.line)
    for command in step.commands():
        if command.name in NIX_COMMANDS and not installer_command(command):
            return NixUse(f"runs `{command.text()[:80]}`", command.line)
    return None


def installs_nix(step: EffectiveStep) -> bool:
    """True when this step installs Nix (an installer action or an installer script);
    remembered per step."""
    if "installs_nix" not in step.memo:
        step.memo["installs_nix"] = _installs_nix(step)
    found: bool = step.memo["installs_nix"]
    return found


def installs_first(step: EffectiveStep) -> bool:
    """True when the step installs Nix before anything in it needs Nix; remembered per step."""
    if "installs_first" not in step.memo:
        step.memo["installs_first"] = _installs_first(step)
    found: bool = step.memo["installs_first"]
    return found


def nix_use(step: EffectiveStep) -> NixUse | None:
    """What in this step needs Nix (a command, a custom shell or an action), or None;
    remembered per step."""
    if "nix_use" not in step.memo:
        step.memo["nix_use"] = _nix_use(step)
    found: NixUse | None = step.memo["nix_use"]
    return found
