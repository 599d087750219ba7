"""Alerts against real loopback receivers: what arrives, what is retried, and what a dead channel leaves behind."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from projections.fetch import FetchPolicy
from projections.ledger import Ledger
from projections.ops import alerts, channels, unit_alert
from projections.ops.alerts import Alert
from tests.net.faultserver import FaultServer
from tests.ops.conftest import FakeTime, MakeSettings
from tests.ops.receivers import Dripper, SmtpReceiver, WebhookReceiver, closed_port

FAILURE = Alert(
    date="2019-10-30",
    stage="minutes",
    error="minutes: missing columns ['min_l10'] in object 3f2a… - re-import the game logs",
    command="projections status 2019-10-30",
    run="run0001",
)


def ledger_lines(home: Path) -> list[dict]:
    return [json.loads(line) for p in sorted((home / "ledger").glob("*.jsonl")) for line in p.read_text().splitlines()]


def test_stage_failure_arrives_by_webhook_and_email(
    make_settings: MakeSettings, webhook: WebhookReceiver, smtp: SmtpReceiver, zero_wait: FetchPolicy, tmp_path: Path
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url(), "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["ops@example.org"], "smtp_from": "nba@example.org"})
    ledger = Ledger(settings.home, run="run0001")
    deliveries = alerts.send_alert(settings, FAILURE, ledger=ledger, policy=zero_wait)

    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [("webhook", True, 1), ("email", True, 1)]
    [post] = webhook.posts
    text = post["text"]
    assert text.startswith("*projections: minutes failed for slate 2019-10-30*")
    for part in ("date: 2019-10-30", "stage: minutes", "missing columns ['min_l10']",
                 "details: projections status 2019-10-30", "run: run0001"):
        assert part in text
    [mail] = smtp.messages
    assert mail["Subject"] == "projections: minutes failed for slate 2019-10-30"
    assert mail["From"] == "nba@example.org"
    assert smtp.recipients == [["ops@example.org"]]
    body = mail.get_content()
    assert "stage: minutes" in body and "details: projections status 2019-10-30" in body
    events = ledger_lines(settings.home)
    assert [(e["event"], e["channel"], e["game_date"], e["stage"]) for e in events] == [
        ("alert", "webhook", "2019-10-30", "minutes"), ("alert", "email", "2019-10-30", "minutes")]
    assert all(e["run"] == "run0001" for e in events)
    # the webhook's path is its secret: it must not be in the ledger
    assert not any("s3cr3tWebhookToken" in json.dumps(e) for e in events)


def test_webhook_retries_5xx_and_429_honouring_retry_after(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    webhook.script((503, {}), (429, {"Retry-After": "3"}))
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=print)
    assert delivery.ok and delivery.attempts == 3
    assert fake_time.sleeps == [0.5, 3.0]  # jittered backoff, then the server's Retry-After
    assert len(webhook.posts) == 3


def test_revoked_webhook_is_not_retried_and_is_recorded(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    webhook.script((404, {}))
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    printed: list[str] = []
    ledger = Ledger(settings.home, run="run0001")
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=ledger, policy=zero_wait, echo=printed.append)
    assert not delivery.ok and delivery.attempts == 1 and fake_time.sleeps == []
    assert "HTTP 404" in delivery.detail and "revoked or mistyped" in delivery.detail
    [event] = ledger_lines(settings.home)
    assert event["event"] == "alert_failure" and event["channel"] == "webhook"
    assert "s3cr3tWebhookToken" not in json.dumps(event) + printed[0]


def test_receivers_down_are_recorded_and_printed_not_raised(
    make_settings: MakeSettings, zero_wait: FetchPolicy, fake_time: FakeTime, capsys: pytest.CaptureFixture[str]
) -> None:
    with closed_port() as http_sock, closed_port() as smtp_sock:
        settings = make_settings(alerts={
            "webhook_url": f"http://127.0.0.1:{http_sock.getsockname()[1]}/hooks/s3cr3tWebhookToken",
            "smtp_host": "127.0.0.1", "smtp_port": smtp_sock.getsockname()[1], "smtp_to": ["ops@example.org"],
            "smtp_user": "nba", "smtp_password": "hunter2-smtp-password",
        })
        ledger = Ledger(settings.home, run="run0001")
        deliveries = alerts.send_alert(settings, FAILURE, ledger=ledger, policy=zero_wait)

    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [("webhook", False, 3), ("email", False, 3)]
    assert fake_time.sleeps == [0.5, 1.0, 0.5, 1.0]  # both channels retried with backoff before giving up
    failures = ledger_lines(settings.home)
    assert [(e["event"], e["channel"]) for e in failures] == [("alert_failure", "webhook"), ("alert_failure", "email")]
    assert all(e["game_date"] == "2019-10-30" and e["stage"] == "minutes" for e in failures)
    assert "Connection refused" in failures[0]["error"] and "Connection refused" in failures[1]["error"]
    printed = capsys.readouterr().err
    assert printed.count("ALERT NOT DELIVERED") == 2
    assert "via webhook to http://127.0.0.1:" in printed and "via email to smtp://127.0.0.1:" in printed
    everything = printed + json.dumps(failures)
    assert "s3cr3tWebhookToken" not in everything and "hunter2-smtp-password" not in everything


def test_a_greylisting_mail_server_is_tried_again_and_a_refusal_for_good_is_not(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """A recipient answered 450 (greylisting: "try again later") was taken as refused for good: the alert failed at
    once, telling to fix alerts.smtp_to. Every recipient refused with a 4xx is retried; a 5xx is not."""
    smtp.script_rcpt("450 4.2.0 greylisted, try again later")
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_to": ["ops@example.org"]})
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert delivery.ok and delivery.attempts == 2 and fake_time.sleeps == [0.5], delivery
    assert smtp.recipients == [["ops@example.org"]]

    smtp.script_rcpt("550 5.1.1 no such user")
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert not delivery.ok and delivery.attempts == 1 and fake_time.sleeps == [0.5], delivery
    assert "550 5.1.1 no such user" in delivery.detail and "fix alerts.smtp_to" in delivery.detail


def test_a_recipient_refused_for_now_beside_one_accepted_gets_the_mail_on_the_next_attempt(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """With two recipients, a 450 for one and 250 for the other counted as delivered: send_message returned the
    refused one, the delivery said "accepted; refused for [...]" and that person never got the alert. He is now
    sent it again, alone; one refused for good (5xx) makes the delivery fail, naming him and the server's answer."""
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["ops@example.org", "boss@example.org"]})
    smtp.script_rcpt("450 4.2.0 greylisted, try again later")  # the first RCPT: ops@
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert delivery.ok and delivery.attempts == 2 and fake_time.sleeps == [0.5], delivery
    assert smtp.recipients == [["boss@example.org"], ["ops@example.org"]]
    assert smtp.messages[0]["Message-ID"] == smtp.messages[1]["Message-ID"]  # the same mail, not a second alert

    smtp.script_rcpt("550 5.1.1 no such user")
    ledger = Ledger(settings.home, run="run0001")
    printed: list[str] = []
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=ledger, policy=zero_wait, echo=printed.append)
    assert not delivery.ok and delivery.attempts == 1 and fake_time.sleeps == [0.5], delivery
    assert smtp.recipients[2:] == [["boss@example.org"]]
    assert "accepted for boss@example.org only" in delivery.detail, delivery.detail
    assert "ops@example.org: 550 5.1.1 no such user" in delivery.detail and "fix alerts.smtp_to" in delivery.detail
    [failure] = ledger_lines(settings.home)
    assert failure["event"] == "alert_failure" and "ops@example.org: 550" in failure["error"]
    assert any("ALERT NOT DELIVERED via email" in line for line in printed), printed


