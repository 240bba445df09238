"""The fleet contract (`fleet.yaml`): lookup, validation and typed model."""

from harness.contract.load import BUNDLED_CONTRACT, find_contract, load_contract
from harness.contract.model import Contract, Lane

__all__ = ["BUNDLED_CONTRACT", "Contract", "Lane", "find_contract", "load_contract"]
