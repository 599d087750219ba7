"""Scale out with real processes: an S3-compatible server, Dask workers, several data roots, one bucket.

- a backfill on a LocalCluster of worker processes publishes the gold a local serial run does;
- a second machine (another data root on the same bucket) lists every stage up to date and fetches it,
  recomputing nothing;
- a worker killed with SIGKILL in the middle of a backfill on a `dask scheduler` + `dask worker` cluster
  (each worker with its own data root, as on separate machines) loses nothing: the run still completes,
  a rerun builds nothing, gold matches, and `projections verify` is clean everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    REPO,
    built_root,
    ctrl_c_default,
    doit_argv,
    gold_object,
    ledger_events,
    project_env,
    run_cli,
    run_doit,
)
from tests.remote.conftest import Bucket, free_port

DATES = "2019-10-30..2019-11-02"
DAYS = ["2019-10-30", "2019-10-31", "2019-11-01", "2019-11-02"]


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: a local serial run of the dates, no shared store."""
    return built_root(tmp_path_factory, "serial", "slate", f"date={DATES}")


def built_keys(home: Path) -> set[tuple[str, str]]:
    return {(e["stage"], e["key"]) for e in ledger_events(home) if e["event"] == "stage_success"}


def test_cluster_backfill_matches_serial_and_a_second_machine_fetches_it(tmp_path: Path, serial: Path,
                                                                          bucket: Bucket):
    first = tmp_path / "first"
    result = run_doit(first, "slate", f"date={DATES}", "executor=dask", "workers=2", **bucket.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cluster: 4 date(s)" in result.stdout and "0 failed" in result.stdout
    for day in DAYS:
        assert gold_object(first, day) == gold_object(serial, day) is not None, day
    built = built_keys(first)
    assert built, "the cluster built nothing"
    assert bucket.keys("gold/projections/") == [f"gold/projections/game_date={d}.json" for d in DAYS]
    assert run_cli(first, "verify").returncode == 0

    # a second machine: its own data root, the same bucket
    second = tmp_path / "second"
    listing = run_doit(second, "list", "--status", f"date={DATES}", **bucket.env())
    assert listing.returncode == 0, listing.stdout + listing.stderr
    states = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
    assert states and set(states) == {"U"}, listing.stdout
    looked = run_cli(second, "history", DAYS[0], **bucket.env()).stdout  # what the listing fetched and adopted
    assert "outside any run" in looked and "UNFINISHED" not in looked and "no run_start" not in looked, looked
    again = run_doit(second, "slate", f"date={DATES}", **bucket.env())
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 built" in again.stdout
    events = ledger_events(second)
    assert not [e for e in events if e["event"] == "stage_start"]
    fetched = {(e["stage"], e["key"]) for e in events if e["event"] == "stage_fetched"}
    assert fetched == built  # every stage the cluster built, fetched once, none recomputed
    for day in DAYS:
        assert gold_object(second, day) == gold_object(serial, day), day
    assert run_cli(second, "verify").returncode == 0

    # a third machine runs the slate straight away: its summary says what came from the shared store
    third = run_doit(tmp_path / "third", "slate", f"date={DATES}", **bucket.env())
    assert third.returncode == 0, third.stdout + third.stderr
    assert f"shared store: adopted {len(DAYS)} gold pointer(s) another machine published" in third.stdout
    runs = int(third.stdout.rsplit(" stage runs: ", 1)[0].rsplit("\n", 1)[-1])  # a season stage runs per date
    assert runs > len(built) and f"{runs} stage runs: 0 built, {runs} downloaded, 0 up to date, 0 failed; " \
        f"{len(DAYS)} gold pointers moved" in third.stdout, third.stdout
    (end,) = [e for e in ledger_events(tmp_path / "third") if e["event"] == "run_end"]
    assert end["downloaded"] == runs and end["published"] == len(DAYS)
    fetching = sum(e["seconds"] for e in ledger_events(tmp_path / "third") if e["event"] == "stage_fetched")
    assert end["seconds"] >= fetching > 0, (end, fetching)  # the run's time counts its downloads (it said 0.0s)
    assert "downloaded" in run_cli(tmp_path / "third", "history", DAYS[0]).stdout


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(argv, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, bucket: Bucket,
                 names: list[str]) -> Iterator[tuple[str, dict[str, subprocess.Popen[bytes]]]]:
    """`dask scheduler` and one `dask worker` per name (no nanny), each worker with its own data root."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    workers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        procs.append(_spawn([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                             "--port", str(port), "--no-dashboard"], project_env(tmp_path / "scheduler"),
                            tmp_path / "scheduler.log"))
        for name in names:
            env = project_env(tmp_path / name, **bucket.env(PROJECTIONS_REMOTE__LEASE_S="5"))
            workers[name] = _spawn([sys.executable, "-m", "distributed.cli.dask_worker", address, "--name", name,
                                    "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                    "--local-directory", str(tmp_path / f"{name}-dask")], env,
                                   tmp_path / f"{name}.log")
            procs.append(workers[name])
        yield address, workers
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _building(home: Path) -> bool:
    """A stage of this worker has started and not finished, after at least one that succeeded."""
    events = [e for e in ledger_events(home) if e["event"] in ("stage_start", "stage_success")] \
        if (home / "ledger").is_dir() else []
    return bool(events) and events[-1]["event"] == "stage_start" and any(
        e["event"] == "stage_success" for e in events)


def test_killing_a_worker_mid_backfill_loses_nothing(tmp_path: Path, serial: Path, bucket: Bucket):
    front = tmp_path / "front"
    with dask_cluster(tmp_path, bucket, ["wa", "wb"]) as (address, workers):
        env = project_env(front, **bucket.env(PROJECTIONS_DASK_ADDRESS=address, PROJECTIONS_REMOTE__LEASE_S="5"))
        run = subprocess.Popen(doit_argv("slate", f"date={DATES}", "executor=dask"), env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 240
        victim = tmp_path / "wa"
        while not _building(victim):  # wait until it is inside a stage (holding the date's lease), after a success
            assert run.poll() is None and time.monotonic() < deadline, "worker wa never got to build anything"
            time.sleep(0.02)
        os.kill(workers["wa"].pid, signal.SIGKILL)
        in_flight = [e for e in ledger_events(victim) if e["event"] == "stage_start"][-1]
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, out + err
        assert "0 failed" in out

        rerun = run_doit(front, "slate", f"date={DATES}", "executor=dask", **bucket.env(
            PROJECTIONS_DASK_ADDRESS=address))
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "0 built" in rerun.stdout
    for day in DAYS:
        assert gold_object(front, day) == gold_object(serial, day) is not None, day
    # the stage it was killed in was built again on the other worker (or fetched, had the kill come after push)
    redone = [e for e in ledger_events(tmp_path / "wb") if e["event"] in ("stage_success", "stage_fetched")
              and e.get("key") == in_flight["key"]]
    assert redone, in_flight
    for home in (front, tmp_path / "wa", tmp_path / "wb"):
        report = run_cli(home, "verify")
        assert report.returncode == 0, f"{home}: {report.stdout}{report.stderr}"
    # the killed worker's events reached the front end's ledger too (copied from the results it returned)
    copied = [e for e in ledger_events(front) if e.get("copied_from")]
    assert copied and {e["copied_from"] for e in copied} <= {str(tmp_path / "wa"), str(tmp_path / "wb")}
    assert json.dumps(copied)  # plain JSON lines


@pytest.mark.parametrize("wrong", ["bucket", "endpoint"])
def test_a_shared_store_that_cannot_be_used_is_refused_before_the_run(tmp_path: Path, bucket: Bucket, wrong: str):
    """A bucket that does not exist, or an endpoint nobody answers: a traceback from doit's up-to-date check, the
    run recorded as ok (or a failure at every stage of every date). Now one ERROR line, exit 3, nothing made."""
    env = bucket.env()
    if wrong == "bucket":
        env["PROJECTIONS_REMOTE__URL"] = f"s3://no-such-{bucket.name}/shared"
        says = f"the shared store's bucket 'no-such-{bucket.name}' does not exist"
    else:
        env["PROJECTIONS_REMOTE__ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
        says = "cannot use the shared store s3://"
    home = tmp_path / "home"
    result = run_doit(home, "slate", f"date={DAYS[0]}", timeout=180, **env)
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert result.stderr.startswith(f"ERROR: {says}") and len(result.stderr.splitlines()) == 1, result.stderr
    assert not (home / "store" / "actions").exists() or not any((home / "store" / "actions").rglob("*.json"))
    assert not [e for e in ledger_events(home) if e["event"] == "run_end"]


def test_a_build_whose_upload_was_cut_off_is_shared_by_the_next_run(tmp_path: Path, bucket: Bucket):
    """A run killed between its local commit and the push (or whose push failed) left that build local for good:
    every later run found it up to date here and never pushed it, so every other machine rebuilt it. Now the
    next run uploads it first, says so, and records it."""
    home = tmp_path / "home"
    killed = run_doit(home, "slate", f"date={DAYS[0]}", timeout=180,
                      **bucket.env(PROJECTIONS_FAILPOINTS="action.written=crash"))
    assert killed.returncode == 137, killed.stdout + killed.stderr
    (stranded,) = [p.read_text() for p in (home / "store" / "unshared").iterdir()]
    hexd = stranded.split(":", 1)[1]
    assert f"actions/{hexd[:2]}/{hexd[2:]}.json" not in bucket.keys("actions/")

    result = run_doit(home, "slate", f"date={DAYS[0]}", timeout=180, **bucket.env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "shared store: uploaded 1 build(s) whose upload an earlier run here did not finish" in result.stdout, \
        result.stdout
    local = {json.loads(p.read_text())["key"] for p in (home / "store" / "actions").rglob("*.json")}
    shared = {json.loads(bucket.s3().get_object(Bucket=bucket.name, Key=f"shared/{k}")["Body"].read())["key"]
              for k in bucket.keys("actions/")}
    assert stranded in local and local <= shared, sorted(local - shared)
    assert not list((home / "store" / "unshared").iterdir())
    (event,) = [e for e in ledger_events(home) if e["event"] == "stage_shared"]
    assert event["key"] == stranded
    history = run_cli(home, "history", DAYS[0])
    assert "uploaded" in history.stdout and "to the shared store" in history.stdout, history.stdout


@pytest.mark.parametrize("case", ["unreachable", "workers", "processes"])
def test_a_dask_run_that_cannot_do_what_it_was_asked_is_refused_first(tmp_path: Path, bucket: Bucket, case: str):
    """An unreachable dask_address took 30 s, then listed every stage as skipped and none as failed; workers=
    with dask_address was ignored; `-n 2` ran the cluster in each of doit's processes. Now each is one ERROR
    line (exit 3) before the shared store is touched or anything is built."""
    env = bucket.env()
    args = ["slate", f"date={DAYS[0]}", "executor=dask"]
    if case == "unreachable":
        env["PROJECTIONS_DASK_ADDRESS"] = f"tcp://127.0.0.1:{free_port()}"
        says = f"ERROR: cannot reach the Dask scheduler at {env['PROJECTIONS_DASK_ADDRESS']}"
    elif case == "workers":
        env["PROJECTIONS_DASK_ADDRESS"] = f"tcp://127.0.0.1:{free_port()}"
        args.append("workers=2")
        says = "ERROR: workers=2 sizes a LocalCluster, but dask_address="
    else:
        args = ["-n", "2", *args]
        says = "ERROR: -n 2 with executor=dask: the cluster's workers are the parallelism; drop -n"
    home = tmp_path / "home"
    started = time.monotonic()
    result = run_doit(home, *args, timeout=120, **env)
    assert result.returncode == 3 and result.stderr.startswith(says), result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1 and time.monotonic() - started < 20
    assert not list((home / "store" / "actions").rglob("*.json")) and not bucket.keys()


def test_ctrl_c_on_a_local_cluster_is_one_line_that_counts_what_the_cluster_built(tmp_path: Path, bucket: Bucket):
    """Ctrl-C reaches the whole foreground process group: each LocalCluster worker printed a KeyboardInterrupt
    traceback, and the summary said "0 built" for what the cluster had built. Now the front end alone stops the
    cluster: one "interrupted" line counting the cluster's builds, no traceback, no worker left behind."""
    home = tmp_path / "home"
    proc = subprocess.Popen(doit_argv("slate", "date=2019-11-03..2019-11-12", "executor=dask", "workers=2"),
                            env=project_env(home, **bucket.env()), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=ctrl_c_default)
    try:
        deadline = time.monotonic() + 120
        while sum(e["event"] == "stage_success" for e in ledger_events(home)) < 15 \
                if (home / "ledger").is_dir() else True:
            assert proc.poll() is None and time.monotonic() < deadline, "the cluster built nothing in time"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
        out, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode in (130, -signal.SIGINT), out + err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    (line,) = [x for x in out.splitlines() if x.startswith("interrupted after")]
    built = int(line.split(": ", 1)[1].split(" built")[0])
    assert built >= 10, line  # the cluster's builds, which it had collected before the Ctrl-C
    deadline = time.monotonic() + 20
    while subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "a worker of the cluster outlived its run"
        time.sleep(0.2)


def test_a_scheduler_that_hangs_up_is_the_run_s_failure(tmp_path: Path, bucket: Bucket):
    """A port that answers but is no Dask scheduler: the cluster task failed with a bare `TaskFailed` line, every
    stage was "skipped" and the summary counted 0 failed. Now the cluster's failure is listed under Failures."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    stop = threading.Event()

    def hang_up() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                server.accept()[0].close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        result = run_doit(tmp_path / "home", "slate", f"date={DAYS[0]}", "executor=dask", timeout=120,
                          **bucket.env(PROJECTIONS_DASK_ADDRESS=f"tcp://127.0.0.1:{port}"))
    finally:
        stop.set()
        thread.join()
        server.close()
    assert result.returncode == 2, result.stdout + result.stderr
    failures = result.stdout.split("\nFailures:\n", 1)[1]
    assert failures.startswith(f"  cluster: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"), result.stdout
    assert "TaskFailed" not in result.stdout + result.stderr


def test_a_store_that_stops_answering_mid_run_fails_the_run_cleanly(tmp_path: Path):
    """The bucket's server killed under a backfill: every later request retried for its own ~30 s (the run ended
    minutes later), and a request made inside doit's up-to-date check ended the run in a traceback that counted 0
    failed and every date ok. Now the first unanswered request marks the store down: the rest fail at once, each
    stage as a failure, every date failed, no traceback."""
    import boto3

    from tests.remote.conftest import KEY, REGION, SECRET

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                             region_name=REGION).create_bucket(Bucket="going-away")
                break
            except Exception:
                assert time.monotonic() < deadline, "moto did not start"
                time.sleep(0.1)
        home = tmp_path / "home"
        env = project_env(home, PROJECTIONS_REMOTE__URL="s3://going-away/shared",
                          PROJECTIONS_REMOTE__ENDPOINT_URL=endpoint, PROJECTIONS_REMOTE__KEY=KEY,
                          PROJECTIONS_REMOTE__SECRET=SECRET, PROJECTIONS_REMOTE__REGION=REGION)
        proc = subprocess.Popen(doit_argv("slate", f"date={DATES}"), env=env, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        while sum(e["event"] == "stage_success" for e in ledger_events(home)) < 2 if (home / "ledger").is_dir() \
                else True:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        server.kill()
        out, err = proc.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            server.kill()
        server.wait()
    assert proc.returncode == 2 and "Traceback" not in err, out + err
    assert f"0 date(s) ok, {len(DAYS)} failed" in out, out
    assert "stopped answering earlier in this run" in out and "rerun when it is back" in out, out


def test_doit_n_2_on_a_shared_store_builds_what_a_serial_run_does(tmp_path: Path, serial: Path, bucket: Bucket):
    """`doit -n 2` forks its workers, and s3fs refuses an event loop made before the fork: every stage of every
    date failed with "This class is not fork-safe". The store's client is now made again in each process."""
    home = tmp_path / "home"
    result = run_doit(home, "-n", "2", "slate", f"date={DATES}", **bucket.env())
    assert result.returncode == 0 and "not fork-safe" not in result.stdout + result.stderr, result.stdout
    assert f"{len(DAYS)} dates ok" in result.stdout, result.stdout
    for day in DAYS:
        assert gold_object(home, day) == gold_object(serial, day) is not None, day
    assert bucket.keys("gold/projections/") == [f"gold/projections/game_date={d}.json" for d in DAYS]


