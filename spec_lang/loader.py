"""A spec on disk to a `Spec`: find the root file, parse it, follow its includes.

Problems with the input itself (a missing path, a folder with no spec, a file
that is not UTF-8, an include that leaves the spec folder, a .policy file that is
not a regular file or is over MAX_POLICY_BYTES) raise InputError:
nothing sensible can be said about such a spec. Problems *in* the spec (syntax
errors, a missing or repeated include) become diagnostics, and the rest of the
spec is still loaded so that every problem is reported in one run.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.diagnostics import Diagnostic
from spec_lang import ast
from spec_lang.diagnostics import InputError, SpecError
from spec_lang.parser import gc_paused, parse_all
from spec_lang.text import Suggester


class cached:
    """`functools.cached_property` without its lock (Python 3.11 takes one on every first
    access): a value computed on first use and kept on the instance."""

    def __init__(self, compute):
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


POLICY_SUFFIX = ".policy"
MAX_POLICY_BYTES = 8 << 20  # one .policy file; the largest generated category file is 6 kB
_SPEC_HEADER = re.compile(r"^\s*spec\s+[A-Za-z_]", re.MULTILINE)


@dataclass(frozen=True)
class Spec:
    """A loaded spec: its files in include order, plus lookups every layer shares."""

    folder: Path
    files: tuple[ast.PolicyFile, ...]
    sources: dict[str, str] = field(repr=False)
    load_diagnostics: tuple[Diagnostic, ...] = ()
    # A layer (`extends`): the spec it is built on, whose files come first in `files`.
    base: Spec | None = field(default=None, repr=False)

    @cached
    def header(self) -> ast.SpecHeader:
        """The spec's own header: a layer's, not its base's."""
        root = self.files[len(self.base.files) if self.base else 0]
        return next(d for d in root.declarations if isinstance(d, ast.SpecHeader))

    @cached
    def base_files(self) -> frozenset[str]:
        """The paths of the files that come from the base (none when this is no layer)."""
        return frozenset(tree.path for tree in self.base.files) if self.base else frozenset()

    def in_base(self, node: ast.Node) -> bool:
        """Whether `node` was written in the base, not in this layer."""
        return node.span.file in self.base_files

    @cached
    def exception_categories(self) -> dict[str, frozenset[str]]:
        """Each rule of this layer that overrides rules of its base, to the categories of
        those rules: the layer's exception belongs to them too (their prompts and schemas
        carry it, and a conversation in one of them may cite it)."""
        if self.base is None:
            return {}
        found = {}
        for rule_id, rule in self.rule_by_id.items():
            if self.in_base(rule):
                continue
            targets = [self.rule_by_id[t] for t in self.overridden_by(rule_id)]
            categories = {self.category_of[t.id].id for t in targets if self.in_base(t)}
            if categories:
                found[rule_id] = frozenset(categories)
        return found

    @property
    def name(self) -> str:
        return self.header.id

    @property
    def title(self) -> str:
        return self.header.title

    @property
    def version(self) -> str:
        return self.header.version or "0.0.0"

    @cached
    def decisions(self) -> tuple[str, ...]:
        """Decision labels from least to most strict."""
        declared = self.header.decisions
        if declared:
            return tuple(n.value for n in declared.labels)
        return self.base.decisions if self.base else ast.DEFAULT_DECISIONS

    @cached
    def strictness(self) -> dict[str, int]:
        return {label: rank for rank, label in enumerate(self.decisions)}

    @cached
    def severities(self) -> tuple[str, ...]:
        """Severity levels from lowest to highest: the declared scale (a layer's base's
        unless the layer declares one), or low..critical."""
        declared = self.header.severities
        if declared:
            return tuple(n.value for n in declared.labels)
        return self.base.severities if self.base else ast.DEFAULT_SEVERITIES

    @cached
    def severity_rank(self) -> dict[str, int]:
        return {label: rank for rank, label in enumerate(self.severities)}

    @property
    def default_severity(self) -> str:
        """What a rule that names no severity has: medium on the default scale, else the lowest."""
        if self.base is not None and not self.header.severities:
            return self.base.default_severity
        return ast.DEFAULT_SEVERITY.value if not self.header.severities else self.severities[0]

    @cached
    def attributes(self) -> dict[str, tuple[str, ...]]:
        """The conversation attributes rules can test, each with its values (a layer's and
        its base's)."""
        found: dict[str, tuple[str, ...]] = dict(self.base.attributes) if self.base else {}
        for statement in self.header.attributes:
            found.setdefault(statement.name.value, tuple(v.value for v in statement.values))
        return found

    @cached
    def answer_kinds(self) -> dict[str, str]:
        """What each decision asks of the answer: comply, safe_complete, refuse or none. A
        default decision asks its own kind; another asks none unless `answer` says."""
        kinds = {d: d if d in ast.DEFAULT_DECISIONS else "none" for d in self.decisions}
        if self.base:
            kinds.update((d, k) for d, k in self.base.answer_kinds.items() if d in kinds)
        for statement in self.header.answers:
            if statement.decision.value in kinds and statement.answer.value in ast.ANSWER_KINDS:
                kinds[statement.decision.value] = statement.answer.value
        return kinds

    @property
    def default_decision(self) -> str:
        default = self.header.default
        if default:
            return default.value
        return self.base.default_decision if self.base else self.decisions[0]

    @property
    def default_style(self) -> str | None:
        """The style when no rule applies (`default comply style ID`), or None. A layer
        that says no `default` keeps its base's."""
        if self.header.default is None and self.base:
            return self.base.default_style
        style = self.header.default_style
        return style.value if style else None

    @cached
    def tools(self) -> dict[str, ast.Tool]:
        """The tools the spec declares (a layer's and its base's), by name."""
        found = dict(self.base.tools) if self.base else {}
        for tool in self.header.tools:
            found.setdefault(tool.name.value, tool)
        return found

    @cached
    def categories(self) -> tuple[ast.Category, ...]:
        return self._declarations(ast.Category)

    @cached
    def styles(self) -> tuple[ast.Style, ...]:
        return self._declarations(ast.Style)

    @cached
    def rules(self) -> tuple[ast.Rule, ...]:
        """Every rule, in declaration order (root file first, then includes in order)."""
        return tuple(rule for category in self.categories for rule in category.rules)

    @cached
    def rule_by_id(self) -> dict[str, ast.Rule]:
        """The first rule declared under each ID (the checker reports any later ones)."""
        found: dict[str, ast.Rule] = {}
        for rule in self.rules:
            found.setdefault(rule.id, rule)
        return found

    @cached
    def rule_order(self) -> dict[str, int]:
        return {rule_id: index for index, rule_id in enumerate(self.rule_by_id)}

    @cached
    def category_of(self) -> dict[str, ast.Category]:
        found: dict[str, ast.Category] = {}
        for category in self.categories:
            for rule in category.rules:
                found.setdefault(rule.id, category)
        return found

    @cached
    def category_by_id(self) -> dict[str, ast.Category]:
        found: dict[str, ast.Category] = {}
        for category in self.categories:
            found.setdefault(category.id, category)
        return found

    @cached
    def style_by_id(self) -> dict[str, ast.Style]:
        found: dict[str, ast.Style] = {}
        for style in self.styles:
            found.setdefault(style.id, style)
        return found

    @cached
    def renamed(self) -> dict[str, str]:
        """Old rule ID to the rule that now carries it (`renamed_from`)."""
        return {old.value: rule.id for rule in self.rules for old in rule.renamed_from}

    @cached
    def renamed_categories(self) -> dict[str, str]:
        """Old category ID to the category that now carries it (`renamed_from`)."""
        return {old.value: c.id for c in self.categories for old in c.renamed_from}

    def resolve_category(self, category_id: str) -> str | None:
        """The current ID for a category ID, following renames; None if unknown."""
        if category_id in self.category_by_id:
            return category_id
        return self.renamed_categories.get(category_id)

    def resolve(self, rule_id: str) -> str | None:
        """The current ID for a rule ID, following renames; None if unknown."""
        if rule_id in self.rule_by_id:
            return rule_id
        return self.renamed.get(rule_id)

    def overridden_by(self, rule_id: str) -> frozenset[str]:
        """Every rule `rule_id` overrides, directly or through a chain of overrides.

        It costs the size of the answer: for questions about a few rules, use
        `overridden_among` or `in_override_cycle`, which never build one closure per rule
        (in a 10,000-rule chain, every closure together holds 50 million IDs)."""
        cache = self._override_closures
        if rule_id not in cache:
            cache[rule_id] = frozenset(self._reach((rule_id,), None)) - {rule_id}
        return cache[rule_id]

    @cached
    def _override_closures(self) -> dict[str, frozenset[str]]:
        return {}

    @cached
    def override_edges(self) -> dict[str, tuple[str, ...]]:
        """Each rule ID to the rules it overrides directly (renames followed, unknowns left out)."""
        edges: dict[str, tuple[str, ...]] = {}
        for rule_id, rule in self.rule_by_id.items():
            targets = (self.resolve(name.value) for name in rule.overrides)
            edges[rule_id] = tuple(dict.fromkeys(t for t in targets if t))
        return edges

    @cached
    def override_rank(self) -> dict[str, int]:
        """Each rule's strongly connected component in the override graph, numbered so that a
        rule overrides only rules of a lower or equal number (equal: the same component, an
        override cycle). Tarjan's algorithm without recursion: linear in rules and overrides."""
        edges = self.override_edges
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        rank: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        components = 0
        for start in edges:
            if start in index:
                continue
            work = [(start, iter(edges[start]))]
            index[start] = low[start] = len(index)
            stack.append(start)
            on_stack.add(start)
            while work:
                node, successors = work[-1]
                for target in successors:
                    if target not in index:
                        index[target] = low[target] = len(index)
                        stack.append(target)
                        on_stack.add(target)
                        work.append((target, iter(edges[target])))
                        break
                    if target in on_stack:
                        low[node] = min(low[node], index[target])
                else:
                    work.pop()
                    if work:
                        parent = work[-1][0]
                        low[parent] = min(low[parent], low[node])
                    if low[node] == index[node]:
                        while True:
                            member = stack.pop()
                            on_stack.discard(member)
                            rank[member] = components
                            if member == node:
                                break
                        components += 1
        return rank

    def in_override_cycle(self, rule_id: str, target: str) -> bool:
        """Whether the override `rule_id` -> `target` closes a cycle (`target` overrides
        `rule_id`, directly or through a chain, or is `rule_id`)."""
        rank = self.override_rank
        return rule_id == target or rank[rule_id] == rank[target]

    @cached
    def _has_override_cycle(self) -> bool:
        return len(set(self.override_rank.values())) < len(self.override_rank) or any(
            rule_id in targets for rule_id, targets in self.override_edges.items()
        )

    def overridden_among(self, sources: Iterable[str], targets: Iterable[str]) -> set[str]:
        """The `targets` that some rule in `sources` overrides, directly or through a chain (a
        rule never counts as overriding itself). The search visits only rules ranked at or
        above the lowest target (`override_rank`), so a question about a few rules costs the
        part of the graph between them, never a closure per rule."""
        wanted = set(targets)
        if not wanted:
            return set()
        sources = tuple(dict.fromkeys(sources))
        if self._has_override_cycle:  # a spec with errors: the plain definition, per source
            return {t for s in sources for t in self.overridden_by(s) if t in wanted}
        floor = min(self.override_rank[t] for t in wanted)
        return self._reach(sources, floor) & wanted

    def _reach(self, sources: Iterable[str], floor: int | None) -> set[str]:
        """Every rule reached from `sources` by one or more overrides, skipping rules ranked
        below `floor` (none skipped when it is None)."""
        edges, rank = self.override_edges, self.override_rank
        found: set[str] = set()
        stack = list(sources)
        while stack:
            for target in edges.get(stack.pop(), ()):
                if target not in found and (floor is None or rank[target] >= floor):
                    found.add(target)
                    stack.append(target)
        return found

    def authority(self, rule_id: str) -> ast.Authority:
        """The rule's own authority, else its category's; where neither says, a layer's
        rules speak for the developer and any other rule for the platform."""
        rule = self.rule_by_id[rule_id]
        level = rule.authority or self.category_of[rule_id].authority
        default = ast.DEFAULT_AUTHORITY
        if self.base is not None and not self.in_base(rule):
            default = ast.Authority.DEVELOPER
        try:
            return ast.Authority(level.value) if level else default
        except ValueError:
            return default

    def severity(self, rule_id: str) -> str:
        """The rule's severity on the spec's scale (an unknown one reads as the default)."""
        level = self.rule_by_id[rule_id].severity
        if level is not None and level.value in self.severity_rank:
            return level.value
        return self.default_severity

    @cached
    def content_hash(self) -> str:
        """sha256 of the spec's meaning: its trees as JSON, without spans or comments
        (fields the tree excludes from serialising).

        Reformatting or re-commenting a spec keeps its hash, so stored transcripts
        stay linked to it; any change to what the spec says changes it.
        """
        digest = hashlib.sha256()
        for tree in self.files:
            digest.update(tree.__pydantic_serializer__.to_json(tree))
        return "sha256:" + digest.hexdigest()

    def _declarations(self, kind: type) -> tuple:
        return tuple(d for tree in self.files for d in tree.declarations if isinstance(d, kind))


