"""``govsim-demo --classroom``: start a classroom, or check that phones on the room's Wi-Fi reach this laptop.

The classroom runs in this process (uvicorn serving :func:`experiments.classroom.web.create_app`); Ctrl-C
stops it. It prints the join address and code for the students and the teacher's screen's address
with the teacher key in it (every teacher action needs the key, from this laptop too). ``--check``
serves one small page instead and waits for a phone to open it.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import ipaddress
import secrets
import socket
import sys
import threading
import time
from typing import Any

from sim import ConfigError

from ..demo import _connect_host, is_loopback, port_is_free, reachable_addresses, url_for
from .session import Settings

CLASSROOM_HOST = "0.0.0.0"
"""Classroom mode listens on every interface by default: the students' phones must reach it."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The classroom's options of ``govsim-demo``."""
    group = parser.add_argument_group("classroom mode (--classroom)")
    group.add_argument("--classroom", action="store_true",
                       help="each student leads an organisation (see docs/classroom.md)")
    group.add_argument("--case", default="safety_network", help="the case (default safety_network)")
    group.add_argument("--rounds", type=int, default=8, help="rounds in the session (default 8)")
    group.add_argument("--steps-per-round", type=int, default=12, help="model steps per round (default 12)")
    group.add_argument("--timer", type=float, default=75.0, help="seconds to choose in each round (default 75)")
    group.add_argument("--group-size", type=int, default=None,
                       help="students per group (default: one per organisation of the case)")
    group.add_argument("--seed", type=int, default=42, help="seed of every group's model (default 42)")
    group.add_argument("--seats-per-address", type=int, default=3,
                       help="seats one device (client address) may hold unless the teacher allows more (default 3)")
    group.add_argument("--teacher-key", default=None, help="key for teacher actions from other devices (default: new)")
    group.add_argument("--check", action="store_true", help="check that a phone on this network reaches this laptop")
    group.add_argument("--check-wait", type=float, default=60.0, help="seconds --check waits for a phone (default 60)")


def classroom_settings(args: argparse.Namespace) -> Settings:
    """The session's settings from the command line (validated).

    Raises:
        ConfigError: If one is not allowed.
    """
    settings = Settings(case=args.case, seed=args.seed, rounds=args.rounds, steps_per_round=args.steps_per_round,
                        timer=args.timer, group_size=args.group_size, lang=args.lang,
                        seats_per_address=args.seats_per_address)
    settings.validate()
    if args.seed < 0:
        raise ConfigError("classroom.seed", args.seed, "must be a whole number >= 0")
    return settings


def main(args: argparse.Namespace) -> int:
    """Run classroom mode (or its reachability check) with the parsed options of ``govsim-demo``."""
    host = args.host or CLASSROOM_HOST
    if args.check:
        return check(host, args.port, args.check_wait, args.lang)
    if args.teacher_key is not None and not (8 <= len(args.teacher_key) <= 200 and args.teacher_key.isascii()
                                             and args.teacher_key.isalnum()):
        print("govsim-demo: --teacher-key: must be 8-200 letters and digits", file=sys.stderr)
        return 2
    try:
        settings = classroom_settings(args)
        from .session import build_case

        params = build_case(settings)
        if args.group_size is not None and not 1 <= args.group_size <= len(params.scenario.organisations):
            raise ConfigError("classroom.group_size", args.group_size,
                              f"must be in [1, {len(params.scenario.organisations)}] (the case's organisations)")
    except ConfigError as exc:
        print(f"govsim-demo: {exc}", file=sys.stderr)
        return 2
    try:
        free = port_is_free(host, args.port)
    except (OSError, UnicodeError, ValueError) as exc:
        print(f"govsim-demo: --host {host!r} is not an address of this machine ({exc})", file=sys.stderr)
        return 2
    if not free:
        print(f"govsim-demo: port {args.port} is in use; choose another with --port", file=sys.stderr)
        return 2
    import uvicorn

    from .web import create_app

    key = args.teacher_key or secrets.token_urlsafe(12)
    local = is_loopback(host)
    address = _connect_host(host) if local else reachable_addresses(host)[0]
    join_base = url_for(address, args.port)
    hosts = tuple(reachable_addresses(host)) if not local else ()
    app = create_app(settings, key, join_base, hosts=(*hosts, _connect_host(host)))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=args.port, log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=3))

    def announce() -> None:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline and not server.should_exit:
            time.sleep(0.05)
        if not server.started:
            return
        session = app.state.classroom.session
        n_orgs = session.n_orgs
        print(f"govsim-demo: classroom of case {settings.case}: {settings.rounds} rounds of "
              f"{settings.steps_per_round} steps, {settings.timer:g} s to choose, groups of "
              f"{session.settings.group_size} students ({n_orgs} organisations each), seed {settings.seed}", flush=True)
        print(f"govsim-demo: students join at {join_base} with code {session.code}", flush=True)
        if local:
            print("govsim-demo: this classroom listens on this laptop only; for phones use --host 0.0.0.0 "
                  "(check the network first: govsim-demo --classroom --check)", flush=True)
        else:
            others = ", ".join(reachable_addresses(host))
            print(f"govsim-demo: reachable on this network at {others} (port {args.port}); no phone? run "
                  "govsim-demo --classroom --check", flush=True)
        print(f"govsim-demo: teacher's screen from another device: {join_base}teacher?key={key}", flush=True)
        teacher = url_for(_connect_host(host), args.port, f"lang={settings.lang}&key={key}").replace("/?", "/teacher?")
        print(f"govsim-demo: teacher's screen: open {teacher} in a browser on this laptop (Ctrl-C to stop); "
              "the key in it is what makes you the teacher, so do not project this address", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    print("govsim-demo: classroom stopped", flush=True)
    return 0


class _CheckHandler(http.server.BaseHTTPRequestHandler):
    """Answers the check page and reports who opened it."""

    body = b""
    seen: list[str] = []
    reached = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        """The check page, for any path; a device other than this laptop ends the check."""
        client = self.client_address[0]
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)
        try:
            loop = ipaddress.ip_address(client.split("%")[0]).is_loopback
        except ValueError:
            loop = False
        if loop:
            print("govsim-demo: check: this laptop itself opened the check page (fine; now try a phone)", flush=True)
        elif client not in self.seen:
            self.seen.append(client)
            print(f"govsim-demo: check: OK, a device at {client} reached this laptop: classroom mode will work on "
                  "this network", flush=True)
            self.reached.set()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


ADVICE = (
    "govsim-demo: check: no phone reached this laptop. What to do:",
    "  1. Phone and laptop on the same Wi-Fi? (Not the phone's mobile data, not a guest network.)",
    "  2. Guest and school networks often isolate devices from each other (client isolation): then no phone can "
    "reach the laptop. Ask IT, or use a phone's hotspot: connect the laptop and the students' phones to it.",
    "  3. The laptop's firewall may block incoming connections on port {port}: allow it (Windows: allow Python on "
    "private networks when asked; macOS: System Settings > Network > Firewall, allow python; Linux with ufw: "
    "sudo ufw allow {port}/tcp).",
    "  4. Type the address exactly (http://, not https://, with :{port}).",
)


def check(host: str, port: int, wait: float, lang: str = "nl") -> int:
    """Serve a check page on ``host:port`` and wait up to ``wait`` seconds for another device to open it.

    Prints the addresses to open (and a QR code of the first), then whether a device reached this laptop;
    if none did, what to do (client isolation, firewall, a phone hotspot). Returns 0 when a device came.
    """
    from html import escape

    from ..lesson.texts import Texts

    texts = Texts(lang)
    try:
        if not port_is_free(host, port):
            print(f"govsim-demo: port {port} is in use; choose another with --port", file=sys.stderr)
            return 2
    except (OSError, UnicodeError, ValueError) as exc:
        print(f"govsim-demo: --host {host!r} is not an address of this machine ({exc})", file=sys.stderr)
        return 2
    title = escape(texts("classroom.check.title"))
    _CheckHandler.body = (f'<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" '
                          f'content="width=device-width, initial-scale=1"><title>{title}</title></head>'
                          f'<body style="font:20px system-ui;padding:1em"><h1>&#10003;</h1><p>'
                          f'{escape(texts("classroom.check.ok"))}</p></body></html>').encode()
    _CheckHandler.seen = []
    _CheckHandler.reached = threading.Event()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("CheckServer", (http.server.ThreadingHTTPServer,), {"address_family": family})
    try:
        server = server_class((host, port), _CheckHandler)
    except OSError as exc:
        print(f"govsim-demo: cannot listen on {host}:{port} ({exc})", file=sys.stderr)
        return 2
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        addresses = [_connect_host(host)] if is_loopback(host) else reachable_addresses(host)
        if is_loopback(host):
            print(f"govsim-demo: check: --host {host} is this laptop only; phones cannot reach it (use the default "
                  "--host 0.0.0.0)", flush=True)
        lan = [a for a in addresses if _is_lan(a)]
        if not is_loopback(host) and not lan:
            print("govsim-demo: check: this laptop has no network address yet: connect it to the room's Wi-Fi or a "
                  "phone's hotspot", flush=True)
        for address in addresses:
            ok = _answers(address, port)
            print(f"govsim-demo: check: {url_for(address, port)}check "
                  + ("answers on this laptop" if ok else "does NOT answer even on this laptop"), flush=True)
        first = url_for(addresses[0], port) + "check"
        print(f"govsim-demo: check: on a phone on the same Wi-Fi, open {first} (or scan the code below); "
              f"waiting {wait:g} s ...", flush=True)
        with contextlib.suppress(Exception):
            import segno

            segno.make(first, error="l").terminal(compact=True)
        if _CheckHandler.reached.wait(wait):
            return 0
        for line in ADVICE:
            print(line.format(port=port), flush=True)
        return 1
    except KeyboardInterrupt:
        return 1
    finally:
        server.shutdown()
        server.server_close()


def _is_lan(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not ip.is_loopback


def _answers(address: str, port: int) -> bool:
    """Whether ``address:port`` accepts a connection from this laptop."""
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return True
    except OSError:
        return False
