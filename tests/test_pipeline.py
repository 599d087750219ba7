from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from projections.pipeline import Pipeline, Stage, code_version, normalized_source
from projections.statcache import StatCache

BASE = '''
"""A stage module."""
import math


def run(frame, *, params, ctx):
    """Docstring."""
    # a comment
    return frame * 2
'''


def _version(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return normalized_source(path)


def test_comments_docstrings_and_formatting_do_not_count(tmp_path):
    base = _version(tmp_path, "m0", BASE)
    assert _version(tmp_path, "m1", BASE.replace("# a comment", "# another comment\n# and more")) == base
    assert _version(tmp_path, "m2", BASE.replace('"""Docstring."""', '"""Totally new words."""')) == base
    assert _version(tmp_path, "m3", BASE.replace("frame * 2", "frame   *   2")) == base


def test_logic_edits_count(tmp_path):
    base = _version(tmp_path, "m0", BASE)
    assert _version(tmp_path, "m1", BASE.replace("frame * 2", "frame * 3")) != base
    assert _version(tmp_path, "m2", BASE.replace("import math", "import math, os")) != base


def test_only_a_string_first_statement_is_a_docstring(tmp_path):
    """Docstrings are dropped from the code version; a body (or module) that opens with any other expression - a
    call, a number - is logic, and an edit of it must change the key (invariant 4: same key, same code)."""
    opens_with_a_call = BASE.replace('    """Docstring."""', "    frame.check(1)")
    base = _version(tmp_path, "m0", opens_with_a_call)
    assert _version(tmp_path, "m1", opens_with_a_call.replace("frame.check(1)", "frame.check(2)")) != base
    module_call = 'print("a")\n' + BASE.replace('"""A stage module."""', "")
    assert _version(tmp_path, "m2", module_call) != _version(tmp_path, "m3", module_call.replace('"a"', '"b"'))
    opens_with_a_number = BASE.replace('    """Docstring."""', "    1")
    assert _version(tmp_path, "m4", opens_with_a_number) != _version(tmp_path, "m5",
                                                                     opens_with_a_number.replace("    1", "    2"))


def test_code_version_combines_explicit_version_and_source(tmp_path):
    path = tmp_path / "stagemod.py"
    path.write_text(BASE)
    spec = importlib.util.spec_from_file_location("stagemod", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["stagemod"] = module
    spec.loader.exec_module(module)
    stage = Stage(name="demo", func=module.run, doc="d")
    v1 = code_version(stage, StatCache(None))
    bumped = Stage(name="demo", func=module.run, doc="d", version="2")
    v2 = code_version(bumped, StatCache(None))
    assert v1.startswith("1+") and v2.startswith("2+") and v1[2:] == v2[2:]
    path.write_text(BASE.replace("frame * 2", "frame * 5"))
    assert code_version(stage, StatCache(None)) != v1


def test_stage_declaration_is_checked():
    def f(a, *, params, ctx):
        return a

    with pytest.raises(ValueError, match="lacks parameters"):
        Stage(name="s", func=f, doc="", inputs=("b",))
    with pytest.raises(ValueError, match="identifier"):
        Stage(name="a-b", func=f, doc="", inputs=("a",))
    s1 = Stage(name="a", func=lambda *, params, ctx: None, doc="")
    s2 = Stage(name="b", func=lambda a, *, params, ctx: None, doc="", inputs=("a",))
    s3 = Stage(name="c", func=lambda b, *, params, ctx: None, doc="", inputs=("b",))
    pipe = Pipeline([s1, s2, s3])
    assert pipe.upstream("c") == ["a", "b"] and pipe.downstream("a") == ["b", "c"]
    with pytest.raises(ValueError, match="not declared before"):
        Pipeline([s2, s1])
    with pytest.raises(ValueError, match="two stages"):
        Pipeline([s1, s1])


def test_the_engines_logic_a_stage_imports_is_part_of_its_code_version():
    """The sim stage scores DraftKings points with projections.identity.dk_points (and rates reads seasons with
    projections.dates): an edit there changes what they compute, so it is in their code version - before, only
    `stages` counted, and a DK scoring edit kept every key (same key, other bytes). The engine's framework (how a
    stage is declared and checked, its sources) is not: its edits change nothing a stage computes."""
    from projections.pipeline import FRAMEWORK, code_files
    from stages import PIPELINE

    sim = dict(code_files(PIPELINE["sim"]))
    rates = dict(code_files(PIPELINE["rates"]))
    assert "projections.identity" in sim and {"projections.dates", "projections.identity"} <= set(rates)
    for stage in PIPELINE.order:
        modules = [m for m, _ in code_files(PIPELINE[stage])]
        assert not [m for m in modules if any(m == f or m.startswith(f"{f}.") for f in FRAMEWORK)], stage
        assert "projections" not in modules, stage


def test_no_stage_s_code_version_holds_an_engine_module_that_does_io():
    """The engine modules in stages' code versions are the pure logic they compute with (DK scoring, seasons, the
    column schemas): an edit anywhere else in the engine must not rerun a stage. schedule imported the ledger for
    its timestamp format, so any ledger edit reran every date's schedule. A new logic module a stage needs is
    added here, deliberately, as a golden key is."""
    from projections.pipeline import code_files
    from stages import PIPELINE

    logic = {"projections.dates", "projections.identity", "projections.schema"}
    held = {stage: sorted({m for m, _ in code_files(PIPELINE[stage]) if m.startswith("projections.")} - logic)
            for stage in PIPELINE.order}
    assert not any(held.values()), held


def test_the_minutes_stage_does_not_hold_the_rates_model():
    """The minutes stage read the DK primary position through stages.model.rates_model, so every edit of the rates
    model (its priors, its usage factor) reran the minutes of every date too; the position helper now lives with
    the minutes model, which the rates model already imports."""
    from projections.pipeline import code_files
    from stages import PIPELINE

    assert "stages.model.rates_model" not in dict(code_files(PIPELINE["minutes"]))
    assert "stages.model.minutes_model" in dict(code_files(PIPELINE["rates"]))


def test_a_season_scoped_stage_cannot_reach_what_its_key_does_not_hold():
    """A season-scoped stage's key holds the season, not the date nor as_of (projections.plan.action_key): one
    object serves every date of the season. So it may neither read ctx.game_date (its output would depend on the
    first date built), nor declare as_of, nor publish a date's gold pointer; each is refused naming the fix."""
    import datetime as dt

    from projections.pipeline import StageContext

    def fit(*, params, ctx):
        return ctx.game_date

    for extra in ({"uses_as_of": True}, {"publish": "calibration"}):
        with pytest.raises(ValueError, match="a season-scoped stage cannot use as_of or publish gold"):
            Stage(name="fit", func=fit, doc="", scope="season", **extra)
    ctx = StageContext(stage="fit", seed=1, key="k", season="2019-20", scope="season",
                       _game_date=dt.date(2019, 10, 30))
    with pytest.raises(RuntimeError, match="stage fit is season-scoped: its key does not hold a date"):
        fit(params=None, ctx=ctx)
    dated = StageContext(stage="late", seed=1, key="k", season="2019-20", _game_date=dt.date(2019, 10, 30),
                         _as_of=dt.datetime(2019, 10, 30, 23, tzinfo=dt.UTC))
    assert dated.game_date == dt.date(2019, 10, 30)
    with pytest.raises(RuntimeError, match="does not declare uses_as_of=True"):
        _ = dated.as_of


def test_a_stage_declaring_a_module_in_code_gets_a_new_code_version_when_that_module_changes(tmp_path, monkeypatch):
    """The pipeline is a setting (`pipeline = "module:attribute"`), so its stages may live outside `stages`, whose
    imports alone are followed. Such a stage names in `code` the modules its logic uses: an edit of one is a new
    code version (a new key: it reruns); left undeclared, the same edit kept the key (same key, other bytes)."""
    package = tmp_path / "extpipe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("def scale(frame):\n    return frame * 2\n")
    (package / "stagemod.py").write_text(
        "from extpipe.helper import scale\n\n\ndef run(frame, *, params, ctx):\n    return scale(frame)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("extpipe", "extpipe.helper", "extpipe.stagemod"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    from extpipe import stagemod  # type: ignore[import-not-found]

    declared = Stage(name="ext", func=stagemod.run, doc="d", inputs=("frame",), code=("extpipe.helper",))
    undeclared = Stage(name="ext", func=stagemod.run, doc="d", inputs=("frame",))
    before = code_version(declared, StatCache(None)), code_version(undeclared, StatCache(None))
    (package / "helper.py").write_text("def scale(frame):\n    return frame * 3\n")
    edited = code_version(declared, StatCache(None))
    assert edited != before[0]
    assert code_version(undeclared, StatCache(None)) == before[1]
    (package / "helper.py").write_text('def scale(frame):\n    """Triples."""\n    # why\n    return frame * 3\n')
    assert code_version(declared, StatCache(None)) == edited  # a comment or docstring there changes nothing

    with pytest.raises(ValueError, match=r"stage ext: cannot locate module 'extpipe\.gone'"):
        code_version(Stage(name="ext", func=stagemod.run, doc="d", inputs=("frame",), code=("extpipe.gone",)),
                     StatCache(None))
