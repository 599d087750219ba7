"""The data-root permission policy on real directories: creation, the tree check, the preflight, repair."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.errors import ConfigError
from projections.ops import permissions
from projections.settings_tables import PermissionSettings
from tests.conftest import Nobody

POLICY = PermissionSettings()  # dirs 2775, files 664, no group
NOBODY = 65534


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _strict_umask() -> Iterator[None]:
    """A typical 022 umask, so the test proves the policy - not the umask - sets the modes."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def make_foreign(path: Path) -> PermissionSettings:
    """Make `path` look created by another scheduler: root-owned (nobody-owned when we are root) and 0755.

    Returns the policy to check with: when we cannot chown (not root), the expected owner is set to
    someone else instead, which the check must report just the same.
    """
    os.chmod(path, 0o755)
    if os.geteuid() == 0:
        os.chown(path, NOBODY, -1)
        return POLICY
    return PermissionSettings(owner="root")


def test_ensure_dir_applies_the_policy_despite_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "home" / "gold" / "projections"
    created = permissions.ensure_dir(target, POLICY)
    assert created == [tmp_path / "home", tmp_path / "home" / "gold", target]
    assert all(mode(p) == 0o2775 for p in created)
    assert permissions.ensure_dir(target, POLICY) == []  # idempotent


def test_ensure_tree_makes_the_layout_and_it_passes_preflight(tmp_path: Path) -> None:
    home = tmp_path / "home"
    created = permissions.ensure_tree(home, POLICY)
    assert {p.relative_to(home).as_posix() for p in created if p != home} >= {"store/objects", "gold", "ledger"}
    permissions.preflight(home, POLICY)
    assert permissions.check_tree(home, POLICY) == []


def test_umask_for_policy() -> None:
    assert permissions.umask_for(POLICY) == 0o002
    assert permissions.umask_for(PermissionSettings(dir_mode=0o2770, file_mode=0o660)) == 0o007
    assert permissions.umask_for(PermissionSettings(dir_mode=0o755, file_mode=0o644)) == 0o022


def test_check_tree_reports_a_foreign_wrong_mode_dir_and_skips_objects(tmp_path: Path) -> None:
    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    gold = home / "gold"
    policy = make_foreign(gold)
    obj = home / "store" / "objects" / "ab" / "cdef0123"
    permissions.ensure_dir(obj.parent, policy)
    obj.mkdir()
    (obj / "data.parquet").write_bytes(b"x")
    os.chmod(obj / "data.parquet", 0o444)
    os.chmod(obj, 0o555)  # immutable by design: never a finding
    ledger_file = home / "ledger" / "2019-10.jsonl"
    ledger_file.write_text("{}\n")
    os.chmod(ledger_file, 0o644)  # appended by every run: must be group-writable

    problems = {p.path: p for p in permissions.check_tree(home, policy)}
    if os.geteuid() == 0:
        assert set(problems) == {gold, ledger_file}
        assert "owned by nobody, expected root" in problems[gold].message
        assert problems[gold].fix == f"sudo chown root {gold} && sudo chmod 2775 {gold}"
    assert gold in problems and ledger_file in problems
    assert "mode 0755 lacks 2020 of the policy's 2775" in problems[gold].message
    assert "mode 0644 lacks 0020" in problems[ledger_file].message
    assert obj not in problems and obj / "data.parquet" not in problems


def test_preflight_names_path_owner_mode_and_fix(tmp_path: Path) -> None:
    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    policy = make_foreign(home / "ledger")
    with pytest.raises(ConfigError) as caught:
        permissions.preflight(home, policy)
    message = str(caught.value)
    assert str(home / "ledger") in message
    assert "mode 0755" in message and "sudo chmod 2775" in message
    if os.geteuid() == 0:
        assert "owner nobody:" in message


PREFLIGHT = """
import sys
from pathlib import Path
from projections.errors import ConfigError
from projections.ops import permissions
from projections.settings_tables import PermissionSettings
try:
    permissions.preflight(Path(sys.argv[1]), PermissionSettings())
except ConfigError as exc:
    print(exc)
    sys.exit(3)
"""
PREFLIGHT_CHECK = PREFLIGHT.replace("permissions.preflight(", "__import__('projections.preflight').preflight.check(")


