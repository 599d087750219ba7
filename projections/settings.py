"""Settings: one frozen object, read once at the edge (dodo.py, the CLI) and passed down.

Sources, highest first: environment variables (`PROJECTIONS_HOME`, `PROJECTIONS_SOURCE`, nested ones as
`PROJECTIONS_ALERTS__WEBHOOK_URL`), then a TOML file (`$PROJECTIONS_CONFIG`, else `<home>/projections.toml`
when it exists), then the defaults below. Nothing in the library reads the environment itself.

Mistakes are refused, never guessed at: a key in the file or a PROJECTIONS_* variable that is no setting (the few
variables the code reads for itself are listed in settings_file.NOT_SETTINGS), a file that is not TOML, an empty
path (an unset shell variable would otherwise make the current directory the data root), a data root that cannot
be a directory, a permission mode that is not octal.

Permission modes are octal however they are written: 2775, "2775", "0o2775" and the TOML literal 0o2775 all mean
0o2775 (a plain integer of the file or the environment is read as its octal digits, so 9999 is refused; in
Python, an int is the mode itself).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
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


def _not_empty(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("an empty path would mean the current directory: unset it or give a path")
    return value


# A path setting: "" (an unset shell variable, `home = ""`) is refused instead of becoming the current directory.
SetPath = Annotated[Path, BeforeValidator(_not_empty)]


# Email recipients: `smtp_to = "ops@example.org"` and PROJECTIONS_ALERTS__SMTP_TO=a@x,b@x are taken as they are
# (NoDecode: not parsed as JSON first), a TOML list as a list.
Addresses = Annotated[tuple[str, ...], NoDecode, BeforeValidator(checks.addresses)]

class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AlertSettings(Frozen):
    """Where alerts go: a Slack-compatible webhook and/or SMTP email. Unset channels are skipped."""

    webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "projections@localhost"
    smtp_to: Addresses = Field(default=(), description="one address, a comma-separated list, or a list")
    timeout_s: float = 10.0
    attempts: int = 3
    details_command: Annotated[str, AfterValidator(checks.details_template)] = Field(
        default="projections status {date}", description="the command an alert names for details; {date} is filled"
    )
    max_per_run: int = Field(default=5, ge=1, description="alerts one run may send; the rest become one summary")


class ScheduleSettings(Frozen):
    """When the generated systemd timer runs the slate (local times in `timezone`); checked when settings load,
    so every command (doctor included) refuses a schedule the timer could not use."""

    times: Annotated[tuple[str, ...], NoDecode, BeforeValidator(checks.listing("10:00, 17:30")),
                     AfterValidator(checks.times)] = ("10:00", "17:30")
    timezone: Annotated[str, AfterValidator(checks.timezone)] = "America/New_York"
    unit: Annotated[str, AfterValidator(checks.unit)] = "projections-slate"
    timeout_s: int = Field(default=4 * 3600, gt=0, description="TimeoutStartSec of the generated service")
    user: str | None = Field(default=None, description="User= of a --system service (default: who installs it)")


class DoctorSettings(Frozen):
    """What `projections doctor` inspects; tests point these at a fake layout."""

    system_unit_dirs: tuple[SetPath, ...] = (Path("/etc/systemd/system"), Path("/lib/systemd/system"))
    user_unit_dirs: tuple[SetPath, ...] = (Path("~/.config/systemd/user"),)
    crontab_files: tuple[SetPath, ...] = (Path("/etc/crontab"), Path("/etc/cron.d"), Path("/var/spool/cron/crontabs"))
    crontab_command: tuple[str, ...] = ("crontab", "-l")
    match: Annotated[tuple[str, ...], NoDecode, BeforeValidator(checks.listing("projections, dodo.py"))] = (
        "projections", "doit slate", "dodo.py")
    exclude: tuple[str, ...] = Field(
        default=("projections.cli alert", "projections alert", "projections.cli serve", "projections serve"),
        description="commands that mention the project but do not run the pipeline (the alert unit, serve)",
    )
    linger_dir: SetPath = Field(
        default=Path("/var/lib/systemd/linger"), description="where logind marks users whose timers run logged out"
    )


class PermissionSettings(Frozen):
    """The data root's mode policy, applied on creation and checked before a run. Modes are octal however they
    are written (see the module docstring); a dir_mode must give the owner rwx, a file_mode the owner rw."""

    dir_mode: Annotated[int, BeforeValidator(checks.octal), AfterValidator(checks.dir_mode)] = 0o2775
    file_mode: Annotated[int, BeforeValidator(checks.octal), AfterValidator(checks.file_mode)] = 0o664
    group: str | None = None
    owner: str | None = Field(default=None, description="expected owner of the data root (default: its top dir's)")


_STATS_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
    "x-nba-stats-origin": "stats",
    "x-nba-stats-token": "true",
}

# Each live endpoint's URL template: {stats} and {cdn} are LiveSettings.stats_base / cdn_base, {date} the slate
# date (YYYY-MM-DD), {season} its season ("2019-20"), {team_id} / {game_id} nba.com ids. The official injury
# report is a PDF, so injuries have no default: point live.injuries.url at a service that serves its table as
# CSV (the columns of shared/data/nba/injuries/2020/csv) to fetch it live.
DEFAULT_URLS: dict[str, str] = {
    "schedule": "{stats}/scoreboardv3?GameDate={date}&LeagueID=00",
    "calendar": "{cdn}/staticData/scheduleLeagueV2.json",
    "game_logs": "{stats}/leaguegamelog?Counter=0&DateFrom=&DateTo=&Direction=ASC&LeagueID=00&PlayerOrTeam=P"
                 "&Season={season}&SeasonType=Regular+Season&Sorter=DATE",
    "rosters": "{stats}/commonteamroster?LeagueID=00&Season={season}&TeamID={team_id}",
    "odds": "{cdn}/liveData/odds/odds_todaysGames.json",
    "lineups": "{cdn}/liveData/boxscore/boxscore_{game_id}.json",
    "injuries": "",
}


class Endpoint(Frozen):
    """One live endpoint; every field may be set alone (e.g. PROJECTIONS_LIVE__ODDS__API_KEY).

    url: unset = the template in DEFAULT_URLS; "" turns the live backend off (the table then comes from the
    archive and ingested snapshots only). headers: added to the defaults (stats.nba.com wants its own)."""

    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    api_key: SecretStr | None = Field(default=None, description="sent as api_key_param or api_key_header")
    api_key_param: str | None = None
    api_key_header: str | None = None
    api_key_prefix: str = Field(default="", description='put before the key in its header, e.g. "Bearer "')

    @field_validator("headers", mode="after")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        if value:
            from projections.redaction import is_secret_name

            secret = sorted(name for name in value if is_secret_name(name))
            if secret:
                raise ValueError(f"headers {secret} carry credentials: set api_key (a secret, never written down) "
                                 f"and api_key_header={secret[0]!r} instead")
        return value


class LiveSettings(Frozen):
    """Live sources (`source = "live"`): endpoints, the HTTP policy, the DraftKings inbox, the replay clock."""

    stats_base: str = "https://stats.nba.com/stats"
    cdn_base: str = "https://cdn.nba.com/static/json"
    stats_headers: dict[str, str] = Field(default_factory=lambda: dict(_STATS_HEADERS),
                                          description="headers sent with every {stats} request")
    schedule: Endpoint = Endpoint()
    calendar: Endpoint = Endpoint()
    game_logs: Endpoint = Endpoint()
    rosters: Endpoint = Endpoint()
    odds: Endpoint = Endpoint()
    lineups: Endpoint = Endpoint()
    injuries: Endpoint = Endpoint()
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=20.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    total_budget_s: float = Field(default=120.0, gt=0, description="time one fetch may take, waits included")
    base_wait_s: float = Field(default=1.0, ge=0, description="first backoff ceiling (doubles, full jitter)")
    max_wait_s: float = Field(default=30.0, ge=0)
    min_interval_s: float = Field(default=0.5, ge=0, description="spacing between requests to one host")
    host_intervals: dict[str, float] = Field(
        default_factory=lambda: {"stats.nba.com": 1.0}, description="per-host spacing overriding min_interval_s"
    )
    inbox: SetPath | None = Field(default=None, description="DKSalaries.csv drop folder (default <home>/inbox)")
    now: dt.datetime | None = Field(
        default=None, description="replay clock: the instant a run treats as now (default: the wall clock)"
    )

    @field_validator("now", mode="after")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("live.now needs a timezone, e.g. 2019-10-30T20:00:00Z")
        return value

    def endpoint(self, name: str) -> Endpoint:
        endpoint: Endpoint = getattr(self, name)
        return endpoint

    def url_template(self, name: str) -> str:
        """The endpoint's URL template with {stats}/{cdn} filled in; "" when the backend is off."""
        url = self.endpoint(name).url
        template = DEFAULT_URLS[name] if url is None else url
        return template.replace("{stats}", self.stats_base.rstrip("/")).replace("{cdn}", self.cdn_base.rstrip("/"))

    def headers(self, name: str) -> dict[str, str]:
        on_stats = self.url_template(name).startswith(self.stats_base.rstrip("/"))
        base = dict(self.stats_headers) if on_stats else {}
        return {**base, **self.endpoint(name).headers}


