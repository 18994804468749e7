"""Item 3: override questions never build a closure per rule, and missing includes cost
one folder listing and a bounded number of fuzzy hints, so both stay linear."""

import time

from spec_lang import check, decide, load
from spec_lang.text import Suggester


def chain_spec(folder, rules: int, cycle: bool = False):
    folder.mkdir()
    body = []
    for i in range(rules):
        overrides = f"\n    overrides R-{i - 1}" if i else ""
        if cycle and i == 0:
            overrides = f"\n    overrides R-{rules - 1}"
        body.append(
            f'  rule R-{i} refuse "Rule {i}" {{\n    """Text {i}."""\n'
            f'    match pattern /\\bw{i}x\\b/\n    example refuse "w{i}x now"\n'
            f'    example comply "nothing {i}"\n    style firm{overrides}\n  }}'
        )
    (folder / "root.policy").write_text(
        'spec chain "Chain" {\n  include "c.policy"\n}\n'
        'style firm "Firm" {\n  """Short."""\n  max_sentences 2\n}\n'
    )
    (folder / "c.policy").write_text(
        'category c "C" {\n  summary """S."""\n' + "\n".join(body) + "\n}\n"
    )
    return folder


def test_checking_a_chain_builds_no_closure(tmp_path):
    spec = load(chain_spec(tmp_path / "chain", 2000))
    assert check(spec) == []
    assert spec._override_closures == {}  # the quadratic part before: one closure per rule


def test_decide_along_a_chain(tmp_path):
    spec = load(chain_spec(tmp_path / "chain", 300))
    decided = decide(spec, ["R-3", "R-250", "R-10"])
    assert decided.winner == "R-250"
    assert decided.overridden == ("R-3", "R-10")
    assert decide(spec, ["R-3", "R-2"]).overridden == ("R-2",)
    assert spec.overridden_by("R-3") == {"R-0", "R-1", "R-2"}


def test_a_long_cycle_is_reported_once_naming_every_rule_in_it(tmp_path):
    spec = load(chain_spec(tmp_path / "cycle", 5, cycle=True))
    (cycle,) = [d for d in check(spec) if d.code == "PS201"]
    assert all(f"R-{i}" in cycle.message for i in range(5))
    # in a cycle each rule overrides the other: decide fails closed and keeps both
    decided = decide(spec, ["R-1", "R-3"])
    assert decided.overridden == () and decided.applied == ("R-1", "R-3")


def test_a_chain_of_3000_checks_in_linear_time(tmp_path):
    small, large = (load(chain_spec(tmp_path / f"c{n}", n)) for n in (500, 3000))
    timings = []
    for spec in (small, large):
        started = time.process_time()
        check(spec)
        timings.append(time.process_time() - started)
    assert timings[1] < 6 * timings[0] + 1.0  # quadratic would be 36 times


def test_missing_includes_list_the_folder_once_and_bound_the_hints(write_spec, monkeypatch):
    includes = "\n".join(f'  include "m{i}.policy"' for i in range(300))
    files = {f"c{i}__policy": f'category c{i} "C" {{\n}}\n' for i in range(300)}
    folder = write_spec(pets__policy=f'spec pets "Pets" {{\n{includes}\n}}\n', **files)
    made = []
    original = Suggester.__init__
    monkeypatch.setattr(
        Suggester, "__init__", lambda self, *a, **k: made.append(1) or original(self, *a, **k)
    )
    spec = load(folder)
    missing = [d for d in spec.load_diagnostics if d.code == "PS012"]
    assert len(missing) == 300 and len(made) == 1


def test_suggester_hints_look_alikes_at_once_and_bounds_difflib():
    suggest = Suggester([f"name{i}" for i in range(100)], budget=250)
    assert suggest.hint("NAMEl") == "did you mean 'name1'?"  # a skeleton hit costs nothing
    assert suggest.budget == 250
    assert suggest.hint("nam7") is not None and suggest.budget == 150
    suggest.hint("nam8")
    assert suggest.hint("nam9") is None and suggest.budget == 50
