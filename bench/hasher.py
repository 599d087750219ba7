"""Benchmark 3: the store's hasher (xxh3-128, streamed) against doit's default md5 file_dep checker, on the
same 500 MB of files, as a throughput ratio. Files are written once and read from the page cache by both.

    python bench/hasher.py [--mb 500] [--files 20]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import emit
from doit.dependency import get_file_md5

from projections.hashing import hash_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.mb * 2**20 // args.files
    with tempfile.TemporaryDirectory(prefix="bench-hash-") as tmp:
        paths = []
        for i in range(args.files):
            path = Path(tmp) / f"part-{i:03d}.bin"
            path.write_bytes(os.urandom(size))
            paths.append(path)
        for path in paths:  # page cache warm for both contestants
            hash_file(path)

        def timed(fn: object) -> float:
            best = float("inf")
            for _ in range(args.rounds):
                start = time.perf_counter()
                for path in paths:
                    fn(path)  # type: ignore[operator]
                best = min(best, time.perf_counter() - start)
            return best

        ours = timed(hash_file)
        md5 = timed(lambda p: get_file_md5(str(p)))
    total = size * args.files
    emit("hasher", {
        "bytes": total,
        "files": args.files,
        "xxh3_128_s": round(ours, 4),
        "xxh3_128_gb_per_s": round(total / ours / 1e9, 2),
        "doit_md5_s": round(md5, 4),
        "doit_md5_gb_per_s": round(total / md5 / 1e9, 2),
        "speedup": round(md5 / ours, 1),
    })


if __name__ == "__main__":
    main()
