"""flywheel-harness: proves that a self-hosted Nix CI fleet keeps its contract."""

# The one source of the version (pyproject.toml reads it from here): a constant, so that
# start-up does not pay for importlib.metadata.
__version__ = "0.1.0"

__all__ = ["__version__"]

from harness.startup import CollectorPaused as _CollectorPaused
from harness.startup import import_dataclasses as _import_dataclasses
from harness.startup import seed_yaml_reader as _seed_yaml_reader

with _CollectorPaused():  # what imports make lives as long as the process
    _import_dataclasses()  # before any module that imports dataclasses
    _seed_yaml_reader()  # before any module that imports yaml

    from harness.dataclass_code import install as _compile_dataclass_methods_once

    _compile_dataclass_methods_once()
