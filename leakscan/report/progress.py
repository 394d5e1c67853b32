"""The progress line of a long scan (stderr, TTY only): blobs and bytes done, rate, ETA."""

from __future__ import annotations

from leakscan.units import human_size

BAR_WIDTH = 24


def progress_line(
    blobs: int, total_blobs: int, nbytes: int, total_bytes: int, elapsed: float
) -> str:
    """`[#######.....]  42%  1234/5678 blobs  1.2 GiB/4.5 GiB  310.0 MiB/s  ETA 0:11`."""
    fraction = nbytes / total_bytes if total_bytes else 1.0
    rate = nbytes / elapsed if elapsed > 0 else 0.0
    eta = "--:--" if rate <= 0 else _clock((total_bytes - nbytes) / rate)
    return (
        f"{progress_bar(fraction)}  {blobs}/{total_blobs} blobs  "
        f"{human_size(nbytes)}/{human_size(total_bytes)}  {human_size(int(rate))}/s  ETA {eta}"
    )


def progress_bar(fraction: float) -> str:
    """`[##########..............]  42%`."""
    filled = int(fraction * BAR_WIDTH)
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
