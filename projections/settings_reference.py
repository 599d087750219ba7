"""docs/settings.md, the reference of every setting, generated from the settings models (projections.settings,
projections.settings_tables) and the stages' parameter models:

    python -m projections.settings_reference > docs/settings.md

tests/test_settings_reference.py checks that the committed file equals this output, so it cannot drift: after
adding or changing a setting, rerun the command. Every field needs a description (Field(description=...)).
"""

from __future__ import annotations

import datetime as dt
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from projections import settings_checks as checks
from projections.settings_file import NOT_SETTINGS
from projections.settings_sources import ENV_PREFIX

COMMAND = "python -m projections.settings_reference > docs/settings.md"
HEADER = "| key | environment variable | type | default | meaning |\n|---|---|---|---|---|"


def _model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _strip(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Annotated[...] and `| None`; whether None was allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation, optional
        else:
            return annotation, optional


def _type_name(annotation: Any) -> str:
    annotation, _ = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return " or ".join(f"`{value}`" for value in typing.get_args(annotation))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return f"table of {_type_name(typing.get_args(annotation)[1])}"
    names = {str: "text", int: "integer", float: "number", bool: "true/false", Path: "path",
             SecretStr: "secret text", dt.datetime: "date-time with zone", Any: "any"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _is_mode(field: FieldInfo) -> bool:
    return any(getattr(m, "func", None) is checks.octal for m in field.metadata)


def _bounds(field: FieldInfo) -> str:
    found = []
    for meta in field.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                found.append(f"{sign} {value}")
    return f", {' and '.join(found)}" if found else ""


def _type(field: FieldInfo) -> str:
    _, optional = _strip(field.annotation)
    name = "octal mode" if _is_mode(field) else _type_name(field.annotation)
    return name + _bounds(field) + (", or unset" if optional else "")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple | list):
        return ", ".join(_value(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items()) if value else "none"
    return str(value)


def _default(field: FieldInfo) -> str:
    secret = _strip(field.annotation)[0] is SecretStr
    value = None if secret else field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if _is_mode(field):
        return f"`{value:o}`"
    text = _value(value)
    return f"`{text}`" if text not in ("none", "") else ('`""`' if text == "" else text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _description(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    if not field.description:
        raise ValueError(f"{model.__name__}.{name} has no description: give it Field(description=...)")
    return field.description


def _param_description(stage: str, name: str, field: FieldInfo) -> str:
    if not field.description:
        raise ValueError(f"stage parameter {stage}.{name} has no description: give it Field(description=...) in "
                         f"its stage's Params")
    return field.description


def _rows(model: type[BaseModel], path: list[str]) -> Iterator[str]:
    for name, field in model.model_fields.items():
        if _model(field.annotation) is not None or (name == "params" and not path):
            continue
        key = ".".join([*path, name])
        variable = ENV_PREFIX + "__".join([*path, name]).upper()
        yield (f"| `{key}` | `{variable}` | {_cell(_type(field))} | {_cell(_default(field))} | "
               f"{_cell(_description(model, name, field))} |")


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _tables(model: type[BaseModel], path: list[str]) -> Iterator[str]:
    """Each table of `model` (recursively); fields of one model type repeated (live's endpoints) as one table."""
    groups: dict[type[BaseModel], list[str]] = {}
    for name, field in model.model_fields.items():
        sub = _model(field.annotation)
        if sub is not None:
            groups.setdefault(sub, []).append(name)
    for sub, names in groups.items():
        if len(names) == 1:
            sub_path = [*path, names[0]]
            yield f"## [{'.'.join(sub_path)}]\n\n{_doc(sub)}\n\n{HEADER}\n" + "\n".join(_rows(sub, sub_path)) + "\n"
            yield from _tables(sub, sub_path)
        else:
            placeholder = f"<{sub.__name__.lower()}>"
            sub_path = [*path, placeholder]
            listed = ", ".join(f"`{n}`" for n in names)
            rows = "\n".join(_rows(sub, sub_path))
            heading = ".".join(sub_path).replace("<", "\\<").replace(">", "\\>")
            yield (f"## [{heading}]\n\n`{placeholder}` is one of {listed}. {_doc(sub)}\n\n{HEADER}\n"
                   f"{rows}\n")


def _params() -> str:
    from projections.settings import Settings
    from projections.wiring import load_pipeline

    pipeline = load_pipeline(Settings.model_fields["pipeline"].default)
    lines = ["## [params.\\<stage\\>]", "",
             "Per-stage parameter overrides: they enter the stage's key, so a changed one rebuilds that stage (and "
             "what depends on it, when its output changes). A stage or field that does not exist is refused.", "",
             "| key | environment variable | type | default | meaning |", "|---|---|---|---|---|"]
    for name in pipeline.order:
        model = pipeline.stages[name].params_model()
        for field_name, field in model.model_fields.items():
            lines.append(f"| `params.{name}.{field_name}` | `{ENV_PREFIX}PARAMS__{name.upper()}__{field_name.upper()}`"
                         f" | {_cell(_type(field))} | {_cell(_default(field))} | "
                         f"{_cell(_param_description(name, field_name, field))} |")
    return "\n".join(lines) + "\n"


def reference() -> str:
    from projections.settings import Settings

    intro = f"""# Settings reference

Generated by `{COMMAND}` from the settings models
(`projections/settings.py`, `projections/settings_tables.py`) and the stages' parameter models; a test checks
that this file equals the generator's output. Do not edit it by hand.

Every setting is an environment variable (`{ENV_PREFIX}` and its key in capitals, tables joined by `__`) or a
key of the TOML settings file (`$PROJECTIONS_HOME/projections.toml`, or the file `$PROJECTIONS_CONFIG` names);
the environment wins over the file, the file over the defaults. A variable or key that is no setting, and a
value that is refused, stop every command with the setting named (exit 2; `doit` exits 3). Secrets are never
shown; they have no default.

## Top level

{HEADER}
"""
    parts = [intro + "\n".join(_rows(Settings, [])) + "\n", *_tables(Settings, []), _params()]
    allowed = ", ".join(f"`{name}`" for name in sorted(NOT_SETTINGS))
    parts.append(f"## Not settings\n\nThese `{ENV_PREFIX}*` variables are read by the code itself (the settings "
                 f"file's location, caches, test and benchmark hooks) and are allowed: {allowed}.\n")
    return "\n".join(parts)


def main() -> int:
    sys.stdout.write(reference())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