def load(
    path: str | Path, *, freeze: bool = False, unsaved: Mapping[str, str] | None = None
) -> Spec:
    """Load the spec at `path`: its folder, its root file, or any file of it (the
    root is then found by walking up from the file's folder).

    Raises InputError for unreadable input, SpecError when the root file does not
    parse (with every syntax error in it) or when a file belongs to no spec (with
    the file's syntax errors and a note). Syntax errors in included files are kept
    in `load_diagnostics`, and the rest of each such file is loaded.

    `freeze` is for a spec that lives as long as the process, as in the commands: the
    tree (about 66 objects per rule) goes to the collector's permanent generation
    (gc.freeze) before collection resumes, so no collection walks it again; at 10,000
    rules the collections after load, after check and at exit took 1.8 s. gc.freeze
    takes every object alive at that moment, so a process that later drops cyclic
    structures it made before loading should leave it off.

    `unsaved` gives the text of files as an editor holds them, by path (as the loader
    names a file: the root's folder joined with the include's path), in place of what
    is on disk: the language server checks what the author is typing.
    """
    read: dict[str, str] = {}
    path = Path(path)
    with gc_paused():  # one pause for all files: re-enabling between them rescans the trees
        root = find_root(path, read)
        read.update(unsaved or {})
        if root is None:
            _no_spec(path, read)
        spec = _load(root, read)
        if freeze:
            gc.freeze()
    return spec


