"""Classroom mode under a class: 30 simulated students over loopback, time from a round's end to their screens.

Starts ``govsim-demo --classroom`` (loopback, the safety-network case: 5 organisations, so 30 students
are 6 groups) and runs 30 simulated students, each a thread with its own connection doing what a
student's page does: join, wait for news with the long poll, and, when a round opens, choose a style
(after a random pause of up to ``--think`` seconds). A round runs when the last student has chosen.

For every round and student it measures the time from the round's end (the moment the last choice of
the round was sent) to that student's updated screen: the long poll has brought the next round's
view *and* the page has loaded the round's new chart (an SVG). It prints, per round, the slowest
student's time, and over all rounds the median, the 90th percentile and the maximum of the slowest
student's time (the figure of the issue) and of all students' times.

Target (issue 25): under 1 s at the 90th percentile for the slowest student.

    python benchmarks/bench_classroom.py [--students 30] [--rounds 8] [--steps-per-round 12] [--think 1.0]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET_P90_S = 1.0
STYLES = ("directive", "transactional", "facilitative", "shared", "situational", "laissez_faire")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int, rounds: int, steps: int, students: int) -> tuple[subprocess.Popen, str, str]:
    """The classroom server, its join code and its teacher key (every simulated phone is on this laptop, so
    one address may hold every seat)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.demo", "--classroom", "--host", "127.0.0.1", "--port", str(port),
         "--lang", "en", "--rounds", str(rounds), "--steps-per-round", str(steps), "--timer", "600",
         "--seats-per-address", str(max(students, 1))],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    code = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"with code (\w+)", line)
        if found:
            code = found.group(1)
        key = re.search(r"teacher's screen: open \S*[?&]key=([\w-]+)", line)
        if code and key:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, code, key.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the classroom did not start")


class Student(threading.Thread):
    """One simulated student: its own HTTP connection, like one phone's page."""

    def __init__(self, index: int, port: int, code: str, rounds: int, think: float, seed: int,
                 sent: dict[int, list[float]], seen: dict[int, dict[int, float]]) -> None:
        super().__init__(daemon=True)
        self.index, self.port, self.code, self.rounds, self.think = index, port, code, rounds, think
        self.rng = np.random.default_rng(seed)
        self.sent, self.seen = sent, seen
        self.error: BaseException | None = None

    def request(self, conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None) -> tuple:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()

    def run(self) -> None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            status, body = self.request(conn, "POST", "/api/join", {"nickname": f"s{self.index}", "code": self.code})
            token = json.loads(body)["token"]
            version, chosen_round = -1, -1
            while True:
                status, body = self.request(conn, "GET", f"/api/student?token={token}&v={version}")
                view = json.loads(body)
                version = view["version"]
                rnd = view["round"]
                if rnd > 0 and rnd not in self.seen[self.index]:
                    self.request(conn, "GET", view["chart"] + "&lang=en")  # the screen shows the new chart
                    self.seen[self.index][rnd] = time.perf_counter()
                if view["phase"] == "debrief":
                    return
                if view["phase"] == "choosing" and chosen_round != rnd:
                    time.sleep(float(self.rng.uniform(0, self.think)))
                    style = STYLES[int(self.rng.integers(len(STYLES)))]
                    self.sent[rnd + 1].append(time.perf_counter())
                    self.request(conn, "POST", "/api/choose", {"token": token, "choice": {"style": style}})
                    chosen_round = rnd
        except BaseException as exc:  # reported by the main thread
            self.error = exc


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps-per-round", type=int, default=12)
    parser.add_argument("--think", type=float, default=1.0, help="longest pause before a student chooses (s)")
    args = parser.parse_args()
    port = free_port()
    proc, code, key = start(port, args.rounds, args.steps_per_round, args.students)
    try:
        sent: dict[int, list[float]] = {r: [] for r in range(1, args.rounds + 1)}
        seen: dict[int, dict[int, float]] = {i: {} for i in range(args.students)}
        students = [Student(i, port, code, args.rounds, args.think, 1000 + i, sent, seen) for i in range(args.students)]
        for s in students:
            s.start()
        time.sleep(1.0)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/teacher/start", body="{}",
                     headers={"content-type": "application/json", "x-teacher-key": key})
        conn.getresponse().read()
        for s in students:
            s.join(timeout=60 * args.rounds)
        errors = [s.error for s in students if s.error]
        if errors:
            raise SystemExit(f"{len(errors)} students failed: {errors[0]!r}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    slowest, everyone = [], []
    print(f"classroom: {args.students} students in groups of 5 (safety_network), {args.rounds} rounds of "
          f"{args.steps_per_round} steps")
    for rnd in range(1, args.rounds + 1):
        end = max(sent[rnd])
        times = [seen[i][rnd] - end for i in range(args.students)]
        everyone += times
        slowest.append(max(times))
        print(f"  round {rnd}: slowest student's screen {max(times) * 1000:.0f} ms after the round's end "
              f"(median student {statistics.median(times) * 1000:.0f} ms)")

    def p90(values: list[float]) -> float:
        return float(np.percentile(values, 90))

    print(f"slowest student per round: median {statistics.median(slowest) * 1000:.0f} ms, 90th percentile "
          f"{p90(slowest) * 1000:.0f} ms, max {max(slowest) * 1000:.0f} ms (target: 90th percentile < "
          f"{TARGET_P90_S * 1000:.0f} ms) -> {'met' if p90(slowest) < TARGET_P90_S else 'NOT met'}")
    print(f"all students x rounds: median {statistics.median(everyone) * 1000:.0f} ms, 90th percentile "
          f"{p90(everyone) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
