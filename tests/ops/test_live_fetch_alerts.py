"""A live run whose fetch gives up, in a real `doit` process against a real loopback source and webhook: the
alert names the date, the fetch, its error and the stages it starved, and its details commands work."""

from __future__ import annotations

import shlex
from pathlib import Path

from projections.textsafe import slack
from tests.conftest import ledger_events, run_cli, run_doit
from tests.net.faultserver import FaultServer
from tests.ops.receivers import WebhookReceiver

DAY = "2019-10-30"


def test_a_live_schedule_that_never_answers_alerts_naming_the_fetch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FaultServer() as server, WebhookReceiver() as webhook:
        server.replay("/stats/scoreboardv3", b"injected fault: the schedule service is down\n", status=503)
        env = {
            "PROJECTIONS_SOURCE": "live", "PROJECTIONS_LIVE__NOW": f"{DAY}T20:00:00Z",
            "PROJECTIONS_LIVE__STATS_BASE": server.url("/stats"), "PROJECTIONS_LIVE__CDN_BASE": server.url("/cdn"),
            "PROJECTIONS_LIVE__MIN_INTERVAL_S": "0", "PROJECTIONS_LIVE__HOST_INTERVALS": "{}",
            "PROJECTIONS_LIVE__MAX_ATTEMPTS": "2", "PROJECTIONS_LIVE__BASE_WAIT_S": "0.01",
            "PROJECTIONS_LIVE__MAX_WAIT_S": "0.05", "PROJECTIONS_ALERTS__WEBHOOK_URL": webhook.url(),
        }
        run = run_doit(home, "slate", f"date={DAY}", timeout=300, **env)
        posts = webhook.posts
    assert run.returncode != 0, run.stdout + run.stderr
    [failure] = [e for e in ledger_events(home) if e["event"] == "fetch_failure"]
    assert failure["source"] == "schedule" and failure["readers"] == ["schedule"]

    [post] = posts
    text = post["text"]
    subject, *body = text.splitlines()
    assert subject == f"*projections: fetch schedule failed for slate {DAY}*", text
    assert "(run)" not in text and "ended stale" not in text
    fields = dict(line.split(": ", 1) for line in body if ": " in line and not line.startswith("("))
    assert fields["date"] == DAY and fields["stage"] == "fetch schedule"
    assert fields["error"] == slack(failure["error"].splitlines()[0])  # as Slack shows it: & < > as entities
    assert "failed after 2 attempts" in fields["error"] and "HTTP 503" in fields["error"]
    assert "read the schedule snapshot - schedule - and the stages after them" in text

    # every command the alert names for details runs (no usage error) and shows the failed fetch
    # each names the run's data root (the reader's shell has its own), as `PROJECTIONS_HOME=... projections ...`
    commands = [shlex.split(c.strip()) for c in fields["details"].split(";")]
    assert [c[:3] for c in commands] == [[f"PROJECTIONS_HOME={home}", "projections", "status"],
                                         [f"PROJECTIONS_HOME={home}", "projections", "history"]], commands
    shown = ""
    for command in commands:
        result = run_cli(Path(command[0].split("=", 1)[1]), *command[2:], timeout=120)
        assert result.returncode in (0, 1), (command, result.stdout + result.stderr)
        shown += result.stdout
    assert "fetch FAILED" in shown and "failed after 2 attempts" in shown
    assert "fetch_schedule" in shown and "up to date (nothing to do)" not in shown, shown  # fetches did run
    # status itself, which the alert names first, says FAILED with the fetch's error (it said STALE "never ran",
    # with the archive's advice to ingest the table)
    status = run_cli(home, "status", DAY, timeout=120, **{k: v for k, v in env.items() if "ALERTS" not in k})
    assert status.returncode == 1 and f"{DAY}  FAILED" in status.stdout, status.stdout + status.stderr
    assert "FAILED: fetch schedule failed: " in status.stdout and "HTTP 503" in status.stdout, status.stdout
    assert "archive" not in status.stdout, status.stdout
    explained = run_cli(home, "explain", DAY, "schedule", timeout=120,
                        **{k: v for k, v in env.items() if "ALERTS" not in k})
    assert "fetch schedule failed: " in explained.stdout and "archive" not in explained.stdout, explained.stdout
