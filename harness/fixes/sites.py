"""Where a job variant's `runs-on` labels are written: the `runs-on` value itself, a matrix
entry, or the caller's `with:` input of a reusable workflow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from harness.checks.lanes import label_origin
from harness.fixes.context import FixContext
from harness.fixes.model import Edit, NoFix
from harness.fixes.yamledit import Document, render_flow, render_scalar, scalar_values
from harness.github.model import Job
from harness.github.repo import JobInstance, Variant
from harness.results import Finding

WHERE = {"runs-on": "runs-on", "matrix": "matrix entry", "with": "caller's `with:` input"}
"""How a description names each kind of site."""

_REFERENCE = re.compile(r"^\$\{\{\s*(matrix|inputs)\.([A-Za-z_][\w-]*)\s*\}\}$")


@dataclass(frozen=True)
class Site:
    """A node that holds some or all of a variant's labels."""

    doc: Document
    node: Node
    """A scalar, or a sequence of scalars."""
    key: ScalarNode | None
    """The mapping key whose whole value `node` is (None for a sequence item)."""
    via: str
    """`runs-on`, `matrix` or `with`."""

    @property
    def labels(self) -> list[str]:
        """The labels written here."""
        return [str(s.value) for s in scalar_values(self.node)]

    def replace(self, labels: list[str]) -> Edit:
        """Write `labels` here instead: one label as a scalar, several as a flow sequence."""
        style = self.node.style if isinstance(self.node, ScalarNode) else None
        text = render_scalar(labels[0], style) if len(labels) == 1 else render_flow(labels)
        if self.key is not None:
            return self.doc.replace_value(self.key, self.node, text)
        return self.doc.replace_node(self.node, text)

    def rename(self, old: str, new: str) -> list[Edit]:
        """Replace the label `old` (compared ignoring case) by `new`, wherever it is here."""
        return [
            self.doc.replace_scalar(s, new)
            for s in scalar_values(self.node)
            if str(s.value).lower() == old.lower()
        ]


def instance_of(ctx: FixContext, finding: Finding) -> JobInstance:
    """The job instance a lane or placement finding is about (by job id and location)."""
    for instance in ctx.model.instances:
        if instance.display_id == finding.job and label_origin(instance) == (
            finding.file,
            finding.line,
        ):
            return instance
    raise NoFix(f"job `{finding.job}` is no longer at {finding.file}:{finding.line}")


def job_mapping(ctx: FixContext, job: Job) -> tuple[Document, MappingNode]:
    """The document and mapping node of a job definition."""
    doc = ctx.doc(job.file)
    node = doc.path("jobs", job.id)
    if not isinstance(node, MappingNode):
        raise NoFix(f"{job.file}: job `{job.id}` is not a mapping")
    return doc, node


def _value_entry(doc: Document, mapping: Node, key: str, what: str) -> tuple[ScalarNode, Node]:
    entry = doc.entry(mapping, key)
    if entry is None:
        raise NoFix(f"{doc.file}: {what} has no `{key}`")
    key_node, value = entry
    if doc.is_alias(key_node, value):
        raise NoFix(
            f"{doc.file}:{key_node.start_mark.line + 1}: `{key}` is an alias (*name) "
            "of a value written elsewhere; edit its anchor"
        )
    return key_node, value


def _literal(node: Node) -> bool:
    return all("${{" not in str(s.value) for s in scalar_values(node)) and (
        isinstance(node, ScalarNode)
        or (isinstance(node, SequenceNode) and len(scalar_values(node)) == len(node.value))
    )


def _same(node: Node, wanted: Any) -> bool:
    labels = [str(s.value) for s in scalar_values(node)]
    if isinstance(wanted, list):
        return labels == [str(w) for w in wanted]
    return isinstance(node, ScalarNode) and labels == [str(wanted)]


