"""Settings: one frozen object, read once at the edge (dodo.py, the CLI) and passed down.

Sources, highest first: environment variables (`PROJECTIONS_HOME`, `PROJECTIONS_SOURCE`, nested ones as
`PROJECTIONS_ALERTS__WEBHOOK_URL`), then a TOML file (`$PROJECTIONS_CONFIG`, else `<home>/projections.toml`
when it exists), then the fields' defaults (here and in settings_tables). Nothing in the library reads the
environment itself.

Mistakes are refused, never guessed at: a key in the file or a PROJECTIONS_* variable that is no setting (the few
variables the code reads for itself are listed in settings_file.NOT_SETTINGS), a file that is not TOML, an empty
path (an unset shell variable would otherwise make the current directory the data root), a data root that cannot
be a directory, a permission mode that is not octal (however it is written: see settings_tables), a number written
true/false (pydantic would read true as 1), a webhook URL that is no http(s) URL (checked without quoting it).

The tables under `Settings` ([alerts], [schedule], [doctor], [permissions], [live], [remote]) are
projections.settings_tables; this module holds the whole and its loading.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from projections import settings_checks as checks
from projections.errors import ConfigError
from projections.settings_file import config_file, salvage_table
from projections.settings_sources import (
    ENV_PREFIX,
    Environment,
    SettingsFile,
    not_a_setting,
    read_text,
    toml_problem,
)
from projections.settings_tables import (
    AlertSettings,
    DoctorSettings,
    Float,
    Int,
    LiveSettings,
    PermissionSettings,
    RemoteSettings,
    ScheduleSettings,
    SetPath,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    home: SetPath = Field(
        default=Path("outputs"),
        description="data root: store, gold pointers, ledger (a relative path is taken from the current directory)",
    )
    source: Literal["archive", "live"] = Field(
        default="archive", description="archive: the shipped + ingested archive; live: HTTP sources"
    )
    pipeline: str = Field(default="stages:PIPELINE", description="module:attribute of the stage list")
    lock_timeout_s: Float | None = Field(
        default=6 * 3600.0, ge=0,
        description="how long a run waits for another run's lock on a date (0: not at all; unset: as long as it takes)"
    )
    timezone: Annotated[str, AfterValidator(checks.timezone)] = Field(
        default="America/New_York",
        description="an IANA zone; nothing reads it yet (slate days are America/New_York's; the timer's zone is "
                    "schedule.timezone)",
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-stage parameter overrides, e.g. PROJECTIONS_PARAMS__LINEUPS__MODE=none; they enter the key",
    )
    serve_host: str = Field(default="127.0.0.1", description="the address `projections serve` listens on")
    serve_port: Int = Field(default=8765, ge=1, le=65535, description="the dashboard's port (`projections serve`)")
    alerts: AlertSettings = AlertSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    doctor: DoctorSettings = DoctorSettings()
    permissions: PermissionSettings = PermissionSettings()
    remote: RemoteSettings = RemoteSettings()
    executor: Literal["local", "dask"] = Field(
        default="local", description="where `doit slate` builds: this process (local) or a Dask cluster"
    )
    dask_address: str | None = Field(default=None, description="scheduler address; unset = a LocalCluster")
    dask_workers: Int | None = Field(default=None, ge=1, description="LocalCluster worker processes (default: cores)")
    live: LiveSettings = LiveSettings()

    @field_validator("home", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return _data_root(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, Environment(settings_cls)]
        toml = config_file()
        if toml is not None:
            sources.append(SettingsFile(settings_cls, toml))
        return tuple(sources)


def _data_root(value: Path) -> Path:
    """`home` made absolute; a ValueError when it can never be a directory this user writes (a file, or missing
    where nothing can be created: unwritable.unusable_root) - for every command, before any of them starts."""
    from projections.ops.unwritable import unusable_root

    home = value.expanduser().absolute()
    problem = unusable_root(home)
    if problem is not None:
        raise ValueError(problem)
    return home


def _fields_at(loc: Sequence[int | str]) -> list[str]:
    """The field names of the model that holds the setting at `loc` ([] when that is no model)."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def where_set(loc: Sequence[int | str], *, a_table: bool = False) -> str:
    """Where the value at `loc` (e.g. ("params", "sim", "draws")) was set, for an error that asks to fix it: the
    PROJECTIONS_* variable that set it, else the settings file's table and key (the table `loc` names itself,
    `a_table`), else how to set it."""
    variable = _env_variable(loc)
    if variable is not None:
        return variable
    if a_table and (toml := config_file()) is not None:
        return f"[{'.'.join(map(str, loc))}] in {toml}"
    table, key = ".".join(map(str, loc[:-1])), str(loc[-1]) if loc else ""
    toml = config_file()
    if toml is not None:
        return f"{key} in [{table}] of {toml}" if table else f"{key} in {toml}"
    return f"{ENV_PREFIX}{'__'.join(map(str, loc)).upper()} or [{table}] in projections.toml"


def _env_variable(loc: Sequence[int | str]) -> str | None:
    """The PROJECTIONS_* variable that set the value at `loc` (or a table around it, or a field inside it: a key
    no setting has, `live.odd`, is set by PROJECTIONS_LIVE__ODD__URL), if one did."""
    names = {name.upper(): name for name in os.environ if name.upper().startswith(ENV_PREFIX)}
    for end in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(str(part) for part in loc[:end]).upper()
        if name in names:
            return names[name]
        inside = sorted(names[n] for n in names if n.startswith(f"{name}__")) if end == len(loc) else []
        if inside:
            return ", ".join(inside)
    return None


