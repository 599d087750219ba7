"""What the alert channels retry and what they report, against real loopback receivers: the cases test_alerts.py
left open (a mutation audit found each of these lines could be broken with every test still passing)."""

from __future__ import annotations

import pytest

from projections.fetch import FetchPolicy
from projections.ops import channels
from tests.ops.conftest import FakeTime, MakeSettings
from tests.ops.receivers import SmtpReceiver, WebhookReceiver


def test_a_webhook_answering_503_with_retry_after_is_tried_again_after_that_wait(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """A receiver down for maintenance says when to come back (RFC 9110 Retry-After on 503): the wait is its own,
    not the jittered backoff (0.5 s here), which would hit it again while it is still down."""
    webhook.script((503, {"Retry-After": "7"}))
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    [delivery] = channels.deliver(settings.alerts, "subject", "text", policy=zero_wait)
    assert delivery.ok and delivery.attempts == 2, delivery
    assert fake_time.sleeps == [7.0]


def test_a_mail_server_refusing_the_login_is_not_asked_again(
    make_settings: MakeSettings, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """535 to AUTH: the password is wrong, and asking again with it cannot help (it may lock the account)."""
    with SmtpReceiver(refuse_login=True) as smtp:
        settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_to": ["a@example.org"],
                                         "smtp_user": "nba", "smtp_password": "hunter2-smtp-password"})
        [delivery] = channels.deliver(settings.alerts, "subject", "text", policy=zero_wait)
    assert not delivery.ok and delivery.attempts == 1 and fake_time.sleeps == [], delivery
    assert "login refused (535)" in delivery.detail and "fix alerts.smtp_user / smtp_password" in delivery.detail
    assert "hunter2-smtp-password" not in delivery.detail


@pytest.mark.parametrize(("answer", "ok", "attempts", "sleeps"), [
    ("451 4.3.0 queue full, try later", True, 2, [0.5]),  # for now: the next attempt gets the mail through
    ("554 5.6.0 message refused", False, 1, []),  # for good: the same mail would be refused again
])
def test_a_mail_refused_at_data_is_tried_again_only_when_the_refusal_is_for_now(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime,
    answer: str, ok: bool, attempts: int, sleeps: list[float],
) -> None:
    smtp.script_data(answer)
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_to": ["a@example.org"]})
    [delivery] = channels.deliver(settings.alerts, "subject", "text", policy=zero_wait)
    assert (delivery.ok, delivery.attempts, fake_time.sleeps) == (ok, attempts, sleeps), delivery
    assert len(smtp.messages) == int(ok)
    if not ok:
        assert f"SMTP {answer}" in delivery.detail, delivery.detail


def test_a_recipient_who_has_the_mail_is_named_when_a_later_attempt_fails_for_the_others(
    make_settings: MakeSettings, smtp: SmtpReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """a@ has the mail from the first attempt; the second, for b@ alone, is refused at DATA for good. The report
    says who has the alert and who never got it and why - not a bare "failed after 2 attempts" that reads as if
    nobody had it and tells to check the host and port of a server that delivered."""
    settings = make_settings(alerts={"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                     "smtp_to": ["a@example.org", "b@example.org"]})
    smtp.script_rcpt("250 OK", "450 4.2.0 greylisted")
    smtp.script_data("250 OK", "554 5.6.0 message refused")
    [delivery] = channels.deliver(settings.alerts, "subject", "text", policy=zero_wait)
    assert not delivery.ok and delivery.attempts == 2 and smtp.recipients == [["a@example.org"]], delivery
    assert delivery.detail.startswith("accepted for a@example.org only, after 2 attempts; never for b@example.org: "
                                      "SMTP 554 5.6.0 message refused"), delivery.detail


def test_a_webhook_redirecting_in_a_loop_is_given_up_after_the_redirects_allowed(
    make_settings: MakeSettings, webhook: WebhookReceiver, zero_wait: FetchPolicy, fake_time: FakeTime
) -> None:
    """307 to itself, again and again: the POST follows MAX_REDIRECTS (5) of them - 6 POSTs in all, each with the
    alert - then fails once, not retried (the same URL would loop again), naming the loop and the fix."""
    webhook.script(*[(307, {"Location": "/services/T0001/B0002/s3cr3tWebhookToken"})] * 20)
    settings = make_settings(alerts={"webhook_url": webhook.url()})
    [delivery] = channels.deliver(settings.alerts, "subject", "text", policy=zero_wait)
    assert not delivery.ok and delivery.attempts == 1 and fake_time.sleeps == [], delivery
    assert len(webhook.posts) == 6 and all(post["text"].startswith("*subject*") for post in webhook.posts)
    assert "HTTP 307 redirects to http://127.0.0.1:" in delivery.detail and "(more than 5 redirects)" in delivery.detail
    assert "set alerts.webhook_url to the URL it redirects to" in delivery.detail
    assert "s3cr3tWebhookToken" not in delivery.detail