def test_preflight_reports_unwritable_dirs(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import obeying_modes

    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    os.chmod(home / "gold", 0o2555)
    argv = obeying_modes([sys.executable, "-c", PREFLIGHT, str(home)])
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert result.returncode == 3, result.stdout + result.stderr
        assert f"{home / 'gold'} (" in result.stdout and "is not writable by" in result.stdout
    finally:
        os.chmod(home / "gold", 0o2775)


def test_a_data_root_of_another_user_names_a_fix_that_works_for_this_one(nobody: Nobody) -> None:
    """Run as nobody on root's data root, a run said `chmod u+rwx`, which changes the owner's bits and nothing
    for nobody. It now names the policy repair by the owner, or running as the owner."""
    home = nobody.folder / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    result = nobody.run(PREFLIGHT_CHECK, str(home))
    assert result.returncode == 3, result.stdout + result.stderr
    message = result.stdout.strip()
    assert message.startswith(f"data root {home} is not writable by nobody (owner root:root, mode 0755)")
    assert "chmod u+rwx" not in message and "`projections doctor --fix-permissions` run by root (" in message
    assert "or run this as root" in message, message


def test_a_user_outside_the_roots_group_is_told_to_join_it(nobody: Nobody) -> None:
    """A root that already follows a group policy (2775): a user outside the group was told to run
    `doctor --fix-permissions` as the owner, which changes nothing; and doctor said all was well."""
    home = nobody.folder / "home"
    home.mkdir()
    os.chmod(home, 0o2775)  # root:root, group-writable: the policy, for the group root
    result = nobody.run(PREFLIGHT_CHECK, str(home))
    assert result.returncode == 3, result.stdout + result.stderr
    message = result.stdout.strip()
    assert "nobody is not in its group root; add it (`sudo usermod -aG root nobody`, then log in again)" \
        in message, message
    assert "--fix-permissions" not in message, message
    doctor = nobody.run("import os, sys; os.environ['PROJECTIONS_HOME'] = sys.argv[1]\n"
                        "from projections.ops.doctor import _data_root\n"
                        "from projections.settings import load_settings\n"
                        "for f in _data_root(load_settings()): print(f.severity, f.message)", str(home))
    assert doctor.stdout.startswith(f"error data root {home} is not writable by nobody") and \
        "nobody is not in its group root; add it" in doctor.stdout, doctor.stdout + doctor.stderr  # it said "ok"
    permissions.ensure_tree(home, POLICY)  # a laid-out root: gc's lock is the first write refused
    gc = nobody.run("import os, sys; os.environ['PROJECTIONS_HOME'] = sys.argv[1]\n"
                    "from projections.cli import main\nsys.exit(main(['gc']))", str(home))
    assert gc.returncode == 2 and "nobody is not in its group root; add it (`sudo usermod -aG root nobody`" \
        in gc.stderr, gc.stderr  # it said "--fix-permissions (run by root or root)", which changes nothing
    assert "--fix-permissions" not in gc.stderr and "root or root" not in gc.stderr


def test_preflight_reports_a_ledger_file_this_user_cannot_append_to(tmp_path: Path) -> None:
    """Another user's ledger file (0600): the run built its slate, said '1 date ok', then died in two chained
    PermissionError tracebacks at its last ledger line. The preflight checks the file the run appends to."""
    import subprocess
    import sys

    from projections.ledger import Ledger
    from tests.conftest import obeying_modes

    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    ledger = Ledger(home)
    ledger.append("run_start")
    current = ledger.current()
    os.chmod(current, 0o600)
    if os.geteuid() == 0:
        os.chown(current, NOBODY, NOBODY)
    else:
        os.chmod(current, 0o000)  # as its owner, only a mode that refuses its owner refuses
    result = subprocess.run(obeying_modes([sys.executable, "-c", PREFLIGHT, str(home)]), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"the ledger {current} (owner " in result.stdout and "is not readable and writable by" in result.stdout
    assert "projections doctor --fix-permissions" in result.stdout
    if os.geteuid() == 0:
        assert "owner nobody:" in result.stdout
    history = subprocess.run(obeying_modes([sys.executable, "-c", READ_LEDGER, str(home)]), capture_output=True,
                             text=True, timeout=60)
    assert history.returncode == 3 and "Traceback" not in history.stderr, history.stdout + history.stderr
    assert history.stdout.startswith(f"cannot read the ledger {current} (owner ")
    assert "projections doctor --fix-permissions" in history.stdout
    os.chmod(current, 0o664)
    permissions.preflight(home, POLICY)  # readable and writable (whoever owns it, as root): nothing to say


READ_LEDGER = """
import sys
from pathlib import Path
from projections.errors import ConfigError
from projections.ledger import Ledger
try:
    list(Ledger(Path(sys.argv[1])).read())
except ConfigError as exc:
    print(exc)
    sys.exit(3)
"""


def test_unknown_group_or_owner_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"permissions.group='no-such-group-xyz' is not a group.*groupadd"):
        permissions.ensure_dir(tmp_path / "x", PermissionSettings(group="no-such-group-xyz"))
    with pytest.raises(ConfigError, match=r"permissions.owner='no-such-user-xyz' is not a user"):
        permissions.check_tree(tmp_path, PermissionSettings(owner="no-such-user-xyz"))


def test_group_policy_is_applied_and_checked(tmp_path: Path) -> None:
    import grp

    group = grp.getgrgid(os.getegid()).gr_name
    policy = PermissionSettings(group=group)
    home = tmp_path / "home"
    permissions.ensure_tree(home, policy)
    assert (home / "gold").stat().st_gid == os.getegid()
    assert permissions.check_tree(home, policy) == []
    if os.geteuid() == 0:
        os.chown(home / "gold", -1, NOBODY)
        os.chmod(home / "gold", 0o2775)
        [problem] = permissions.check_tree(home, policy)
        assert f"policy group {group}" in problem.message


def test_repair_tree_fixes_what_it_may(tmp_path: Path) -> None:
    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    policy = make_foreign(home / "gold")
    fixed, left = permissions.repair_tree(home, policy)
    if os.geteuid() == 0:
        assert fixed == [home / "gold"] and left == []
        assert mode(home / "gold") == 0o2775 and (home / "gold").stat().st_uid == 0
        assert permissions.check_tree(home, POLICY) == []
    else:
        assert home / "gold" in [p.path for p in left]  # not ours to chown: reported, not hidden


REFUSAL = """
import sys
from pathlib import Path
from projections.ops import unwritable
path = Path(sys.argv[1])
try:
    list(path.iterdir()) if sys.argv[2] == "list" else (path / "new").write_text("x")
except OSError as exc:
    print(unwritable.refused_message(exc, home=path.parent / "elsewhere", doing="x"))
"""


@pytest.mark.parametrize("mode, action, says", [
    (0o300, "list", "cannot read {path} (owner"),  # may write into it, may not list it
    (0o500, "write", "cannot create {path}/new: Permission denied in {path} ("),
])
def test_a_refused_read_is_not_called_a_refused_write(tmp_path: Path, mode: int, action: str, says: str) -> None:
    import subprocess
    import sys

    from tests.conftest import obeying_modes

    folder = tmp_path / "folder"
    folder.mkdir()
    os.chmod(folder, mode)
    try:
        result = subprocess.run(obeying_modes([sys.executable, "-c", REFUSAL, str(folder), action]),
                                capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2])
    finally:
        os.chmod(folder, 0o755)
    assert says.format(path=folder) in result.stdout, result.stdout + result.stderr
    verb = "readable" if action == "list" else "writable"
    assert f"make {folder} {verb} by " in result.stdout


