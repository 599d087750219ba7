"""The fast path: cached settings and pipeline shape, so a no-op run imports no pandas, numpy or pydantic."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from projections import fastpath
from projections.pipeline import Pipeline, Stage
from tests.conftest import FIXTURE_DATE, REPO, doit_argv, project_env

HEAVY = ("pandas", "numpy", "pydantic", "pydantic_settings", "pyarrow")


def _imported(home: Path, *args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", *doit_argv(*args)[1:]], env=project_env(home),
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_a_no_op_run_imports_no_heavy_library(built_home: Path):
    _imported(built_home, "slate", f"date={FIXTURE_DATE}")  # warms the caches
    heavy = {m for m in _imported(built_home, "slate", f"date={FIXTURE_DATE}") if m in HEAVY}
    assert heavy == set(), f"a no-op run imported {sorted(heavy)}: keep them inside stage actions"
    listing = {m for m in _imported(built_home, "list", "--status", f"date={FIXTURE_DATE}") if m in HEAVY}
    assert listing == set()


def test_settings_cache_round_trip_keeps_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PROJECTIONS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PROJECTIONS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PROJECTIONS_ALERTS__WEBHOOK_URL", "http://127.0.0.1:9/hook?token=SEKRET-42")
    first = fastpath.settings()
    second = fastpath.settings()
    assert type(first).__name__ == "Settings" and isinstance(second, fastpath.SettingsView)
    assert second.home == first.home == tmp_path / "home"
    assert second.permissions.dir_mode == first.permissions.dir_mode
    assert second.alerts.webhook_url.get_secret_value().endswith("SEKRET-42")  # loaded for real on demand
    for path in (tmp_path / "cache").iterdir():
        assert b"SEKRET-42" not in path.read_bytes()
    monkeypatch.setenv("PROJECTIONS_SOURCE", "live")
    assert fastpath.settings().source == "live"  # another environment, another entry


def test_compiled_pipeline_plans_like_the_real_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from projections.wiring import load_pipeline

    monkeypatch.setenv("PROJECTIONS_CACHE_DIR", str(tmp_path / "cache"))
    real = load_pipeline("stages:PIPELINE")
    fastpath.pipeline("stages:PIPELINE", {}, load_pipeline)
    compiled = fastpath.pipeline("stages:PIPELINE", {}, load_pipeline)
    assert compiled is not real and isinstance(compiled, Pipeline)
    assert compiled.order == real.order
    for name in real.order:
        lazy, stage = compiled[name], real[name]
        assert isinstance(lazy, fastpath.LazyStage)
        assert lazy.func is stage.func and lazy.inputs == stage.inputs and lazy.sources == stage.sources
        assert lazy.params_json() == stage.params_json()
        from projections.pipeline import code_files

        assert code_files(lazy) == code_files(stage)


def test_a_wrapped_function_is_never_cached_by_name():
    import functools

    from stages import gold

    @functools.wraps(gold.SPEC.func)
    def wrapper(*args, **kwargs):
        return gold.SPEC.func(*args, **kwargs)

    stage = Stage(name="gold", func=wrapper, doc="wrapped", inputs=gold.SPEC.inputs)
    with pytest.raises(ValueError, match="does not name"):
        fastpath.compile_stage(stage, {})
    assert pickle.dumps(fastpath.LazyStage)  # the class itself pickles by reference


def test_the_settings_cache_follows_every_settings_module():
    """The cached settings were validated by settings*.py: a change to the checks (settings_checks.py), the
    sources or the tables must not leave an old verdict in the cache."""
    import os
    from pathlib import Path

    from projections import fastpath

    before = fastpath._settings_key()
    for name in ("settings_checks.py", "settings_sources.py", "settings_tables.py"):
        path = Path(fastpath.__file__).with_name(name)
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        try:
            assert fastpath._settings_key() != before, name
        finally:
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fastpath._settings_key() == before


def test_the_cache_keeps_a_bounded_number_of_entries_per_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each code version and settings change wrote a new entry and none was ever removed (600 files in a
    developer's ~/.cache/projections). Writing one keeps the KEEP newest of its kind; the other kind is left."""
    import os

    cache = tmp_path / "cache"
    monkeypatch.setenv("PROJECTIONS_CACHE_DIR", str(cache))
    monkeypatch.setenv("PROJECTIONS_HOME", str(tmp_path / "home"))
    cache.mkdir()
    for i in range(fastpath.KEEP + 5):  # entries of older code versions, oldest first
        for kind in ("settings", "pipeline"):
            old = cache / f"{kind}-{i:032x}.pickle"
            old.write_bytes(pickle.dumps({}))
            os.utime(old, ns=(10**18 + i, 10**18 + i))
    fastpath.settings()  # a miss: writes its entry
    kept = sorted(p.name for p in cache.glob("settings-*.pickle"))
    assert len(kept) == fastpath.KEEP, kept
    assert f"settings-{0:032x}.pickle" not in kept and f"settings-{fastpath.KEEP + 4:032x}.pickle" in kept
    assert len(list(cache.glob("pipeline-*.pickle"))) == fastpath.KEEP + 5
    assert isinstance(fastpath.settings(), fastpath.SettingsView)  # the entry just written is a hit