class RemoteSettings(Frozen):
    """The shared store (several machines, one bucket): unset `url` = local only, the default."""

    url: str | None = Field(default=None, description="s3://bucket/prefix of the shared store")
    endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, Ceph, moto)")
    key: SecretStr | None = Field(default=None, description="access key id (default: the AWS credential chain)")
    secret: SecretStr | None = Field(default=None, description="secret access key")
    region: str | None = None
    lease_s: float = Field(default=60.0, gt=0, description="a shared lock's lease; a dead holder's runs out")
    timeout_s: float = Field(default=30.0, gt=0, description="read timeout of one request to the bucket")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    home: SetPath = Field(default=Path("outputs"), description="data root: store, gold pointers, ledger")
    source: Literal["archive", "live"] = Field(
        default="archive", description="archive: the shipped + ingested archive; live: HTTP sources"
    )
    pipeline: str = Field(default="stages:PIPELINE", description="module:attribute of the stage list")
    lock_timeout_s: float | None = Field(
        default=6 * 3600.0, description="how long a run waits for another run's lock on a date"
    )
    timezone: str = "America/New_York"
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-stage parameter overrides, e.g. PROJECTIONS_PARAMS__LINEUPS__MODE=none; they enter the key",
    )
    serve_host: str = "127.0.0.1"
    serve_port: int = Field(default=8765, ge=1, le=65535, description="the dashboard's port (`projections serve`)")
    alerts: AlertSettings = AlertSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    doctor: DoctorSettings = DoctorSettings()
    permissions: PermissionSettings = PermissionSettings()
    remote: RemoteSettings = RemoteSettings()
    executor: Literal["local", "dask"] = Field(
        default="local", description="where `doit slate` builds: this process (local) or a Dask cluster"
    )
    dask_address: str | None = Field(default=None, description="scheduler address; unset = a LocalCluster")
    dask_workers: int | None = Field(default=None, ge=1, description="LocalCluster worker processes (default: cores)")
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


