"""The install is quiet: every folder of the web player and the migrations is a listed package, so
setuptools ships it without printing a warning per folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_data_folder_is_a_listed_package() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(tool["packages"])
    missing = []
    for package, folder in tool["package-dir"].items():
        for d in sorted((ROOT / folder).rglob("*")):
            if d.is_dir() and any(f.is_file() for f in d.iterdir()) and "__pycache__" not in d.parts:
                name = ".".join([package, *d.relative_to(ROOT / folder).parts])
                if name not in listed:
                    missing.append(name)
    assert not missing, f"add to [tool.setuptools] packages: {missing}"
