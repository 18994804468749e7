"""The embedded default spec: installed with the package, used when no spec is given."""

from pathlib import Path

DEFAULT_SPEC = Path(__file__).parent