def _no_spec(file: Path, read: dict[str, str]) -> None:
    """A file that belongs to no spec: its syntax errors, and a note that says so."""
    name = str(file)
    _, errors = parse_all(read[name], name)
    note = Diagnostic(
        "PS010",
        f"{file} belongs to no spec: no folder from {file.resolve().parent} up has a .policy file "
        "with a spec header",
        None,
        hint='give the spec a root file that starts with `spec NAME "Title" { include ... }`',
    )
    raise SpecError([*errors, note], {name: read[name]})


def _load(root_file: Path, read: dict[str, str], layers: tuple[Path, ...] = ()) -> Spec:
    """`read` holds the files find_root has read already, by path; `layers` the root files
    of the layers built on this spec, to catch a cycle of `extends`."""
    folder = root_file.parent
    sources: dict[str, str] = {}
    root_name = str(root_file)
    sources[root_name] = read.get(root_name) or read_policy(root_file)
    root_tree, diagnostics = parse_all(sources[root_name], root_name)
    declarations = root_tree.declarations if root_tree else ()
    headers = [d for d in declarations if isinstance(d, ast.SpecHeader)]
    if not headers:
        if diagnostics:
            raise SpecError(diagnostics, sources)
        raise InputError(
            f'{root_file}: no spec header; start the file with `spec NAME "Title" {{ }}`',
            "PS003",
        )
    base = None
    if headers[0].extends is not None:
        base, problem = _base(folder, headers[0].extends, (*layers, root_file.resolve()))
        if problem is not None:
            diagnostics.append(problem)
    files = [*(base.files if base else ()), root_tree]
    seen = {root_file.resolve(): headers[0].span}
    if base is not None:
        sources.update(base.sources)
        diagnostics[:0] = base.load_diagnostics
        seen.update((Path(tree.path).resolve(), headers[0].span) for tree in base.files)
    resolved_folder = folder.resolve()
    suggest: Suggester | None = None  # made at the first missing include: it lists the folder
    for include in headers[0].includes:
        target = _include_target(folder, resolved_folder, include)
        if target in seen:
            what = (
                "includes the root file" if target == root_file.resolve() else "repeats an include"
            )
            diagnostics.append(
                Diagnostic(
                    "PS011",
                    f"include cycle: {include.path!r} {what}",
                    include.span,
                    hint="include each file once, and never the root file",
                )
            )
            continue
        seen[target] = include.span
        if not target.exists():
            if suggest is None:
                suggest = Suggester(p.name for p in folder.glob(f"*{POLICY_SUFFIX}"))
            diagnostics.append(
                Diagnostic(
                    "PS012",
                    f"included file {include.path!r} does not exist",
                    include.span,
                    hint=suggest.hint(include.path)
                    or f"create it, or remove the include (paths are relative to {folder})",
                )
            )
            continue
        name = str(folder / include.path)
        sources[name] = read.get(name) or read_policy(target)
        tree, errors = parse_all(sources[name], name)
        diagnostics.extend(errors)
        if tree is not None:
            files.append(tree)
    found = tuple(diagnostics) + _unincluded(folder, seen)
    return Spec(folder, tuple(files), sources, found, base)


