"""Speed and overhead benchmarks; `python -m benchmarks` runs them (see __main__.py)."""
