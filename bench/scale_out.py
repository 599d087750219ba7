"""Benchmark: a backfill on a Dask LocalCluster of 1 and 2 worker processes against a shared S3-compatible
store (moto's server on 127.0.0.1), the local serial run it replaces, and a second machine's shared-cache
fetch of the same range versus recomputing it.

    python bench/scale_out.py [--range 2019-11-01..2019-11-14] [--workers 1,2]

Every run is a whole `doit` process (start-up and, for Dask, LocalCluster start-up included) on a fresh data
root; each cluster run writes to a fresh bucket prefix, so nothing is shared between the measured runs except
where the fetch measurement says so. Pass `--range 2019-10-22..2020-03-11` for the 2019-20 regular season
(133 slates; 2-6 minutes per configuration on a 2-core machine, about 17 minutes in all).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from common import doit, emit

KEY, SECRET, REGION = "bench-key", "bench-secret", "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_s3() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1",
                             "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                return proc, endpoint
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("moto's S3 server did not start") from None
            time.sleep(0.05)


def _remote_env(endpoint: str, bucket: str, prefix: str) -> dict[str, str]:
    return {"PROJECTIONS_REMOTE__URL": f"s3://{bucket}/{prefix}", "PROJECTIONS_REMOTE__ENDPOINT_URL": endpoint,
            "PROJECTIONS_REMOTE__KEY": KEY, "PROJECTIONS_REMOTE__SECRET": SECRET,
            "PROJECTIONS_REMOTE__REGION": REGION}


def _summary(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stdout.strip().splitlines() if "stage runs:" in line]
    return lines[-1] if lines else ""


def _events(home: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted((home / "ledger").glob("*.jsonl")):
        out.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return out


def _stage_seconds(home: Path) -> float:
    return round(sum(e.get("seconds", 0) for e in _events(home) if e["event"] == "stage_success"), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--range", default="2019-11-01..2019-11-14")
    parser.add_argument("--workers", default="1,2", help="LocalCluster sizes to measure, comma separated")
    args = parser.parse_args()
    sizes = [int(n) for n in args.workers.split(",") if n.strip()]
    s3, endpoint = _start_s3()
    try:
        import boto3

        bucket = f"bench-{uuid.uuid4().hex[:10]}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                     region_name=REGION).create_bucket(Bucket=bucket)
        with tempfile.TemporaryDirectory(prefix="bench-scale-out-") as tmp:
            root = Path(tmp)
            # check=False: a range may hold dates that fail for good (2020-01-21 has no salary file); the
            # summaries say so, and gold is compared on the dates that were published
            local_s, result = doit(root / "local", "slate", f"date={args.range}", check=False)
            gold = sorted(p.name for p in (root / "local" / "gold" / "projections").glob("game_date=*"))
            out: dict[str, Any] = {
                "range": args.range, "slates": len(gold),
                "local_serial": {"wall_s": round(local_s, 2), "stage_s": _stage_seconds(root / "local"),
                                 "summary": _summary(result)},
                "dask": {},
            }
            last_prefix = ""
            for n in sizes:
                last_prefix = f"workers-{n}"
                home = root / last_prefix
                wall, result = doit(home, "slate", f"date={args.range}", "executor=dask", f"workers={n}",
                                    check=False, **_remote_env(endpoint, bucket, last_prefix))
                same = all(Path(home / "gold" / "projections" / g).readlink()
                           == Path(root / "local" / "gold" / "projections" / g).readlink() for g in gold)
                out["dask"][str(n)] = {"wall_s": round(wall, 2), "s_per_slate": round(wall / max(len(gold), 1), 3),
                                       "stage_s": _stage_seconds(home), "gold_identical_to_serial": same,
                                       "summary": _summary(result)}
            # a second machine on the bucket the last cluster run filled: fetch instead of recompute
            fetch_home = root / "second-machine"
            fetch_s, result = doit(fetch_home, "slate", f"date={args.range}", check=False,
                                   **_remote_env(endpoint, bucket, last_prefix))
            events = _events(fetch_home)
            recompute_s, _ = doit(root / "recompute", "slate", f"date={args.range}", check=False,
                                  **_remote_env(endpoint, bucket, "fresh-prefix"))
            out["shared_cache"] = {
                "fetch_wall_s": round(fetch_s, 2),
                "stages_fetched": sum(1 for e in events if e["event"] == "stage_fetched"),
                "stages_recomputed": sum(1 for e in events if e["event"] == "stage_start"),
                "fetch_summary": _summary(result),
                "recompute_wall_s": round(recompute_s, 2),
                "recompute_without_shared_store_s": round(local_s, 2),
                "speedup": round(recompute_s / max(fetch_s, 1e-9), 1),
            }
            match = re.search(r"(\d+) stage runs", out["local_serial"]["summary"])
            out["stage_runs"] = int(match.group(1)) if match else None
    finally:
        s3.terminate()
        s3.wait(timeout=10)
    emit("scale_out", out)


if __name__ == "__main__":
    main()
