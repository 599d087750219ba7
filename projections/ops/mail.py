"""SMTP for the email alert channel: the message, an open session a watchdog can cut off, and what the server's
refusals mean (whether retrying can help). `projections.ops.channels.send_email` drives the attempts."""

from __future__ import annotations

import email.utils
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage

from projections.settings_tables import AlertSettings
from projections.textsafe import one_line
from projections.watchdog import Watchdog


def message(alerts: AlertSettings, subject: str, text: str) -> EmailMessage:
    """The alert as one mail to every alerts.smtp_to (a resend to some of them is the same mail, same Message-ID)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = alerts.smtp_from
    message["To"] = ", ".join(alerts.smtp_to)
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain=alerts.smtp_from.rpartition("@")[2] or None)
    message.set_content(text)
    return message


class _WatchedSMTP(smtplib.SMTP):
    """An SMTP session whose socket the watchdog is shown as it opens (its greeting is the first reply read)."""

    def __init__(self, alerts: AlertSettings, watchdog: Watchdog) -> None:
        self._watchdog: Watchdog | None = watchdog
        super().__init__(alerts.smtp_host or "", alerts.smtp_port, timeout=min(alerts.timeout_s, watchdog.seconds))

    def getreply(self) -> tuple[int, bytes]:
        if self._watchdog is not None and self.sock is not None:
            self._watchdog.watch(self.sock)  # the TCP connection: shutting it down ends a TLS session on it too
            self._watchdog = None
        return super().getreply()


def session(alerts: AlertSettings, watchdog: Watchdog) -> smtplib.SMTP:
    """An open, greeted (and, as configured, encrypted and logged-in) SMTP session whose socket `watchdog` cuts
    off at its deadline; the caller closes it."""
    assert alerts.smtp_host is not None
    smtp = _WatchedSMTP(alerts, watchdog)
    try:
        smtp.ehlo()
        if alerts.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if alerts.smtp_user:
            password = alerts.smtp_password.get_secret_value() if alerts.smtp_password else ""
            smtp.login(alerts.smtp_user, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


def error(exc: Exception) -> tuple[str, bool]:
    """(what went wrong, whether retrying can help)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code}); fix alerts.smtp_user / smtp_password", False
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}", 400 <= exc.smtp_code < 500
    if isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
        return f"{type(exc).__name__}: {exc}; check alerts.smtp_starttls and smtp_port", False
    return f"{type(exc).__name__}: {exc}", True


def refusals(refused: Mapping[str, tuple[int, bytes | str]]) -> str:
    """Each recipient and the server's answer to it (code 0: no answer, the error instead)."""
    return "; ".join(f"{rcpt}: {f'{code} ' if code else ''}{one_line(_text(answer))}"
                     for rcpt, (code, answer) in sorted(refused.items()))
