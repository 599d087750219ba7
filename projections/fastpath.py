"""The fast path: what a no-op `doit slate` needs, without importing pandas, numpy or pydantic.

A no-op run must cost about what doit itself costs to start. Two things would otherwise dominate: reading
settings through pydantic-settings, and importing the stage modules (pandas, numpy, pydantic models) just to
learn the pipeline's shape. Both are pure functions of files and environment variables, so both are cached,
keyed by everything they depend on:

- settings: the PROJECTIONS_* environment, the TOML file's bytes, settings*.py's stat signatures. The cached
  form is the validated settings without secrets; reading a secret (or anything missing) loads the real
  settings on the spot.
- the pipeline: the stat signatures of every module in `projections` and `stages`, the settings that shape
  it (pipeline ref, params overrides) and the Python version. The cached form is a `LazyStage` per stage:
  everything planning needs (inputs, sources, contract, code files, params JSON), with the function, the
  params model and the meta hook as `module:name` references imported only when the stage is built.

Any failure to build or read a cache entry falls back to the slow path: the cache can only make things faster.
Entries live in `$PROJECTIONS_CACHE_DIR` (default `~/.cache/projections`), written atomically.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from projections.contracts import Contract
from projections.hashing import hash_struct, hex_of
from projections.pipeline import Pipeline, Scope, Source, Stage, code_files

if TYPE_CHECKING:
    from pydantic import BaseModel

    from projections.settings import Settings

log = logging.getLogger(__name__)
FORMAT = 1
KEEP = 16  # cache entries kept per kind (settings, pipeline): a few checkouts and settings in use at once


def cache_dir() -> Path:
    explicit = os.environ.get("PROJECTIONS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "projections"


def _signature(path: Path) -> tuple[str, int, int]:
    st = os.stat(path)
    return (str(path), st.st_size, st.st_mtime_ns)


def _package_files(name: str) -> list[tuple[str, int, int]]:
    """Stat signatures of every .py file of a top-level package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return []
    out = []
    for root in spec.submodule_search_locations:
        for path in sorted(Path(root).rglob("*.py")):
            out.append(_signature(path))
    return out


def _read(path: Path) -> Any:
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    _prune(path)


def _prune(written: Path) -> None:
    """Keep the KEEP newest entries of the kind just written (`settings-*`, `pipeline-*`): each code version
    and settings change writes a new one, and nothing else ever removes them. An entry removed here is only
    rebuilt, once, by the slow path."""
    kind = written.name.partition("-")[0]
    with contextlib.suppress(OSError):
        entries = []
        for path in written.parent.glob(f"{kind}-*.pickle"):
            with contextlib.suppress(OSError):
                entries.append((path.stat().st_mtime_ns, path))
        for _, path in sorted(entries, reverse=True)[KEEP:]:
            if path != written:
                path.unlink(missing_ok=True)


# ---- settings ------------------------------------------------------------------------------------------


class SettingsView:
    """Validated settings from the cache (no secrets). Anything not cached - a secret, a field added since -
    loads the real Settings and answers from it."""

    def __init__(self, values: Mapping[str, Any], load: Callable[[], Settings]) -> None:
        self._values = dict(values)
        self._load = load
        self._full: Settings | None = None

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name in values:
            value = values[name]
            return _Namespace(value, lambda: getattr(self.full(), name)) if isinstance(value, dict) \
                and name != "params" else value
        return getattr(self.full(), name)

    def full(self) -> Settings:
        if self._full is None:
            self._full = self._load()
        return self._full


class _Namespace:
    def __init__(self, values: Mapping[str, Any], load: Callable[[], Any]) -> None:
        self._values = dict(values)
        self._load = load

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        return getattr(self._load(), name)


def _settings_key() -> str:
    env = sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("PROJECTIONS_"))  # any case
    toml: Any = None
    from projections.settings_file import config_file

    path = config_file()
    if path is not None:
        toml = (str(path), hash_struct("file", path.read_bytes().decode("utf-8", "replace")))
    code = [_signature(path) for path in sorted(Path(__file__).parent.glob("settings*.py"))]  # model, tables, checks
    return hash_struct("settings", FORMAT, sys.version, env, toml, code, os.getcwd())


def _plain(value: Any) -> bool:
    """Values the cache may hold: stdlib types only. Secrets (SecretStr) and other pydantic types (URLs)
    stay out, so reading them loads the real settings - and unpickling never imports pydantic."""
    if isinstance(value, dict):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return all(_plain(v) for v in value)
    return not type(value).__module__.startswith("pydantic")


def _without_secrets(dump: Any) -> Any:
    if isinstance(dump, dict):
        return {k: _without_secrets(v) for k, v in dump.items() if _plain(v)}
    return dump


def load_settings() -> Settings:
    from projections.settings import load_settings as load

    return load()


