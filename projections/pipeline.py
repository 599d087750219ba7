"""Stage declarations and the pipeline graph; code versions from normalised source.

A `Stage` names its upstream stages (`inputs`), its external inputs (`sources`: the archive, snapshots),
a pydantic params model, an explicit `version`, an output `Contract`, and the pure function. The function
is called as `func(**frames, params=params, ctx=ctx)` with one DataFrame per input and source.

The code version is `<version>+<digest>`, the digest taken over the normalised AST of the module that
defines the function and every `stages.*` module it imports (transitively), plus any modules named in
`code`. Normalised means comments, docstrings and formatting do not count: a comment-only edit keeps every
key; a logic edit changes this stage's key and, through its output, everything downstream.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from projections.contracts import Contract
from projections.hashing import digest_bytes, hash_struct
from projections.statcache import StatCache

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import BaseModel

CODE_PACKAGES = ("stages",)
# modules of the engine a stage may import whose edits do not change what it computes: how a stage is declared and
# checked, its errors, and its sources (what a source reads is in the source's own digest). Any other engine module
# a stage imports (projections.identity's DK scoring, projections.dates' seasons) is part of its code version.
FRAMEWORK = ("projections.pipeline", "projections.contracts", "projections.errors", "projections.archive",
             "projections.sources")


def __getattr__(name: str) -> Any:
    # `from projections.pipeline import NoParams` keeps working without importing pydantic up front
    if name == "NoParams":
        from projections.params import NoParams

        return NoParams
    raise AttributeError(name)


@dataclass(frozen=True)
class Resolved:
    """An external input pinned for one build: its identity (enters the key) and how to load it."""

    digest: str
    describe: str
    load: Callable[[], pd.DataFrame]
    meta: Mapping[str, Any] = field(default_factory=dict)


def _quiet(message: str) -> None:
    """A SourceEnv's `notify` when nobody listens."""


@dataclass(frozen=True)
class SourceEnv:
    """What a source may use to resolve itself: the data root, its settings and the stat cache; and, for a long
    fetch, where to say how far it got (`notify`: the engine's, stderr)."""

    home: Path
    settings: Any
    stat_cache: StatCache
    notify: Callable[[str], None] = _quiet


class Source(Protocol):
    """An external input of a stage: the engine resolves it (cheap, no pandas) and loads it on a build."""

    @property
    def name(self) -> str: ...

    def resolve(self, env: SourceEnv, game_date: dt.date, as_of: dt.datetime | None) -> Resolved: ...


Scope = Literal["date", "season"]


@runtime_checkable
class FetchingSource(Source, Protocol):
    """A source with a live backend: the engine fetches a snapshot before the stages that read it.

    Several stages may read one table; `fetch_key` names the fetch so it happens once per date.
    `needs_fetch` is cheap (no network): False in archive mode, or once the slate is locked (for the lineups,
    once its last game tipped: `ArchiveTable.until`); later snapshots are ignored, so a locked slate never changes.
    """

    @property
    def fetch_key(self) -> str: ...

    def needs_fetch(self, env: SourceEnv, game_date: dt.date, now: dt.datetime, lock: dt.datetime | None) -> bool: ...

    def fetch(self, env: SourceEnv, game_date: dt.date, now: dt.datetime) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class StageContext:
    """What a stage may know besides its frames and params.

    A season-scoped stage (one object per season, e.g. a calibration fitted on the prior season) may not
    read `game_date`: its key holds the season only, so its output must not depend on the date."""

    stage: str
    seed: int
    key: str
    season: str
    scope: Scope = "date"
    _game_date: dt.date | None = None
    _as_of: dt.datetime | None = None
    uses_as_of: bool = False

    @property
    def game_date(self) -> dt.date:
        if self.scope != "date" or self._game_date is None:
            raise RuntimeError(f"stage {self.stage} is {self.scope}-scoped: its key does not hold a date, so it "
                               "may not read ctx.game_date")
        return self._game_date

    @property
    def as_of(self) -> dt.datetime:
        if not self.uses_as_of:
            raise RuntimeError(
                f"stage {self.stage} reads ctx.as_of but does not declare uses_as_of=True, so as_of is not "
                "part of its key; declare it in the Stage"
            )
        if self._as_of is None:
            raise RuntimeError(f"stage {self.stage}: as_of is unknown for {self.game_date}")
        return self._as_of