# ---- what the project creates follows the policy; the files every run appends to are checked -----------------


def test_a_snapshot_index_is_created_under_the_policy_despite_the_umask(tmp_path: Path) -> None:
    """refs/snapshots/<table>/*.jsonl were created 0644 in 0755 directories (plain mkdir, umask 022) by
    `projections ingest`: another member of the group could not append the next capture."""
    import datetime as dt

    from projections.sources import snapshots

    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    day = dt.date(2019, 11, 1)
    recorded = snapshots.record(home, "salaries", day, files={snapshots.DATA: b"not really parquet"},
                                captured_at=dt.datetime(2019, 11, 1, 4, tzinfo=dt.UTC), url="file:x.csv", rows=1)
    index = snapshots.index_path(home, "salaries", day)
    assert [mode(p) for p in (index.parent.parent, index.parent)] == [0o2775, 0o2775]
    assert mode(index) == 0o664
    shard = home / "store" / "objects" / recorded.entry.object.split(":")[1][:2]
    assert mode(shard) == 0o2775  # the shard every later object of it goes into
    assert permissions.check_tree(home, POLICY) == []


def test_a_quarantined_object_follows_the_policy(tmp_path: Path) -> None:
    """quarantine() did a hard-coded chmod 0755 (and a plain mkdir of store/quarantine): doctor then reported
    every damaged object a build had set aside."""
    from projections.store import LocalStore

    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    store = LocalStore(home)
    files = {"data.csv": b"a,b\n1,2\n"}
    obj = store.commit(files, {"kind": "test"}).object
    damaged = store.object_dir(obj) / "data.csv"
    os.chmod(damaged.parent, 0o755)
    os.chmod(damaged, 0o644)
    damaged.write_bytes(b"a,b\n1,3\n")
    assert store.commit(files, {"kind": "test"}).created  # set aside, written again
    [moved] = (home / "store" / "quarantine").iterdir()
    assert mode(moved.parent) == 0o2775 and mode(moved) == 0o2775
    assert [p for p in permissions.check_tree(home, POLICY) if "quarantine" in p.path.parts] == []


