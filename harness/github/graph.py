"""The resolved job graph of a repository: lanes, Nix bootstrap, roles, and the release path.

For each job instance (reusable workflows expanded per caller, matrices per combination):
- its possible lanes and how certain they are: `resolved` (every variant's labels known),
  `partial` (some labels or some variants unknown), `unknown` (none known), with a
  "did you mean" for a label that is close to a lane;
- whether and where it installs Nix (the first installer step) and where it first uses Nix;
- its roles (`Role`: bootstrap, validate, gate, publish; read by `harness.github.roles`);
- for each publish job, the path of jobs that certainly ran before it and the roles of
  `publication.flakehub.after` that path does not cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.contract.model import PREREQUISITES, Contract, Role
from harness.github.labels import PARTIAL, RESOLVED, UNKNOWN
from harness.github.nix import installs_nix, nix_use
from harness.github.repo import JobInstance, RepoModel
from harness.github.roles import job_roles, precedence
from harness.github.suggest import suggest_label

ROLE_ORDER = (Role.PUBLISH, Role.GATE, Role.VALIDATE, Role.BOOTSTRAP)


@dataclass
class Place:
    """A step of a job, located."""

    step: int
    file: str
    line: int
    what: str

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"step": self.step, "file": self.file, "line": self.line, "what": self.what}


@dataclass
class JobNode:
    """One job instance in the graph."""

    id: str
    workflow: str
    file: str
    line: int
    lanes: list[str] = field(default_factory=list)
    other_labels: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    certainty: str = RESOLVED
    suggestions: dict[str, str] = field(default_factory=dict)
    bootstrap: Place | None = None
    first_nix_use: Place | None = None
    roles: dict[Role, Place] = field(default_factory=dict)
    needs: list[str] = field(default_factory=list)
    calls: str | None = None
    """For a caller job: the reusable workflow it runs (its jobs are `<id>/<job>`)."""

    @property
    def role(self) -> Role | None:
        """The job's main role (publish, then gate, validate, bootstrap)."""
        return next((r for r in ROLE_ORDER if r in self.roles), None)

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "id": self.id,
            "workflow": self.workflow,
            "file": self.file,
            "line": self.line,
            "lanes": self.lanes,
            "other_labels": self.other_labels,
            "unresolved": self.unresolved,
            "certainty": self.certainty,
            "did_you_mean": self.suggestions,
            "bootstrap": self.bootstrap.to_json() if self.bootstrap else None,
            "first_nix_use": self.first_nix_use.to_json() if self.first_nix_use else None,
            "role": self.role,
            "roles": {k: v.to_json() for k, v in self.roles.items()},
            "needs": self.needs,
            "calls": self.calls,
        }


@dataclass
class PublishPath:
    """What certainly ran before one publish job, and which required roles are not covered."""

    publish: str
    path: list[str]
    covered: dict[str, list[str]]
    missing: list[str]
    ignored_edges: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "publish": self.publish,
            "path": self.path,
            "covered": self.covered,
            "missing": self.missing,
            "ignored_edges": self.ignored_edges,
        }


@dataclass
class JobGraph:
    """All job nodes and the publish paths."""

    jobs: list[JobNode]
    publish_paths: list[PublishPath]
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "jobs": [j.to_json() for j in self.jobs],
            "publish_paths": [p.to_json() for p in self.publish_paths],
            "problems": self.problems,
        }


def _certainty(instance: JobInstance) -> str:
    return _merge_certainty({v.labels.certainty for v in instance.variants})


def _merge_certainty(kinds: set[str]) -> str:
    if not kinds or kinds == {RESOLVED}:
        return RESOLVED
    if kinds == {UNKNOWN}:
        return UNKNOWN
    return PARTIAL


def _roles(model: RepoModel, instance: JobInstance) -> dict[Role, Place]:
    return {
        role: Place(rs.job_step, rs.file, rs.line, rs.what)
        for role, rs in job_roles(model, instance.job).items()
    }


def _node(model: RepoModel, instance: JobInstance, contract: Contract) -> JobNode:
    job = instance.job
    prefix = "/".join(c.id for c in instance.chain)
    node = JobNode(
        id=instance.display_id,
        workflow=instance.entry_file,
        file=job.file,
        line=job.line,
        certainty=_certainty(instance),
        needs=[f"{prefix}/{n}" if prefix else n for n in job.needs],
    )
    catalogue = contract.hosted_catalogue
    for variant in instance.variants:
        for label in variant.labels.labels:
            bucket = node.lanes if label in contract.lanes else node.other_labels
            if label not in bucket:
                bucket.append(label)
            known = label in contract.lanes or catalogue.lookup(label) is not None
            if not known and label not in node.suggestions:
                close = suggest_label(contract, label, variant.labels.labels, variant.matrix)
                if close:
                    node.suggestions[label] = close
        for part in variant.labels.unresolved:
            if part not in node.unresolved:
                node.unresolved.append(part)
    for step in model.effective_steps(job):
        if node.bootstrap is None and installs_nix(step):
            node.bootstrap = Place(step.job_step, step.step.file, step.step.line, step.step.label)
        use = nix_use(step)
        if node.first_nix_use is None and use is not None:
            node.first_nix_use = Place(step.job_step, step.step.file, use.line, use.description)
    node.roles = _roles(model, instance)
    return node


