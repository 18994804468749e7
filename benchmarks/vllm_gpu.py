"""vLLM on a GPU: transcripts/s of `generate --engine vllm`, and decode tokens/s with the
compiled schema against without it, on the same chats in the same run.

    python benchmarks/vllm_gpu.py [--model smollm2-135m] [--prompts 256] [--runs 3]
                                  [--tokens 256] [--tensor-parallel-size 1]

Needs vllm (pip install '.[vllm]') and a CUDA GPU; prints the card. The chats are the
default spec's teacher prompts for its examples, repeated (numbered) up to --prompts:
each category's system prompt is shared, as in a real run. Throughput runs are greedy
with a fixed --tokens (ignore_eos, so both runs decode the same number of tokens) and
report output tokens/s; the constrained run uses each chat's category schema with the
guidance backend. Target (issue 20): constrained >= 0.9x unconstrained. Then one
`generate`-style run of --prompts transcripts (schema budgets, sampling, seeds per
request) is timed end to end: transcripts/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from compiler import output_schema  # noqa: E402
from compiler.sft_gen import requests  # noqa: E402
from runtime.models import EMBEDDED_MODEL  # noqa: E402
from runtime.transcripts import Settings  # noqa: E402
from runtime.vllm_engine import VllmGenerator  # noqa: E402
from spec_lang import load  # noqa: E402


def example_requests(spec, count: int) -> list[dict]:
    """`count` requests of the spec's examples, numbered past the first round."""
    found, _ = requests(spec)
    chosen = []
    for number in range(count):
        request = dict(found[number % len(found)])
        request["id"] = f"{request['id']}#{number}"
        if number >= len(found):
            last = request["messages"][-1]
            numbered = {**last, "content": f"{last['content']} ({number})"}
            request["messages"] = [*request["messages"][:-1], numbered]
        chosen.append(request)
    return chosen


def tokens_per_s(generator: VllmGenerator, chats: list, schemas: list | None, tokens: int) -> float:
    """Output tokens/s of one greedy run of exactly `tokens` per chat."""
    from vllm import SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    def params(schema):
        structured = StructuredOutputsParams(json=schema) if schema else None
        return SamplingParams(
            temperature=0, max_tokens=tokens, ignore_eos=True, structured_outputs=structured
        )

    sampling = [params(schema) for schema in (schemas or [None] * len(chats))]
    start = time.perf_counter()
    results = generator.llm.chat(chats, sampling_params=sampling, use_tqdm=False)
    elapsed = time.perf_counter() - start
    return sum(len(r.outputs[0].token_ids) for r in results) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=EMBEDDED_MODEL)
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    args = parser.parse_args()

    import torch
    import vllm

    spec = load(ROOT / "policies")
    todo = example_requests(spec, args.prompts)
    chats = [r["messages"] for r in todo]
    schemas = [output_schema(spec, r["category"]) for r in todo]
    settings = Settings(model=args.model, engine="vllm", dtype="bfloat16")
    generator = VllmGenerator(settings, args.tensor_parallel_size)
    cards = ", ".join(torch.cuda.get_device_name(i) for i in range(args.tensor_parallel_size))
    print(f"vllm {vllm.__version__} on {cards}; model {args.model}; {len(chats)} chats")
    tokens_per_s(generator, chats[:8], schemas[:8], 8)  # warm: graphs, grammars
    ratios, free, bound = [], [], []
    for _ in range(args.runs):
        free.append(tokens_per_s(generator, chats, None, args.tokens))
        bound.append(tokens_per_s(generator, chats, schemas, args.tokens))
        ratios.append(bound[-1] / free[-1])
    print(f"unconstrained: {statistics.median(free):,.0f} output tok/s")
    print(f"constrained:   {statistics.median(bound):,.0f} output tok/s")
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= 0.9 else "MISSED"
    print(f"ratio:         {ratio:.2f}x (median of {args.runs}; >= 0.9x: {verdict})")
    start = time.perf_counter()
    written = sum(1 for _ in generator.transcripts(spec, todo))
    elapsed = time.perf_counter() - start
    print(f"generate:      {written} transcripts in {elapsed:.1f} s, {written / elapsed:.1f}/s")


if __name__ == "__main__":
    main()
