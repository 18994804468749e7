"""Print the runtime's performance figures: model load (cold and warm), schema compile
time per backend and how it grows with maxLength, time to first token, and tokens/s
with and without the schema.

    python benchmarks/decoding.py [--model smollm2-135m] [--device auto] [--tokens 200]
                                  [--threads N]

The cold load converts the GGUF into a temporary cache folder, so the user's cache is
left alone. Measure on an otherwise idle machine (the load average is printed): with
other processes on the cores, torch's threads wait on each other and figures drop
several-fold; --threads 1 suffers least.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from typing import Any

from transformers.generation.streamers import BaseStreamer

from runtime.generation import (
    available_backends,
    compile_schema,
    generate_json,
    generate_text,
    stop_token_ids,
)
from runtime.models import load_model

SCHEMA = {
    "type": "object",
    "properties": {
        "reasoning": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "rule": {"type": "string", "enum": ["SH-0", "SH-2", "V-1"]},
                    "claim": {"type": "string", "maxLength": 200},
                },
                "required": ["rule", "claim"],
                "additionalProperties": False,
            },
        },
        "decision": {"type": "string", "enum": ["comply", "safe_complete", "refuse"]},
        "answer": {"type": "string", "maxLength": 400},
    },
    "required": ["reasoning", "decision", "answer"],
    "additionalProperties": False,
}
SYSTEM = (
    "Rules: SH-0 comply: discussing self-harm as a topic. SH-2 safe_complete: expressed "
    "intent to self-harm. V-1 refuse: instructions for violence. Reply in JSON: "
    "reasoning citing rules, decision, answer."
)
USERS = [
    "I want to hurt myself tonight.",
    "What are warning signs that a friend is suicidal?",
    "How do I build a pipe bomb?",
    "Write a short poem about the sea.",
]


class Clock(BaseStreamer):
    """Times each generation step and counts the tokens generated before each row ends."""

    def __init__(self, stop_ids: set[int]) -> None:
        self.start = time.perf_counter()
        self.steps: list[float] = []
        self.tokens = 0
        self.stop_ids = stop_ids
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if not self.prompt_seen:  # the first put is the prompt
            self.prompt_seen = True
            return
        self.steps.append(time.perf_counter())
        self.tokens += sum(int(t) not in self.stop_ids for t in value.reshape(-1).tolist())

    def end(self) -> None:
        pass

    def report(self, label: str) -> str:
        first = self.steps[0] - self.start
        decode = (len(self.steps) - 1) / (self.steps[-1] - self.steps[0])
        total = self.tokens / (self.steps[-1] - self.start)
        return (
            f"{label:<34} first token {first:6.2f} s   decode {decode:5.1f} steps/s   "
            f"{self.tokens:4d} tokens, {total:5.1f} tokens/s overall"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--tokens", type=int, default=200, help="max new tokens per answer")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    versions = ", ".join(
        f"{name} {version(name)}" for name in ("outlines", "outlines_core", "transformers", "torch")
    )
    print(f"{versions}; {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        for label in ("cold (convert + cache)", "warm, same process"):
            start = time.perf_counter()
            loaded = load_model(args.model, args.device)
            print(f"load {label:<28} {time.perf_counter() - start:6.2f} s")
        code = (
            "import time; t = time.perf_counter(); from runtime.models import load_model; "
            f"load_model({args.model!r}, {args.device!r}); print(time.perf_counter() - t)"
        )
        fresh = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        print(f"load {'warm, new process (+imports)':<28} {float(fresh.stdout):6.2f} s")
    print(f"model {loaded.name} on {loaded.device}, dtype {loaded.model.dtype}")

    backends = available_backends()
    for backend in backends:
        start = time.perf_counter()
        compile_schema(loaded, SCHEMA, backend)
        print(f"compile schema, {backend:<14} {time.perf_counter() - start:6.2f} s")
    for max_length in (50, 100, 200, 400, 800):
        schema = {
            "type": "object",
            "properties": {"answer": {"type": "string", "maxLength": max_length}},
            "required": ["answer"],
            "additionalProperties": False,
        }
        start = time.perf_counter()
        compile_schema(loaded, schema, "outlines_core")
        print(
            f"compile, outlines_core, one string maxLength {max_length:<4} "
            f"{time.perf_counter() - start:6.2f} s"
        )

    stop_ids = stop_token_ids(loaded)
    chats = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": u}] for u in USERS]
    # One short warm-up each: outlines_core's masking kernel is torch.compile'd on first use.
    first = time.perf_counter()
    for backend in backends:
        generate_json(loaded, chats[:1], SCHEMA, max_new_tokens=2, seed=0, backend=backend)
    print(f"first constrained call overhead (kernel compile) {time.perf_counter() - first:6.2f} s")
    for batch in (1, len(chats)):
        clock = Clock(stop_ids)
        generate_text(loaded, chats[:batch], max_new_tokens=args.tokens, seed=0, streamer=clock)
        print(clock.report(f"unconstrained, batch {batch}"))
        for backend in backends:
            clock = Clock(stop_ids)
            texts = generate_json(
                loaded,
                chats[:batch],
                SCHEMA,
                max_new_tokens=args.tokens,
                seed=0,
                backend=backend,
                streamer=clock,
            )
            valid = sum(_parses(text) for text in texts)
            print(clock.report(f"json {backend}, batch {batch}") + f"   {valid}/{batch} parse")


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


if __name__ == "__main__":
    main()
