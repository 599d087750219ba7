"""Settings: one frozen object, read once at the edge (dodo.py, the CLI) and passed down.

Sources, highest first: environment variables (`PROJECTIONS_HOME`, `PROJECTIONS_SOURCE`, nested ones as
`PROJECTIONS_ALERTS__WEBHOOK_URL`), then a TOML file (`$PROJECTIONS_CONFIG`, else `<home>/projections.toml`
when it exists), then the defaults below. Nothing in the library reads the environment itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from projections.errors import ConfigError
from projections.settings_file import config_file


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
    smtp_to: tuple[str, ...] = ()
    timeout_s: float = 10.0
    attempts: int = 3
    details_command: str = Field(
        default="projections status {date}", description="the command an alert names for details; {date} is filled"
    )
    max_per_run: int = Field(default=5, ge=1, description="alerts one run may send; the rest become one summary")


class ScheduleSettings(Frozen):
    """When the generated systemd timer runs the slate (local times in `timezone`)."""

    times: tuple[str, ...] = ("10:00", "17:30")
    timezone: str = "America/New_York"
    unit: str = "projections-slate"
    timeout_s: int = Field(default=4 * 3600, gt=0, description="TimeoutStartSec of the generated service")
    user: str | None = Field(default=None, description="User= of a --system service (default: who installs it)")


class DoctorSettings(Frozen):
    """What `projections doctor` inspects; tests point these at a fake layout."""

    system_unit_dirs: tuple[Path, ...] = (Path("/etc/systemd/system"), Path("/lib/systemd/system"))
    user_unit_dirs: tuple[Path, ...] = (Path("~/.config/systemd/user"),)
    crontab_files: tuple[Path, ...] = (Path("/etc/crontab"), Path("/etc/cron.d"), Path("/var/spool/cron/crontabs"))
    crontab_command: tuple[str, ...] = ("crontab", "-l")
    match: tuple[str, ...] = ("projections", "doit slate", "dodo.py")
    exclude: tuple[str, ...] = Field(
        default=("projections.cli alert", "projections alert", "projections.cli serve", "projections serve"),
        description="commands that mention the project but do not run the pipeline (the alert unit, serve)",
    )
    linger_dir: Path = Field(
        default=Path("/var/lib/systemd/linger"), description="where logind marks users whose timers run logged out"
    )


class PermissionSettings(Frozen):
    """The data root's mode policy, applied on creation and checked before a run."""

    dir_mode: int = 0o2775
    file_mode: int = 0o664
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
            from projections.fetch import is_secret_name

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
    inbox: Path | None = Field(default=None, description="DKSalaries.csv drop folder (default <home>/inbox)")
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
        env_prefix="PROJECTIONS_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    home: Path = Field(default=Path("outputs"), description="data root: store, gold pointers, ledger")
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
    serve_port: int = 8765
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
        return value.expanduser().absolute()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Read settings once; a bad value becomes a ConfigError naming the setting and the fix."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"invalid settings ({problems}); fix the PROJECTIONS_* environment variable or projections.toml"
        ) from None
