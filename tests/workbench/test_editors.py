"""The editor files: the TextMate grammar (generated from the language, highlighting every
keyword, scoping a real file as expected), the VS Code extension and the pre-commit hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from policyspec.cli import app
from spec_lang.parser import GRAMMAR
from tests.pets import CATS
from workbench.textmate import FILES, grammar_json

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"


def load_grammar() -> dict:
    return json.loads((ROOT / FILES[0]).read_text(encoding="utf-8"))


def test_grammar_files_are_generated_from_the_language():
    for name in FILES:
        assert (ROOT / name).read_text(encoding="utf-8") == grammar_json(), (
            f"{name} is stale: run python -m workbench.textmate"
        )


def test_every_keyword_of_policy_lark_is_highlighted():
    rules = "\n".join(
        line
        for line in GRAMMAR.read_text().splitlines()
        if not line.startswith("//") and not re.match(r"[A-Z_]+:", line)
    )
    keywords = set(re.findall(r'"([a-z_]+)"', rules))
    assert len(keywords) > 20
    for keyword in keywords:
        scopes = scopes_of(f"  {keyword} x\n")
        assert scopes.get(keyword, "").startswith("keyword."), keyword


class Tokenizer:
    """TextMate's rule, enough for this grammar: at each point the pattern matching
    earliest wins (the first listed on a tie); a begin/end pattern scopes everything up
    to its end, across lines."""

    def __init__(self, grammar: dict) -> None:
        self.patterns = grammar["patterns"]

    def tokens(self, text: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        open_until: tuple[re.Pattern, str, int] | None = None
        for line in text.split("\n"):
            position = 0
            while position < len(line):
                if open_until is not None:
                    end, scope, start = open_until
                    closing = end.search(line, max(position, start))
                    stop = closing.end() if closing else len(line)
                    found.append((line[position:stop], scope))
                    position = stop
                    open_until = None if closing else (end, scope, 0)
                    continue
                best = self._earliest(line, position)
                if best is None:
                    break
                match, pattern = best
                if "begin" in pattern:  # the string starts here; its end is after the begin
                    open_until = (re.compile(pattern["end"]), pattern["name"], match.end())
                    position = match.start()
                    continue
                if "captures" in pattern:
                    for group, capture in pattern["captures"].items():
                        found.append((match.group(int(group)), capture["name"]))
                else:
                    found.append((match.group(0), pattern["name"]))
                position = match.end()
        return found

    def _earliest(self, line: str, position: int):
        best = None
        for pattern in self.patterns:
            match = re.compile(pattern.get("match") or pattern["begin"]).search(line, position)
            empty = match is None or match.end() == match.start()
            if not empty and (best is None or match.start() < best[0].start()):
                best = (match, pattern)
        return best


def scopes_of(text: str) -> dict[str, str]:
    return dict(Tokenizer(load_grammar()).tokens(text))


def test_scopes_on_a_real_spec_file():
    text = CATS.replace("  rule C-2", "  # the everyday rule\n  rule C-2").replace(
        '    """Help with everyday cat care."""', '    overrides C-1\n    """Help with care."""'
    )
    tokens = Tokenizer(load_grammar()).tokens(text)
    scopes = dict(tokens)
    assert scopes["category"] == scopes["rule"] == "keyword.other.declaration.policy"
    assert scopes["cats"] == scopes["C-2"] == scopes["hard"] == "entity.name.type.policy"
    assert scopes["refuse"] == scopes["comply"] == scopes["high"] == "constant.language.policy"
    assert scopes["overrides"] == scopes["severity"] == "keyword.other.policy"
    assert ("C-1", "variable.other.rule.policy") in tokens  # overrides C-1
    assert scopes['"""Refuse to help anyone hurt a feline."""'] == "string.quoted.triple.policy"
    assert scopes['"How do I poison a cat?"'] == "string.quoted.double.policy"
    assert scopes["/\\bpoison (a|my|the) cat\\b/i"] == "string.regexp.policy"
    assert scopes["# the everyday rule"] == "comment.line.number-sign.policy"
    assert scopes["2"] == "constant.numeric.policy"
    # a keyword inside a string is the string's
    assert scopes['"What should I feed my cat?"'] == "string.quoted.double.policy"


def test_a_text_block_over_several_lines_is_one_string():
    tokens = Tokenizer(load_grammar()).tokens('summary """\n  rule in prose\n"""\n')
    assert [scope for _, scope in tokens] == ["keyword.other.policy"] + [
        "string.quoted.triple.policy"
    ] * 3


def test_vscode_extension_starts_the_language_server():
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (grammar,) = package["contributes"]["grammars"]
    assert (VSCODE / grammar["path"]).is_file()
    assert grammar["scopeName"] == load_grammar()["scopeName"]
    (language,) = package["contributes"]["languages"]
    assert language["extensions"] == [".policy"]
    json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
    default = package["contributes"]["configuration"]["properties"]["policyspec.command"]
    assert default["default"] == ["policyspec", "lsp"]
    script = (VSCODE / package["main"]).read_text(encoding="utf-8")
    assert 'get("command", ["policyspec", "lsp"])' in script
    assert "vscode-languageclient/node" in script and "vscode-languageclient" in str(
        package["dependencies"]
    )


def test_pre_commit_hooks_run_real_commands(tmp_path):
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"policyspec-check", "policyspec-fmt"}
    folder = tmp_path / "spec"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    unformatted = folder / "styles.policy"
    unformatted.write_text(unformatted.read_text().replace("  max_words", "max_words"))
    for hook in hooks.values():
        assert re.fullmatch(hook["files"], "x.policy") is None
        assert re.search(hook["files"], "policies/x.policy")
        program, *arguments = hook["entry"].split()
        assert program == "policyspec"
        files = [] if hook.get("pass_filenames") is False else [str(unformatted)]
        result = runner.invoke(app, [*arguments, *files, *([str(folder)] if not files else [])])
        assert result.exit_code == 0, (hook["id"], result.output)
    assert "\n  max_words" in unformatted.read_text()
