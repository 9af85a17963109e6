"""The layout holds: one import namespace, and packages meet only through public names."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"ptclisp": ROOT / "ptclisp", "ptclisp.runtime": ROOT / "runtime",
            "ptclisp.subagent": ROOT / "subagent", "ptclisp.sandbox": ROOT / "sandbox"}


def _owner(module: str) -> str:
    """The package (of the four) a dotted module name belongs to."""
    return max((p for p in PACKAGES if module == p or module.startswith(p + ".")), key=len)


def _absolute_imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
    return found


def _private_reaches(package: str, folder: Path, root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        for line, name in _absolute_imports(path):
            if not name.startswith("ptclisp") or _owner(name) == package:
                continue
            inside = name[len(_owner(name)):].lstrip(".").split(".")
            if any(part.startswith("_") for part in inside if part):
                bad.append(f"{path.relative_to(root)}:{line} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_package_imports_another_packages_private_modules(package: str) -> None:
    assert _private_reaches(package, PACKAGES[package]) == []


def test_the_walk_finds_a_private_import(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("from ptclisp._values.types import Vector\n"
                                     "from ptclisp import _codec\nimport ptclisp.host\n")
    found = _private_reaches("ptclisp.subagent", tmp_path, root=tmp_path)
    assert found == ["mod.py:1 imports ptclisp._values.types", "mod.py:2 imports ptclisp._codec"]


@pytest.mark.parametrize("name", ["runtime", "subagent", "sandbox"])
def test_sibling_packages_live_under_the_ptclisp_namespace(name: str) -> None:
    module = importlib.import_module(f"ptclisp.{name}")
    assert Path(module.__file__ or "").resolve().parent == PACKAGES[f"ptclisp.{name}"].resolve()


def test_the_host_seam_exports_what_tiers_and_agent_loops_use() -> None:
    import ptclisp
    import ptclisp.host as host

    value = ptclisp.read_string("[:a #{1} (x) \\c]")
    assert host.decode_value(host.encode_value(value)) == value
    assert len(host.read_forms("(def a 1) a")) == 2
    assert "map" in host.builtin_docs()
    assert sorted(host.__all__) == host.__all__


def test_every_package_folder_is_listed_for_installation() -> None:
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"])
    found = set()
    for package, folder in PACKAGES.items():
        for source in folder.rglob("*.py"):  # a folder with Python files (or the guest's)
            relative = source.parent.relative_to(folder).parts
            if package == "ptclisp" and relative and relative[0] in {"runtime", "subagent",
                                                                     "sandbox"}:
                continue
            found.add(".".join((package, *relative)))
    assert found == listed