def settings() -> Settings:
    """Settings for a doit run: the cached view when nothing they depend on changed, else a fresh load."""
    try:
        key = _settings_key()
        path = cache_dir() / f"settings-{hex_of(key)}.pickle"
        with contextlib.suppress(FileNotFoundError):
            return SettingsView(_read(path), load_settings)  # type: ignore[return-value]
    except Exception as exc:  # a broken cache entry is never fatal
        log.debug("settings cache unusable: %s", exc)
        return load_settings()
    loaded = load_settings()
    with contextlib.suppress(Exception):
        _write(path, _without_secrets(dict(loaded.model_dump(mode="python", round_trip=False))))
    return loaded


# ---- pipeline ------------------------------------------------------------------------------------------


def _ref(obj: Any) -> str:
    """`module:qualname` of a module-level object, checked to resolve back to that very object (a wrapped
    or replaced function would not, and then the pipeline is not cached)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or "<" in qualname:
        raise ValueError(f"{obj!r} cannot be referenced by name (a lambda or local function)")
    ref = f"{module}:{qualname}"
    if _resolve(ref) is not obj:
        raise ValueError(f"{ref} does not name {obj!r}")
    return ref


def _resolve(ref: str) -> Any:
    module, _, qualname = ref.partition(":")
    value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


@dataclass(frozen=True)
class LazyStage:
    """A stage as planning sees it; its function, params model and meta hook load on first use."""

    name: str
    doc: str
    func_ref: str
    inputs: tuple[str, ...]
    sources: tuple[Source, ...]
    version: str
    contract: Contract | None
    publish: str | None
    uses_as_of: bool
    code: tuple[str, ...]
    main: str
    scope: Scope
    params_ref: str | None
    meta_ref: str | None
    file: str
    files: tuple[tuple[str, str], ...]
    params_cache: tuple[str, dict[str, Any]] = field(default=("", {}))

    @property
    def func(self) -> Callable[..., Any]:
        func: Callable[..., Any] = _resolve(self.func_ref)
        return func

    @property
    def params(self) -> type[BaseModel] | None:
        return _resolve(self.params_ref) if self.params_ref else None

    @property
    def meta(self) -> Callable[..., Mapping[str, Any]] | None:
        return _resolve(self.meta_ref) if self.meta_ref else None

    def params_model(self) -> type[BaseModel]:
        model = self.params
        if model is None:
            from projections.params import NoParams

            return NoParams
        return model

    def params_json(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        wanted = hash_struct("params", dict(overrides or {}))
        if self.params_cache[0] == wanted:
            return dict(self.params_cache[1])
        from projections.params import validated

        return validated(self.params_model(), overrides)

    def module_file(self) -> Path:
        return Path(self.file)

    def code_files(self) -> list[tuple[str, Path]]:
        return [(m, Path(p)) for m, p in self.files]


def compile_stage(stage: Stage, overrides: Mapping[str, Any]) -> LazyStage:
    return LazyStage(
        name=stage.name, doc=stage.doc, func_ref=_ref(stage.func), inputs=stage.inputs, sources=stage.sources,
        version=stage.version, contract=stage.contract, publish=stage.publish, uses_as_of=stage.uses_as_of,
        code=stage.code, main=stage.main, scope=stage.scope,
        params_ref=_ref(stage.params) if stage.params else None,
        meta_ref=_ref(stage.meta) if stage.meta else None,
        file=str(stage.module_file()),
        files=tuple((m, str(p)) for m, p in code_files(stage)),
        params_cache=(hash_struct("params", dict(overrides)), stage.params_json(overrides)),
    )


def _pipeline_key(ref: str, params: Mapping[str, Any]) -> str:
    files = _package_files("projections") + _package_files(ref.partition(":")[0].split(".")[0])
    return hash_struct("pipeline", FORMAT, sys.version, ref, dict(params), files)


def pipeline(ref: str, params: Mapping[str, Any], load: Callable[[str], Pipeline]) -> Pipeline:
    """The pipeline named by `ref`, from the cache when no module changed, else imported (and cached)."""
    try:
        key = _pipeline_key(ref, params)
        path = cache_dir() / f"pipeline-{hex_of(key)}.pickle"
    except Exception as exc:
        log.debug("pipeline cache key failed: %s", exc)
        return load(ref)
    with contextlib.suppress(Exception):
        compiled = _read(path)
        if isinstance(compiled, Pipeline):
            return compiled
    real = load(ref)
    try:
        compiled = Pipeline([compile_stage(s, params.get(s.name, {})) for s in _stages(real)])
        pickle.dumps(compiled)  # everything must survive the round trip, or we keep the real one
        _write(path, compiled)
    except Exception as exc:
        log.debug("pipeline not cacheable (%s); using it as imported", exc)
    return real


def _stages(pipeline: Pipeline) -> Iterator[Stage]:
    for name in pipeline.order:
        stage = pipeline[name]
        assert isinstance(stage, Stage)
        yield stage