def test_check_tree_reports_and_repair_tree_fixes_a_snapshot_index(tmp_path: Path) -> None:
    home = tmp_path / "home"
    index = home / "refs" / "snapshots" / "odds" / "game_date=2019-10-30.jsonl"
    permissions.ensure_dir(index.parent, POLICY)
    index.write_text("{}\n")
    os.chmod(index, 0o644)
    (index.parent / "notes.txt").write_text("not an index: not checked\n")
    [problem] = permissions.check_tree(home, POLICY)
    assert problem.path == index and "file" in problem.message and "mode 0644 lacks 0020" in problem.message
    fixed, left = permissions.repair_tree(home, POLICY)
    assert fixed == [index] and left == [] and mode(index) == 0o664


def test_policy_of_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o2770)
    assert (permissions.policy_of(folder).dir_mode, permissions.policy_of(folder).file_mode) == (0o2770, 0o660)
    assert permissions.policy_of(tmp_path / "missing") == POLICY


def test_a_directory_the_file_system_cannot_hold_is_a_config_error() -> None:
    """ensure_dir caught only PermissionError: ENOENT (/proc), ENOTDIR and EROFS left tracebacks."""
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    with pytest.raises(ConfigError) as caught:
        permissions.ensure_dir(Path("/proc/projections-nope/store"), POLICY)
    message = str(caught.value)
    assert message.startswith("cannot create /proc/projections-nope in /proc: No such file or directory"), message
    assert "set PROJECTIONS_HOME to a directory on a file system where you can write" in message