@pytest.mark.timeout(30)
def test_receivers_answering_a_byte_at_a_time_are_given_up_at_the_attempt_deadline(
    make_settings: MakeSettings, fake_time: FakeTime
) -> None:
    """A webhook dripping its status line and a mail server dripping its greeting, a byte every 0.1 s, held the
    run (or the OnFailure unit) without end: each byte reset the per-read timeout. Each attempt now ends at
    alerts.timeout_s of wall-clock time, the delivery fails after alerts.attempts of them and is recorded; the
    doctor's probe of the same channels ends too."""
    with Dripper("http") as hook, Dripper("smtp") as mail:
        settings = make_settings(alerts={
            "webhook_url": f"http://127.0.0.1:{hook.port}/hooks/s3cr3tWebhookToken", "smtp_host": "127.0.0.1",
            "smtp_port": mail.port, "smtp_to": ["ops@example.org"], "timeout_s": 0.5, "attempts": 2})
        policy = dataclasses.replace(channels.alert_policy(settings.alerts), sleep=fake_time.sleep,
                                     clock=fake_time.clock, random=lambda: 0.5)
        ledger = Ledger(settings.home, run="run0001")
        started = time.monotonic()
        deliveries = alerts.send_alert(settings, FAILURE, ledger=ledger, policy=policy, echo=lambda _m: None)
        took = time.monotonic() - started
        probed = channels.probe(settings.alerts)
        probe_took = time.monotonic() - started - took
        assert (hook.connections, mail.connections) == (3, 3)  # two attempts and the probe each

    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [("webhook", False, 2), ("email", False, 2)]
    assert 2.0 <= took < 4.0, took  # 2 channels x 2 attempts x 0.5 s
    assert all(d.detail.count("within the attempt's 0.5 s deadline") == 2 for d in deliveries), deliveries
    assert [(e["event"], e["channel"]) for e in ledger_lines(settings.home)] == [
        ("alert_failure", "webhook"), ("alert_failure", "email")]
    assert [(d.channel, d.ok) for d in probed] == [("webhook", False), ("email", False)] and probe_took < 2.0
    assert all("does not answer: no complete answer within" in d.detail for d in probed), probed


@pytest.mark.timeout(30)
def test_a_webhook_answering_200_and_trickling_its_body_has_the_alert_at_once(
    make_settings: MakeSettings, zero_wait: FetchPolicy
) -> None:
    """The receiver's status is its answer: a 200 whose body trickles on is a delivered alert, neither held until
    the deadline nor sent again (a second copy) because the body never ended."""
    with FaultServer() as server:
        server.script("/hooks/s3cr3tWebhookToken", ("trickle", 0.1))
        settings = make_settings(alerts={"webhook_url": server.url("/hooks/s3cr3tWebhookToken"), "timeout_s": 0.5})
        started = time.monotonic()
        [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
        assert delivery.ok and delivery.attempts == 1 and time.monotonic() - started < 0.5, delivery
        assert [r.method for r in server.requests_to("/hooks/s3cr3tWebhookToken")] == ["POST"]


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_webhook_url_redirecting_the_post_to_a_get_is_no_delivered_alert(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, fake_time: FakeTime, status: int
) -> None:
    """httpx followed a 301/302/303 with a GET without the alert, and a receiver answering that GET 200 made the
    alert count as delivered though nothing was posted. Such a redirect is not followed: the alert fails at once
    naming where the URL redirects (scheme, host and port: the path carries a token) and the fix, and the doctor's
    probe says so too."""
    moved = webhook.url("/services/T0001/B0002/n3wS3cr3tToken")
    webhook.script((status, {"Location": moved}))
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    ledger = Ledger(settings.home, run="run0001")
    printed: list[str] = []
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=ledger, policy=zero_wait, echo=printed.append)
    assert not delivery.ok and delivery.attempts == 1 and fake_time.sleeps == [], delivery
    assert f"HTTP {status} redirects to http://127.0.0.1:{webhook.port}/… (not followed" in delivery.detail
    assert "set alerts.webhook_url to the URL it redirects to" in delivery.detail
    assert [method for method, *_ in webhook.requests] == ["POST"]
    [failure] = ledger_lines(settings.home)
    assert failure["event"] == "alert_failure" and "redirects to" in failure["error"]
    assert not any(token in json.dumps(failure) + printed[0] for token in ("n3wS3cr3tToken", "s3cr3tWebhookToken"))

    webhook.script((status, {"Location": moved}))
    [probed] = channels.probe(settings.alerts)
    assert not probed.ok and probed.detail.startswith(f"redirects (HTTP {status} to HEAD) to http://127.0.0.1:")
    assert probed.fix.startswith("set alerts.webhook_url to the URL it redirects to")


@pytest.mark.parametrize("status", [307, 308])
def test_a_webhook_url_redirecting_with_the_same_post_is_followed(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, status: int
) -> None:
    """307 and 308 repeat the POST and its body where they point: followed, the alert arrives there."""
    webhook.script((status, {"Location": "/services/T0001/B0002/moved"}))
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert delivery.ok and delivery.attempts == 1, delivery
    assert [(method, path) for method, path, *_ in webhook.requests] == [
        ("POST", "/services/T0001/B0002/s3cr3tWebhookToken"), ("POST", "/services/T0001/B0002/moved")]
    first, second = webhook.posts
    assert first == second and "stage: minutes" in second["text"]


def test_no_channel_configured_is_recorded(make_settings: MakeSettings, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings()
    ledger = Ledger(settings.home, run="run0001")
    assert alerts.send_alert(settings, FAILURE, ledger=ledger) == []
    [event] = ledger_lines(settings.home)
    assert event["event"] == "alert_failure" and event["channel"] == "none"
    assert "PROJECTIONS_ALERTS__WEBHOOK_URL" in capsys.readouterr().err
    # the alert was the data root's first write: it created it under the permission policy
    assert stat.S_IMODE(settings.home.stat().st_mode) == stat.S_IMODE(ledger.dir.stat().st_mode) == 0o2775


def test_unwritable_ledger_does_not_crash_the_alert(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "ledger").write_text("a file where the ledger directory should be")
    settings = make_settings(home=home, alerts={"webhook_url": webhook.url()})
    printed: list[str] = []
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=Ledger(home), policy=zero_wait, echo=printed.append)
    assert delivery.ok
    assert any("could not record `alert`" in line for line in printed)


