"""Base models for stage parameters (pydantic: imported only where a stage's params are built)."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict, ValidationError

from projections.errors import ConfigError


class NoParams(BaseModel):
    """Params model for a stage that takes none."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def invalid_params(stage: str, exc: ValidationError, model: type[BaseModel]) -> ConfigError:
    """The error for a stage's parameter overrides that do not validate: each problem, where it was set and,
    for a name the stage does not take, the one it probably meant (`questionabl` -> `questionable`)."""
    from projections.settings import where_set

    fields = list(model.model_fields)
    problems = []
    for e in exc.errors():
        where, message = ".".join(map(str, e["loc"])), e["msg"]
        if e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(e["loc"][-1]), fields, n=1)
            message = f"{stage} takes no such parameter" + (f"; did you mean {close[0]}?" if close else
                                                             f" (it takes {', '.join(fields) or 'none'})")
        problems.append(f"{where}: {message}")
    fix = " and ".join(dict.fromkeys(where_set(("params", stage, *e["loc"])) for e in exc.errors()))
    return ConfigError(f"invalid parameters for stage {stage} ({'; '.join(problems)}); fix {fix}")


def unknown_stages(unknown: list[str], stages: list[str]) -> ConfigError:
    """The error for parameter overrides of stages the pipeline lacks, with the stage probably meant."""
    meant = {name: close[0] for name in unknown if (close := difflib.get_close_matches(name, stages, n=1))}
    hint = "".join(f"; did you mean {meant[n]} for {n}?" for n in unknown if n in meant)
    return ConfigError(f"settings override parameters of unknown stages {unknown}{hint}; stages are {stages}")
