"""`projections gc`: delete objects unreachable from gold pointers and refs, keeping the newest N per
stage and date; safe while builds run (it waits for running stages and goes before new ones)."""

from __future__ import annotations

import argparse
from typing import Any

from projections.commands._edge import at_least, seconds


def register(sub: Any) -> None:
    p = sub.add_parser("gc", help="delete objects nothing needs (keeps gold, refs and the newest N per stage/date)",
                       description=__doc__)
    p.add_argument("--keep", type=at_least(1, "keep at least 1 record per stage and date"), default=3, metavar="N",
                   help="action records (and objects) to keep per stage and date, 1 or more (default 3)")
    p.add_argument("--grace", type=seconds("objects younger than this are never deleted"), default=3600.0,
                   metavar="SECONDS", help="never delete objects younger than this (default 3600)")
    p.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from projections.commands._edge import no_root, writes
    from projections.gc import collect
    from projections.hashing import short
    from projections.ledger import Ledger
    from projections.ops.permissions import apply_umask, ensure_tree
    from projections.settings import load_settings
    from projections.store import LocalStore

    settings = load_settings()
    if (missing := no_root(settings.home)) is not None:  # nothing to collect, and nothing to create for it
        print(f"note: {missing}", file=sys.stderr)
        return 0
    apply_umask(settings.permissions)  # the ledger file, locks and folders it may create follow the policy
    store = LocalStore(settings.home)
    # a dry run writes nothing (it reads without gc's locks where it may not take them); a real gc that may not
    # write the data root stops at its first lock file, before anything is deleted
    with writes(settings.home, "gc --dry-run" if args.dry_run else "gc"):
        if not args.dry_run and settings.home.is_dir():
            ensure_tree(settings.home, settings.permissions)  # its lock folder and ledger, under the policy
        report = collect(store, keep=args.keep, grace_s=args.grace, dry_run=args.dry_run,
                         ledger=Ledger(settings.home), timeout=settings.lock_timeout_s,
                         notify=lambda m: print(m, file=sys.stderr, flush=True))
    verb = "would delete" if args.dry_run else "deleted"
    for obj in report.deleted[:20]:
        print(f"{verb} {short(obj)}  {report.label(obj)}")
    more = len(report.deleted) - 20
    if more > 0:
        print(f"... and {more} more")
    print(f"gc: {verb} {len(report.deleted)} objects ({report.bytes_freed / 1e6:.1f} MB), "
          f"{report.records_deleted} action records, {report.tmp_deleted} leftovers (unfinished commits, temp "
          "links, set-aside stat caches)"
          + (f", {report.damaged_deleted} damaged objects set aside by builds" if report.damaged_deleted else "")
          + f"; kept {report.kept}")
    if report.others:
        owners = ", ".join(f"{n} of {user}" for user, n in sorted(report.others.items()))
        print(f"gc: kept {owners} that nothing needs: an object's folder is read-only, so only its owner or root "
              "may delete it - run gc as root (or as each owner) to free them")
    return 0
