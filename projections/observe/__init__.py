"""Observability: read-only views over the ledger, the action records and the object manifests.

    events.py      the ledger, indexed by slate date, stage and run
    provenance.py  which action record made an object; the chain behind a gold object
    status.py      per date and stage: up to date / stale / failed, when it ran, how long, which object
    explain.py     why a stage is stale (or why it ran): code, parameter, input and source changes
    explanation.py what an explanation holds (the two builds, their changes, root causes), as JSON and text
    history.py     the timeline of runs, stage runs, pointer moves and alerts of one date
    slatediff.py   what changed between two published slates
    svg.py         small dependency-free SVG charts
    report.py      the static HTML dashboard
    server.py      `projections serve`: the dashboard on localhost, port checked before bind

Nothing here writes to the store, the gold pointers or the ledger; `report` writes only `report/`.
The CLI verbs in projections/commands/ are thin wrappers around these modules.
"""