def test_test_alert_goes_through_every_channel(
    make_settings: MakeSettings, webhook: WebhookReceiver, smtp: SmtpReceiver, zero_wait: FetchPolicy
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url(), "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["a@example.org", "b@example.org"]})
    deliveries = alerts.send_test_alert(settings, ledger=None, policy=zero_wait, today=dt.date(2019, 10, 30))
    assert alerts.exit_code(deliveries) == 0
    assert "test alert" in webhook.posts[0]["text"] and "nothing failed" in webhook.posts[0]["text"]
    assert smtp.messages[0]["Subject"].startswith("projections: test alert")
    assert smtp.recipients == [["a@example.org", "b@example.org"]]
    assert alerts.exit_code([]) == 1


def test_test_alert_names_the_configured_details_command(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url(), "details_command": "projections history {date}"})
    alerts.send_test_alert(settings, ledger=None, policy=zero_wait, today=dt.date(2019, 10, 30))
    # run against the data root the service used: the reader's shell has its own PROJECTIONS_HOME (or folder)
    assert f"details: PROJECTIONS_HOME={settings.home.resolve()} projections history 2019-10-30" \
        in webhook.posts[0]["text"], webhook.posts[0]["text"]
    for template in ("PROJECTIONS_HOME=/srv/nba projections status {date}", "ssh box journalctl -u nba"):
        settings = make_settings(alerts={"webhook_url": webhook.url(), "details_command": template})
        assert alerts.details_template(settings) == template  # it names the root itself, or is not ours


def test_one_recipient_in_the_environment_gets_the_mail(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROJECTIONS_ALERTS__SMTP_TO=ops@example.org, as the "no alert channel" message suggests, is one address."""
    for name, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", str(smtp.port)), ("SMTP_TO", "ops@example.org")):
        monkeypatch.setenv(f"PROJECTIONS_ALERTS__{name}", value)
    deliveries = alerts.send_test_alert(make_settings(), ledger=None, policy=zero_wait)
    assert alerts.exit_code(deliveries) == 0
    assert smtp.recipients == [["ops@example.org"]] and smtp.messages[0]["To"] == "ops@example.org"


# ------------------------------------------------------------------------------------------ run alerts


def _run_events() -> list[dict]:
    return [
        {"event": "run_start", "run": "r1", "dates": ["2019-10-30"], "ts": "2019-10-30T14:00:00.000Z"},
        {"event": "stage_failure", "run": "r1", "game_date": "2019-10-30", "stage": "odds",
         "error": "odds: GET https://api/odds failed after 6 attempts"},
        {"event": "stage_failure", "run": "r1", "game_date": "2019-10-30", "stage": "minutes", "error": "blocked"},
        {"event": "stage_failure", "run": "other", "game_date": "2019-10-29", "stage": "odds", "error": "old"},
        {"event": "run_end", "run": "r1", "ok": False, "failed": 2, "not_run": 5},
    ]


def test_alerts_for_run_one_per_failed_date_naming_the_first_failure() -> None:
    [alert] = alerts.alerts_for_run(_run_events(), run="r1")
    assert (alert.date, alert.stage, alert.kind, alert.run) == ("2019-10-30", "odds", "stage_failure", "r1")
    assert alert.error.startswith("odds: GET https://api/odds failed") and "(also failed: minutes)" in alert.error
    assert alert.command == "projections status 2019-10-30"


def test_alerts_for_run_stale_and_run_level_and_cap() -> None:
    ok_run: list[dict[str, Any]] = [{"event": "run_start", "run": "r2", "dates": ["2019-10-30"]},
              {"event": "run_end", "run": "r2", "ok": True, "failed": 0, "not_run": 0}]
    assert alerts.alerts_for_run(ok_run, run="r2") == []
    [stale] = alerts.alerts_for_run(ok_run, run="r2", stale=[("2019-10-30", "gold"), ("2019-10-30", "ownership")])
    assert (stale.kind, stale.stage) == ("stale", "gold, ownership")
    killed: list[dict[str, Any]] = [{"event": "run_start", "run": "r3", "dates": ["2019-10-30", "2019-10-31"]},
              {"event": "run_end", "run": "r3", "ok": False, "failed": 0, "not_run": 3, "failures": None}]
    [run_level] = alerts.alerts_for_run(killed, run="r3")
    assert run_level.date == "2019-10-30..2019-10-31" and "not_run=3" in run_level.error
    assert run_level.subject == "projections: the run of slate 2019-10-30..2019-10-31 ended with stages not built"
    many = [{"event": "stage_failure", "run": "r4", "game_date": f"2019-11-{d:02d}", "stage": "odds", "error": "x"}
            for d in range(1, 11)]
    capped = alerts.alerts_for_run(many, run="r4", limit=3)
    assert [a.kind for a in capped] == ["stage_failure", "stage_failure", "summary"]
    assert capped[-1].stage == "8 more failed or stale dates" and capped[-1].date == "2019-11-03..2019-11-10"


def test_notify_run_reads_the_ledger_and_sends(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    ledger = Ledger(settings.home, run="r1")
    for event in _run_events():
        fields = {k: v for k, v in event.items() if k not in ("event", "ts")}
        Ledger(settings.home, run=fields.pop("run")).append(event["event"], **fields)
    deliveries = alerts.notify_run(settings, ledger, policy=zero_wait)
    assert [d.ok for d in deliveries] == [True]
    assert "odds failed for slate 2019-10-30" in webhook.posts[0]["text"]
    assert alerts.notify_run(settings, Ledger(settings.home, run="nothing-failed"), policy=zero_wait) == []


# ---------------------------------------------------------------------------------- OnFailure handler

NOW = dt.datetime(2019, 10, 30, 15, 0, tzinfo=dt.UTC)


def test_unit_failure_names_the_failed_stage_of_its_run(make_settings: MakeSettings) -> None:
    events = [{**_run_events()[0], "invocation": "abc123"}, *_run_events()[1:]]
    alert = unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=events,
                                              scope="user", monitor={"MONITOR_INVOCATION_ID": "abc123",
                                                                     "MONITOR_SERVICE_RESULT": "exit-code"}, now=NOW)
    assert alert is not None
    assert (alert.date, alert.stage, alert.kind, alert.run) == ("2019-10-30", "odds", "unit_failed", "r1")
    assert alert.command.startswith("journalctl --user -u projections-slate.service")
    assert "service_result=exit-code" in alert.error


def test_unit_failure_after_delivered_run_alert_is_not_sent_twice(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    run_ledger = Ledger(settings.home, run="r1")
    run_ledger.append("run_start", dates=["2019-10-30"], invocation="timer-run-1")  # the service's run
    run_ledger.append("stage_failure", game_date="2019-10-30", stage="odds", error="boom")
    run_ledger.append("run_end", ok=False, failed=1, not_run=0)
    alerts.notify_run(settings, run_ledger, policy=zero_wait)
    assert len(webhook.posts) == 1
    code = unit_alert.unit_failed(settings, "projections-slate.service", scope="system", ledger=Ledger(settings.home),
                                  monitor={}, policy=zero_wait, echo=print)
    assert code == 0 and len(webhook.posts) == 1


def test_unit_failure_without_run_or_cut_off(make_settings: MakeSettings) -> None:
    settings = make_settings()
    none = unit_alert.alert_for_unit_failure(settings, "projections-slate.service", events=[], scope="system",
                                             monitor={"MONITOR_EXIT_STATUS": "1"}, now=NOW)
    assert none is not None and none.date == "2019-10-30" and "before the pipeline recorded a run" in none.error
    assert "exit_status=1" in none.error and none.command.startswith("journalctl -u projections-slate.service")
    started = [{"event": "run_start", "run": "r9", "dates": ["2019-10-30"], "ts": "2019-10-30T14:30:00.000Z",
                "invocation": "timer-run-9"}]
    cut = unit_alert.alert_for_unit_failure(settings, "projections-slate.service", events=started, scope="system",
                                            monitor={}, now=NOW)
    assert cut is not None and "cut off" in cut.error and cut.run == "r9"
    old = [{**started[0], "ts": "2019-10-28T14:30:00.000Z"}]  # yesterday's run is not this failure
    stale = unit_alert.alert_for_unit_failure(settings, "projections-slate.service", events=old, scope="system",
                                              monitor={}, now=NOW)
    assert stale is not None and stale.run == "" and "before the pipeline recorded a run" in stale.error


def test_unit_failure_whose_invocation_recorded_no_run_blames_no_other_run(make_settings: MakeSettings) -> None:
    """The timer's doit refused to start (exit 3) after a manual run: that run is not the one that failed."""
    manual = [{"event": "run_start", "run": "manual", "dates": ["2019-10-29"], "ts": "2019-10-30T14:50:00.000Z"},
              {"event": "run_end", "run": "manual", "ok": True, "failed": 0, "not_run": 0}]
    monitor = {"MONITOR_INVOCATION_ID": "timer-run-2", "MONITOR_SERVICE_RESULT": "exit-code",
               "MONITOR_EXIT_STATUS": "3"}
    alert = unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=manual,
                                              scope="user", monitor=monitor, now=NOW)
    assert alert is not None
    assert (alert.date, alert.stage, alert.kind, alert.run) == ("2019-10-30", "projections-slate.service",
                                                                "unit_failed", "")
    assert ("failed before the pipeline recorded a run (invocation timer-run-2, service_result=exit-code, "
            "exit_status=3): usually doit refused to start") in alert.error
    assert "2019-10-29" not in alert.text() and "manual" not in alert.text()
    assert alert.command == "journalctl --user -u projections-slate.service -n 200 --no-pager"


