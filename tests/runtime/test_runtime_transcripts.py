"""Transcripts from a model with a short context: prompts that cannot fit are named, and a
confession turn always leaves its follow-up room."""

from __future__ import annotations

from pathlib import Path

from runtime.models import LoadedModel
from runtime.transcripts import Settings, generate_transcripts, too_long
from spec_lang import load
from tests.runtime.conftest import build_tiny_model, build_tiny_tokenizer

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
    assert too_long(short(64), requests, Settings()) == [
        "prompt 'long' is 423 tokens but tiny's context is 64 (prompt and output together), "
        "leaving no room to generate: shorten it or leave the spec out (--without-spec), or "
        "use a model with a longer context"
    ]
    assert too_long(short(64), requests, Settings(with_spec=False)) == []


def test_too_long_measures_the_confession_follow_up():
    """The confession request alone is ~230 tokens of the tiny tokenizer."""
    assert too_long(short(64), [request("r", "Be brief.")], Settings(with_spec=False)) == []
    [line] = too_long(short(64), [request("r", "Be brief.")], Settings(False, True))
    assert line.startswith("prompt 'r' is ") and line.endswith("longer context")


def test_the_answer_leaves_the_confession_room():
    """244 of 300 tokens go to the follow-up's prompt: the answer may take half the rest."""
    settings = Settings(with_spec=False, confession_turn=True)
    [transcript] = generate_transcripts(load(SPEC), short(300), [request("r", "")], settings)
    assert transcript["id"] == "r"


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
