"""The sft target's records in TRL's SFTTrainer (a real trainer, a tiny random model, the default
model's real tokenizer): which tokens are trained, and the reasoning reaching the model."""

from __future__ import annotations

import json

import pytest

from compiler import compile_spec
from spec_lang import InputError
from tests.compiler.transcripts import write_transcripts
from tests.runtime.conftest import build_tiny_model
from tests.training.conftest import with_template

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")


def compiled_records(spec, tmp_path, **options) -> list[dict]:
    transcripts, _ = write_transcripts(spec, tmp_path)
    result = compile_spec(spec, "sft", tmp_path / "out", transcripts=transcripts, **options)
    [name] = result.files
    return [json.loads(line) for line in (tmp_path / "out" / name).read_text().splitlines()]


def sft_trainer(records: list[dict], tokenizer, tmp_path, **config):
    columns = ["prompt", "completion"] if "prompt" in records[0] else ["messages"]
    dataset = datasets.Dataset.from_list([{c: r[c] for c in columns} for r in records])
    args = trl.SFTConfig(
        output_dir=str(tmp_path / "trainer"),
        max_steps=1,
        per_device_train_batch_size=2,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        **config,
    )
    return trl.SFTTrainer(
        model=build_tiny_model(tokenizer, hidden=64),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )


def trained_text(trainer, tokenizer, index: int = 0) -> tuple[str, int, int]:
    """The text of the tokens example `index` trains on, and how many of how many."""
    batch = trainer.data_collator([trainer.train_dataset[index]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = [token for token, label in zip(ids, labels, strict=True) if label != -100]
    return tokenizer.decode(trained), len(trained), len(ids)


def test_default_records_train_on_the_answer_only(mini, tmp_path, real_tokenizer):
    records = compiled_records(mini, tmp_path)
    assert set(records[0]) >= {"prompt", "completion"} and "messages" not in records[0]
    trainer = sft_trainer(records, real_tokenizer, tmp_path)
    text, trained, total = trained_text(trainer, real_tokenizer)
    answer = records[0]["completion"][0]["content"]
    # The answer, its end token and the newline the template writes after it; nothing of
    # the prompt or the template's injected system prompt.
    assert text == answer + "<|im_end|>\n"
    assert trained < total
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0


def test_messages_records_train_on_every_token_unless_the_template_marks_the_answer(
    mini, tmp_path, real_tokenizer
):
    records = compiled_records(mini, tmp_path, sft_format="messages")
    answer = records[0]["messages"][-1]["content"]
    # The default model's template has no generation markers: every token is trained,
    # the injected "You are a helpful AI assistant named SmolLM" included.
    text, trained, total = trained_text(
        sft_trainer(records, real_tokenizer, tmp_path), real_tokenizer
    )
    assert trained == total and "named SmolLM" in text
    with pytest.raises(Exception, match="generation"):
        sft_trainer(records, real_tokenizer, tmp_path, assistant_only_loss=True)
    # The same template with {% generation %} markers (docs/compiler.md) and
    # assistant_only_loss: the answer alone.
    marked = with_template(real_tokenizer, "chatml_assistant_mask")
    trainer = sft_trainer(records, marked, tmp_path, assistant_only_loss=True)
    assert trained_text(trainer, marked)[0] == answer + "<|im_end|>"


def test_reasoning_field_is_refused_for_a_template_that_drops_it(mini, tmp_path):
    transcripts, _ = write_transcripts(mini, tmp_path)
    with pytest.raises(InputError, match=r"drops reasoning_content.*--reasoning inline"):
        compile_spec(mini, "sft", tmp_path / "out", transcripts=transcripts, reasoning="field")


def test_reasoning_field_reaches_the_model_through_a_template_that_renders_it(
    mini, tmp_path, real_tokenizer
):
    folder = tmp_path / "tokenizer"
    with_template(real_tokenizer, "chatml_reasoning").save_pretrained(folder)
    records = compiled_records(mini, tmp_path, reasoning="field", tokenizer=str(folder))
    tokenizer = with_template(real_tokenizer, "chatml_reasoning")
    text, _, _ = trained_text(sft_trainer(records, tokenizer, tmp_path), tokenizer)
    turn = records[0]["completion"][0]
    assert text == f"<think>\n{turn['reasoning_content']}\n</think>\n{turn['content']}<|im_end|>\n"
    assert "SH-2: The user states intent" in text