def _publish_path(
    model: RepoModel,
    instance: JobInstance,
    node: JobNode,
    nodes: dict[tuple[str, str], JobNode],
    after: tuple[str, ...],
) -> PublishPath:
    publish_step = node.roles[Role.PUBLISH].step
    covered: dict[str, list[str]] = {}
    for role, place in node.roles.items():
        if role != Role.PUBLISH and place.step < publish_step:
            covered.setdefault(role, []).append(node.id)
    path: list[str] = []
    ignored: list[str] = []
    found = precedence(model, instance, publish_step)
    ignored = list(found.ignored)
    for pred in sorted(found.before, key=lambda p: -len(p.path)):
        other = nodes.get((pred.workflow.file, pred.job.id))
        name = other.id if other else pred.job.id
        if name not in path:
            path.append(name)
        for role in job_roles(model, pred.job):
            covered.setdefault(role, [])
            if name not in covered[role]:
                covered[role].append(name)
    path.append(node.id)
    missing = [r for r in after if r != Role.PUBLISH and r not in covered]
    return PublishPath(node.id, path, covered, missing, ignored)


def build_graph(model: RepoModel, contract: Contract) -> JobGraph:
    """The job graph of a repository model under a contract."""
    instances = model.instances
    nodes = [_node(model, inst, contract) for inst in instances]
    by_key = {
        (inst.job.file, inst.job.id): node for inst, node in zip(instances, nodes, strict=True)
    }
    after = contract.flakehub.after if contract.flakehub else PREREQUISITES
    paths = [
        _publish_path(model, inst, node, by_key, after)
        for inst, node in zip(instances, nodes, strict=True)
        if Role.PUBLISH in node.roles
    ]
    problems = [f"{p.file}:{p.line or '?'}: {p.message}" for p in model.problems]
    return JobGraph(_caller_nodes(model, instances, nodes) + nodes, paths, problems)


def _caller_nodes(
    model: RepoModel, instances: list[JobInstance], nodes: list[JobNode]
) -> list[JobNode]:
    """A node per job that calls a local reusable workflow, with its callees' lanes and roles."""
    callers: list[JobNode] = []
    for workflow in model.workflows.values():
        for job in workflow.jobs.values():
            if model.callee(job) is None:
                continue
            inner = [
                n
                for inst, n in zip(instances, nodes, strict=True)
                if inst.chain and inst.chain[0] is job
            ]
            if not inner:
                continue
            node = JobNode(
                id=job.id,
                workflow=workflow.file,
                file=job.file,
                line=job.line,
                needs=list(job.needs),
                calls=job.uses,
                certainty=_merge_certainty({n.certainty for n in inner}),
            )
            for other in inner:
                node.lanes += [lane for lane in other.lanes if lane not in node.lanes]
                node.unresolved += [u for u in other.unresolved if u not in node.unresolved]
                for role, place in other.roles.items():
                    node.roles.setdefault(role, place)
            callers.append(node)
    return callers


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: JobGraph) -> str:
    """The graph in Graphviz DOT: one node per job, `needs` as edges, publish paths bold."""
    lines = ["digraph jobs {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    on_path = {j for p in graph.publish_paths for j in p.path}
    for job in graph.jobs:
        lanes = ", ".join(job.lanes + job.other_labels + job.unresolved) or "?"
        label = [f"{job.id}", f"{lanes} ({job.certainty})"]
        if job.role:
            label.append(f"role: {', '.join(r for r in ROLE_ORDER if r in job.roles)}")
        if job.bootstrap:
            label.append(f"installs Nix at step {job.bootstrap.step}")
        style = ", style=bold" if job.id in on_path else ""
        text = "\\n".join(_dot_id(part)[1:-1] for part in label)
        lines.append(f'  {_dot_id(job.workflow + "::" + job.id)} [label="{text}"{style}];')
    for job in graph.jobs:
        for need in job.needs:
            lines.append(
                f"  {_dot_id(job.workflow + '::' + need)} -> "
                f"{_dot_id(job.workflow + '::' + job.id)};"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_text(graph: JobGraph) -> str:
    """A reader's view: one block per job, then the publish paths."""
    out: list[str] = []
    for job in graph.jobs:
        labels = ", ".join(job.lanes + job.other_labels + job.unresolved) or "?"
        out.append(
            f"{job.workflow}::{job.id}  runs-on {labels} ({job.certainty})  role: {job.role or '-'}"
        )
        if job.calls:
            out.append(f"    calls {job.calls} (its jobs are {job.id}/<job>)")
        for label, lane in job.suggestions.items():
            out.append(f"    label `{label}` is not a lane: did you mean `{lane}`?")
        if job.bootstrap:
            out.append(
                f"    installs Nix at step {job.bootstrap.step} "
                f"({job.bootstrap.file}:{job.bootstrap.line})"
            )
        if job.first_nix_use:
            out.append(
                f"    first uses Nix at step {job.first_nix_use.step} "
                f"({job.first_nix_use.file}:{job.first_nix_use.line}): "
                f"{job.first_nix_use.what}"
            )
        if job.needs:
            out.append(f"    needs {', '.join(job.needs)}")
    for path in graph.publish_paths:
        out.append(f"publish {path.publish}: {' -> '.join(path.path)}")
        if path.missing:
            out.append(f"    not certainly before it: {', '.join(path.missing)}")
    out.extend(f"problem: {p}" for p in graph.problems)
    return "\n".join(out) + "\n"