def test_without_an_invocation_id_a_fetch_run_by_hand_is_not_the_failed_units(make_settings: MakeSettings):
    """`projections fetch` by hand records a run of its own; failing a minute before the unit, it was taken for
    the unit's run ("fetch salaries failed for slate 2030-01-01") instead of the unit failing before a run."""
    manual = [{"event": "run_start", "run": "m1", "dates": ["2019-10-30"], "program": "projections",
               "ts": "2019-10-30T14:59:00.000Z"},
              {"event": "fetch_failure", "run": "m1", "game_date": "2019-10-30", "source": "salaries",
               "error": "no DraftKings salaries", "ts": "2019-10-30T14:59:01.000Z"},
              {"event": "run_end", "run": "m1", "ok": False, "ts": "2019-10-30T14:59:02.000Z"}]
    alert = unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=manual,
                                              scope="user", monitor={}, now=NOW)
    assert alert is not None and alert.run == "" and "failed before the pipeline recorded a run" in alert.error


def test_without_an_invocation_id_an_earlier_ended_run_is_not_the_failed_units(make_settings: MakeSettings):
    """systemd before 251 (Debian 11, Ubuntu 22.04) passes no MONITOR_INVOCATION_ID: the handler took the latest
    run of the last 4 hours as the failed unit's, so a run that failed and was alerted an hour earlier swallowed
    the alert of a unit that failed now (a broken settings file: doit refused to start, recording nothing)."""
    earlier = [{"event": "run_start", "run": "r1", "dates": ["2019-10-30"], "ts": "2019-10-30T14:00:00.000Z",
                "invocation": "timer-run-1"},
               {"event": "stage_failure", "run": "r1", "game_date": "2019-10-30", "stage": "odds", "error": "boom"},
               {"event": "run_end", "run": "r1", "ok": False, "failed": 1, "ts": "2019-10-30T14:01:00.000Z"},
               {"event": "alert", "run": "r1", "channel": "webhook", "ts": "2019-10-30T14:01:01.000Z"}]
    for error in (None, "invalid settings (alerts.smtp_tls: not a setting)"):
        alert = unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=earlier,
                                                  scope="user", monitor={}, now=NOW, settings_error=error)
        assert alert is not None and alert.run == "" and "before the pipeline recorded a run" in alert.error
    # a run whose own alerts took long (slow channels, several alerts) ended when its last line was written
    slow = [*earlier[:3], {**earlier[3], "ts": "2019-10-30T14:58:00.000Z"}]
    assert unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=slow, scope="user",
                                             monitor={}, now=NOW) is None  # already alerted: not sent twice
    running = earlier[:2]  # a run still going (no run_end) when the unit failed is the unit's own
    cut = unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=running,
                                            scope="user", monitor={}, now=NOW)
    assert cut is not None and cut.run == "r1"


def test_without_an_invocation_id_a_doit_run_by_hand_is_not_the_failed_units(make_settings: MakeSettings):
    """systemd before 251 passes no MONITOR_INVOCATION_ID: a backfill started by hand a minute before (still
    running, or just ended) was taken for the failed unit's run - the alert said it was cut off, and the ledger
    filed it under that run. The unit's own runs carry systemd's INVOCATION_ID; a run by hand carries none."""
    manual = [{"event": "run_start", "run": "hand", "dates": ["2019-11-01", "2019-11-03"],
               "ts": "2019-10-30T14:59:00.000Z"}]
    for events in (manual, [*manual, {"event": "run_end", "run": "hand", "ok": True, "ts": "2019-10-30T14:59:50Z"}]):
        alert = unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=events,
                                                  scope="user", monitor={}, now=NOW)
        assert alert is not None and alert.run == "" and "failed before the pipeline recorded a run" in alert.error
        assert "2019-11-01" not in alert.text()


