"""Memory is computed before it is allocated: a request that cannot fit is refused with the figures.

A layer of 10¹¹ units, a file header announcing 10¹² values or a decompression bomb would
otherwise make the process allocate until the operating system kills it (or, with lazy
allocation, fail half-way through). :func:`check_memory` compares the bytes a step needs with
the memory available to the process (the least of the system's, its control group's and its
address-space limit's) and raises :class:`InsufficientMemory` (a
ValueError, so the command line reports it as bad input) naming both figures.
"""

import os
from pathlib import Path


class InsufficientMemory(ValueError):
    """A request for more memory than the system has available."""


CGROUP = Path("/sys/fs/cgroup")                 # where Linux mounts the control groups


def _system_bytes():
    """The memory the system can give a new allocation (Linux: MemAvailable), else the physical
    memory, else None when the system does not say."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup_bytes(root=CGROUP, membership=Path("/proc/self/cgroup")):
    """What the process's memory control group still allows (its limit less its usage, with the
    inactive file cache counted as free, since the kernel reclaims it first), or None without a
    limit. A container, a JupyterHub or Binder pod limits memory this way, below what MemAvailable,
    which describes the whole machine, reports."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":                                         # cgroup v2
            names, folders = ("memory.max", "memory.current", "inactive_file"), [root / path.lstrip("/"), root]
        elif "memory" in controllers.split(","):                      # cgroup v1
            names = ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
            folders = [root / "memory" / path.lstrip("/"), root / "memory"]
        else:
            continue
        for folder in folders:
            try:
                limit = (folder / names[0]).read_text().strip()
                usage = int((folder / names[1]).read_text())
                stat = dict(entry.split() for entry in (folder / "memory.stat").read_text().splitlines())
            except (OSError, ValueError):
                continue
            if limit == "max" or int(limit) >= 1 << 60:                # no limit
                return None
            return max(int(limit) - usage + int(stat.get(names[2], 0)), 0)
    return None


def _address_space_bytes():
    """What the soft limit of the address space (``ulimit -v``) still allows, or None without one."""
    try:
        import resource
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        return max(limit - size, 0)
    except (ImportError, OSError, ValueError, StopIteration):
        return None


def available_bytes():
    """The memory available to a new allocation: the least of what the system has available, what
    the process's control group allows and what its address-space limit allows (None when none of
    them is known)."""
    known = [b for b in (_system_bytes(), _cgroup_bytes(), _address_space_bytes()) if b is not None]
    return min(known) if known else None


def format_bytes(count):
    """``count`` bytes in binary units: 512 B, 1.5 KiB, ..., 46.0 TiB."""
    value, unit = float(count), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            break
        value /= 1024
    return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"


def check_memory(what, count):
    """``count`` (bytes that ``what`` needs) if they fit in the available memory; InsufficientMemory otherwise."""
    available = available_bytes()
    if available is not None and count > available:
        raise InsufficientMemory(f"{what} needs {format_bytes(count)}, but only {format_bytes(available)} of "
                                 f"memory is available")
    return count
