"""`projections serve`: serve the dashboard (`projections report`) on localhost, rebuilding it when the ledger
changes. Host and port come from settings (serve_host, serve_port; PROJECTIONS_SERVE_PORT) or --host/--port.
A port already in use is refused at once with the process that holds it - no retry, no restart loop."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from projections.commands._edge import port, seconds


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the HTML dashboard on localhost (port from settings)",
                       description=__doc__)
    p.add_argument("--host", help="address to bind (default: settings.serve_host, 127.0.0.1)")
    p.add_argument("--port", type=port, help="port, 1-65535 (default: settings.serve_port)")
    p.add_argument("--refresh", type=seconds("0 rebuilds on every request after the ledger changed"), default=5.0,
                   metavar="SECONDS",
                   help="rebuild the report on a request when the ledger changed, at most this often (default 5)")
    p.add_argument("--no-build", action="store_true", help="serve the report as it is; never rebuild it")
    p.add_argument("--client-timeout", type=_above_zero, default=10.0, metavar="SECONDS",
                   help="drop a client that takes longer than this to send a request, or to take the next bytes "
                        "of a response (default 10), or over 6 times this to take a whole response: an idle, "
                        "trickling or slowly reading connection holds no thread")
    p.set_defaults(handler=run)


def _above_zero(text: str) -> float:
    value = seconds()(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds above 0")
    return value


def run(args: argparse.Namespace) -> int:
    from projections.commands._edge import no_root, output_dir, writes
    from projections.errors import ConfigError
    from projections.observe import report, server
    from projections.ops.permissions import apply_umask
    from projections.settings import load_settings
    from projections.wiring import looking, make_engine

    settings = load_settings()
    apply_umask(settings.permissions)  # report/ (made before the first build's engine) follows the data-root policy
    host = args.host or settings.serve_host
    port = settings.serve_port if args.port is None else args.port  # both checked to be 1-65535 where read
    server.check_port(host, port)  # before the (slower) report build, and again at bind
    out = settings.home / "report"
    if (missing := no_root(settings.home)) is not None:  # served all the same: the first build may be yet to come
        print(f"note: {missing}; the dashboard shows what a build there records", file=sys.stderr, flush=True)
    refresher = None
    if not args.no_build:
        def rebuild() -> object:
            engine = make_engine(settings)
            looking(engine)  # it only looks: no object's age refreshed, nothing recorded as a run
            return report.build(engine, out=out)

        refresher = server.Refresher(settings.home, rebuild, args.refresh)
        output_dir(out, home=settings.home, doing="serve")  # a data root this user may not write: say so, once
        with writes(settings.home, "serve"):
            rebuild()
        refresher.mark_built()
    elif not (out / "index.html").is_file():
        raise ConfigError(f"no dashboard in {out}: run `projections report` first, or drop --no-build")
    if not server.is_loopback(host):
        print(f"warning: serving on {host}, not a loopback address: anyone who can reach it can read the dashboard",
              flush=True)

    def ready(url: str) -> None:
        print(f"serving {out} at {url} (Ctrl-C stops)", flush=True)

    server.serve(out, host, port, refresher=refresher, ready=ready, client_timeout=args.client_timeout)
    return 0
