"""Deliver one message through each configured alert channel, with retries; never raise.

    webhook   POST {"text": ...} (Slack-compatible) through an httpx client made by projections.fetch; a 307/308
              redirect is followed with the same POST, any other fails naming its target (301/302/303 would
              turn it into a GET without the alert, which a receiver may well answer 200)
    email     stdlib smtplib: optional STARTTLS and login

Retries follow a projections.fetch.FetchPolicy (attempts, jittered backoff, Retry-After, time budget; tests
inject a zero-wait one). What the retry can fix - refused or dropped connections, timeouts, HTTP 429/5xx,
SMTP 4xx - is retried (a recipient the mail server refused for now, beside others it accepted, alone); anything
else fails at once. Each attempt ends at a wall-clock deadline (the policy's attempt_deadline_s:
alerts.timeout_s), so a receiver dripping its answer a byte at a time cannot hold the run (per-read timeouts never
fire on it). Every outcome is a Delivery; the webhook URL (its path is the secret) and
the SMTP password never appear in one.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from projections.fetch import FetchPolicy, make_client, retry_after_s
from projections.fetch_send import MAX_REDIRECTS, excerpt
from projections.ops import mail
from projections.redaction import redact
from projections.settings_tables import AlertSettings
from projections.textsafe import one_line, slack, visible
from projections.watchdog import Watchdog

Channel = Literal["webhook", "email"]
# What a webhook receiver answers for a URL it does not know (revoked, mistyped): retrying cannot help.
REFUSED = (401, 403, 404, 410)
_REVOKED = "it was revoked or mistyped"
_URL_FIX = "fix alerts.webhook_url (PROJECTIONS_ALERTS__WEBHOOK_URL or [alerts] in projections.toml)"
_RESENDS = (307, 308)  # the redirects that repeat the method and body (RFC 9110); 301/302/303 make a POST a GET
_FINAL_URL = ("set alerts.webhook_url to the URL it redirects to (PROJECTIONS_ALERTS__WEBHOOK_URL or [alerts] in "
              "projections.toml)")


@dataclass(frozen=True)
class Delivery:
    """What happened to one message on one channel (for a probe: whether the channel answered, and `fix`, what
    to change when its answer says so)."""

    channel: Channel
    target: str
    ok: bool
    attempts: int
    detail: str
    fix: str = ""


def alert_policy(alerts: AlertSettings) -> FetchPolicy:
    """Timeouts and retries for alerts: `attempts` tries of at most `timeout_s` each, short jittered waits."""
    t = alerts.timeout_s
    return FetchPolicy(connect_timeout=t, read_timeout=t, write_timeout=t, pool_timeout=t,
                       max_attempts=alerts.attempts, total_budget_s=t * alerts.attempts + 30.0,
                       base_wait_s=1.0, max_wait_s=10.0, min_interval_s=0.0, attempt_deadline_s=t)


def webhook_target(url: str) -> str:
    """The webhook as it may be shown: scheme, host and port only (the path carries the token)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "webhook (unparseable URL)"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}/…"


def email_target(alerts: AlertSettings) -> str:
    return f"smtp://{alerts.smtp_host}:{alerts.smtp_port} -> {', '.join(alerts.smtp_to) or '(no recipients)'}"


def _secrets(alerts: AlertSettings) -> list[str]:
    found = []
    if alerts.webhook_url is not None:
        url = alerts.webhook_url.get_secret_value()
        found.append(url)
        with contextlib.suppress(httpx.InvalidURL):
            found.append(httpx.URL(url).raw_path.decode(errors="replace"))
    if alerts.smtp_password is not None:
        found.append(alerts.smtp_password.get_secret_value())
    return found


