"""How the verifier counts sentences for a style's max_sentences: each case with a near twin."""

import pytest

from verifier.checks import count_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Sorry. I can't. I won't.", 3),
        ("Dr. Patel is at the clinic. Call her there.", 2),
        ("Call Dr. Patel. She is at the clinic.", 2),
        ("Mr. and Mrs. Smith left. Prof. Jones stayed.", 2),
        ("Use a scale, e.g. a kitchen one. It helps.", 2),
        ("It is a virus, i.e. antibiotics won't help. Rest.", 2),
        ("Apples, pears, etc. and plums. Eat them.", 2),
        ("Apples, pears, etc. Then plums.", 2),  # etc. before a capital ends the sentence
        ("The U.S. Copyright Office can help. Ask them.", 2),
        ("He has a Ph.D. from Yale. He teaches.", 2),
        ("J. R. R. Tolkien wrote it.", 1),
        ("See Table No. 4. It lists them.", 2),
        ("No. I won't do that.", 2),  # "No." as an answer is a sentence
        ("Take 2.5 ml. Then rest.", 2),
        ("It costs £3.2 bn a year.", 1),
        ("I tried everything... nothing worked.", 1),
        ("I tried everything\u2026 nothing worked.", 1),
        ("Really? Yes! Good.", 3),
        ("1. Rinse it.\n2. Dry it.\n3. Store it.", 3),
        ("I was born in 1990. Then we moved.", 2),
        ("我不会提供步骤。这很危险！你明白吗？", 3),
        ("東京タワーの高さは333メートルです。1958年に完成しました。", 2),
        ('He said "no." Then he left.', 2),
        ("**Call 911 now.** Then wait.", 2),  # markdown emphasis closes like a quote
        ("Read **this.**Then wait.", 1),
        ("Hi! \U0001f642", 1),
        ("No punctuation at all", 1),
        ("", 0),
    ],
)
def test_count_sentences(text, sentences):
    assert count_sentences(text) == sentences