def test_unit_failure_after_an_alerted_manual_run_is_still_sent(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    manual = Ledger(settings.home, run="manual")
    manual.append("run_start", dates=["2019-10-30"])
    manual.append("stage_failure", game_date="2019-10-30", stage="odds", error="boom")
    manual.append("run_end", ok=False, failed=1, not_run=0)
    alerts.notify_run(settings, manual, policy=zero_wait)
    code = unit_alert.unit_failed(settings, "projections-slate.service", scope="system", ledger=Ledger(settings.home),
                                  monitor={"MONITOR_INVOCATION_ID": "timer-run-2", "MONITOR_EXIT_STATUS": "3"},
                                  policy=zero_wait, echo=print)
    assert code == 0
    first, second = (post["text"] for post in webhook.posts)
    assert "odds failed for slate 2019-10-30" in first
    assert "failed before the pipeline recorded a run (invocation timer-run-2, exit_status=3)" in second
    assert "details: journalctl -u projections-slate.service" in second and "odds" not in second


def test_unit_failed_exit_code_reflects_delivery(make_settings: MakeSettings, zero_wait: FetchPolicy) -> None:
    with closed_port() as sock:
        settings = make_settings(alerts={"webhook_url": f"http://127.0.0.1:{sock.getsockname()[1]}/x"})
        code = unit_alert.unit_failed(settings, "projections-slate.service", scope="system",
                                      ledger=Ledger(settings.home), monitor={}, now=NOW, policy=zero_wait,
                                      echo=lambda _: None)
    assert code == 1
    [event] = ledger_lines(settings.home)
    assert event["event"] == "alert_failure" and event["kind"] == "unit_failed"


# ------------------------------------------------------------------------------------ live fetch failures

FETCH_ERROR = ("odds: GET http://127.0.0.1:9/cdn/odds_todaysGames.json?apiKey=REDACTED failed after 3 attempts: "
               "1) HTTP 503; 2) HTTP 503; 3) HTTP 503\nwhat to do: retry later, or `projections ingest lines FILE`")


def _fetch_events() -> list[dict[str, Any]]:
    return [
        {"event": "run_start", "run": "f1", "dates": ["2026-11-25", "2026-11-26"]},
        {"event": "fetch_start", "run": "f1", "game_date": "2026-11-25", "source": "odds"},
        {"event": "fetch_failure", "run": "f1", "game_date": "2026-11-25", "source": "odds", "error": FETCH_ERROR,
         "error_type": "FetchError", "readers": ["calibration", "odds"], "seconds": 1.5},
        {"event": "stage_failure", "run": "f1", "game_date": "2026-11-25", "stage": "salaries", "error": "bad file"},
        {"event": "stage_failure", "run": "f1", "game_date": "2026-11-26", "stage": "salaries", "error": "bad file"},
        {"event": "fetch_failure", "run": "f1", "game_date": "2026-11-26", "source": "schedule", "error": "down",
         "error_type": "FetchError", "readers": ["schedule"], "seconds": 0.2},
        {"event": "run_end", "run": "f1", "ok": False, "failed": 4, "not_run": 20,
         "failures": ["fetch_odds:2026-11-25: odds: GET ..."]},
    ]


def test_alerts_for_run_a_fetch_failure_is_a_per_date_alert_naming_source_error_and_readers() -> None:
    first, second = alerts.alerts_for_run(_fetch_events(), run="f1")
    # 2026-11-25: the fetch failed first, the stage failure is named with it, in one alert
    assert (first.date, first.stage, first.kind, first.run) == ("2026-11-25", "fetch odds", "fetch_failure", "f1")
    assert first.subject == "projections: fetch odds failed for slate 2026-11-25"
    assert first.error.startswith(FETCH_ERROR.splitlines()[0])
    assert "calibration, odds" in first.error and "(also failed: salaries)" in first.error
    assert "(run)" not in first.text() and "ended stale" not in first.subject
    # a fetch failure is in the history, not in status (whose stages merely never ran): both are named
    assert first.command == "projections status 2026-11-25; projections history 2026-11-25"
    # 2026-11-26: the stage failed first, the fetch is named after it
    assert (second.date, second.stage, second.kind) == ("2026-11-26", "salaries", "stage_failure")
    assert second.error.startswith("bad file") and "(also failed: fetch schedule)" in second.error
    assert second.command == "projections status 2026-11-26; projections history 2026-11-26"
    # a configured details command that is already the history is not doubled; stage-only dates are unchanged
    [only] = alerts.alerts_for_run(_fetch_events()[:3], run="f1", details="projections history {date}")
    assert only.command == "projections history 2026-11-25"
    [stage_only] = alerts.alerts_for_run(_run_events(), run="r1")
    assert stage_only.command == "projections status 2019-10-30"


def test_fetch_failure_alert_arrives_by_webhook_and_email(
    make_settings: MakeSettings, webhook: WebhookReceiver, smtp: SmtpReceiver, zero_wait: FetchPolicy
) -> None:
    settings = make_settings(alerts={"webhook_url": webhook.url(), "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["ops@example.org"]})
    for event in _fetch_events()[:3]:
        fields = {k: v for k, v in event.items() if k not in ("event", "ts")}
        Ledger(settings.home, run=fields.pop("run")).append(event["event"], **fields)
    Ledger(settings.home, run="f1").append("run_end", ok=False, failed=1, not_run=12)
    deliveries = alerts.notify_run(settings, Ledger(settings.home, run="f1"), policy=zero_wait)
    assert [d.ok for d in deliveries] == [True, True]
    text = webhook.posts[0]["text"]
    assert text.startswith("*projections: fetch odds failed for slate 2026-11-25*")
    home = f"PROJECTIONS_HOME={settings.home.resolve()} "  # on both commands: a shell sets it for one only
    for part in ("stage: fetch odds", FETCH_ERROR.splitlines()[0], "calibration, odds",
                 f"details: {home}projections status 2026-11-25; {home}projections history 2026-11-25"):
        assert part in text
    [mail] = smtp.messages
    assert mail["Subject"] == "projections: fetch odds failed for slate 2026-11-25"
    assert "stage: fetch odds" in mail.get_content()
    sent = [e for e in ledger_lines(settings.home) if e["event"] == "alert"]
    assert [(e["kind"], e["stage"], e["game_date"]) for e in sent] == [
        ("fetch_failure", "fetch odds", "2026-11-25")] * 2


def test_unit_failure_names_a_failed_fetch(make_settings: MakeSettings) -> None:
    events = [{**_fetch_events()[0], "invocation": "inv7"}, *_fetch_events()[1:]]
    settings = make_settings()
    alert = unit_alert.alert_for_unit_failure(settings, "projections-slate.service", events=events,
                                              scope="system", monitor={"MONITOR_INVOCATION_ID": "inv7"}, now=NOW)
    assert alert is not None
    assert (alert.date, alert.stage, alert.kind, alert.run) == ("2026-11-25", "fetch odds", "unit_failed", "f1")
    assert alert.error.startswith(FETCH_ERROR.splitlines()[0]) and "calibration, odds" in alert.error
    assert alert.command.endswith(f"; PROJECTIONS_HOME={settings.home.resolve()} projections history 2026-11-25")


# ------------------------------------------------------------------ the OnFailure handler, settings broken


def _unit_failed(home: Path, **env: str) -> Any:
    """`projections alert --unit-failed` as the generated OnFailure unit runs it: a real process."""
    from tests.conftest import run_cli

    return run_cli(home, "alert", "--unit-failed", "projections-slate.service", "--scope", "user", timeout=120,
                   MONITOR_INVOCATION_ID="timer-run-7", MONITOR_EXIT_STATUS="3", **env)


@pytest.mark.parametrize(("broken", "error"), [
    ("serve_port = 99999\n", "invalid settings (serve_port: Input should be less than or equal to 65535)"),
    ("soruce = 'live'\n", "soruce: not a setting (did you mean source?)"),
    ("serve_port = 8000\nthis is not toml [\n", "is not valid TOML at line 2, column 6"),
], ids=["bad value", "unknown key", "not toml"])
def test_the_onfailure_handler_alerts_with_the_alerts_settings_when_the_rest_do_not_load(
    webhook: WebhookReceiver, tmp_path: Path, broken: str, error: str
) -> None:
    """The daily run failed because of a bad setting, and the handler, loading the same settings, exited 2
    without a word: exactly the failure no one heard of."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "projections.toml").write_text(f'{broken}[alerts]\nwebhook_url = "{webhook.url()}"\n'
                                           '[schedule]\ntimes = ["10:00"]\n')
    result = _unit_failed(home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "settings do not load" in result.stderr and "Traceback" not in result.stderr, result.stderr
    [post] = webhook.posts
    text = post["text"]
    assert "projections-slate.service failed before the pipeline recorded a run (invocation timer-run-7, " \
           "exit_status=3): the settings do not load" in text, text
    assert error in text and str(home / "projections.toml") in text, text
    [event] = ledger_lines(home)
    assert (event["event"], event["kind"], event["channel"]) == ("alert", "unit_failed", "webhook")


def test_the_onfailure_handler_takes_alerts_from_the_environment_too(
    webhook: WebhookReceiver, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = _unit_failed(home, PROJECTIONS_SOURCES="live", PROJECTIONS_ALERTS__WEBHOOK_URL=webhook.url())
    assert result.returncode == 0, result.stdout + result.stderr
    [post] = webhook.posts
    assert "PROJECTIONS_SOURCES: not a setting (did you mean PROJECTIONS_SOURCE?)" in post["text"]


def test_a_details_command_typo_does_not_stop_the_onfailure_alert(webhook: WebhookReceiver, tmp_path: Path) -> None:
    """The typo stops every run (settings do not load), so the handler is the only voice left: it alerts with
    the default details command and names the typo."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "projections.toml").write_text(f'[alerts]\nwebhook_url = "{webhook.url()}"\n'
                                           'details_command = "see {day}"\n')
    result = _unit_failed(home, PROJECTIONS_ALERTS__DETAILS_COMMAND="also {day}")
    assert result.returncode == 0, result.stdout + result.stderr
    [post] = webhook.posts
    assert "'also {day}' names the unknown field {day}" in post["text"], post["text"]
    assert "see {day}" not in post["text"].split("details:")[-1] and "also {day}" not in post["text"].split(
        "details:")[-1]


def test_a_webhook_url_that_is_no_url_does_not_stop_the_email_alert(smtp: SmtpReceiver, tmp_path: Path) -> None:
    """A webhook URL that is no URL is refused when settings load, so every run stops; the handler drops it and
    the email still says why (before, the webhook failed at send time and the email went out)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "projections.toml").write_text('[alerts]\nwebhook_url = "hooks.example/T0/TOKEN_7f3a"\n'
                                           f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
                                           'smtp_to = "ops@example.org"\n')
    result = _unit_failed(home)
    assert result.returncode == 0, result.stdout + result.stderr
    [mail] = smtp.messages
    body = mail.get_content()
    assert "alerts.webhook_url: not an http(s) URL with a host" in body, body
    assert "TOKEN_7f3a" not in body + result.stdout + result.stderr
    assert [(e["event"], e["channel"]) for e in ledger_lines(home)] == [("alert", "email")]


def test_a_key_of_alerts_that_is_no_setting_does_not_stop_the_alert(webhook: WebhookReceiver, tmp_path: Path):
    """`smtp_tls = true` under [alerts] (or a top-level key appended below the table, which TOML puts in it)
    stopped every run, and the handler too ('even the [alerts] settings alone do not load'): nothing was sent.
    The key is dropped, the webhook still delivers, and the alert names the typo."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "projections.toml").write_text(f'[alerts]\nwebhook_url = "{webhook.url()}"\nsmtp_tls = true\n'
                                           "lock_timeout = 60\n")
    result = _unit_failed(home)
    assert result.returncode == 0, result.stdout + result.stderr
    [post] = webhook.posts
    assert "alerts.smtp_tls: not a setting" in post["text"] and "alerts.lock_timeout" in post["text"], post["text"]


@pytest.mark.parametrize(("alerts_table", "named"), [
    ('webhok_url = "http://127.0.0.1:9/x"', "alerts.webhok_url: not a setting (did you mean alerts.webhook_url?)"),
    ('webhook_url = "http://127.0.0.1:9/x', "is not valid TOML at line 3"),
], ids=["misspelt key", "not toml"])
def test_the_onfailure_handler_with_broken_alerts_settings_exits_with_the_error(
    tmp_path: Path, alerts_table: str, named: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "projections.toml").write_text(f"serve_port = 99999\n[alerts]\n{alerts_table}\n")
    result = _unit_failed(home)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: cannot alert that projections-slate.service failed: even the [alerts] "
                                    "settings alone do not load") and named in result.stderr, result.stderr