def _matrix_sites(doc: Document, job_map: MappingNode, name: str, wanted: Any) -> list[Site]:
    matrix = doc.get(doc.get(job_map, "strategy"), "matrix")
    if not isinstance(matrix, MappingNode):
        raise NoFix(f"{doc.file}: the matrix of this job is not written as a mapping")
    found: list[Site] = []
    values = doc.get(matrix, name)
    if isinstance(values, SequenceNode):
        found += [Site(doc, item, None, "matrix") for item in values.value if _same(item, wanted)]
    include = doc.get(matrix, "include")
    if isinstance(include, SequenceNode):
        for item in include.value:
            entry = doc.entry(item, name)
            if entry is not None and _same(entry[1], wanted):
                found.append(Site(doc, entry[1], entry[0], "matrix"))
    if not found:
        raise NoFix(f"{doc.file}: no entry `{name}: {wanted}` written in the matrix")
    return found


def _input_site(ctx: FixContext, instance: JobInstance, name: str) -> list[Site]:
    if not instance.chain:
        raise NoFix(f"`inputs.{name}` has no caller here to pass another value")
    caller = instance.chain[-1]
    doc, caller_map = job_mapping(ctx, caller)
    with_map = doc.get(caller_map, "with")
    entry = doc.entry(with_map, name) if with_map is not None else None
    if entry is None:
        raise NoFix(
            f"caller `{caller.id}` does not pass `{name}` in `with:` (the input's "
            "default applies); pass the lane there"
        )
    key_node, value = entry
    if not _literal(value):
        raise NoFix(
            f"{doc.file}:{key_node.start_mark.line + 1}: `with: {name}` is an "
            "expression the fix does not rewrite"
        )
    return [Site(doc, value, key_node, "with")]


def _resolve(
    ctx: FixContext,
    instance: JobInstance,
    variant: Variant,
    *,
    doc: Document,
    job_map: MappingNode,
    text: str,
) -> list[Site]:
    match = _REFERENCE.match(text.strip())
    if match is None:
        raise NoFix(f"runs-on `{text}` is an expression the fix does not rewrite")
    scope, name = match.groups()
    if scope == "matrix":
        return _matrix_sites(doc, job_map, name, variant.matrix.get(name))
    return _input_site(ctx, instance, name)


def label_sites(ctx: FixContext, instance: JobInstance, variant: Variant) -> list[Site]:
    """Every place one variant's labels are written, in order."""
    doc, job_map = job_mapping(ctx, instance.job)
    key_node, value = _value_entry(doc, job_map, "runs-on", f"job `{instance.job.id}`")
    if isinstance(value, MappingNode):  # {group: g, labels: [...]}
        key_node, value = _value_entry(doc, value, "labels", "`runs-on`")
    if _literal(value):
        return [Site(doc, value, key_node, "runs-on")]
    if isinstance(value, ScalarNode):
        return _resolve(ctx, instance, variant, doc=doc, job_map=job_map, text=str(value.value))
    sites: list[Site] = []
    for item in value.value if isinstance(value, SequenceNode) else []:
        if _literal(item):
            sites.append(Site(doc, item, None, "runs-on"))
        elif isinstance(item, ScalarNode):
            sites += _resolve(
                ctx, instance, variant, doc=doc, job_map=job_map, text=str(item.value)
            )
        else:
            raise NoFix(f"{doc.file}: runs-on nests a collection the fix does not rewrite")
    return sites


def whole_sites(ctx: FixContext, instance: JobInstance, variant: Variant) -> list[Site]:
    """The places that each hold all of a variant's labels: the `runs-on` value, or every
    matrix entry (or `with:` input) it takes them from. Raises NoFix when the labels are
    spread over several places."""
    sites = label_sites(ctx, instance, variant)
    wanted = [label.lower() for label in variant.labels.labels]
    if not sites or any([label.lower() for label in s.labels] != wanted for s in sites):
        raise NoFix(
            f"job `{instance.display_id}` takes its labels from {len(sites)} places; "
            "edit runs-on by hand"
        )
    return sites


def unique(edits: list[Edit]) -> tuple[Edit, ...]:
    """Edits without repeats (variants often share one written value)."""
    return tuple(dict.fromkeys(edits))
