"""`serve` under load: time from a request to the feed and to the page, and the server's memory with 20 phones
fetching at once, each as a ratio to serving a static file of the same size from the same server (loopback only).

    python -m benchmarks.serve [--stages N] [--phones P] [--requests R] [--json FILE]

The server runs in a fresh interpreter, so its peak RSS is its own; the peak is reset (/proc/PID/clear_refs)
before each case. Times are medians of per-request times (request sent to last byte read) on kept-alive
connections: one phone alone, then P phones at once, each making R requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """voicecoach: 1
title: Session {n}
voice: {{name: pyttsx3}}
about: A short session for the benchmark, number {n}.
steps:
  - section: Arriving
  - say: Welcome to session {n}.
  - section: Breathing
  - breathe: {{in: 2, out: 3, cycles: 1}}
  - say: Well done.
"""

# The server, in its own process: the program exported (up to date already, so nothing is encoded), its page
# and feed, and two static files of exactly the feed's and the page's sizes.
CHILD = """
import dataclasses, json, sys
from pathlib import Path
from voicecoach.cache import Cache
from voicecoach.export.program import export_program
from voicecoach.phone import share
from voicecoach.phone.feed import FEED, feed_files, feed_pages
from voicecoach.phone.server import PhoneServer, site
program, folder, cache = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
done = export_program(program, folder, Cache(cache), fmt="mp3", bundle=True)
listing = share.listing_for(program, done, discreet=False)
base = site(listing, done.folder, token="benchmarktoken")
server = PhoneServer(base, "127.0.0.1", 0)
pages = {**base.pages, **feed_pages(done, server.url)}
sizes = {"feed": len(pages[FEED][0]), "page": len(pages[""][0])}
static = {}
for name, size in sizes.items():
    path = done.folder / f"static-{name}.bin"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    static[path.name] = path.resolve()
server.httpd.site = dataclasses.replace(base, pages=pages, files={**base.files, **feed_files(done), **static})
server.start()
print(json.dumps({"port": server.port, "sizes": sizes}), flush=True)
sys.stdin.read()
server.stop()
"""

CASES = {"feed": "feed.xml", "static_feed": "files/static-feed.bin", "page": "", "static_page": "files/static-page.bin"}


def write_program(folder: Path, stages: int) -> Path:
    """A program of `stages` short sessions (each its own script)."""
    lines = ["voicecoach: 1", "title: Benchmark program", "about: A program for the serve benchmark.", "stages:"]
    for n in range(1, stages + 1):
        (folder / f"s{n}.yaml").write_text(SCRIPT.format(n=n), encoding="utf-8")
        lines += [f"  - stage: Stage {n}", f"    script: s{n}.yaml", "    move_on_when: It feels easy.",
                  "    frequency: every day"]
    (folder / "program.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "program.yaml"


def fetch(port: int, path: str, requests: int, times: list, errors: list) -> None:
    """`requests` GETs of `path` on one kept-alive connection, each request's time appended to `times`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for _ in range(requests):
            start = time.perf_counter()
            connection.request("GET", f"/benchmarktoken/{path}")
            answer = connection.getresponse()
            body = answer.read()
            times.append(time.perf_counter() - start)
            if answer.status != 200 or not body:
                errors.append(answer.status)
    except OSError as e:
        errors.append(str(e))
    finally:
        connection.close()


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")         # Linux: the peak resident set size starts again from the current one


def load(port: int, pid: int, path: str, phones: int, requests: int) -> dict:
    """One phone alone, then `phones` at once: median request times and the server's peak RSS."""
    fetch(port, path, 20, [], [])                       # warm up: the file in the page cache, threads started
    alone: list = []
    errors: list = []
    fetch(port, path, requests, alone, errors)
    reset_peak(pid)
    together: list = []
    threads = [threading.Thread(target=fetch, args=(port, path, requests, together, errors)) for _ in range(phones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{path or 'the page'}: {len(errors)} failed requests ({errors[:3]})")
    return {"alone_s": statistics.median(alone), "together_s": statistics.median(together),
            "peak_mb": peak_mb(pid), "requests": len(together)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=8)
    parser.add_argument("--phones", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        program = write_program(Path(tmp), args.stages)
        # Exported once here, so that the server's process does no rendering of its own.
        subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from voicecoach.cache import Cache; "
                        "from voicecoach.export.program import export_program; "
                        "export_program(Path(sys.argv[1]), Path(sys.argv[2]), Cache(Path(sys.argv[3])), bundle=True)",
                        str(program), str(Path(tmp) / "out"), str(Path(tmp) / "cache")], cwd=ROOT, check=True,
                       capture_output=True)
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(program), str(Path(tmp) / "out"),
                                  str(Path(tmp) / "cache")], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
        try:
            assert child.stdout is not None and child.stdin is not None
            ready = json.loads(child.stdout.readline())
            reset_peak(child.pid)
            idle = peak_mb(child.pid)       # the idle server's resident size (its peak starts again from it)
            found = {name: load(ready["port"], child.pid, path, args.phones, args.requests)
                     for name, path in CASES.items()}
        finally:
            if child.stdin:
                child.stdin.close()
            child.wait(timeout=30)
    ratios = {}
    for what in ("feed", "page"):
        mine, static = found[what], found[f"static_{what}"]
        ratios[what] = {"time_alone": mine["alone_s"] / static["alone_s"],
                        "time_together": mine["together_s"] / static["together_s"],
                        "peak_rss": mine["peak_mb"] / static["peak_mb"],
                        "peak_rss_over_idle": mine["peak_mb"] / idle}
    print(f"serve, {args.stages} sessions, loopback; ratios to a static file of the same size "
          f"(feed {ready['sizes']['feed']} bytes, page {ready['sizes']['page']} bytes):")
    for what, r in ratios.items():
        print(f"  {what}: request to last byte {r['time_alone']:.2f}x alone, {r['time_together']:.2f}x with "
              f"{args.phones} phones at once; server peak RSS with {args.phones} phones {r['peak_rss']:.2f}x "
              f"({r['peak_rss_over_idle']:.2f}x the idle server's)")
    if args.json:
        args.json.write_text(json.dumps({"cases": found, "idle_mb": idle, "ratios": ratios,
                                         "sizes": ready["sizes"]}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