def test_ingest_then_doctor_finds_the_data_root_following_the_policy(tmp_path: Path) -> None:
    """The audit's repro: a group policy as the README writes it, a build, `projections ingest dk-salaries` (in a
    process whose umask is 022), then doctor: the snapshot index was 0644 in 2755 directories."""
    import grp
    import json

    from tests.conftest import FIXTURE_DATE, SHARED, run_cli, run_doit

    dk = SHARED / "salaries" / "dk" / "2019-11-01__bradical1379__DKSalaries__f09c750c.csv"
    if not dk.is_file():
        pytest.skip(f"{dk} is not here")
    group = grp.getgrgid(os.getegid()).gr_name
    home = tmp_path / "home"
    toml = tmp_path / "projections.toml"
    toml.write_text(f'[permissions]\ngroup = "{group}"\ndir_mode = 2775\nfile_mode = 664\n')
    built = run_doit(home, "schedule", f"date={FIXTURE_DATE}", PROJECTIONS_CONFIG=str(toml))
    assert built.returncode == 0, built.stdout + built.stderr
    ingested = run_cli(home, "ingest", "dk-salaries", str(dk), timeout=300, PROJECTIONS_CONFIG=str(toml))
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    found = run_cli(home, "doctor", "--json", "--no-alert-probe", timeout=300, PROJECTIONS_CONFIG=str(toml))
    data_root = [f for f in json.loads(found.stdout) if f["check"] == "data-root"]
    assert [f["severity"] for f in data_root] == ["ok"], data_root
    [index] = (home / "refs" / "snapshots" / "salaries").glob("*.jsonl")
    assert mode(index) == 0o664
    assert mode(home / "inbox") == mode(home / "inbox" / "processed") == 0o2775  # laid out, not left to hand