def test_a_recorded_run_s_alert_also_names_settings_that_no_longer_load(make_settings: MakeSettings) -> None:
    events = [{**_run_events()[0], "invocation": "abc123"}, *_run_events()[1:]]
    alert = unit_alert.alert_for_unit_failure(make_settings(), "projections-slate.service", events=events, scope="user",
                                              monitor={"MONITOR_INVOCATION_ID": "abc123"}, now=NOW,
                                              settings_error="invalid settings (serve_port: ...); fix projections.toml")
    assert alert is not None and (alert.stage, alert.run) == ("odds", "r1")
    assert alert.error.endswith("(the settings do not load now either: invalid settings (serve_port: ...); fix "
                                "projections.toml)")


def test_what_a_feed_wrote_into_an_error_neither_pings_nor_drives_a_terminal(
    make_settings: MakeSettings, webhook: WebhookReceiver, smtp: SmtpReceiver, zero_wait: FetchPolicy
) -> None:
    """A feed's error page quoted in the alert reached the webhook as Slack markup (`<!channel>` pinged everyone,
    `<http://x|fix here>` showed a link of the feed's choosing) and both channels with raw escape sequences."""
    settings = make_settings(alerts={"webhook_url": webhook.url(), "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["ops@example.org"]})
    hostile = Alert(date="2019-10-30", stage="fetch odds", run="run0002", command="projections status 2019-10-30",
                    error="HTTP 404: <!channel> <http://evil.example|fix here> & \x1b]0;PWNED\x07\x1b[2J")
    deliveries = alerts.send_alert(settings, hostile, ledger=Ledger(settings.home, run="run0002"), policy=zero_wait)
    assert [d.ok for d in deliveries] == [True, True]
    text = webhook.posts[0]["text"]
    assert "&lt;!channel&gt; &lt;http://evil.example|fix here&gt; &amp; \\x1b]0;PWNED\\x07\\x1b[2J" in text, text
    assert "<" not in text and "\x1b" not in text
    body = smtp.messages[0].get_content()
    assert "<!channel> <http://evil.example|fix here> & \\x1b]0;PWNED\\x07\\x1b[2J" in body and "\x1b" not in body


def test_a_file_the_inbox_refused_is_alerted_once_per_run(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy
) -> None:
    """A correction dropped into the inbox and refused (a wrong export, a cut file) left the slate built on the
    older file or the archive, and only the run's output said so: nobody reads a timer's output."""
    from tests.conftest import run_cli

    settings = make_settings(alerts={"webhook_url": webhook.url()})
    inbox = settings.home / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "DKSalaries (1).csv").write_text("Name\nx\n")
    for day in ("2019-11-01", "2019-11-02"):  # a run over two dates meets the same file twice
        assert run_cli(settings.home, "fetch", "salaries", day, timeout=120).returncode == 0
    events = ledger_lines(settings.home)
    runs = [e["run"] for e in events if e["event"] == "run_start"]
    for e in events:  # as one run of both dates
        e["run"] = runs[0]
    [alert] = alerts.alerts_for_run(events, run=runs[0])
    assert (alert.date, alert.stage, alert.kind) == ("2019-11-01", "inbox", "inbox_refused")
    assert alert.subject == "projections: the DraftKings inbox refused a file (slate 2019-11-01)"
    assert alert.error.startswith("DKSalaries (1).csv: missing column(s) ['Position'")
    assert "stay in the inbox; the slate stands on no snapshot for 2019-11-01: the archive's salaries stand" \
        in alert.error
    failed = {"event": "stage_failure", "run": runs[0], "game_date": "2019-11-01", "stage": "salaries", "error": "x"}
    kinds = [a.kind for a in alerts.alerts_for_run([*events, failed], run=runs[0])]
    assert kinds == ["stage_failure"]  # a date whose run failed gets the failure's alert, not this one
    delivered = alerts.notify_run(settings, Ledger(settings.home, run=runs[1]), policy=zero_wait)
    assert [d.ok for d in delivered] == [True] and "inbox refused a file (slate 2019-11-02)" in webhook.posts[0]["text"]


def test_a_file_left_refused_in_the_inbox_is_alerted_once_a_date_not_by_every_run(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, tmp_path: Path
) -> None:
    """A symbolic link (or a cut file) nobody removes from the inbox was alerted by every run: four a day with
    the default timer. It is alerted once a slate date, by the first run whose alert is delivered (a failed
    delivery does not count), and again on the next date; each run's own output still names it."""
    from tests.conftest import run_cli

    settings = make_settings(alerts={"webhook_url": webhook.url()})
    inbox = settings.home / "inbox"
    inbox.mkdir(parents=True)
    elsewhere = tmp_path / "DKSalaries.csv"
    elsewhere.write_text("Name\nx\n")
    (inbox / "DKSalaries.csv").symlink_to(elsewhere)

    def run(day: str, answers: int = 0) -> list[bool]:
        webhook.script(*[(500, {})] * answers)
        fetched = run_cli(settings.home, "fetch", "salaries", day, timeout=120)
        assert fetched.returncode == 0 and "refused" in fetched.stdout + fetched.stderr, fetched.stdout
        last = [e["run"] for e in ledger_lines(settings.home) if e["event"] == "run_start"][-1]
        return [d.ok for d in alerts.notify_run(settings, Ledger(settings.home, run=last), policy=zero_wait)]

    assert run("2019-11-02", answers=zero_wait.max_attempts) == [False]  # the receiver is down: not delivered
    assert run("2019-11-02") == [True]
    assert "symbolic link" in webhook.posts[-1]["text"] and "slate 2019-11-02" in webhook.posts[-1]["text"]
    posted = len(webhook.posts)
    assert run("2019-11-02") == [] and run("2019-11-02") == []  # the same day's later runs: no alert
    assert len(webhook.posts) == posted
    assert run("2019-11-03") == [True] and "slate 2019-11-03" in webhook.posts[-1]["text"]
    (inbox / "DKSalaries (2).csv").write_text("Name\ny\n")  # another file refused the same day: alerted
    assert run("2019-11-03") == [True]
    assert "DKSalaries (2).csv" in webhook.posts[-1]["text"] and "symbolic link" not in webhook.posts[-1]["text"]


def test_a_fetch_that_fell_back_is_alerted_naming_the_capture_the_run_went_on_with() -> None:
    events = [*_fetch_events()[:3],
              {"event": "fetch_fallback", "run": "f1", "game_date": "2026-11-25", "source": "odds",
               "captured_at": "2026-11-25T20:00:00.000Z", "readers": ["calibration", "odds"]},
              {"event": "run_end", "run": "f1", "ok": True, "failed": 0, "not_run": 0}]
    [alert] = alerts.alerts_for_run(events, run="f1")
    assert (alert.date, alert.stage, alert.kind) == ("2026-11-25", "fetch odds", "fetch_failure")
    assert alert.error.startswith(FETCH_ERROR.splitlines()[0])
    assert alert.error.endswith("fetch odds fell back: the stages read its last good capture, of "
                                "2026-11-25T20:00:00.000Z, and the run went on"), alert.error
    assert "not run" not in alert.error  # the stages that read the odds did run, on the capture


def _fell_back(run: str, *, error: str = FETCH_ERROR, delivered: bool | None = None,
               stage_failed: bool = False) -> list[dict[str, Any]]:
    """One half-hourly run of 2026-11-25 whose odds fetch failed and fell back, and what became of its alert."""
    day = "2026-11-25"
    events: list[dict[str, Any]] = [
        {"event": "run_start", "run": run, "dates": [day]},
        {"event": "fetch_failure", "run": run, "game_date": day, "source": "odds", "error": error,
         "readers": ["odds"]},
        {"event": "fetch_fallback", "run": run, "game_date": day, "source": "odds",
         "captured_at": "2026-11-25T20:00:00.000Z", "readers": ["odds"]},
        *([{"event": "stage_failure", "run": run, "game_date": day, "stage": "minutes", "error": "x"}]
          if stage_failed else []),
        {"event": "run_end", "run": run, "ok": not stage_failed, "failed": int(stage_failed), "not_run": 0}]
    if delivered is not None:
        events.append({"event": "alert" if delivered else "alert_failure", "run": run, "kind": "fetch_failure",
                       "game_date": day, "stage": "fetch odds", "channel": "webhook"})
    return events


def test_a_feed_down_all_evening_is_alerted_once_a_date_while_the_runs_go_on_with_its_last_capture() -> None:
    """With a run every half hour in the evening, a feed that stays down sent one alert per run, each saying the
    same. Once delivered for a date, the same fallback (source and error) is not alerted again that date; a
    delivery that failed does not count, and a new error, a stage failure, or the next date alerts again."""
    ledger = [*_fell_back("r1", delivered=False), *_fell_back("r2", delivered=True)]
    assert [a.kind for a in alerts.alerts_for_run(_fell_back("r1"), run="r1")] == ["fetch_failure"]
    assert [a.kind for a in alerts.alerts_for_run(ledger, run="r2")] == ["fetch_failure"]  # r1's was not delivered
    assert alerts.alerts_for_run([*ledger, *_fell_back("r3")], run="r3") == []
    other = "odds: GET http://127.0.0.1:9/cdn/odds_todaysGames.json failed after 3 attempts: 1) timed out"
    assert [a.stage for a in alerts.alerts_for_run([*ledger, *_fell_back("r3", error=other)], run="r3")] == \
        ["fetch odds"]
    [failed] = alerts.alerts_for_run([*ledger, *_fell_back("r3", stage_failed=True)], run="r3")
    assert failed.stage == "fetch odds" and "(also failed: minutes)" in failed.error
    next_day = [{**e, "game_date": "2026-11-26"} if "game_date" in e else e for e in _fell_back("r3")]
    assert [a.date for a in alerts.alerts_for_run([*ledger, *next_day], run="r3")] == ["2026-11-26"]


def test_a_webhook_asking_to_wait_past_the_budget_is_given_up_at_once(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """A receiver answering 429 with Retry-After: 3600 would hold the run (or the OnFailure unit) for an hour
    before its exit: a wait past what is left of the budget (60 s here) ends the delivery now, as failed."""
    webhook.script((429, {"Retry-After": "3600"}))
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert not delivery.ok and delivery.attempts == 1 and "HTTP 429" in delivery.detail, delivery
    assert fake_time.sleeps == [] and len(webhook.posts) == 1


def test_exit_code_needs_every_channel_unless_told_one_is_enough() -> None:
    """`projections alert --test` exits 1 while any channel is broken; the OnFailure path (need_all=False) is
    satisfied by one channel that got through, and by none is not."""
    sent = alerts.Delivery("webhook", "hooks.example", True, 1, "")
    lost = alerts.Delivery("email", "ops@example.org", False, 3, "failed")
    assert alerts.exit_code([sent, lost]) == 1 and alerts.exit_code([sent, sent]) == 0
    assert alerts.exit_code([sent, lost], need_all=False) == 0
    assert alerts.exit_code([lost, lost], need_all=False) == 1


def test_the_configured_cap_on_alerts_per_run_is_the_one_applied(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy
) -> None:
    """alerts.max_per_run = 2 and four failed dates: two messages, the second a summary of the other three (the
    default cap of 5 would have sent four)."""
    settings = make_settings(alerts={"webhook_url": webhook.url(), "max_per_run": 2})
    days = [f"2019-11-0{d}" for d in range(1, 5)]
    Ledger(settings.home, run="r9").append("run_start", dates=days)
    for day in days:
        Ledger(settings.home, run="r9").append("stage_failure", game_date=day, stage="odds", error="x")
    Ledger(settings.home, run="r9").append("run_end", ok=False, failed=4, not_run=0)
    deliveries = alerts.notify_run(settings, Ledger(settings.home, run="r9"), policy=zero_wait, echo=lambda _m: None)
    assert [d.ok for d in deliveries] == [True, True] and len(webhook.posts) == 2
    assert "odds failed for slate 2019-11-01" in webhook.posts[0]["text"]
    assert "3 more failed or stale dates" in webhook.posts[1]["text"], webhook.posts[1]["text"]


def test_a_feed_without_its_news_all_afternoon_is_alerted_once_a_date(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy
) -> None:
    """No injury report of the date is published (every name asked answers 404, as when the NBA renames its files):
    the fetch succeeds with an empty capture so the slate goes on, which nobody would notice - so from 1 PM ET it is
    alerted, once a slate date; the morning's runs (no report yet is normal then) and the afternoon's later runs
    are not."""
    from tests.conftest import run_cli
    from tests.net.faultserver import FaultServer
    from tests.sources.test_injury_pdf import _env

    settings = make_settings(alerts={"webhook_url": webhook.url()})

    def run(server: FaultServer, now: str) -> list[bool]:
        fetched = run_cli(settings.home, "fetch", "injuries", "2020-08-06", timeout=120, **_env(server, now))
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
        last = [e["run"] for e in ledger_lines(settings.home) if e["event"] == "run_start"][-1]
        return [d.ok for d in alerts.notify_run(settings, Ledger(settings.home, run=last), policy=zero_wait)]

    with FaultServer() as server:
        assert run(server, "2020-08-06T14:00:00Z") == []  # 10 AM ET: none yet, said in the fetch line only
        assert run(server, "2020-08-06T18:00:00Z") == [True]
        assert run(server, "2020-08-06T18:30:00Z") == []  # the same date: alerted once
    post = webhook.posts[-1]["text"]
    assert len(webhook.posts) == 1 and "fetch injuries came without news for slate 2020-08-06" in post, post
    assert "no injury report of 2020-08-06 at http://127.0.0.1:" in post and "names its reports anew" in post


def test_recipients_after_a_421_that_closed_the_session_are_not_counted_as_having_the_mail(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """A 421 to one RCPT closes the session before the rest are asked and before DATA: smtplib raises with that one
    recipient alone. On a retry (someone already had the mail) the others of that attempt were counted as delivered
    and the alert said "accepted" while b@ never got it. Now nobody of that attempt has it, and they are retried."""
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["a@example.org", "b@example.org", "c@example.org"]})
    # 1st attempt: a@ and b@ greylisted, c@ accepted; 2nd: a@ 421 (closing), b@ never asked; 3rd: both accepted
    smtp.script_rcpt("450 4.2.0 greylisted", "450 4.2.0 greylisted", "250 OK", "421 4.7.0 too busy, closing")
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert delivery.ok and delivery.attempts == 3 and fake_time.sleeps == [0.5, 1.0], delivery
    assert smtp.recipients == [["c@example.org"], ["a@example.org", "b@example.org"]]


def test_a_greylisted_recipient_beside_one_refused_for_good_is_tried_again(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """450 for one recipient and 550 for the other (every recipient refused) failed at once: the greylisted one was
    never tried again, and the alert told to check the mail server's host and port."""
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["ops@example.org", "boss@example.org"]})
    smtp.script_rcpt("450 4.2.0 greylisted", "550 5.1.1 no such user")
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert not delivery.ok and delivery.attempts == 2 and smtp.recipients == [["ops@example.org"]], delivery
    assert "accepted for ops@example.org only, after 2 attempts" in delivery.detail, delivery.detail
    assert "boss@example.org: 550 5.1.1 no such user" in delivery.detail