def _base(
    folder: Path, extends: ast.Extends, layers: tuple[Path, ...]
) -> tuple[Spec | None, Diagnostic | None]:
    """The spec an `extends` names, loaded as it is; or why it cannot be (PS016)."""
    path = folder / extends.path
    reason = None
    try:
        base_read: dict[str, str] = {}
        root = find_root(path, base_read) if path.is_dir() or path.is_file() else None
        if root is None:
            reason = "no spec there"
        elif root.resolve() in layers:
            reason = "it is built on this spec (a cycle of extends)"
        else:
            return _load(root, base_read, layers), None
    except SpecError as error:
        reason = f"its root file does not parse ({error.diagnostics[0].message})"
    except InputError as error:
        reason = str(error)
    message = f"cannot build on {extends.path!r}: {reason}"
    hint = "give the path of the base spec's folder, relative to this root file's folder"
    return None, Diagnostic("PS016", message, extends.span, hint=hint)


def find_root(path: Path, read: dict[str, str] | None = None) -> Path | None:
    """The root file of the spec that `path` names: a spec folder, its root file, or
    any other file of the spec. From a folder with no root file, and from a file
    without a spec header, the root is looked for in the folders above, up to the top
    of the repository (a folder with .git) or of the file system; None when a file
    belongs to no spec.

    The text of each file it reads goes into `read`, by path, for the loader.
    """
    read = {} if read is None else read
    if not path.exists():
        raise InputError(
            f"{path}: no such file or folder; give a spec folder or one of its .policy files"
        )
    if path.is_file():
        read[str(path)] = read_policy(path)
        if _has_spec_header(read[str(path)]):
            return path
        start = path.parent
    elif path.is_dir():
        start = path
    else:
        raise InputError(f"{path}: not a file or folder")
    folder = start
    while True:
        roots = _roots_in(folder, read)
        if len(roots) > 1:
            names = ", ".join(p.name for p in roots)
            raise InputError(
                f"{folder}: several files have a spec header ({names}); keep it in one", "PS003"
            )
        if roots:
            return roots[0]
        if (folder / ".git").exists() or folder.resolve().parent == folder.resolve():
            break
        folder = folder.parent if folder.name not in ("", ".") else folder.resolve().parent
    if path.is_file():
        return None
    if not any(path.glob(f"*{POLICY_SUFFIX}")):
        raise InputError(
            f"{path}: no {POLICY_SUFFIX} files in this folder; is it the spec folder?", "PS003"
        )
    raise InputError(
        f"{path}: no {POLICY_SUFFIX} file has a spec header; "
        'add `spec NAME "Title" { ... }` to the root file',
        "PS003",
    )


