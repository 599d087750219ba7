"""Live sources: fetch, snapshot, replay.

    snapshots.py   the snapshot index: one store object per capture, an append-only index per table and date,
                   and the as-of join ("the newest snapshot captured at or before T")
    tables.py      canonical tables the live side adds (rosters, lineups) and deterministic parquet for all
    parsers/       verbatim stats.nba.com / cdn.nba.com payloads -> canonical tables
    files.py       files people download (DKSalaries.csv, LeagueGameLog CSV, a lines CSV, an injury report
                   table) -> canonical tables, with errors naming the file, the column and the fix
    people.py      name -> player_id for sources that give names only (DraftKings, the injury report)
    http.py        the live HTTP context: endpoints from settings, one client, the fetch policy, per-host pacing
    backends.py    one backend per table: build requests, validate payloads (empty or implausible is a
                   ContractViolation, so projections.fetch retries it), parse, record the snapshot
    inbox.py       the DraftKings salary inbox: DKSalaries.csv -> a salary snapshot for the date it names
    intake.py      reading what others drop in the inbox: regular files only (no links), under a size cap, and
                   the move to processed/ that never follows a link
    postseason.py  playoff and play-in game logs joined to the season's
    freshness.py   whether a live game log has caught up with the last day that had games
    ingest.py      `projections ingest`: season game logs and lines files -> archive parts

`projections.archive.ArchiveTable` is the one source stages declare: it resolves snapshots (in every mode)
over the shipped and ingested archive, and in live mode fetches through `backends`.
"""

# tables with a live backend, and the settings endpoint each one uses (salaries: the inbox, no endpoint); kept
# here, import-free, because ArchiveTable consults it when the pipeline lists its fetchers
ENDPOINTS: dict[str, str | None] = {"schedule": "schedule", "player_logs": "game_logs", "odds": "odds",
                                    "rosters": "rosters", "lineups": "lineups", "injuries": "injuries",
                                    "salaries": None}
