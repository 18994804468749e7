"""Transcripts from a model with a short context: prompts that cannot fit are named, and a
confession turn always leaves its follow-up room."""

from __future__ import annotations

from pathlib import Path

from runtime import transcripts
from runtime.generation import (
    DEFAULT_BACKEND,
    REPETITION_PENALTY,
    TEMPERATURE,
    TOP_P,
    prompt_lengths,
)
from runtime.models import LoadedModel
from runtime.transcripts import Settings, _follow_up, generate_transcripts, too_long
from spec_lang import load
from tests.runtime.conftest import build_tiny_model, build_tiny_tokenizer
from tests.runtime.test_runtime_generation import PrefillCounter

SPEC = Path(__file__).resolve().parent.parent / "verifier" / "specs" / "baseline"
HI = {"id": "hi", "category": None, "conversation": [{"role": "user", "content": "Hi"}]}


def short(context: int) -> LoadedModel:
    tokenizer = build_tiny_tokenizer()
    return LoadedModel(build_tiny_model(tokenizer, context=context), tokenizer, "tiny", "cpu")


def request(id_: str, system: str) -> dict:
    return {
        **HI,
        "id": id_,
        "messages": [{"role": "system", "content": system}, *HI["conversation"]],
    }


def test_too_long_names_each_prompt_that_fills_the_context():
    requests = [request("fits", "Be brief."), request("long", "Be brief. " * 40)]
    assert too_long(load(SPEC), short(300), requests, Settings()) == [
        "prompt 'long' is 423 tokens but tiny's context is 300 (prompt and output together), "
        "leaving no room to generate: shorten it or leave the spec out (--without-spec), or "
        "use a model with a longer context"
    ]
    assert too_long(load(SPEC), short(300), requests, Settings(with_spec=False)) == []


def test_a_prompt_leaving_less_than_the_shortest_output_is_refused():
    """The baseline spec's shortest valid output is 115 tokens of the tiny tokenizer with
    its end token: a 32-token prompt fits a context of 147, not one of 146."""
    fits = [request("r", "Be brief.")]
    assert too_long(load(SPEC), short(147), fits, Settings()) == []
    assert too_long(load(SPEC), short(146), fits, Settings()) == [
        "prompt 'r' is 32 tokens, leaving 114 of tiny's context of 146 for the output, but "
        "the shortest output its schema allows takes 115: shorten it or leave the spec out "
        "(--without-spec), or use a model with a longer context"
    ]


def test_too_long_measures_the_confession_follow_up():
    """The confession request alone is ~230 tokens of the tiny tokenizer."""
    settings = Settings(with_spec=False)
    assert too_long(load(SPEC), short(300), [request("r", "Be brief.")], settings) == []
    settings = Settings(with_spec=False, confession_turn=True)
    [line] = too_long(load(SPEC), short(300), [request("r", "Be brief.")], settings)
    assert line.startswith("prompt 'r' is ") and line.endswith("longer context")


def test_the_answer_leaves_the_confession_room_and_the_confession_continues_its_history(
    monkeypatch,
):
    """244 of 600 tokens go to the follow-up's prompt: the answer may take half the rest.
    The confession turn computes only what its history (the prompt and the answer's
    tokens) does not hold already."""
    settings = Settings(with_spec=False, confession_turn=True)
    loaded = short(600)
    follow_ups = []
    monkeypatch.setattr(
        transcripts,
        "_follow_up",
        lambda *args: follow_ups.append(_follow_up(*args)) or follow_ups[-1],
    )
    counter = PrefillCounter(loaded)
    try:
        [transcript] = generate_transcripts(load(SPEC), loaded, [request("r", "")], settings)
    finally:
        counter.hook.remove()
    assert transcript["id"] == "r"
    assert isinstance(transcript["output"], dict)  # the answer parsed: a confession followed
    first, confession = [n for n in counter.lengths if n > 1]
    [follow_up] = prompt_lengths(loaded, follow_ups[-1:])  # the one with the answer
    assert confession <= follow_up - first


def test_a_transcript_is_the_same_whichever_requests_share_its_run():
    """Each request is sampled from its own seed (the run's and its id) and recorded with
    the settings: a resumed run, or one with another --limit, writes the same line."""
    spec, loaded = load(SPEC), short(200)
    settings = Settings(model="tiny", with_spec=False, seed=7)
    alone = list(generate_transcripts(spec, loaded, [request("b", "")], settings))
    together = list(
        generate_transcripts(spec, loaded, [request("a", ""), request("b", "")], settings)
    )
    assert [t["id"] for t in together] == ["a", "b"]
    assert together[1] == alone[0]
    assert alone[0]["generation"] == {
        "model": "tiny",
        "engine": "transformers",
        "dtype": "float32",
        "with_spec": False,
        "confession_turn": False,
        "seed": 7,
        "backend": DEFAULT_BACKEND,
        "temperature": TEMPERATURE,
        "top_p": TOP_P,
        "repetition_penalty": REPETITION_PENALTY,
    }
    other_seed = generate_transcripts(spec, loaded, [request("b", "")], Settings(seed=8))
    assert next(other_seed)["output"] != alone[0]["output"]


def test_a_requests_metadata_is_copied_into_its_transcript():
    """The conversation attributes a `when` rule tests must reach the verifier."""
    settings = Settings(with_spec=False)
    tagged = {**request("tagged", ""), "metadata": {"audience": "minor"}}
    transcripts = generate_transcripts(
        load(SPEC), short(300), [tagged, request("plain", "")], settings
    )
    by_id = {t["id"]: t for t in transcripts}
    assert by_id["tagged"]["metadata"] == {"audience": "minor"}
    assert "metadata" not in by_id["plain"]
