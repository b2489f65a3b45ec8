"""Memory is computed before it is allocated: a request that cannot fit is refused with the figures.

A layer of 10¹¹ units, a file header announcing 10¹² values or a decompression bomb would
otherwise make the process allocate until the operating system kills it (or, with lazy
allocation, fail half-way through). :func:`check_memory` compares the bytes a step needs with
the memory the system reports as available and raises :class:`InsufficientMemory` (a
ValueError, so the command line reports it as bad input) naming both figures.
"""

import os


class InsufficientMemory(ValueError):
    """A request for more memory than the system has available."""


def available_bytes():
    """The memory available to a new allocation (Linux: MemAvailable), else the physical memory,
    else None when the system does not say."""
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
