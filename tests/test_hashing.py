from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from projections.hashing import (
    canonical_json,
    digest_bytes,
    hash_file,
    hash_struct,
    hash_tree,
    hex_of,
    is_digest,
    seed_from,
)


def test_canonical_json_is_order_free_and_compact():
    assert canonical_json({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})


def test_canonical_json_refuses_nan_and_naive_datetimes():
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError, match="naive datetime"):
        canonical_json(dt.datetime(2019, 10, 30, 19, 0))  # noqa: DTZ001 - the point of the test


def test_digests_carry_their_algorithm_and_are_stable():
    d = digest_bytes(b"hello")
    assert d.startswith("xxh3-128:") and is_digest(d)
    # golden: pins xxh3-128 itself, so a library swap cannot silently change every key
    assert d == "xxh3-128:b5e9c1ad071b3e7fc779cfaa5e523818"
    assert hex_of(d) == d.split(":")[1]


def test_tags_keep_key_kinds_apart():
    assert hash_struct("action", "x") != hash_struct("tree", "x")
    assert hash_struct("action", {"a": 1}) == hash_struct("action", {"a": 1})


def test_hash_file_matches_hash_of_bytes(tmp_path):
    p = tmp_path / "f.bin"
    data = bytes(range(256)) * 5000
    p.write_bytes(data)
    assert hash_file(p) == digest_bytes(data)


def test_tree_hash_ignores_order():
    assert hash_tree({"a": "1", "b": "2"}) == hash_tree({"b": "2", "a": "1"})
    assert hash_tree({"a": "1"}) != hash_tree({"a": "2"})


def test_seed_is_a_function_of_the_key_and_pinned():
    """Invariant 4: a stage's draws come from ctx.seed = seed_from(key), and no key holds seed_from's code
    (projections.hashing is the engine's). An edit of seed_from would change what a stage drawing from ctx.seed
    makes under an unchanged key, so the function is pinned: changing it is a deliberate diff."""
    k = hash_struct("action", 1)
    assert seed_from(k) == seed_from(k)
    assert 0 <= seed_from(k) < 2**63
    assert seed_from(k) != seed_from(hash_struct("action", 2))
    assert seed_from("xxh3-128:" + "f123456789abcdef" + "0" * 16) == 0x7123456789ABCDEF  # 16 hex digits, 63 bits
    assert seed_from(digest_bytes(b"a key")) == 4585690954604179750


def test_hex_of_rejects_path_tricks():
    with pytest.raises(ValueError):
        hex_of("xxh3-128:../../etc/passwd")


@pytest.mark.parametrize("value", [
    "xxh3-128:b5e9c1ad071b3e7fc779cfaa5e52381g",  # one non-hex letter
    "xxh3-128:b5e9c1ad071b3e7fc779cfaa5e52381",  # 31 hex digits
    "xxh3-128:b5e9c1ad071b3e7fc779cfaa5e5238180",  # 33 hex digits
    "xxh3-128:B5E9C1AD071B3E7FC779CFAA5E523818",  # uppercase: the digest is always written lowercase
    "xxh3-128:../../../../etc/passwd/aaaaaaaaaa",  # 32 characters, a path
    "xxh3-128:b5e9c1ad071b3e7f/779cfaa5e523818",
    "xxh3-128:b5e9c1ad071b3e7fc779cfaa5e52381 ",
    "xxh3-128:",
    "b5e9c1ad071b3e7fc779cfaa5e523818",  # bare hex: no algorithm
    "xxh64:b5e9c1ad071b3e7fc779cfaa5e523818",
    b"xxh3-128:b5e9c1ad071b3e7fc779cfaa5e523818",
    None,
])
def test_is_digest_rejects_anything_but_the_prefix_and_32_lowercase_hex(value):
    """hex_of builds store paths from digests; a looser check let '../', odd lengths or other case through."""
    assert not is_digest(value)
    with pytest.raises(ValueError):
        hex_of(value)


def test_is_digest_accepts_every_hex_digit():
    """A digest made of any of the 16 lowercase hex digits is a digest."""
    assert is_digest("xxh3-128:0123456789abcdef0123456789abcdef")
    assert is_digest("xxh3-128:fedcba9876543210fedcba9876543210")


# real player names (misc/player_map.csv), in no particular order
PLAYERS = [
    "Russell Westbrook", "Nikola Jokić", "D'Angelo Russell", "Bam Adebayo", "Luka Dončić", "Kevin Love",
    "Derrick Rose", "Kris Dunn", "Jrue Holiday", "Monte Morris", "Gary Trent Jr.", "Troy Brown Jr.",
    "Wendell Carter Jr.", "Dennis Smith Jr.", "Tim Hardaway Jr.", "Marvin Bagley III", "Markieff Morris",
    "Marcus Morris", "Devonte' Graham", "Dāvis Bertāns",
]


def test_sets_are_hashed_in_sorted_order():
    """A set was written in iteration order, which changes with PYTHONHASHSEED: the same params gave a new key
    in every process."""
    assert len(set(PLAYERS)) == 20
    assert canonical_json(set(PLAYERS)) == canonical_json(sorted(PLAYERS))
    assert canonical_json({"players": frozenset(PLAYERS)}) == canonical_json({"players": sorted(PLAYERS)})
    assert hash_struct("action", set(PLAYERS)) == hash_struct("action", sorted(PLAYERS))


def test_set_digest_is_the_same_under_any_hash_seed():
    """The key of a set must not depend on the process's string-hash seed."""
    code = "import sys; from projections.hashing import hash_struct; print(hash_struct('action', set(sys.argv[1:])))"
    digests = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code, *PLAYERS], env=env, capture_output=True, text=True,
                             check=True)
        digests.add(out.stdout.strip())
    assert digests == {hash_struct("action", sorted(PLAYERS))}


def test_non_ascii_text_is_hashed_as_utf8():
    """With \\u escapes the canonical bytes (and every key over an accented name) would change; the encoding
    is raw UTF-8, pinned here."""
    assert canonical_json("Nikola Jokić") == b'"Nikola Joki\xc4\x87"'
    assert canonical_json({"name": "Luka Dončić"}) == '{"name":"Luka Dončić"}'.encode()
    assert hash_struct("action", "Nikola Jokić") == "xxh3-128:21a583f9deb0ba68caead4f3949425e8"

