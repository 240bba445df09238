"""Local sources of remote references: the checked repository itself, and local clones.

A source is a directory holding `OWNER/REPO`. In a git repository the file is read at the
ref with git (tags, branches, remote-tracking branches and SHAs); a plain directory is read
as its working tree, with a note. The checked repository falls back to its working tree,
with a note, when the ref is not in the clone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.github.uses.ref import UsesRef
from harness.gitio import run_git
from harness.safe_read import MAX_WORKFLOW_BYTES, UnsafeFile, read_text

SELF = "self"
DIR = "dir"


@dataclass(frozen=True)
class SourceRead:
    """A file a local source had: its text, the commit (None from a working tree), a note."""

    text: str
    commit: str | None
    note: str | None = None


@dataclass
class LocalSource:
    """`OWNER/REPO` in a local directory; `origin` is `self` or `dir`."""

    name: str
    root: Path
    origin: str = DIR
    _git: bool | None = field(default=None, repr=False)
    _commits: dict[str, str | None] = field(default_factory=dict, repr=False)

    def holds(self, ref: UsesRef) -> bool:
        """True when this source is the repository `ref` names (case-insensitive)."""
        return self.name.lower() == ref.name.lower()

    @property
    def is_git(self) -> bool:
        """True when the directory is (inside) a git work tree or a bare repository."""
        if self._git is None:
            result = run_git(self.root, "rev-parse", "--git-dir")
            self._git = result.ok
        return self._git

    def commit(self, ref: str) -> str | None:
        """The commit `ref` names here (tags, branches, `origin/` branches, SHAs), or None."""
        if ref not in self._commits:
            found = None
            for candidate in (ref, f"origin/{ref}"):
                result = run_git(
                    self.root, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"
                )
                if result.ok and result.stdout.strip():
                    found = result.stdout.strip()
                    break
            self._commits[ref] = found
        return self._commits[ref]

    def read(self, ref: UsesRef) -> SourceRead | str:
        """The file at `ref`, or why not (one line)."""
        if not self.is_git:
            return self._working_tree(
                ref, f"{self.root} is not a git repository: read its working tree, not the ref"
            )
        commit = self.commit(ref.ref)
        if commit is None:
            if self.origin == SELF:
                return self._working_tree(
                    ref, f"{ref.ref} is not in the clone: read the working tree instead"
                )
            return f"{ref.ref} is not in {self.root}"
        size = run_git(self.root, "cat-file", "-s", f"{commit}:{ref.path}")
        if not size.ok:
            return f"{ref.path} is not in {ref.name} at {ref.ref}"
        if not size.stdout.strip().isdigit() or int(size.stdout) > MAX_WORKFLOW_BYTES:
            return f"{ref.path} at {ref.ref} is over the {MAX_WORKFLOW_BYTES}-byte limit"
        blob = run_git(self.root, "cat-file", "blob", f"{commit}:{ref.path}", text=False)
        if not blob.ok:
            return f"git cannot read {ref.path} at {ref.ref} in {self.root}"
        raw = blob.stdout if isinstance(blob.stdout, bytes) else str(blob.stdout).encode()
        try:
            return SourceRead(raw.decode("utf-8"), commit)
        except UnicodeDecodeError:
            return f"{ref.path} at {ref.ref} is not UTF-8 text"

    def _working_tree(self, ref: UsesRef, note: str) -> SourceRead | str:
        path = self.root / ref.path
        if not path.is_file():
            return f"{ref.path} is not in the working tree of {self.root}"
        try:
            return SourceRead(read_text(path, MAX_WORKFLOW_BYTES, root=self.root), None, note)
        except UnsafeFile as exc:
            return f"{ref.path}: {exc.reason}"
