"""scrub837._metadata answers what importlib.metadata answers, without importing it when a
look at sys.path is conclusive."""

from __future__ import annotations

import importlib.metadata
import sys
import zipfile
from pathlib import Path

import pytest

from scrub837 import _metadata


def _dist(root: Path, name: str, entry_points: str | None, version: str = "1.0") -> None:
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_no_distribution_declares_an_unknown_group() -> None:
    group = "scrub837.tests.no-such-group"
    assert not _metadata.may_declare(group)
    assert not importlib.metadata.entry_points(group=group)
    assert _metadata.may_declare("console_scripts")  # pip, pytest, ... declare some


def test_a_distribution_on_sys_path_that_declares_the_group(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    group = "scrub837.tests.group"
    _dist(tmp_path, "quiet", None)
    _dist(tmp_path, "other", "[console_scripts]\nx = y:z\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(tmp_path), *sys.path])
    assert not _metadata.may_declare(group)
    _dist(tmp_path, "loud", f"[{group}]\nedit = loud:Edit\n")
    assert _metadata.may_declare(group)
    assert [ep.name for ep in importlib.metadata.entry_points(group=group)] == ["edit"]


def test_a_zip_or_an_unreadable_file_on_sys_path_is_left_to_importlib(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x-1.0.dist-info/entry_points.txt", "[scrub837.tests.zip]\ne = x:E\n")
    monkeypatch.setattr(sys, "path", [str(archive), *sys.path])
    assert _metadata.may_declare("scrub837.tests.zip")
    monkeypatch.setattr(sys, "path", sys.path[1:])
    _dist(tmp_path / "site", "broken", None)
    (tmp_path / "site" / "broken-1.0.dist-info" / "entry_points.txt").write_bytes(b"\xff\xfe[")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "site"), *sys.path])
    assert _metadata.may_declare("scrub837.tests.anything")


@pytest.mark.parametrize(("dist", "package"), [("simple-icd-10-cm", "simple_icd_10_cm"),
                                               ("lxml", "lxml"), ("pyx12", "pyx12"),
                                               ("pytest", "pytest")])
def test_version_is_importlib_metadatas(dist: str, package: str) -> None:
    assert _metadata.version(dist, package) == importlib.metadata.version(dist)


def test_version_falls_back_when_the_look_is_not_conclusive(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # two dist-infos for one name: importlib.metadata decides which
    _dist(tmp_path, "twice", None, "1.0")
    _dist(tmp_path, "twice", None, "2.0")
    (tmp_path / "twice.py").write_text("")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    assert _metadata.version("twice", "twice") == importlib.metadata.version("twice")
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        _metadata.version("scrub837-no-such-dist", "scrub837_no_such_package")
