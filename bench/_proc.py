"""What Linux's /proc says about this process: a status field, and the peak RSS reset."""

from __future__ import annotations


def status_field(field: str, path: str = "/proc/self/status") -> int:
    """A field of a /proc status file as its number (``VmRSS``: kB; a switch count: itself)."""
    with open(path) as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def proc_status(field: str) -> int:
    """A ``VmRSS``/``VmHWM``-style field of /proc/self/status, in bytes."""
    return status_field(field) * 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the peak that follows is the burst's
    and not an import-time transient. False if the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True
