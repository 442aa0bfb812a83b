"""The machine a benchmark ran on, printed beside its figures."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

import psutil

__all__ = ["machine_info", "print_machine"]


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
    }


def print_machine(info: dict[str, Any]) -> None:
    print("Machine")
    print(f"  CPU:     {info['cpu']}")
    print(f"  cores:   {info['logical_cores']} logical, {info['physical_cores']} physical")
    print(f"  RAM:     {info['ram_gb']} GiB")
    print(f"  Python:  {info['python']}")
    print(f"  SQLite:  {info['sqlite']}")
    print(f"  OS:      {info['os']}")
