"""Record the numerical platform (CPU kernels, BLAS, versions) that made the outputs, and compare."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

# The fields that decide whether a re-run can be expected to give the committed outputs bit for
# bit: PyTorch's vector kernels (its CPU capability), the BLAS libraries NumPy and SciPy load
# (vendor, version and the kernel set it chose for this CPU), the BLAS PyTorch was built with,
# and the versions of the two array libraries. Other fields are recorded for the reader only.
MATCH_FIELDS = ("machine", "cpu_capability", "torch_blas", "blas", "torch", "numpy")


def _torch_blas(config: str) -> str:
    """PyTorch's BLAS from its build summary (`BLAS_INFO=mkl` -> "mkl")."""
    m = re.search(r"BLAS_INFO=([\w.+-]+)", config)
    return m.group(1) if m else "unknown"


def current() -> dict:
    """The platform of this process: architecture, PyTorch CPU capability, BLAS, versions."""
    import numpy
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so threadpoolctl lists it)
    import threadpoolctl
    import torch

    blas = sorted(({"vendor": lib.get("internal_api"), "version": lib.get("version"),
                    "architecture": lib.get("architecture"), "prefix": lib.get("prefix")}
                   for lib in threadpoolctl.threadpool_info() if lib.get("user_api") == "blas"),
                  key=lambda d: json.dumps(d, sort_keys=True))
    unique = [b for i, b in enumerate(blas) if b not in blas[:i]]
    return {
        "machine": platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_blas": _torch_blas(torch.__config__.show()),
        "blas": unique,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "system": platform.system(),
        "python": platform.python_version(),
        "processor": _cpu_model(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write(path: str | Path) -> Path:
    """Write the current platform to path (JSON) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"note": "the platform that produced the committed outputs (written by run_all.py); "
                      f"the test command runs exact nbval only where {list(MATCH_FIELDS)} "
                      "all match",
              **current()}
    path.write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
    return path


def load(path: str | Path) -> dict | None:
    """The recorded platform, or None when the file is absent."""
    path = Path(path)
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def differences(recorded: dict, here: dict) -> list[str]:
    """One line per MATCH_FIELDS entry that differs ("cpu_capability: AVX512 -> DEFAULT")."""
    return [f"{key}: {recorded.get(key)!r} recorded, {here.get(key)!r} here"
            for key in MATCH_FIELDS if recorded.get(key) != here.get(key)]