class _Retry:
    """Attempt bookkeeping shared by both channels: when to try again, and how long to wait first."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self.start = policy.clock()
        self.errors: list[str] = []
        self._waits: Iterator[float] = policy.jittered_waits()

    def left(self) -> float:
        return self.policy.total_budget_s - (self.policy.clock() - self.start)

    def deadline(self) -> float:
        """The wall-clock limit of the next attempt: the policy's, or what is left of the budget."""
        return max(min(self.policy.attempt_deadline_s, self.left()), 0.001)

    def again(self, error: str, *, retryable: bool, retry_after: float | None = None) -> bool:
        """Record a failed attempt; sleep and return True when another attempt is worth making."""
        self.errors.append(error)
        if not retryable or len(self.errors) >= self.policy.max_attempts:
            return False
        wait = retry_after if retry_after is not None else next(self._waits)
        if wait >= self.left():
            return False
        self.policy.sleep(wait)
        return True

    def failed(self, channel: Channel, target: str, advice: str, secrets: list[str]) -> Delivery:
        listed = "; ".join(f"{n}) {e}" for n, e in enumerate(self.errors, start=1))
        detail = f"failed after {len(self.errors)} attempt{'s' * (len(self.errors) != 1)}: {listed} - {advice}"
        return Delivery(channel, target, False, len(self.errors), redact(detail, secrets))


