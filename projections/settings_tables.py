"""The tables of the settings, each a frozen model: [alerts], [schedule], [doctor], [permissions], [live] (one
`Endpoint` per live source, their URL templates in DEFAULT_URLS, the HTTP policy) and [remote].
projections.settings puts them together under `Settings` and loads them; what a valid value is beyond its type is
settings_checks.

Permission modes are octal however they are written: 2775, "2775", "0o2775" and the TOML literal 0o2775 all mean
0o2775 (a plain integer of the file or the environment is read as its octal digits, so 9999 is refused; in
Python, an int is the mode itself).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)
from pydantic_settings import NoDecode

from projections import settings_checks as checks


def _not_empty(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("an empty path would mean the current directory: unset it or give a path")
    return value


# A path setting: "" (an unset shell variable, `home = ""`) is refused instead of becoming the current directory.
SetPath = Annotated[Path, BeforeValidator(_not_empty)]


# Email recipients: `smtp_to = "ops@example.org"` and PROJECTIONS_ALERTS__SMTP_TO=a@x,b@x are taken as they are
# (NoDecode: not parsed as JSON first), a TOML list as a list.
Addresses = Annotated[tuple[str, ...], NoDecode, BeforeValidator(checks.addresses)]
Paths = Annotated[tuple[SetPath, ...], NoDecode, BeforeValidator(checks.listing("/etc/crontab, /etc/cron.d")),
                  Field(min_length=1)]  # an empty value is a mistake, not "scan nothing"

# Numbers: true/false is refused (pydantic would read `serve_port = true` as 1); text of the environment is parsed.
Int = Annotated[int, BeforeValidator(checks.number)]
Float = Annotated[float, BeforeValidator(checks.number), AllowInfNan(False)]  # no inf/nan: a timeout ends

# A webhook URL: an http(s) URL with a host, checked when settings load, never quoted back ("" = no webhook).
WebhookUrl = Annotated[SecretStr, AfterValidator(checks.http_url)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AlertSettings(Frozen):
    """Where alerts go: a Slack-compatible webhook and/or SMTP email. Unset channels are skipped."""

    webhook_url: WebhookUrl | None = Field(
        default=None, description="a Slack-compatible webhook (an http(s) URL with a host; a secret, never quoted)"
    )
    smtp_host: str | None = Field(default=None, description="the SMTP server; unset = no email")
    smtp_port: Int = Field(default=25, ge=1, le=65535, description="the SMTP server's port, 1-65535")
    smtp_starttls: bool = Field(default=False, description="upgrade the SMTP connection with STARTTLS")
    smtp_user: str | None = Field(default=None, description="SMTP login user; unset = no login")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP login password")
    smtp_from: str = Field(default="projections@localhost", description="the From address of alert emails")
    smtp_to: Addresses = Field(default=(), description="one address, a comma-separated list, or a list")
    timeout_s: Float = Field(default=10.0, gt=0, description="wall-clock limit of one attempt: a webhook request "
                             "or an SMTP session, connect to last answer")
    attempts: Int = Field(default=3, ge=1, description="tries per channel before an alert counts as not sent")
    details_command: Annotated[str, AfterValidator(checks.details_template)] = Field(
        default="projections status {date}",
        description="the command an alert names for details; {date} is filled, and a `projections` command gets "
        "PROJECTIONS_HOME=<the run's data root> in front"
    )
    max_per_run: Int = Field(default=5, ge=1, description="alerts one run may send; the rest become one summary")


class ScheduleSettings(Frozen):
    """When the generated systemd timer runs the slate (local times in `timezone`); checked when settings load,
    so every command (doctor included) refuses a schedule the timer could not use."""

    times: Annotated[tuple[str, ...], NoDecode, BeforeValidator(checks.listing("10:00, 17:30")),
                     AfterValidator(checks.times)] = Field(
        default=("10:00", "17:30", "18:45", "19:15", "19:45", "20:15", "20:45", "21:15", "21:45", "22:15"),
        description="when the timer runs: HH:MM[:SS], comma-separated or a list (the default: the morning's and the "
                    "evening's news, then every half hour from 18:45 to 22:15, 15 minutes before each tip slot from "
                    "7 PM to 10:30 PM, for the starters and inactive lists each game's box score publishes shortly "
                    "before its tip; after the first tip a run fetches only those)"
    )
    timezone: Annotated[str, AfterValidator(checks.timezone)] = Field(
        default="America/New_York", description="the IANA zone of `times`"
    )
    unit: Annotated[str, AfterValidator(checks.unit)] = Field(
        default="projections-slate", description="base name of the units: <unit>.service, .timer, -alert@.service"
    )
    timeout_s: Int = Field(default=4 * 3600, gt=0, description="TimeoutStartSec of the generated service")
    gc_keep: Int = Field(
        default=3, ge=0, description="after each successful run the generated service deletes what no build needs "
        "(`projections gc --keep N`: gold, refs, the newest N builds of each stage and date and anything used within "
        "the hour stay), so a daily root does not grow without end; 0: never, gc by hand")
    user: str | None = Field(
        default=None, description="User= of a --system service (default: the data root's owner, else $SUDO_USER)")


class DoctorSettings(Frozen):
    """What `projections doctor` inspects; tests point these at a fake layout."""

    system_unit_dirs: Paths = Field(
        default=(Path("/etc/systemd/system"), Path("/lib/systemd/system")),
        description="system unit folders scanned (and where `systemd --system` writes, the first)",
    )
    user_unit_dirs: Paths = Field(
        default=(Path("~/.config/systemd/user"),),
        description="user unit folders scanned (and where `systemd --user` writes, the first)",
    )
    crontab_files: Paths = Field(
        default=(Path("/etc/crontab"), Path("/etc/cron.d"), Path("/var/spool/cron/crontabs")),
        description="crontab files and folders scanned",
    )
    crontab_command: tuple[str, ...] = Field(default=("crontab", "-l"), description="lists this user's crontab")
    match: Annotated[tuple[str, ...], NoDecode, BeforeValidator(checks.listing("projections, dodo.py"))] = Field(
        default=("projections", "doit slate", "dodo.py"),
        description="a unit or crontab line that mentions one of these runs the pipeline",
    )
    exclude: Annotated[tuple[str, ...], NoDecode, BeforeValidator(checks.listing("projections serve"))] = Field(
        default=("projections.cli alert", "projections alert", "projections.cli serve", "projections serve"),
        description="commands that mention the project but do not run the pipeline (the alert unit, serve)",
    )
    linger_dir: SetPath = Field(
        default=Path("/var/lib/systemd/linger"), description="where logind marks users whose timers run logged out"
    )


class PermissionSettings(Frozen):
    """The data root's mode policy, applied on creation and checked before a run. Modes are octal however they
    are written (2775, "2775", "0o2775" and TOML's 0o2775 are the same; a plain integer is read by its digits, so
    9999 is refused), at most 7777; a dir_mode must give the owner rwx, a file_mode the owner rw."""

    dir_mode: Annotated[int, BeforeValidator(checks.octal), AfterValidator(checks.dir_mode)] = Field(
        default=0o2775, description="mode of the data root's directories (octal; the owner needs rwx)"
    )
    file_mode: Annotated[int, BeforeValidator(checks.octal), AfterValidator(checks.file_mode)] = Field(
        default=0o664, description="mode of the data root's files (octal; the owner needs rw; no setuid/setgid/sticky)"
    )
    group: str | None = Field(
        default=None, description="group of the data root's files and Group= of a --system service (unset: none)"
    )
    owner: str | None = Field(default=None, description="expected owner of the data root (default: its top dir's)")


_STATS_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
    "x-nba-stats-origin": "stats",
    "x-nba-stats-token": "true",
}

# Each live endpoint's URL template: {stats} and {cdn} are LiveSettings.stats_base / cdn_base, {date} the slate
# date (YYYY-MM-DD), {season} its season ("2019-20"), {season_type} the game log's part of it (Regular+Season,
# PlayIn, Playoffs: projections.sources.postseason), {team_id} / {game_id} nba.com ids. Injuries: the NBA's
# official report, a PDF ({report} is the report's time, found by asking the date's quarter hours:
# projections.sources.injuries_live); live.injuries.url may point at a service serving its table as CSV instead (the
# columns of shared/data/nba/injuries/2020/csv). {dk} is LiveSettings.dk_base: the
# DraftKings lobby and one draft group's salary CSV ({draft_group}), asked when no DKSalaries.csv was dropped
# (projections.sources.draftkings); contestTypeId 70 is DraftKings' NBA classic.
OFFICIAL_INJURY_REPORT = "https://ak-static.cms.nba.com/referee/injury/Injury-Report_{date}_{report}.pdf"
DEFAULT_URLS: dict[str, str] = {
    "schedule": "{stats}/scoreboardv3?GameDate={date}&LeagueID=00",
    "calendar": "{cdn}/staticData/scheduleLeagueV2.json",
    "game_logs": "{stats}/leaguegamelog?Counter=0&DateFrom=&DateTo=&Direction=ASC&LeagueID=00&PlayerOrTeam=P"
                 "&Season={season}&SeasonType={season_type}&Sorter=DATE",
    "rosters": "{stats}/commonteamroster?LeagueID=00&Season={season}&TeamID={team_id}",
    "odds": "{cdn}/liveData/odds/odds_todaysGames.json",
    "lineups": "{cdn}/liveData/boxscore/boxscore_{game_id}.json",
    "injuries": OFFICIAL_INJURY_REPORT,
    "dk_lobby": "{dk}/lobby/getcontests?sport=NBA",
    "dk_salaries": "{dk}/lineup/getavailableplayerscsv?contestTypeId=70&draftGroupId={draft_group}",
}


class Endpoint(Frozen):
    """One live endpoint; every field may be set alone (e.g. PROJECTIONS_LIVE__ODDS__API_KEY).

    url: unset = the built-in template (DEFAULT_URLS); "" turns the live backend off (the table then comes from the
    archive and ingested snapshots only). headers: added to the defaults (stats.nba.com wants its own)."""

    url: str | None = Field(
        default=None, description='URL template; unset = the built-in one, "" = off'
    )
    headers: dict[str, str] = Field(default_factory=dict, description="headers added to the defaults")
    api_key: SecretStr | None = Field(default=None, description="sent as api_key_param or api_key_header")
    api_key_param: str | None = Field(default=None, description="query parameter of the key (unset: api_key)")
    api_key_header: str | None = Field(
        default=None, description="header of the key (set: sent there, not as a parameter)"
    )
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

    stats_base: str = Field(default="https://stats.nba.com/stats", description="{stats} in the URL templates")
    cdn_base: str = Field(default="https://cdn.nba.com/static/json", description="{cdn} in the URL templates")
    dk_base: str = Field(default="https://www.draftkings.com", description="{dk} in the URL templates")
    stats_headers: dict[str, str] = Field(default_factory=lambda: dict(_STATS_HEADERS),
                                          description="headers sent with every {stats} request")
    schedule: Endpoint = Endpoint()
    calendar: Endpoint = Endpoint()
    game_logs: Endpoint = Endpoint()
    rosters: Endpoint = Endpoint()
    odds: Endpoint = Endpoint()
    lineups: Endpoint = Endpoint()
    injuries: Endpoint = Endpoint()
    dk_lobby: Endpoint = Endpoint()
    dk_salaries: Endpoint = Endpoint()
    connect_timeout_s: Float = Field(default=5.0, gt=0, description="connect timeout of one request")
    read_timeout_s: Float = Field(default=20.0, gt=0, description="read timeout of one request")
    max_attempts: Int = Field(default=5, ge=1, description="tries of one fetch")
    total_budget_s: Float = Field(default=120.0, gt=0, description="time one fetch may take, waits included")
    attempt_deadline_s: Float = Field(default=60.0, gt=0, description="wall-clock time one try may take, "
                                      "redirects and the whole body included")
    max_body_mb: Float = Field(default=64.0, gt=0, description="largest body one request may bring, in MiB "
                               "(decoded or as sent)")
    base_wait_s: Float = Field(default=1.0, ge=0, description="first backoff ceiling (doubles, full jitter)")
    max_wait_s: Float = Field(default=30.0, ge=0, description="largest backoff ceiling")
    min_interval_s: Float = Field(default=0.5, ge=0, description="spacing between requests to one host")
    host_intervals: dict[str, Float] = Field(
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
        """The endpoint's URL template with {stats}/{cdn}/{dk} filled in; "" when the backend is off."""
        url = self.endpoint(name).url
        template = DEFAULT_URLS[name] if url is None else url
        return template.replace("{stats}", self.stats_base.rstrip("/")).replace("{cdn}", self.cdn_base.rstrip("/")) \
            .replace("{dk}", self.dk_base.rstrip("/"))

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
    region: str | None = Field(default=None, description="the bucket's region (unset: the AWS configuration's)")
    lease_s: Float = Field(default=60.0, gt=0, description="a shared lock's lease; a dead holder's runs out")
    timeout_s: Float = Field(default=30.0, gt=0, description="read timeout of one request to the bucket")
