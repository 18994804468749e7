"""How much of each field of the output a model may write: the output schema's bounds
(compiler/schema.py) and the verifier's bound check (VF007) read the same numbers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How much of each field a model may write; the token budget follows from these."""

    reasoning_steps: int = 4
    claim_chars: int = 200
    answer_chars: int = 1200
    objectives: int = 4
    objective_chars: int = 120
    analysis_chars: int = 200
    uncertainties: int = 3
    uncertainty_chars: int = 160

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < (1 if name.endswith("_chars") else 0):
                raise ValueError(f"Limits.{name} must be at least {int(name.endswith('_chars'))}")


DEFAULT_LIMITS = Limits()
