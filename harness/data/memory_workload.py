"""A sample workload with a known memory shape, for the `memory` suite and its tests.

    python memory_workload.py --anon 200Mi --hold 0.5            # one process, 200Mi anon
    python memory_workload.py --anon 100Mi --children 3          # a tree: 4 x 100Mi at once
    python memory_workload.py --page-cache 400Mi --dir /var/tmp  # page cache only

Standard library only, so it runs on any runner image with a Python 3.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

_UNITS = {"": 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}


def _size(text: str) -> int:
    number = text.rstrip("KMGi")
    return int(float(number) * _UNITS[text[len(number) :]])


def _hold_anon(size: int, hold: float) -> None:
    block = bytearray(b"\x01") * size  # written, so every page is really resident
    time.sleep(hold)
    del block


def _page_cache(size: int, directory: str | None) -> None:
    chunk = b"\x02" * (1 << 20)
    with tempfile.NamedTemporaryFile(dir=directory) as handle:
        for _ in range(size >> 20):
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
        handle.seek(0)
        while handle.read(1 << 20):
            pass


def main(argv: list[str] | None = None) -> int:
    """Run the requested shape; exit 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anon", type=_size, default=0, help="anonymous memory per process")
    parser.add_argument("--hold", type=float, default=0.6, help="seconds to hold it")
    parser.add_argument("--children", type=int, default=0, help="extra processes, same size")
    parser.add_argument("--page-cache", type=_size, default=0, help="bytes written then read")
    parser.add_argument("--dir", default=None, help="directory for the page-cache file")
    args = parser.parse_args(argv)
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--anon", str(args.anon), "--hold", str(args.hold)]
        )
        for _ in range(args.children)
    ]
    if args.page_cache:
        _page_cache(args.page_cache, args.dir)
    if args.anon:
        _hold_anon(args.anon, args.hold)
    for child in children:
        child.wait(timeout=600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