def load_settings(**overrides: Any) -> Settings:
    """Read settings once; a bad value becomes a ConfigError naming the setting, where it was set and the fix."""
    return _load(Settings, overrides)


class _Part(BaseSettings):
    """One part of the settings read alone: the environment over the file's table (given as init values), every
    other variable and key ignored."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings


class _AlertsPart(_Part):
    alerts: AlertSettings = AlertSettings()


class _HomePart(_Part):
    home: SetPath = Settings.model_fields["home"].default

    @field_validator("home", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return _data_root(value)


def load_alert_settings() -> tuple[Settings, Path | None]:
    """[alerts] alone (and `home`, for the ledger), everything else at its default: what the OnFailure handler
    alerts with when the settings as a whole do not load. A settings file that is not valid TOML gives its
    [alerts] table read from its own lines. Returns (those settings, the data root or None when `home` does not
    load either).

    Raises ConfigError when [alerts] itself is invalid or cannot be read (nothing is left to alert with)."""
    file: dict[str, Any] = {}
    path = config_file()
    if path is not None:
        text = read_text(path)
        try:
            file = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            try:
                file = {"alerts": salvage_table(text, "alerts")}
            except tomllib.TOMLDecodeError:
                raise ConfigError(f"{toml_problem(path, exc)} (its [alerts] table cannot be read alone either)") \
                    from None
    tables = {key.lower(): value for key, value in file.items()}
    given = {k: v for k, v in tables.items() if k == "alerts"}
    try:
        alerts = _load(_AlertsPart, {}, given=given).alerts
    except ConfigError as exc:
        refused = {found[1] for found in _REFUSED_ALERT.finditer(str(exc))}
        if not refused:
            raise
        # a value of [alerts] that is refused (a details command alerts cannot fill in, a webhook URL that is no
        # URL, a port written true) or a key that is no setting (a typo, a top-level key written below the
        # table) must not stop the alert that names it: the default stands in, the other channels still deliver
        table = {k: v for k, v in dict(given.get("alerts") or {}).items() if str(k).lower() not in refused}
        with _unset(*(f"PROJECTIONS_ALERTS__{name.upper()}" for name in refused)):
            alerts = _load(_AlertsPart, {}, given={"alerts": table}).alerts
        if alerts.webhook_url is None and not alerts.smtp_host:  # what was dropped was the only channel: say so
            raise
    try:
        home: Path | None = _load(_HomePart, {}, given={k: v for k, v in tables.items() if k == "home"}).home
    except ConfigError:
        home = None
    default = _HomePart.model_fields["home"].default
    return Settings.model_construct(alerts=alerts, home=home or Path(default).absolute()), home


# a refused value of [alerts] as _load names it: `alerts.smtp_port: ...`, `PROJECTIONS_... (alerts.smtp_port): ...`
_REFUSED_ALERT = re.compile(r"\balerts\.(\w+)[\w.]*\)?: ")


@contextlib.contextmanager
def _unset(*variables: str) -> Iterator[None]:
    """`variables` (in any case) out of the environment while the block runs."""
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.upper() in variables}
    try:
        yield
    finally:
        os.environ.update(saved)


_Loaded = TypeVar("_Loaded", bound=BaseSettings)


def _load(cls: type[_Loaded], overrides: Mapping[str, Any], *, given: Mapping[str, Any] | None = None) -> _Loaded:
    """`cls` from `overrides` (the caller's), `given` (values read from the file) and its sources; a bad value
    becomes a ConfigError naming the setting, where it was set and the fix."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        return cls(**{**(given or {}), **overrides})
    except ValidationError as exc:
        problems, variables, in_file = [], [], False
        for error in exc.errors():
            loc = error["loc"]
            dotted = ".".join(map(str, loc)) or "settings"
            if error["type"] == "extra_forbidden":
                prefix = ".".join(map(str, loc[:-1]))
                what = not_a_setting(str(loc[-1]), _fields_at(loc), f"{prefix}." if prefix else "")
            elif error["type"] == "value_error":
                what = str(error.get("ctx", {}).get("error", error["msg"]))
            else:
                what = error["msg"]
            variable = None if loc and loc[0] in overrides else _env_variable(loc)
            if variable is not None:
                variables.append(variable)
                problems.append(f"{variable} ({dotted}): {what}")
            else:
                in_file = in_file or not (loc and loc[0] in overrides)
                problems.append(f"{dotted}: {what}")
        where = sorted(set(variables))
        toml = config_file()
        if in_file and toml is not None:
            where.append(str(toml))
        fix = " or ".join(where) if where else "the PROJECTIONS_* environment variable or projections.toml"
        raise ConfigError(f"invalid settings ({'; '.join(problems)}); fix {fix}") from None
    except SettingsError as exc:
        # a table or list given in one environment variable that is not JSON (PROJECTIONS_PARAMS='{bad')
        field = re.search(r'field "([^"]+)"', str(exc))
        variable = _env_variable((field[1],)) if field else None
        named = variable or (f"PROJECTIONS_{field[1].upper()}" if field else "a PROJECTIONS_* variable")
        raise ConfigError(
            f"invalid settings ({named}: {exc.__cause__ or exc}); a table or list set in one environment variable "
            f"must be JSON, e.g. PROJECTIONS_PARAMS='{{\"lineups\": {{\"mode\": \"none\"}}}}', or set its fields "
            "one by one, e.g. PROJECTIONS_PARAMS__LINEUPS__MODE=none"
        ) from None