def test_a_build_damaged_in_the_shared_store_is_made_again_not_adopted(tmp_path: Path, bucket: Bucket):
    """Another machine's object whose bytes the bucket lost or changed: a second machine rebuilds that stage
    (and says so) instead of recording it as fetched and reading a missing object; its gold equals the first's."""
    first = run_doit(tmp_path / "a", "slate", f"date={DAYS[0]}", timeout=180, **bucket.env())
    assert first.returncode == 0, first.stdout + first.stderr
    (sim,) = [e for e in ledger_events(tmp_path / "a") if e["event"] == "stage_success" and e["stage"] == "sim"]
    hexd = sim["object"].split(":", 1)[1]
    damaged = next(k for k in bucket.keys(f"objects/{hexd[:2]}/{hexd[2:]}/") if k.endswith(".parquet"))
    bucket.s3().put_object(Bucket=bucket.name, Key=f"shared/{damaged}", Body=b"not the bytes it was")

    second = run_doit(tmp_path / "b", "slate", f"date={DAYS[0]}", timeout=180, **bucket.env())
    assert second.returncode == 0, second.stdout + second.stderr
    events = ledger_events(tmp_path / "b")
    assert [e["key"] for e in events if e["event"] == "stage_success"] == [sim["key"]]  # made again, alone
    assert sim["key"] not in {e["key"] for e in events if e["event"] == "stage_fetched"}
    assert gold_object(tmp_path / "b", DAYS[0]) == gold_object(tmp_path / "a", DAYS[0])
    assert run_cli(tmp_path / "b", "verify").returncode == 0
