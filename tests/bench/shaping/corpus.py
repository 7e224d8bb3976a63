"""The shaping benchmark's corpus: real code from pinned packages, fetched from the registries.

Nothing is vendored: each project is downloaded with its registry's ordinary client (pip,
npm, apt-get), unpacked under `.tandem-cache/shaping-corpus/` (ignored by git) and reused on
later runs. `python -m tests.bench.shaping.corpus` fetches everything (tests/run-all.sh does).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.paths import ROOT

CACHE = ROOT / ".tandem-cache" / "shaping-corpus"


@dataclass(frozen=True)
class Project:
    language: str  # an LSP languageId
    registry: str  # "pypi-wheel" | "pypi-sdist" | "npm" | "deb"
    name: str
    version: str
    extensions: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.registry}-{self.name.replace('/', '_').replace('@', '')}-{self.version}"


PROJECTS: tuple[Project, ...] = (
    Project("python", "pypi-wheel", "requests", "2.32.3", (".py",)),
    Project("python", "pypi-wheel", "click", "8.1.7", (".py",)),
    Project("python", "pypi-wheel", "attrs", "24.2.0", (".py",)),
    Project("javascript", "npm", "express", "4.21.2", (".js",)),
    Project("javascript", "npm", "commander", "12.1.0", (".js",)),
    Project("javascript", "npm", "lodash", "4.17.21", (".js",)),
    Project("typescript", "npm", "rxjs", "7.8.1", (".ts",)),
    Project("typescript", "npm", "@trpc/server", "10.45.2", (".ts",)),
    Project("typescript", "npm", "mobx", "6.13.5", (".ts",)),
    Project("go", "deb", "golang-github-spf13-cobra-dev", "1.6.1-1", (".go",)),
    Project("go", "deb", "golang-github-pkg-errors-dev", "0.9.1-2", (".go",)),
    Project("go", "deb", "golang-github-google-go-cmp-dev", "0.5.9-1", (".go",)),
    Project("rust", "deb", "librust-anyhow-dev", "1.0.69-1", (".rs",)),
    Project("rust", "deb", "librust-itertools-dev", "0.10.3-1", (".rs",)),
    Project("rust", "deb", "librust-regex-syntax-dev", "0.6.27-1", (".rs",)),
    Project("c", "pypi-sdist", "Brotli", "1.1.0", (".c",)),
    Project("c", "pypi-sdist", "lz4", "4.3.3", (".c",)),
    Project("c", "pypi-sdist", "psutil", "6.1.0", (".c",)),
    Project("lua", "deb", "lua-penlight", "1.13.1-3", (".lua",)),
    Project("lua", "deb", "lua-argparse", "0.7.1-2", (".lua",)),
    Project("lua", "deb", "lua-inspect", "3.1.1-2", (".lua",)),
    Project("lua", "deb", "lua-busted", "2.1.1-1", (".lua",)),
)
# Shaping only (not a package the cross-file benchmark opens as a workspace): Neovim's
# runtime Lua, with long `if … elseif … end` chains (filetype detection).
SHAPING_EXTRA: tuple[Project, ...] = (
    Project("lua", "deb", "neovim-runtime", "0.7.2-7", (".lua",)),
)
SHAPING_PROJECTS: tuple[Project, ...] = PROJECTS + SHAPING_EXTRA
LANGUAGES: tuple[str, ...] = tuple(dict.fromkeys(p.language for p in PROJECTS))


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _download(project: Project, into: Path) -> Path:
    """Fetch the package file with its registry's own client; returns the file."""
    pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(into)]
    spec = f"{project.name}=={project.version}"
    if project.registry == "pypi-wheel":
        _run([*pip, "--only-binary", ":all:", spec], into)
    elif project.registry == "pypi-sdist":
        _run([*pip, "--no-binary", ":all:", spec], into)
    elif project.registry == "npm":
        _run(["npm", "pack", "--silent", f"{project.name}@{project.version}"], into)
    else:
        cmd = ["apt-get", "download", f"{project.name}={project.version}"]
        try:
            _run(cmd, into)
        except subprocess.CalledProcessError:
            # A fresh machine has no package lists yet.
            _run(["apt-get", "update", "-qq"], into)
            _run(cmd, into)
    files = [p for p in into.iterdir() if p.is_file()]
    if len(files) != 1:
        raise RuntimeError(f"expected one download for {project.key}, got {files}")
    return files[0]


def _members(archive: Path) -> list[tuple[str, bytes]]:
    """(path, bytes) of every regular file in a wheel, tarball or .deb."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            return [(i.filename, zf.read(i)) for i in zf.infolist() if not i.is_dir()]
    if archive.suffix == ".deb":
        data = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(archive)], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            return _tar_members(tf)
    with tarfile.open(archive) as tf:
        return _tar_members(tf)


def _tar_members(tf: tarfile.TarFile) -> list[tuple[str, bytes]]:
    out = []
    for member in tf.getmembers():
        if member.isfile():
            handle = tf.extractfile(member)
            if handle is not None:
                out.append((member.name, handle.read()))
    return out


def fetch(project: Project) -> Path:
    """The project's source files (only its language's), unpacked in the cache."""
    target = CACHE / project.key
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="tandem-corpus-") as tmp:
        archive = _download(project, Path(tmp))
        seen: set[bytes] = set()
        for name, data in _members(archive):
            if not name.endswith(project.extensions) or name.endswith(".d.ts"):
                continue
            if data in seen:  # Debian ships one Lua tree per Lua version: keep one copy
                continue
            seen.add(data)
            path = target / name.lstrip("./")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    target.mkdir(parents=True, exist_ok=True)
    (target / ".complete").write_text(f"{project.registry} {project.name} {project.version}\n")
    return target


def source_files(project: Project) -> list[Path]:
    root = fetch(project)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in project.extensions)


def main() -> int:
    for project in SHAPING_PROJECTS:
        files = source_files(project)
        print(f"{project.language:11} {project.name} {project.version}: {len(files)} files")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
