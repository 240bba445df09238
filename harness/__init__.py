"""flywheel-harness: proves that a self-hosted Nix CI fleet keeps its contract."""

# The one source of the version (pyproject.toml reads it from here): a constant, so that
# start-up does not pay for importlib.metadata.
__version__ = "0.1.0"

__all__ = ["__version__"]

from harness.dataclass_code import install as _compile_dataclass_methods_once

_compile_dataclass_methods_once()