def where_set(loc: Sequence[int | str]) -> str:
    """Where the value at `loc` (e.g. ("params", "sim", "draws")) was set, for an error that asks to fix it: the
    PROJECTIONS_* variable that set it, else the settings file's table and key, else how to set it."""
    variable = _env_variable(loc)
    if variable is not None:
        return variable
    table, key = ".".join(map(str, loc[:-1])), str(loc[-1]) if loc else ""
    toml = config_file()
    if toml is not None:
        return f"{key} in [{table}] of {toml}" if table else f"{key} in {toml}"
    return f"{ENV_PREFIX}{'__'.join(map(str, loc)).upper()} or [{table}] in projections.toml"


def _env_variable(loc: Sequence[int | str]) -> str | None:
    """The PROJECTIONS_* variable that set the value at `loc` (or a table around it), if one did."""
    names = {name.upper(): name for name in os.environ if name.upper().startswith(ENV_PREFIX)}
    for end in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(str(part) for part in loc[:end]).upper()
        if name in names:
            return names[name]
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
        if "details_command" not in str(exc):
            raise
        # a details command alerts cannot fill in must not stop the alert that names it: the default stands in
        table = {k: v for k, v in dict(given.get("alerts") or {}).items() if str(k).lower() != "details_command"}
        with _unset("PROJECTIONS_ALERTS__DETAILS_COMMAND"):
            alerts = _load(_AlertsPart, {}, given={"alerts": table}).alerts
    try:
        home: Path | None = _load(_HomePart, {}, given={k: v for k, v in tables.items() if k == "home"}).home
    except ConfigError:
        home = None
    default = _HomePart.model_fields["home"].default
    return Settings.model_construct(alerts=alerts, home=home or Path(default).absolute()), home


@contextlib.contextmanager
def _unset(variable: str) -> Iterator[None]:
    """`variable` (in any case) out of the environment while the block runs."""
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.upper() == variable}
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