def _roots_in(folder: Path, read: dict[str, str]) -> list[Path]:
    """The .policy files in `folder` that hold a spec header (regular files inside it only,
    read with the size limit)."""
    inside = folder.resolve()
    candidates = [p for p in sorted(folder.glob(f"*{POLICY_SUFFIX}")) if _regular_inside(p, inside)]
    for candidate in candidates:
        if str(candidate) not in read:
            read[str(candidate)] = read_policy(candidate)
    return [p for p in candidates if _has_spec_header(read[str(p)])]


def _has_spec_header(text: str) -> bool:
    # On a 5 kB file the search takes 50 µs and the `in` test 4: most files lack the word.
    return "spec" in text and _SPEC_HEADER.search(text) is not None


def _regular_inside(path: Path, folder: Path) -> bool:
    """Whether `path` is a regular file inside `folder` once symlinks are resolved: a
    folder's scan for the root file skips anything else (a FIFO would hang the read, a
    link to /dev/zero would never end). Such a file that is included is an InputError."""
    try:
        target = path.resolve()
        return target.is_relative_to(folder) and stat.S_ISREG(target.stat().st_mode)
    except OSError:
        return False


def read_policy(path: Path) -> str:
    """A .policy file's text: a regular file of at most MAX_POLICY_BYTES, else InputError."""
    return decode(path, read_policy_bytes(path))


