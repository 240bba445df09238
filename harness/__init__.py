"""flywheel-harness: proves that a self-hosted Nix CI fleet keeps its contract."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flywheel-harness")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
