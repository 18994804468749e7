"""load(freeze=True) puts the tree beyond the collector's walks; that is only safe because
the tree has no reference cycles, so a dropped spec is still freed at once."""

import gc

from spec_lang import check, load


def test_a_frozen_spec_is_freed_when_dropped(write_spec):
    path = write_spec()
    gc.collect()
    gc.freeze()  # what is alive now, so that the counts below are the spec's
    try:
        before = gc.get_freeze_count()
        spec = load(path, freeze=True)
        check(spec)
        frozen = gc.get_freeze_count() - before
        del spec
        left = gc.get_freeze_count() - before
    finally:
        gc.unfreeze()
    assert frozen > 100  # the tree went to the permanent generation
    assert left < frozen / 10  # and left it by reference counting alone
