"""Base models for stage parameters (pydantic: imported only where a stage's params are built)."""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from typing import Any, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from projections.errors import ConfigError


class NoParams(BaseModel):
    """Params model for a stage that takes none."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# parameters a stage took once and no longer does, and what took their place: a value an older version's
# projections.toml pinned is refused by name, with what to set now - not "did you mean" a name that means
# something else (minutes' probable scaled P(plays); probable_sits scales P(sits))
RETIRED: dict[tuple[str, str], str] = {
    ("minutes", "probable"): "retired: it scaled a Probable player's P(plays); probable_sits now scales his "
                             "P(sits) (he plays with 1 - f (1 - P)) - remove it, or set probable_sits",
}


def invalid_params(stage: str, exc: ValidationError, model: type[BaseModel]) -> ConfigError:
    """The error for a stage's parameter overrides that do not validate: each problem, where it was set and,
    for a name the stage does not take, the one it probably meant (`questionabl` -> `questionable`)."""
    from projections.settings import where_set

    fields = list(model.model_fields)
    problems = []
    errors = exc.errors()
    items = {tuple(e["loc"][:-1]) for e in errors if e["loc"] and isinstance(e["loc"][-1], int)}
    # a list whose every item was refused is then also "too short": the items' errors say it all
    errors = [e for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in items)]
    for e in errors:
        where, message = ".".join(map(str, e["loc"])), e["msg"]
        if e["type"] == "extra_forbidden" and (stage, where) in RETIRED:
            message = RETIRED[(stage, where)]
        elif e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(e["loc"][-1]), fields, n=1)
            message = f"{stage} takes no such parameter" + (f"; did you mean {close[0]}?" if close else
                                                             f" (it takes {', '.join(fields) or 'none'})")
        problems.append(f"{where}: {message}")
    fix = " and ".join(dict.fromkeys(where_set(("params", stage, *e["loc"])) for e in errors))
    return ConfigError(f"invalid parameters for stage {stage} ({'; '.join(problems)}); fix {fix}")


def unknown_stages(unknown: list[str], stages: list[str]) -> ConfigError:
    """The error for parameter overrides of stages the pipeline lacks, with the stage probably meant."""
    from projections.settings import where_set

    meant = {name: close[0] for name in unknown if (close := difflib.get_close_matches(name, stages, n=1))}
    hint = "".join(f"; did you mean {meant[n]} for {n}?" for n in unknown if n in meant)
    fix = " and ".join(where_set(("params", name), a_table=True) for name in unknown)
    return ConfigError(f"settings override parameters of unknown stages {unknown}{hint}; stages are {stages}; "
                       f"fix {fix}")


def validated(model: type[BaseModel], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters as JSON: the model's defaults with `overrides`, validated.

    A list parameter set in an environment variable arrives as text: JSON (`["dk"]`) or comma-separated
    (`dk,rotoguru`) are both read as the list. A parameter that is not a finite number (inf, nan: they cannot
    enter a key) is refused like any invalid value (pydantic's ValidationError)."""
    values = dict(overrides or {})
    for name, value in values.items():
        field = model.model_fields.get(name)
        if field is not None and isinstance(value, str) and get_origin(field.annotation) in (tuple, list, set):
            values[name] = _as_list(value)
    # checked before the model: nan fails every bound (nan <= 1 is false), so it was refused as "at most 1"
    bad = [{"type": "finite_number", "loc": loc, "input": value} for loc, value in _non_finite(values, ())
           if _numeric(model, loc)]
    if bad:
        raise ValidationError.from_exception_data(model.__name__, bad)  # type: ignore[arg-type]
    result: dict[str, Any] = model(**values).model_dump(mode="json")
    bad = [{"type": "finite_number", "loc": loc, "input": value} for loc, value in _non_finite(result, ())]
    if bad:
        raise ValidationError.from_exception_data(model.__name__, bad)  # type: ignore[arg-type]
    return result


def _as_list(text: str) -> Any:
    text = text.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            return text  # refused by the model, naming the variable
    return [item.strip() for item in text.split(",") if item.strip()]


def _numeric(model: type[BaseModel], loc: tuple[str | int, ...]) -> bool:
    """Whether the top-level field at `loc` is a number (a text parameter may well read "nan")."""
    field = model.model_fields.get(str(loc[0])) if loc else None
    return field is not None and field.annotation in (float, int)


def _non_finite(value: Any, loc: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, str):  # as an environment variable gives it: "nan", "inf", "-Infinity"
        try:
            number = float(value)
        except ValueError:
            return []
        return [] if math.isfinite(number) else [(loc, value)]
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(loc, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _non_finite(item, (*loc, key))]
    if isinstance(value, list | tuple):
        return [found for i, item in enumerate(value) for found in _non_finite(item, (*loc, i))]
    return []
