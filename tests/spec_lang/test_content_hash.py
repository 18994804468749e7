"""The content hash names what a spec says: layout and comments do not change it."""

from spec_lang import load
from tests.pets import CATS


def test_layout_comments_and_string_form_keep_the_hash(write_spec):
    original = load(write_spec()).content_hash
    relaid = "# the cats\n" + CATS.replace("  ", "    ").replace(
        '"Cats" {', '"Cats" {  # header'
    ).replace('"""A cat."""', '"A cat."')
    assert load(write_spec(cats__policy=relaid)).content_hash == original


def test_a_change_of_meaning_changes_the_hash(write_spec):
    original = load(write_spec()).content_hash
    changed = CATS.replace("rule C-2 comply", "rule C-2 refuse")
    assert load(write_spec(cats__policy=changed)).content_hash != original