@dataclass(frozen=True)
class Stage:
    name: str
    func: Callable[..., Any]
    doc: str
    inputs: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    params: type[BaseModel] | None = None
    version: str = "1"
    contract: Contract | None = None
    publish: str | None = None
    uses_as_of: bool = False
    # modules whose logic the stage uses beyond what code_files finds (the imports of `stages` modules): a stage of
    # a pipeline outside `stages` (the `pipeline` setting) names its helpers here, or an edit of one keeps its key
    code: tuple[str, ...] = ()
    main: str = "data.parquet"
    # facts about the main output kept in its record (a "note" is also said in the run's output and the ledger); it
    # sees the frame the stage returned, whose attrs may carry what the frame cannot (the engine stores no attrs)
    meta: Callable[[pd.DataFrame], Mapping[str, Any]] | None = None
    scope: Scope = "date"

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"stage name {self.name!r} must be an identifier")
        if self.scope == "season" and (self.uses_as_of or self.publish):
            raise ValueError(f"stage {self.name}: a season-scoped stage cannot use as_of or publish gold")
        names = [*self.inputs, *(s.name for s in self.sources)]
        if len(set(names)) != len(names):
            raise ValueError(f"stage {self.name}: input names repeat: {names}")
        sig = inspect.signature(self.func)
        missing = [n for n in [*names, "params", "ctx"] if n not in sig.parameters]
        if missing:
            raise ValueError(f"stage {self.name}: {self.func.__qualname__} lacks parameters {missing}")

    def params_model(self) -> type[BaseModel]:
        if self.params is None:
            from projections.params import NoParams

            return NoParams
        return self.params

    def params_json(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        from projections.params import validated

        return validated(self.params_model(), overrides)

    def module_file(self) -> Path:
        path = inspect.getsourcefile(self.func)
        if path is None:
            raise ValueError(f"stage {self.name}: cannot find the source of {self.func!r}")
        return Path(path)


class StageLike(Protocol):
    """What the engine needs of a stage: a `Stage`, or its compiled form (projections.fastpath.LazyStage)."""

    @property
    def name(self) -> str: ...
    @property
    def doc(self) -> str: ...
    @property
    def inputs(self) -> tuple[str, ...]: ...
    @property
    def sources(self) -> tuple[Source, ...]: ...
    @property
    def version(self) -> str: ...
    @property
    def contract(self) -> Contract | None: ...
    @property
    def publish(self) -> str | None: ...
    @property
    def uses_as_of(self) -> bool: ...
    @property
    def code(self) -> tuple[str, ...]: ...
    @property
    def main(self) -> str: ...
    @property
    def scope(self) -> Scope: ...
    @property
    def func(self) -> Callable[..., Any]: ...
    @property
    def meta(self) -> Callable[[pd.DataFrame], Mapping[str, Any]] | None: ...

    def params_model(self) -> type[BaseModel]: ...

    def params_json(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def module_file(self) -> Path: ...


def normalized_source(path: Path) -> bytes:
    """The module's AST without docstrings, positions or comments, as bytes."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=True, include_attributes=False).encode()


def _ast_digest(path: Path) -> str:
    return digest_bytes(normalized_source(path))


def _imported_modules(path: Path, module_name: str) -> set[str]:
    """Names of the modules the module at `path` imports that make up a stage's logic: those under CODE_PACKAGES,
    and the engine's (`projections.*`) but for the FRAMEWORK."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module_name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            if _logic_module(name) and _module_file(name) is not None:
                found.add(name)
    return found


def _logic_module(name: str) -> bool:
    if name.split(".")[0] in CODE_PACKAGES:
        return True
    return name.startswith("projections.") and not any(name == f or name.startswith(f"{f}.") for f in FRAMEWORK)


def _module_file(name: str) -> Path | None:
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if file:
        return Path(file)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    return Path(spec.origin)


def code_files(stage: StageLike) -> list[tuple[str, Path]]:
    """(module, file) of everything whose logic makes up this stage's code version."""
    precomputed = getattr(stage, "code_files", None)
    if callable(precomputed):  # a compiled stage (projections.fastpath) carries its list
        files: list[tuple[str, Path]] = precomputed()
        return files
    root = stage.func.__module__
    seen: dict[str, Path] = {}
    todo = [root, *stage.code]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            raise ValueError(f"stage {stage.name}: cannot locate module {name!r} for its code version")
        seen[name] = path
        if name.split(".")[0] in CODE_PACKAGES:
            todo.extend(_imported_modules(path, name) - seen.keys())
    return sorted(seen.items())


def code_version(stage: StageLike, cache: StatCache) -> str:
    parts = [(name, cache.digest(path, kind="ast", compute=_ast_digest)) for name, path in code_files(stage)]
    return f"{stage.version}+{hash_struct('code', parts)[9:25]}"


class Pipeline:
    """The stages in build order, checked: unique names, known inputs, no cycles."""

    def __init__(self, stages: Sequence[StageLike]) -> None:
        self.stages: dict[str, StageLike] = {}
        for stage in stages:
            if stage.name in self.stages:
                raise ValueError(f"two stages are named {stage.name!r}")
            unknown = [i for i in stage.inputs if i not in self.stages]
            if unknown:
                raise ValueError(f"stage {stage.name} takes {unknown}, which are not declared before it")
            self.stages[stage.name] = stage
        self.order = list(self.stages)
        self._fetchers: dict[str, tuple[FetchingSource, list[str]]] | None = None

    def __getitem__(self, name: str) -> StageLike:
        try:
            return self.stages[name]
        except KeyError:
            raise KeyError(f"no stage named {name!r}; stages are {self.order}") from None

    def __iter__(self) -> Iterator[StageLike]:
        return iter(self.stages.values())

    def upstream(self, name: str) -> list[str]:
        """Every stage `name` needs (transitively), in build order, not including itself."""
        need: set[str] = set()
        todo = list(self[name].inputs)
        while todo:
            n = todo.pop()
            if n not in need:
                need.add(n)
                todo.extend(self[n].inputs)
        return [n for n in self.order if n in need]

    def downstream(self, name: str) -> list[str]:
        """Every stage that depends on `name` (transitively), in build order."""
        return [n for n in self.order if name in self.upstream(n)]

    def needs_season(self, names: list[str]) -> bool:
        """Whether building `names` (unknown names ignored) runs a season-scope stage, theirs or upstream (the
        calibration, fitted on the season before)."""
        known = [n for n in names if n in self.stages]
        return any(self[n].scope == "season" for name in known for n in (name, *self.upstream(name)))

    @property
    def published(self) -> list[StageLike]:
        return [s for s in self.stages.values() if s.publish]

    def fetchers(self) -> dict[str, tuple[FetchingSource, list[str]]]:
        """fetch_key -> (one source with that key, the stages that read it), in build order. Worked out once: an
        isinstance against the FetchingSource protocol costs ~0.1 ms, and `projections status` asked it per
        stage and date (2.4 s of a season's 6.9 s, profiled); a copy is returned, the lists a caller's own."""
        if self._fetchers is None:
            found: dict[str, tuple[FetchingSource, list[str]]] = {}
            for stage in self.stages.values():
                for source in stage.sources:
                    if isinstance(source, FetchingSource):
                        found.setdefault(source.fetch_key, (source, []))[1].append(stage.name)
            self._fetchers = found
        return {key: (source, list(readers)) for key, (source, readers) in self._fetchers.items()}

    def fetched_for(self, name: str) -> list[str]:
        """The fetch keys whose snapshots stage `name` reads (its live tables), in build order."""
        return [key for key, (_, readers) in self.fetchers().items() if name in readers]
