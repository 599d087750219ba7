"""projections/durable.py: a new file is created, never written over what is there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from projections.durable import write_atomic, write_file


def test_a_durable_write_refuses_an_existing_file_names_it_and_leaves_it_whole(tmp_path: Path):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"the committed bytes")
    with pytest.raises(FileExistsError, match=r"nothing was written and data.parquet was left as it was") as info:
        write_file(path, b"other")
    said = str(info.value)  # what a user reads: the file, and what to do - not the name of a function to call
    assert info.value.filename == str(path) and said.endswith(f": '{path}'"), said
    assert "if it does not belong there, move it away and run again" in said and "write_atomic" not in said, said
    assert path.read_bytes() == b"the committed bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.parquet"]  # nothing beside it either


def test_a_durable_write_never_follows_a_symbolic_link_even_to_nothing(tmp_path: Path):
    """O_EXCL refuses a link without following it: a planted link cannot make the store write elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    link = tmp_path / "manifest.json"
    link.symlink_to(elsewhere)
    with pytest.raises(FileExistsError, match="left as it was") as info:
        write_file(link, b"{}")
    assert info.value.filename == str(link)
    assert link.is_symlink() and os.readlink(link) == str(elsewhere) and not elsewhere.exists()


def test_a_replacing_write_does_replace_the_file_a_durable_write_refuses(tmp_path: Path):
    """What code that means to replace a file uses instead: write_atomic replaces it and leaves no temp file."""
    path = tmp_path / "note.json"
    path.write_bytes(b"old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.json"]
