"""flywheel-harness: proves that a self-hosted Nix CI fleet keeps its contract."""

# The one source of the version (pyproject.toml reads it from here): a constant, so that
# start-up does not pay for importlib.metadata.
__version__ = "0.1.0"

__all__ = ["__version__"]

from harness.lazy_inspect import import_dataclasses as _import_dataclasses

_import_dataclasses()  # before any module that imports dataclasses

from harness.dataclass_code import install as _compile_dataclass_methods_once  # noqa: E402

_compile_dataclass_methods_once()
