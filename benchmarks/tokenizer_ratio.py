"""How far the default tokenizer's counts are from gpt-oss's, on the default spec.

The safeguard target counts its policies with the compile's tokenizer: SmolLM2's
by default, a proxy for gpt-oss's (o200k_harmony, which `--tokenizer o200k_harmony`
counts with when the `gpt-oss` extra is installed). This prints, for three kinds of
text from `policies/`, the tokens each tokenizer counts and the ratio of the two:
the rules' texts (English prose), the examples' texts (English, and a share in
German, French, Italian, Portuguese and others), and the compact safeguard policies
as compiled with the default tokenizer.

    python benchmarks/tokenizer_ratio.py [SPEC]
"""

from __future__ import annotations

import sys

import spec_lang
from compiler import safeguard, scope, tokens


def _texts(spec: spec_lang.Spec) -> dict[str, list[str]]:
    rules = scope.rules(spec)
    return {
        "rule texts (English)": [rule.text for rule in rules],
        "examples (several languages)": [e.text for rule in rules for e in rule.examples],
        "compact safeguard policies": [
            safeguard.policy_prompt(spec, category.id) for category in scope.categories(spec)
        ],
    }


def main() -> None:
    spec = spec_lang.load(sys.argv[1] if len(sys.argv) > 1 else "policies/")
    print(f"{'text':<30} {'pieces':>6} {'SmolLM2':>8} {'o200k':>8} {'ratio':>6}")
    for kind, texts in _texts(spec).items():
        smol = sum(tokens.count_each(texts))
        gpt_oss = sum(tokens.count_each(texts, tokens.GPT_OSS_TOKENIZER))
        print(f"{kind:<30} {len(texts):>6} {smol:>8} {gpt_oss:>8} {smol / gpt_oss:>6.3f}")


if __name__ == "__main__":
    main()