def read_policy_bytes(path: Path) -> bytes:
    """A .policy file's bytes, as they are on disk (read_policy's checks)."""
    try:
        return _read_regular(path, MAX_POLICY_BYTES)
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def read_text(path: Path) -> str:
    """A file's text, or an InputError that says which byte is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    return decode(path, data)


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text with its byte-order mark dropped and line ends made \\n, or an InputError
    that says which byte is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start}); "
            "save it as UTF-8"
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _read_regular(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file. It is opened without blocking (a FIFO) and
    checked on the open descriptor, so a file swapped after a check cannot slip past."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file; a {POLICY_SUFFIX} file must be one")
        if info.st_size > limit:
            raise InputError(_too_large(path, f"{info.st_size:,} bytes", limit))
        with os.fdopen(handle, "rb", closefd=False) as stream:
            # Ask for the size fstat gave, not the limit: a read of n bytes allocates n
            # first (8 MiB a file cost 0.2 s over 1,000 files). Read on if it grew.
            data = stream.read(min(info.st_size, limit) + 1)
            if len(data) > info.st_size:
                data += stream.read(limit + 1 - len(data))
    finally:
        os.close(handle)
    if len(data) > limit:  # it grew after fstat
        raise InputError(_too_large(path, "more bytes", limit))
    return data


def _too_large(path: Path, size: str, limit: int) -> str:
    return (
        f"{path}: {size}, over the limit of {limit:,} bytes "
        f"({limit >> 20} MiB) for one {POLICY_SUFFIX} file; split it into included files"
    )


def _include_target(folder: Path, resolved_folder: Path, include: ast.Include) -> Path:
    unusable = _unusable_name(include.path)
    if unusable is None:
        try:
            target = (folder / include.path).resolve()
            target.is_file()  # the OS's own refusals (a name too long) show here
        except (OSError, ValueError) as error:
            unusable = getattr(error, "strerror", None) or str(error)
    if unusable is not None:
        shown = include.path if len(include.path) <= 60 else include.path[:57] + "..."
        raise InputError(
            f"{include.span}: include {shown!r} is not a usable file name ({unusable}); "
            "name a .policy file in the spec folder"
        )
    if Path(include.path).is_absolute() or not target.is_relative_to(resolved_folder):
        raise InputError(
            f"{include.span}: include {include.path!r} leaves the spec folder {folder}; "
            "includes must stay inside it",
            "PS015",
            include.span,
        )
    return target


def _unusable_name(path: str) -> str | None:
    if "\0" in path:
        return "it holds a NUL character"
    if any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in path.split("/")):
        return "a part of it is longer than 255 bytes"
    if len(path.encode("utf-8", "surrogatepass")) > 4095:
        return "it is longer than 4,095 bytes"
    return None


def _unincluded(folder: Path, included: dict[Path, ast.SourceSpan]) -> tuple[Diagnostic, ...]:
    """A warning for each .policy file in the spec folder that the spec never includes."""
    return tuple(
        Diagnostic(
            "PS013",
            f"{path} is in the spec folder but not included",
            ast.SourceSpan(str(path), 1, 1, 1, 1),
            hint="include it from the root file, or move it out of the spec folder",
        )
        for path in sorted(folder.rglob(f"*{POLICY_SUFFIX}"))
        if path not in included and path.resolve() not in included  # resolve only if needed
    )
