"""Helpers the tests share, one module per job.

- `paths`: where the repository and its fixtures are;
- `tools`: real-tool requirements (skip locally, fail with `CI` set);
- `repos`: write a small repository and run one check on it;
- `fleet`: fourteen git checkouts and a contract with tranches for the fleet tests;
- `uses`: real git repositories and a GitHub contents API for remote `uses:` tests;
- `corpus`: the per-rule corpus (`tests/rules/`);
- `reapi_server`: an in-process REAPI v2 cache server for the gRPC probe tests;
- `readme`: the README's quick start blocks and their commands (also a script for
  tests/debian/quickstart.sh).
"""