def test_a_recipient_refused_for_now_on_every_attempt_is_reported_after_the_attempts_made(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """One recipient accepted, the other busy (450) on all three attempts: the delivery said "after 4 attempts"
    (one more than were made) in what was printed and recorded."""
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["ops@example.org", "boss@example.org"]})
    smtp.script_rcpt("250 OK", *["450 4.2.0 mailbox busy"] * 3)  # ops@ takes it; boss@ is busy on all 3 attempts
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert not delivery.ok and delivery.attempts == 3 and smtp.recipients == [["ops@example.org"]], delivery
    assert "after 3 attempts; never for boss@example.org: 450 4.2.0 mailbox busy" in delivery.detail, delivery.detail


def test_a_recipient_the_server_kept_putting_off_is_not_blamed_on_the_address(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """Refused for now (4xx) to the last attempt, a recipient's address is not what is wrong: the advice said "fix
    alerts.smtp_to" whatever kept the mail from him. It names the mail server unless a refusal was for good."""
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["ops@example.org", "boss@example.org"]})
    smtp.script_rcpt("450 4.2.0 greylisted", "250 OK", "421 4.7.0 too busy, closing", "421 4.7.0 too busy, closing")
    [delivery] = alerts.send_alert(settings, FAILURE, ledger=None, policy=zero_wait, echo=lambda _m: None)
    assert not delivery.ok and delivery.attempts == 3 and smtp.recipients == [["boss@example.org"]], delivery
    assert "never for ops@example.org: 421 4.7.0 too busy, closing" in delivery.detail, delivery.detail
    assert "fix alerts.smtp_to" not in delivery.detail
    assert f"check that the mail server (smtp://127.0.0.1:{smtp.port}" in delivery.detail, delivery.detail
