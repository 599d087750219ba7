"""Operations: what keeps the daily run scheduled once, observable, and reaching someone when it fails.

    permissions   the data root's mode/owner/group policy: applied on creation, checked before a run
    unwritable    why a write was refused or a data root can never be one: the path, its owner and mode, the fix
    systemd       render and install the one service + timer (+ the OnFailure alert unit)
    unitfile      read systemd unit files, drop-ins and enablement links as systemd would
    crontab       read crontab files and `crontab -l` lines
    inventory     which units and crontab lines belong to the pipeline, and which of them start it
    doctor        inspect the machine: duplicate/drifted/legacy schedulers, overrides, ports, data root, alerts
    channels      deliver one message through a Slack-compatible webhook or SMTP, with retries
    alert_once    what earlier runs already alerted for a date: a feed down all day alerts once a date
    alerts        what an alert says (stage failure, stale run, failed unit, test) and its delivery record

Nothing here reads the environment or raises out of an alert: callers pass settings and get data back.
"""