class _Late(Exception):
    """An attempt the deadline cut short."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within the attempt's {seconds:.3g} s deadline (alerts.timeout_s): the "
                         "receiver is too slow or stalled mid-answer")


def _request(client: httpx.Client, method: str, url: str, *, payload: Mapping[str, Any] | None,
             timeout: httpx.Timeout, deadline_s: float) -> tuple[httpx.Response, str]:
    """One request, and the 307/308 redirects it meets (at most MAX_REDIRECTS), under one wall-clock deadline: the
    last answer (closed) and, unless it is a 2xx, an excerpt of its body (a 2xx is taken once its headers arrive:
    the receiver has the message). Raises httpx.HTTPError, or _Late when the deadline cut it short."""
    body = bytearray()
    with Watchdog(deadline_s) as watchdog:
        for _ in range(MAX_REDIRECTS + 1):
            # a connection of its own, so the watchdog knows its socket
            request = client.build_request(method, url, json=payload, timeout=timeout, headers={"Connection": "close"})
            request.extensions["trace"] = watchdog.trace
            try:
                response = client.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                if watchdog.fired.is_set():
                    raise _Late(deadline_s) from exc
                raise
            try:
                if response.status_code in _RESENDS and response.has_redirect_location:  # the range stops it
                    url = str(request.url.join(response.headers["location"]))
                    continue
                if not response.is_success:
                    with contextlib.suppress(httpx.TransportError):  # the status is the answer; the body says more
                        for chunk in response.iter_bytes():
                            body += chunk
                            if len(body) >= 4096:
                                break
            finally:
                response.close()
            break
    return response, excerpt(bytes(body))


def _redirect(response: httpx.Response) -> str:
    """Where a redirect not followed points (scheme, host and port only: the path may carry a token) and why."""
    where = webhook_target(str(response.url.join(response.headers.get("location", ""))))
    why = (f"more than {MAX_REDIRECTS} redirects" if response.status_code in _RESENDS else
           "not followed: a POST would arrive there as a GET, without the alert")
    return f"to {where} ({why})"


def send_webhook(
    alerts: AlertSettings, payload: Mapping[str, Any], *, client: httpx.Client, policy: FetchPolicy
) -> Delivery:
    """POST `payload` as JSON to the webhook until it answers 2xx or the policy gives up."""
    assert alerts.webhook_url is not None
    url = alerts.webhook_url.get_secret_value()
    target, secrets = webhook_target(url), _secrets(alerts)
    retry = _Retry(policy)
    advice = "check alerts.webhook_url (PROJECTIONS_ALERTS__WEBHOOK_URL), the network, and that the receiver is up"
    while True:
        try:
            response, body = _request(client, "POST", url, payload=payload, timeout=policy.timeout(retry.left()),
                                      deadline_s=retry.deadline())
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            retry.errors.append(f"{type(exc).__name__}: {exc}")
            return retry.failed("webhook", target, "fix alerts.webhook_url: it is not a usable http(s) URL", secrets)
        except (httpx.HTTPError, _Late) as exc:
            said = str(exc) if isinstance(exc, _Late) else f"{type(exc).__name__}: {exc}" if str(exc) else \
                type(exc).__name__
            if retry.again(said, retryable=True):
                continue
            return retry.failed("webhook", target, advice, secrets)
        code = response.status_code
        if 200 <= code <= 299:
            return Delivery("webhook", target, True, len(retry.errors) + 1, f"HTTP {code}")
        if response.is_redirect:
            retry.errors.append(f"HTTP {code} redirects {_redirect(response)}")
            return retry.failed("webhook", target, _FINAL_URL, secrets)
        error = f"HTTP {code} {one_line(response.reason_phrase)}".rstrip() + (f": {body}" if body else "")
        wait = retry_after_s(response.headers) if code in (429, 503) else None
        if retry.again(error, retryable=code == 429 or code >= 500, retry_after=wait):
            continue
        if code in REFUSED:
            advice = f"the receiver refused the webhook URL: {_REVOKED} - fix alerts.webhook_url"
        return retry.failed("webhook", target, advice, secrets)


def send_email(alerts: AlertSettings, subject: str, text: str, *, policy: FetchPolicy) -> Delivery:
    """Send one mail to every alerts.smtp_to until the server accepts it for each of them or the policy gives up.

    A recipient refused for now (4xx: greylisting, a full mailbox, or not asked at all because a 421 closed the
    session) is sent the mail again on the next attempt, without those who have it; one refused for good (5xx) is
    not. The delivery is ok only when every recipient got the mail: a missing one is an alert that did not arrive,
    and says who and why."""
    target, secrets = email_target(alerts), _secrets(alerts)
    retry = _Retry(policy)
    if not alerts.smtp_to:
        retry.errors.append("no recipients")
        return retry.failed("email", target, "set alerts.smtp_to (PROJECTIONS_ALERTS__SMTP_TO)", secrets)
    message = mail.message(alerts, subject, text)
    pending, delivered = list(alerts.smtp_to), list[str]()
    lost: dict[str, tuple[int, bytes | str]] = {}
    attempts = 0
    while True:
        attempts += 1
        try:
            with Watchdog(retry.deadline()) as watchdog:
                smtp = mail.session(alerts, watchdog)
                try:
                    refused, sent = smtp.send_message(message, to_addrs=pending), True
                except smtplib.SMTPRecipientsRefused as exc:
                    # raised before DATA - every recipient refused, or a 421 that closed the session part way down
                    # the list: none of `pending` has the mail, those after the 421 were not even asked
                    refused, sent = exc.recipients, False
                finally:
                    smtp.close()
        except (smtplib.SMTPException, OSError) as exc:
            error, retryable = mail.error(exc)
            if watchdog.fired.is_set():
                error, retryable = str(_Late(watchdog.seconds)), True
            if retry.again(error, retryable=retryable):
                continue
            if delivered:
                lost.update({rcpt: (0, error) for rcpt in pending})
                break
            return retry.failed("email", target, f"check alerts.smtp_host/smtp_port ({target}) and that the mail "
                                "server is up and accepts mail from this host", secrets)
        if sent:
            delivered += [rcpt for rcpt in pending if rcpt not in refused]
        lost.update({rcpt: answer for rcpt, answer in refused.items() if not 400 <= answer[0] < 500})
        later = {rcpt: refused.get(rcpt, (0, "not asked: the server closed the session")) for rcpt in pending
                 if rcpt not in delivered and rcpt not in lost}
        pending = list(later)
        if later and retry.again(f"refused for now ({mail.refusals(later)})", retryable=True):
            continue
        lost.update(later)
        break
    if not lost:
        return Delivery("email", target, True, attempts, "accepted")
    who = f"accepted for {', '.join(delivered)} only" if delivered else "accepted for no recipient"
    advice = ("fix alerts.smtp_to, or ask the mail server's admin" if any(code >= 500 for code, _ in lost.values())
              else f"check that the mail server ({target}) is up and takes mail for them")
    detail = f"{who}, after {attempts} attempt{'s' * (attempts != 1)}; never for {mail.refusals(lost)} - {advice}"
    return Delivery("email", target, False, attempts, redact(detail, secrets))


def configured(alerts: AlertSettings) -> list[Channel]:
    out: list[Channel] = []
    if alerts.webhook_url is not None and alerts.webhook_url.get_secret_value():
        out.append("webhook")
    if alerts.smtp_host:
        out.append("email")
    return out


def deliver(
    alerts: AlertSettings, subject: str, text: str, *, policy: FetchPolicy | None = None,
    client: httpx.Client | None = None,
) -> list[Delivery]:  # fmt: skip
    """Send through every configured channel; one Delivery each (none when nothing is configured)."""
    policy = policy or alert_policy(alerts)
    out: list[Delivery] = []
    for channel in configured(alerts):
        if channel == "webhook":
            payload = {"text": f"*{slack(subject)}*\n{slack(text)}"}  # feed text quoted in it pings no one
            if client is not None:
                out.append(send_webhook(alerts, payload, client=client, policy=policy))
            else:
                with make_client(policy) as own:
                    out.append(send_webhook(alerts, payload, client=own, policy=policy))
        else:
            out.append(send_email(alerts, one_line(subject), visible(text), policy=policy))
    return out


def probe(alerts: AlertSettings, *, client: httpx.Client | None = None) -> list[Delivery]:
    """Whether each configured channel answers, without sending a message (one attempt each).

    webhook: an HTTP answer to a HEAD request counts (405 included) unless it is one of REFUSED, which says the
    URL is revoked or mistyped, or a redirect an alert would not get through (any but 307/308); email: greeting,
    STARTTLS and login as configured. `detail` reads after the
    channel's name: "answers (...)", "does not answer: ...", "refuses the URL (...)", "redirects (...) to ...".
    """
    out: list[Delivery] = []
    secrets = _secrets(alerts)
    policy = alert_policy(alerts)
    if "webhook" in configured(alerts):
        assert alerts.webhook_url is not None
        url = alerts.webhook_url.get_secret_value()
        target = webhook_target(url)
        try:
            with contextlib.ExitStack() as stack:
                http = client if client is not None else stack.enter_context(make_client(policy))
                response, _ = _request(http, "HEAD", url, payload=None, timeout=policy.timeout(),
                                       deadline_s=policy.attempt_deadline_s)
            code = response.status_code
            if response.is_redirect:
                out.append(Delivery("webhook", target, False, 1, redact(f"redirects (HTTP {code} to HEAD) "
                                    f"{_redirect(response)}", secrets), _FINAL_URL))
            elif code in REFUSED:
                out.append(Delivery("webhook", target, False, 1, f"refuses the URL (HTTP {code} to HEAD): {_REVOKED}",
                                    _URL_FIX))
            else:
                out.append(Delivery("webhook", target, True, 1, f"answers (HTTP {code} to HEAD)"))
        except (httpx.HTTPError, httpx.InvalidURL, _Late) as exc:
            said = str(exc) if isinstance(exc, _Late) else f"{type(exc).__name__}: {exc}"
            detail = redact(f"does not answer: {said}", secrets)
            out.append(Delivery("webhook", target, False, 1, detail))
    if "email" in configured(alerts):
        target = email_target(alerts)
        try:
            with Watchdog(policy.attempt_deadline_s) as watchdog:
                smtp = mail.session(alerts, watchdog)
                try:
                    code, _ = smtp.noop()
                    smtp.quit()
                finally:
                    smtp.close()
            out.append(Delivery("email", target, True, 1, f"answers (NOOP {code})"))
        except (smtplib.SMTPException, OSError) as exc:
            said = str(_Late(watchdog.seconds)) if watchdog.fired.is_set() else mail.error(exc)[0]
            out.append(Delivery("email", target, False, 1, redact(f"does not answer: {said}", secrets)))
    return out
