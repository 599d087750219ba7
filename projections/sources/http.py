"""The live HTTP context: endpoint URLs, headers and keys from settings; one client; the fetch policy.

Every request goes through projections.fetch (retries, backoff with full jitter, Retry-After, the time
budget, redaction). Requests to one host are spaced by `live.host_intervals[host]` (else
`live.min_interval_s`), through one rate limiter shared by everything in this process. An API key is sent as
the query parameter or header its endpoint names; fetch redacts it from every URL and message it produces.

Raises ConfigError for a URL template that cannot be filled (nothing is sent).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from projections.errors import ConfigError
from projections.fetch import FetchPolicy, FetchResult, HostRateLimiter, Validator, fetch, make_client
from projections.settings_tables import LiveSettings

# One per process: every live fetch shares the per-host pacing (fetch tasks of one doit run share a process).
_LIMITER = HostRateLimiter()
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def policy_from(live: LiveSettings, **overrides: object) -> FetchPolicy:
    """The fetch policy the settings describe; tests override sleep/clock/random to run without waiting."""
    values: dict[str, object] = {
        "connect_timeout": live.connect_timeout_s, "read_timeout": live.read_timeout_s,
        "max_attempts": live.max_attempts, "total_budget_s": live.total_budget_s, "base_wait_s": live.base_wait_s,
        "max_wait_s": max(live.max_wait_s, live.base_wait_s), "min_interval_s": live.min_interval_s,
        "attempt_deadline_s": live.attempt_deadline_s, "max_body_bytes": int(live.max_body_mb * 2**20),
        "limiter": _LIMITER,
    }
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


@dataclass
class LiveHttp:
    """What a live backend needs to talk to its endpoints. Close it (or use `with`)."""

    live: LiveSettings
    policy: FetchPolicy
    client: httpx.Client
    requests: list[FetchResult] = field(default_factory=list)

    @classmethod
    def from_settings(cls, live: LiveSettings, *, client: httpx.Client | None = None,
                      **policy_overrides: object) -> LiveHttp:
        policy = policy_from(live, **policy_overrides)
        return cls(live, policy, client or make_client(policy))

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> LiveHttp:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.client.close()

    def configured(self, endpoint: str) -> bool:
        return bool(self.live.url_template(endpoint))

    def url(self, endpoint: str, fields: Mapping[str, str]) -> str:
        template = self.live.url_template(endpoint)
        setting = f"PROJECTIONS_LIVE__{endpoint.upper()}__URL"
        if not template:
            raise ConfigError(f"the live {endpoint} endpoint is off ({setting} is empty); set it to fetch {endpoint}")

        def fill(match: re.Match[str]) -> str:
            if match[1] not in fields:
                raise ConfigError(f"{setting}: unknown placeholder {{{match[1]}}} in {template!r}; use "
                                  f"{sorted('{' + f + '}' for f in fields)} or {{stats}}/{{cdn}}/{{dk}}")
            return str(fields[match[1]])

        return _PLACEHOLDER.sub(fill, template)

    def get(self, endpoint: str, fields: Mapping[str, str], *, validate: Validator | None, source: str,
            expected_status: Collection[int] = ()) -> FetchResult:
        """GET one endpoint through projections.fetch (raises FetchError when it gives up; quietly on an
        `expected_status`)."""
        url = self.url(endpoint, fields)
        settings = self.live.endpoint(endpoint)
        headers = self.live.headers(endpoint)
        params: dict[str, str] = {}
        if settings.api_key is not None:
            key = settings.api_key.get_secret_value()
            if settings.api_key_header:
                headers[settings.api_key_header] = settings.api_key_prefix + key
            else:
                params[settings.api_key_param or "api_key"] = key
        host = httpx.URL(url).host
        interval = self.live.host_intervals.get(host, self.policy.min_interval_s)
        policy = dataclasses.replace(self.policy, min_interval_s=interval)
        result = fetch(url, client=self.client, policy=policy, params=params or None, headers=headers,
                       validate=validate, source=source, settings_key=f"PROJECTIONS_LIVE__{endpoint.upper()}__URL",
                       expected_status=expected_status)
        self.requests.append(result)
        return result
