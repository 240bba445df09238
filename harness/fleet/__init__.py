"""The runner fleet at scale: ARC's burst model and live scale-set state from recorded files."""
