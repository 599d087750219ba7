"""The stat cache under several users: made under the data-root policy, another user's left alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from projections.hashing import hash_file
from projections.statcache import StatCache
from tests.conftest import Nobody


def test_a_new_cache_database_takes_the_umask_not_sqlites_0644(tmp_path: Path) -> None:
    """SQLite creates a database 0644 whatever the umask: in a group's data root every other user's command then
    found it read-only and set it aside (stat.broken-<pid>, 19 of them after 25 commands)."""
    (tmp_path / "cache").mkdir()
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 100)
    old = os.umask(0o002)  # the data-root policy's (dirs 2775, files 664)
    try:
        cache = StatCache(tmp_path / "cache" / "stat.sqlite3")
        assert cache.digest(data) == hash_file(data)
        cache.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cache" / "stat.sqlite3").stat().st_mode) == 0o664


def test_a_cache_database_this_user_may_not_write_is_left_as_it_is(nobody: Nobody) -> None:
    """Another user's cache (0644, theirs): this user's command hashes without it and leaves it be; it was
    renamed aside (the owner's cache lost) and a new one made, owned by this user, and the two swapped forever."""
    cache_dir = nobody.folder / "cache"
    cache_dir.mkdir()
    os.chmod(cache_dir, 0o777)
    db = cache_dir / "stat.sqlite3"
    theirs, data = nobody.folder / "theirs.bin", nobody.folder / "data.bin"
    for n, path in enumerate((theirs, data)):
        path.write_bytes(b"y" * (100 + n))
        os.chmod(path, 0o644)
        os.utime(path, (1_000_000_000, 1_000_000_000))  # old enough to be cached (not racily clean)
    owner = StatCache(db)  # root's, 0644
    owner.digest(theirs)
    owner.close()
    os.chmod(db, 0o644)
    script = ("import sys\nfrom pathlib import Path\nfrom projections.statcache import StatCache\n"
              "from projections.hashing import hash_file\nc = StatCache(Path(sys.argv[1]))\n"
              "assert c.digest(Path(sys.argv[2])) == hash_file(Path(sys.argv[2]))\nprint('ok')\n")
    result = nobody.run(script, str(db), str(data))
    assert result.stdout.strip() == "ok", result.stdout + result.stderr
    assert db.is_file() and not list(cache_dir.glob("stat.broken-*")), sorted(p.name for p in cache_dir.iterdir())


def test_a_damaged_cache_database_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    db = tmp_path / "cache" / "stat.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    data = tmp_path / "data.bin"
    data.write_bytes(b"z")
    assert StatCache(db).digest(data) == hash_file(data)
    assert list((tmp_path / "cache").glob("stat.broken-*"))


def test_the_cache_folder_takes_the_data_roots_policy_not_the_umask(tmp_path: Path) -> None:
    """cache/ is made by the first command that hashes (status, verify), before any build lays the root out: it
    took that command's umask (0755 under 022), doctor flagged it, and the group's stat cache could not be made."""
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o2775)  # a root laid out under a group policy
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 100)
    old = os.umask(0o022)
    try:
        cache = StatCache(home / "cache" / "stat.sqlite3")
        assert cache.digest(data) == hash_file(data)
        cache.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((home / "cache").stat().st_mode) == 0o2775


def test_a_byte_flipped_in_place_is_found_though_size_and_mtime_were_put_back(tmp_path: Path) -> None:
    """A damaged object whose size and mtime were restored kept its cached digest: builds went on using it after
    verify had named it. The change time, which nothing can set back, is part of the key."""
    import time

    from projections.store import LocalStore

    store = LocalStore(tmp_path / "home")
    obj = store.commit({"data.csv": b"a,b\n1,2\n" * 100}, {"kind": "test"}).object
    data = store.object_dir(obj) / "data.csv"
    old = data.stat()
    os.utime(data, ns=(old.st_atime_ns, old.st_mtime_ns - 5 * 10**9))  # old enough to be cached
    assert store.verify_object(obj, use_cache=True) == []  # hashed and cached
    assert store.verify_object(obj, use_cache=True) == []  # from the cache
    before = data.stat()
    os.chmod(data, 0o644)
    time.sleep(0.01)
    with open(data, "r+b") as f:
        f.seek(5)
        f.write(b"9")
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as they were
    os.chmod(data, before.st_mode)
    assert data.stat().st_size == before.st_size and data.stat().st_mtime_ns == before.st_mtime_ns
    problems = store.verify_object(obj, use_cache=True)
    assert problems and "data.csv" in problems[0], problems


def test_older_codes_cache_is_left_to_it(tmp_path: Path) -> None:
    """The ctime key first lived in the old database and dropped its table: a run of the older code beside a new
    one (a timer mid-pull) found 'no such table: stat', set the shared database aside and re-hashed everything,
    and so did each version after the other. The new key has a database of its own."""
    import sqlite3

    from tests.conftest import FIXTURE_DATE, run_doit

    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    old = home / "cache" / "stat.sqlite3"
    with sqlite3.connect(old) as conn:  # what older code made: table stat, keyed without ctime
        conn.execute("CREATE TABLE stat (kind TEXT NOT NULL, path TEXT NOT NULL, dev INTEGER, ino INTEGER,"
                     " size INTEGER, mtime_ns INTEGER, digest TEXT NOT NULL, PRIMARY KEY (kind, path))")
        conn.execute("INSERT INTO stat VALUES ('file', '/x', 1, 2, 3, 4, 'xxh3-128:00')")
    conn.close()
    assert run_doit(home, "schedule", f"date={FIXTURE_DATE}").returncode == 0
    with sqlite3.connect(old) as conn:
        assert conn.execute("SELECT count(*) FROM stat").fetchone() == (1,)
    conn.close()
    assert (home / "cache" / "stat2.sqlite3").is_file() and not list((home / "cache").glob("*.broken-*"))
