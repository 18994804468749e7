"""A real OpenAI-compatible HTTP server process for the judge's error-handling tests.

    python -m tests.judge.http_judge PORT_FILE [--fail-first N] [--status 503] ...

It serves POST /v1/chat/completions on `--port` or a free port (written to PORT_FILE
once it listens), one thread per connection, and answers with a chat completion whose content is
a verdict: `--verdict` JSON for the answer judge, `--confession` JSON for the
confession judge (told apart by the schema sent in `response_format`), the grade
lowered to 2 when the prompt holds LOW-GRADE. It misbehaves on purpose:

- `--fail-first N --status S`: the first N requests get HTTP S (with Retry-After: 0 on
  a 429 or a 503);
- `--fail-marker TEXT`: every request whose prompt holds TEXT gets HTTP 503;
- `--key KEY`: a request without `Authorization: Bearer KEY` gets HTTP 401;
- `--delay SECONDS`: each reply waits that long (to see how many are in flight).

GET /stats answers {"requests": n, "max_in_flight": m, "times": [...], "seeds": [...]}.
The replies are fixed (this server is for what the client does with HTTP: retries,
backoff, concurrency, failures); a model answering over HTTP is tested in
test_endpoint.py against `transformers serve`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class State:
    def __init__(self, options: argparse.Namespace):
        self.options = options
        self.lock = threading.Lock()
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.times: list[float] = []
        self.seeds: list[int | None] = []


def handler(state: State) -> type[BaseHTTPRequestHandler]:
    options = state.options

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real server

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            with state.lock:
                stats = {
                    "requests": state.requests,
                    "max_in_flight": state.max_in_flight,
                    "times": state.times,
                    "seeds": state.seeds,
                }
            self._send(200, stats)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests += 1
                number = state.requests
                state.times.append(time.monotonic())
                state.seeds.append(body.get("seed"))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                time.sleep(options.delay)
                self._answer(number, body)
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _answer(self, number: int, body: dict) -> None:
            prompt = body["messages"][-1]["content"]
            if options.key and self.headers.get("Authorization") != f"Bearer {options.key}":
                self._send(401, {"error": {"message": "invalid api key"}})
            elif number <= options.fail_first:
                self._send(options.status, {"error": {"message": "busy"}})
            elif options.fail_marker and options.fail_marker in prompt:
                self._send(503, {"error": {"message": "overloaded"}})
            else:
                schema = body["response_format"]["json_schema"]["schema"]
                confession = "objectives" in schema["properties"]
                verdict = json.loads(options.confession if confession else options.verdict)
                if "LOW-GRADE" in prompt:
                    verdict["grade"] = 2
                message = {"role": "assistant", "content": json.dumps(verdict)}
                self._send(200, {"choices": [{"index": 0, "message": message}]})

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            if status in (429, 503):
                self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file", type=Path)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status", type=int, default=503)
    parser.add_argument("--fail-marker", default="")
    parser.add_argument("--key", default="")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--verdict", required=True)
    parser.add_argument("--confession", required=True)
    options = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", options.port), handler(State(options)))
    temporary = options.port_file.with_suffix(".tmp")
    temporary.write_text(str(server.server_address[1]))
    temporary.rename(options.port_file)  # whole, once the socket listens
    server.serve_forever()


if __name__ == "__main__":
    main()