def test_ingest_into_a_new_data_root_lays_it_out_under_the_policy(tmp_path: Path) -> None:
    """`projections ingest` is often the first command on a new data root: under umask 022 it made it 0755
    (the calendar cache and the lock created it), and doctor then flagged the root it had just made."""
    import subprocess
    import sys

    from tests.conftest import REPO, SHARED, project_env

    home = tmp_path / "home"
    dk = SHARED / "salaries" / "dk" / "2019-11-01__bradical1379__DKSalaries__f09c750c.csv"
    argv = [sys.executable, "-m", "projections.cli", "ingest", "dk-salaries", str(dk)]
    result = subprocess.run(argv, env=project_env(home), cwd=REPO, capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr
    assert mode(home) == 0o2775 and permissions.check_tree(home, POLICY) == []


def test_a_command_that_only_reads_creates_no_data_root(tmp_path: Path) -> None:
    """A typo in PROJECTIONS_HOME must not leave a new, empty data root behind a `status`."""
    from tests.conftest import run_cli

    home = tmp_path / "typo_home"
    result = run_cli(home, "status", "2019-10-30")
    assert result.returncode == 1 and "R schedule" in result.stdout, result.stdout + result.stderr
    assert not home.exists()


def test_gc_creates_a_new_months_ledger_file_under_the_policy(tmp_path: Path) -> None:
    """gc never applied the policy: run in a new month by an analyst (umask 022), it created the month's ledger
    file 0644 and the service account's next run was refused on it (helper 38)."""
    import subprocess
    import sys

    from tests.conftest import FIXTURE_DATE, REPO, project_env, run_doit

    home = tmp_path / "home"
    assert run_doit(home, "schedule", f"date={FIXTURE_DATE}").returncode == 0
    for month in (home / "ledger").glob("*.jsonl"):
        month.rename(month.with_name("2000-01.jsonl"))  # the month gc writes in first
    orphan = home / "store" / "tmp" / "999999999-dead"
    orphan.mkdir(parents=True)  # something for gc to do, so it records itself
    result = subprocess.run([sys.executable, "-m", "projections.cli", "gc"], env=project_env(home), cwd=REPO,
                            capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr
    [month] = [p for p in (home / "ledger").glob("*.jsonl") if p.name != "2000-01.jsonl"]
    assert mode(month) == 0o664


def test_a_damaged_object_of_another_user_is_set_aside_in_its_shard(tmp_path: Path, monkeypatch) -> None:
    """In a shared root, a damaged object another user built blocked every run of this one: quarantine chmods the
    object's folder to move it, which only its owner may (EPERM: 'cannot write to the data root ... Operation not
    permitted', and --fix-permissions fixed nothing). It is now renamed within its shard, where its read-only
    folder need not change, and the build goes on. (As root here, chmod refusing stands in for not owning it.)"""
    from projections.store import LocalStore
    from tests.conftest import damaged_object

    home = tmp_path / "home"
    permissions.ensure_tree(home, POLICY)
    store = LocalStore(home)
    files = {"data.csv": b"a,b\n1,2\n"}
    obj, where = damaged_object(store, files)
    os.chmod(where, 0o555)
    real_chmod, foreign = os.chmod, where.stat().st_ino  # the damaged folder itself, not a new one in its place

    def not_the_owner(path, mode, *args, **kwargs):
        if Path(path).exists() and Path(path).stat().st_ino == foreign:
            raise PermissionError(1, "Operation not permitted", str(path))
        return real_chmod(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "chmod", not_the_owner)
    assert store.commit(files, {"kind": "test"}).created  # set aside, written again
    [aside] = [p for p in where.parent.iterdir() if ".damaged-" in p.name]
    assert aside.name.startswith(where.name) and store.has(obj)


def test_a_refused_path_another_user_made_names_that_user() -> None:
    """ana made inbox/ (umask 022); svc's `ingest inbox` was refused on it and told to 'run this command as the
    data root's owner (svc)' - svc itself. The fix now names the owner of the path refused."""
    import errno
    import tempfile

    from projections.ops import unwritable

    if os.geteuid() != 0:
        pytest.skip("needs root to hand a folder to another user")
    home = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        inbox = home / "inbox"
        inbox.mkdir()
        os.chown(inbox, NOBODY, -1)
        exc = PermissionError(errno.EACCES, "Permission denied", str(inbox / "processed"))
        message = unwritable.refused_message(exc, home=home, doing="ingest inbox")
        assert "(run by nobody or root), or run this command as nobody" in message, message
        own = unwritable.refused_message(PermissionError(errno.EACCES, "Permission denied", str(home / "x")),
                                         home=home, doing="ingest inbox")
        assert "run this command as" not in own and "--fix-permissions" in own, own  # root owns the root: fix it
    finally:
        import shutil

        shutil.rmtree(home)


def test_a_lock_file_this_user_may_not_write_stops_the_run_before_it_starts(nobody: Nobody) -> None:
    """`chmod 644 locks/store.lock` by its owner: another user's run started, then failed its dates (and alerted)
    on 'Permission denied ... or free disk space'; doctor listed the file, the preflight did not look."""
    home = nobody.folder / "home"
    (home / "locks").mkdir(parents=True)
    for folder in (home, home / "locks"):
        os.chmod(folder, 0o777)
    lock = home / "locks" / "store.lock"
    lock.write_text("")
    os.chmod(lock, 0o644)  # root's
    script = ("import sys\nfrom pathlib import Path\nfrom projections.errors import ConfigError\n"
              "from projections.preflight import _lock_files\ntry:\n    _lock_files(Path(sys.argv[1]), [], "
              "seasonal=False)\nexcept ConfigError as exc:\n    print(exc)\n    sys.exit(3)\n")
    result = nobody.run(script, str(home))
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.startswith(f"lock file {lock} is not writable by nobody"), result.stdout


def test_a_new_data_root_follows_the_policy_after_its_first_run(tmp_path: Path) -> None:
    """The README's first command, then doctor: errors, because outputs/ came from git at 0755 (the umask of the
    clone) and the run adds to a folder that exists as it is. The run now makes outputs/ under the policy."""
    import json
    import subprocess

    from tests.conftest import FIXTURE_DATE, REPO, doit_argv, project_env, run_cli

    tracked = subprocess.run(["git", "ls-files", "outputs"], cwd=REPO, capture_output=True, text=True)
    assert tracked.returncode != 0 or tracked.stdout.strip() == "", tracked.stdout  # a fresh clone has no outputs/
    home = tmp_path / "outputs"
    built = subprocess.run(doit_argv("schedule", f"date={FIXTURE_DATE}"), env=project_env(home), capture_output=True,
                           text=True, timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert built.returncode == 0, built.stdout + built.stderr
    found = run_cli(home, "doctor", "--json", "--no-alert-probe")
    data_root = [f for f in json.loads(found.stdout) if f["check"] == "data-root"]
    assert [f["severity"] for f in data_root] == ["ok"], data_root
    assert mode(home / "cache") == mode(home) == 0o2775
