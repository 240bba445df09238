"""The GitHub Actions model: workflows, jobs, steps and local actions, each with file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """One step of a job or of a composite action."""

    file: str
    line: int
    index: int
    """1-based position among the steps of its job (or action)."""
    id: str | None = None
    name: str | None = None
    uses: str | None = None
    run: str | None = None
    run_line: int = 0
    """Line of the first line of the `run:` script."""
    shell: str | None = None
    with_: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    if_: str | None = None
    raw: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """How the step reads in a message: its name, its action, or its first command."""
        if self.name:
            return str(self.name)
        if self.uses:
            return str(self.uses)
        first = (self.run or "").strip().splitlines()
        return first[0][:60] if first else f"step {self.index}"


@dataclass
class Job:
    """One job of a workflow, as written."""

    id: str
    file: str
    line: int
    name: str | None = None
    runs_on: Any = None
    runs_on_line: int = 0
    needs: tuple[str, ...] = ()
    needs_line: int = 0
    if_: str | None = None
    permissions: Any = None
    permissions_line: int = 0
    container: Any = None
    environment: Any = None
    matrix: Any = None
    """`strategy.matrix` as written (a mapping, or an expression string)."""
    matrix_line: int = 0
    steps: list[Step] = field(default_factory=list)
    uses: str | None = None
    """A reusable workflow this job calls (`uses: ./.github/workflows/x.yml` or remote)."""
    uses_line: int = 0
    with_: dict[str, Any] = field(default_factory=dict)
    with_lines: dict[str, int] = field(default_factory=dict)
    raw: Any = field(default=None, repr=False)


@dataclass
class InputSpec:
    """A `workflow_call` (or `workflow_dispatch`) input."""

    name: str
    default: Any = None
    type: str = "string"
    required: bool = False
    line: int = 0


@dataclass
class Workflow:
    """A workflow file under `.github/workflows/`."""

    file: str
    line: int
    name: str | None = None
    on: dict[str, Any] = field(default_factory=dict)
    """Triggers: event name -> its configuration (None when given by name only)."""
    on_line: int = 0
    jobs: dict[str, Job] = field(default_factory=dict)
    permissions: Any = None
    call_inputs: dict[str, InputSpec] = field(default_factory=dict)
    raw: Any = field(default=None, repr=False)
    remote: bool = False
    """True for a file of another repository or ref (`file` is `OWNER/REPO/PATH@REF`)."""

    @property
    def reusable(self) -> bool:
        """True when other workflows can call this one (`on: workflow_call`)."""
        return "workflow_call" in self.on

    @property
    def callable_only(self) -> bool:
        """True when `workflow_call` is the only trigger."""
        return set(self.on) == {"workflow_call"}


@dataclass
class Action:
    """A local action (`action.yml`), composite or not."""

    file: str
    directory: str
    line: int
    name: str | None = None
    using: str | None = None
    steps: list[Step] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    raw: Any = field(default=None, repr=False)
    remote: bool = False
    """True for an action of another repository (`file` is `OWNER/REPO/PATH@REF`)."""

    @property
    def composite(self) -> bool:
        """True for `runs.using: composite`."""
        return self.using == "composite"


@dataclass(frozen=True)
class ParseProblem:
    """A workflow or action file that cannot be read as such (rule WF001)."""

    file: str
    line: int | None
    message: str
