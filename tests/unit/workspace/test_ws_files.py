"""Which files the index reads: .gitignore semantics, skipped folders, caps, containment."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from ws_helpers import write_tree

from lsp_server.workspace import IndexSettings
from lsp_server.workspace.files import Roots, ignored_path, walk
from lsp_server.workspace.gitignore import compile_pattern, ignored, parse_rules


def _rels(root: Path, **settings: object) -> list[str]:
    result = walk(Roots([root]), IndexSettings(**settings), threading.Event())  # type: ignore[arg-type]
    return sorted(entry.rel for entry in result.files)


@pytest.mark.parametrize(
    ("pattern", "path", "is_dir", "expected"),
    [
        ("*.log", "a.log", False, True),
        ("*.log", "deep/er/a.log", False, True),  # no slash: any level
        ("*.log", "a.log.txt", False, False),
        ("/build", "build", True, True),  # anchored
        ("/build", "src/build", True, False),
        ("docs/*.md", "docs/a.md", False, True),  # inner slash anchors too
        ("docs/*.md", "x/docs/a.md", False, False),
        ("docs/*.md", "docs/sub/a.md", False, False),  # `*` never crosses a slash
        ("**/gen", "a/b/gen", True, True),
        ("**/gen", "gen", True, True),
        ("a/**/z.py", "a/z.py", False, True),
        ("a/**/z.py", "a/b/c/z.py", False, True),
        ("out/**", "out/x/y.py", False, True),
        ("tmp/", "tmp", True, True),  # dir-only
        ("tmp/", "tmp", False, False),
        ("file?.py", "file1.py", False, True),
        ("file[0-9].py", "file7.py", False, True),
        ("file[!0-9].py", "file7.py", False, False),
        ("\\#keep", "#keep", False, True),
    ],
)
def test_patterns(pattern: str, path: str, is_dir: bool, expected: bool) -> None:
    rule = compile_pattern(pattern)
    assert rule is not None
    assert rule.matches(path, is_dir) is expected


def test_comments_blanks_and_negation_last_match_wins() -> None:
    rules = parse_rules("# comment\n\n*.py\n!keep.py\n")
    assert len(rules) == 2
    assert ignored(rules, "a.py", False)
    assert not ignored(rules, "keep.py", False)
    assert not ignored(rules, "a.js", False)


def test_walk_honours_root_and_nested_gitignores(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".gitignore": "*.gen.py\n/secret/\n",
            "a.py": "",
            "b.gen.py": "",
            "secret/s.py": "",
            "pkg/secret/ok.py": "",  # `/secret/` is anchored at the root
            "pkg/.gitignore": "local.py\n!b.gen.py\n",
            "pkg/local.py": "",
            "pkg/b.gen.py": "",  # re-included by the nested file
            "pkg/sub/local.py": "",  # the nested pattern has no slash: any level below
        },
    )
    assert _rels(tmp_path) == ["a.py", "pkg/b.gen.py", "pkg/secret/ok.py"]


def test_walk_skips_vcs_dependency_and_build_folders_and_other_files(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "src/main.go": "",
            "node_modules/x/index.js": "",
            ".git/hooks/pre.py": "",
            "target/debug/build.rs": "",
            ".venv/lib/site.py": "",
            "__pycache__/m.py": "",
            "dist/bundle.js": "",
            "vendor/dep/dep.go": "",
            "notes.txt": "",
            "app.min.js": "",
            "web/app.ts": "",
        },
    )
    assert _rels(tmp_path) == ["src/main.go", "web/app.ts"]


def test_user_excludes_size_cap_and_file_cap(tmp_path: Path) -> None:
    write_tree(tmp_path, {"gen/a.py": "", "b.py": "x" * 50, "c.py": "", "d.py": ""})
    assert _rels(tmp_path, exclude=("gen/",)) == ["b.py", "c.py", "d.py"]
    assert _rels(tmp_path, max_file_bytes=10) == ["c.py", "d.py", "gen/a.py"]
    assert len(_rels(tmp_path, max_files=2)) == 2


def test_symlinks_out_of_the_workspace_are_not_followed(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.py": "", "lib/leak.py": ""})
    root = write_tree(tmp_path / "ws", {"a.py": "", "inner/b.py": ""})
    os.symlink(outside / "secret.py", root / "link.py")
    os.symlink(outside / "lib", root / "linked_dir")
    os.symlink(root / "inner", root / "again")  # inside: read once, under its real path
    assert _rels(root) == ["a.py", "inner/b.py"]


def test_roots_resolve_checks_containment(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "ws", {"a.py": ""})
    roots = Roots([root, tmp_path / "missing"])
    assert roots.paths == (os.path.realpath(root),)
    assert roots.resolve(root / "a.py") == (os.path.realpath(root / "a.py"), "a.py")
    assert roots.resolve(root / ".." / "a.py") is None
    assert roots.resolve(tmp_path / "wsx" / "a.py") is None  # a sibling sharing the prefix


def test_ignored_path_checks_every_folder_above(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {".gitignore": "gen/\n", "gen/x.py": "", "ok/y.py": ""})
    roots, settings = Roots([root]), IndexSettings()
    real = os.path.realpath
    assert ignored_path(roots, real(root / "gen/x.py"), "gen/x.py", settings)
    assert ignored_path(roots, real(root / "node_modules/m.js"), "node_modules/m.js", settings)
    assert not ignored_path(roots, real(root / "ok/y.py"), "ok/y.py", settings)
