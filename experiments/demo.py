"""`govsim-demo`: the teaching demo in the browser (a Solara page, see :mod:`experiments.lesson`).

Starts the demo's server (:mod:`experiments.lesson.server`, Solara's app for
:mod:`experiments.lesson.page`) as a child process, waits until it answers, prints the address
to open, and stops it cleanly on Ctrl-C::

    govsim-demo                      # http://127.0.0.1:8765
    govsim-demo --port 9000
    govsim-demo --lang en            # the page in English (default Dutch)
    govsim-demo --host 0.0.0.0       # reachable from other machines (a classroom network)
    govsim-demo --classroom --case safety_network   # each student leads an organisation (docs/classroom.md)
    govsim-demo --classroom --check  # does a phone on this Wi-Fi reach this laptop?

On any address other than this machine's loopback, the demo asks for an access token: the
launcher makes one (or takes ``--token``), prints the links that carry it and warns that anyone
with such a link can use the demo; requests without it are refused.

Working offline: the page's JavaScript and CSS (the Vuetify app, RequireJS and Font
Awesome) are npm packages that Solara normally fetches from a public CDN through
its own asset proxy and caches on disk. When they are not cached yet, ``govsim-demo``
fills that cache once with ``npm pack`` from the npm registry (when ``npm`` is
installed), so the demo runs without access to the CDN. Solara's telemetry and version
check are switched off: the demo sends nothing anywhere.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

SERVER_MODULE = "experiments.lesson.server"
APP_MODULE = "experiments.lesson.page"
LANGUAGES = ("nl", "en")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
START_TIMEOUT = 60.0
"""Seconds to wait for the server to answer before giving up."""
STOP_TIMEOUT = 10.0
"""Seconds to wait for the server to stop after Ctrl-C before it is killed."""

# Browser assets of solara 1.64 (pinned in pyproject.toml), as the npm packages its page and widgets
# load from the CDN; tests/test_demo.py checks this list against solara's own page template.
VUETIFY_APP = {2: "@widgetti/solara-vuetify-app@10.1.1", 3: "@widgetti/solara-vuetify3-app@5.2.0"}
OTHER_ASSETS = ("requirejs@2.3.6", "font-awesome@4.5.0")


def vue_major() -> int:
    """Major Vue version the page uses: 3 with ipyvue 3 (Solara's own rule), else 2."""
    return 3 if importlib.metadata.version("ipyvue").startswith("3") else 2


def required_assets() -> tuple[str, ...]:
    """The npm packages (``name@version``) the demo page loads through Solara's asset proxy."""
    return (VUETIFY_APP[vue_major()], *OTHER_ASSETS)


def asset_cache() -> Path:
    """Solara's asset proxy cache (``SOLARA_ASSETS_PROXY_CACHE_DIR``; default under the environment)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing_assets(cache: Path, specs: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """Those of ``specs`` (default: the required assets) not yet unpacked in ``cache``."""
    specs = required_assets() if specs is None else specs
    return [spec for spec in specs if not (cache / spec / "package.json").is_file()]


def fetch_assets(cache: Path, specs: list[str], npm: str | None = None, timeout: float = 300.0) -> list[str]:
    """Unpack npm packages into Solara's asset cache, as its CDN proxy would lay them out.

    Args:
        cache: The asset proxy cache directory.
        specs: Packages as ``name@version``.
        npm: The npm executable (default: found on ``PATH``).
        timeout: Seconds allowed for ``npm pack``.

    Returns:
        The packages that could not be fetched (empty when all were).
    """
    npm = npm or shutil.which("npm")
    if not npm or not specs:
        return list(specs)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = subprocess.run(
                [npm, "pack", *specs, "--json"], cwd=tmp, capture_output=True, text=True, timeout=timeout, check=False
            )
            packed = json.loads(result.stdout) if result.returncode == 0 else []
        except (OSError, subprocess.TimeoutExpired, ValueError):
            return list(specs)
        tarballs = [Path(tmp) / item["filename"] for item in packed]
        if len(tarballs) != len(specs):
            return list(specs)
        for spec, tarball in zip(specs, tarballs, strict=True):
            with contextlib.suppress(tarfile.TarError, OSError):  # such a package stays missing
                _unpack(tarball, cache / spec)
    return missing_assets(cache, specs)


def _unpack(tarball: Path, target: Path) -> None:
    """Extract an npm tarball's single top folder (``package/``) into ``target``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpack-"))
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(staging, filter="data")
        tops = [p for p in staging.iterdir() if p.is_dir()]
        if len(tops) != 1:
            return
        if target.exists():
            shutil.rmtree(target)
        tops[0].rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def ensure_assets() -> None:
    """Make the page's browser assets available offline, or say that they will come from the CDN."""
    try:
        cache = asset_cache()
        missing = missing_assets(cache)
    except Exception as exc:  # an unusual solara setup: let solara handle its assets itself
        print(f"govsim-demo: could not check browser assets ({exc}); solara will fetch them from its CDN")
        return
    if not missing:
        return
    print(f"govsim-demo: fetching browser assets once with npm: {', '.join(missing)}", flush=True)
    try:
        still = fetch_assets(cache, missing)
    except OSError as exc:
        print(f"govsim-demo: could not store browser assets in {cache} ({exc})")
        still = missing
    if still:
        print(
            "govsim-demo: not cached (no npm, or the registry is out of reach): "
            + ", ".join(still)
            + "; solara will fetch them from its CDN, which needs internet access"
        )


def server_command(host: str, port: int) -> list[str]:
    """The command that runs the demo's server (Solara's app behind the token gate)."""
    return [sys.executable, "-m", SERVER_MODULE, "--host", host, "--port", str(port)]


def server_env(token: str = "") -> dict[str, str]:
    """Environment of the server: telemetry off, light theme, the token, the project importable."""
    env = dict(os.environ)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_THEME_TITLE", "govsim")
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    env.setdefault("SOLARA_THEME_VARIANT", "light")  # not "auto": a dark laptop theme made labels unreadable
    env["GOVSIM_DEMO_TOKEN"] = token
    # Solara warns once that a cookie cannot be SameSite=None over plain http on 127.0.0.1; harmless here.
    quiet = "ignore:Cookies with samesite=none:UserWarning"
    env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS", ""), quiet) if w)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect_host(host: str) -> str:
    """Address to reach a server listening on ``host`` from this machine."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` yet (IPv4 or IPv6).

    Raises:
        OSError: If ``host`` is not an address or name of this machine's resolver.
    """
    infos = socket.getaddrinfo(_connect_host(host), port, type=socket.SOCK_STREAM)
    for family, kind, proto, _name, address in infos:
        with contextlib.closing(socket.socket(family, kind, proto)) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(address) == 0:
                return False
    return True


def url_for(host: str, port: int, query: str = "") -> str:
    """The page's address on ``host`` (IPv6 in brackets), with a query string."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?{query}" if query else "")


def reachable_addresses(host: str) -> list[str]:
    """Addresses other machines can use for a server on ``host`` (for all interfaces: this machine's)."""
    if host not in ("0.0.0.0", "::", ""):
        return [host]
    found: list[str] = []
    families = (socket.AF_INET,) if host == "0.0.0.0" else (socket.AF_INET, socket.AF_INET6)
    with contextlib.suppress(OSError):
        for family, *_rest, address in socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM):
            ip = str(address[0]).split("%")[0]
            if family in families and not ipaddress.ip_address(ip).is_loopback and ip not in found:
                found.append(ip)
    return found or [socket.gethostname()]


def wait_until_listening(proc: subprocess.Popen, host: str, port: int, timeout: float) -> bool:
    """Wait until the server accepts connections; ``False`` if it died or timed out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if not port_is_free(host, port):
            return True
        time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen) -> None:
    """Stop the server: SIGTERM (uvicorn then shuts down gracefully), and kill it if it hangs."""
    if proc.poll() is not None:
        return
    for send, wait in ((proc.terminate, STOP_TIMEOUT), (proc.kill, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            send()
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``govsim-demo``."""
    from experiments.guard import OneLineParser

    parser = OneLineParser(prog="govsim-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None,
                        help=f"address to listen on (default {DEFAULT_HOST}; with --classroom 0.0.0.0)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--lang", default="nl", help="language of the page: nl or en (default nl)")
    parser.add_argument("--token", default=None, help="access token for a non-local --host (default: a new random one)")
    from experiments.classroom import launch

    launch.add_arguments(parser)
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port}: must lie in 1..65535")
    if args.lang not in LANGUAGES:
        parser.error(f"--lang {args.lang}: must be one of {', '.join(LANGUAGES)}")
    if args.check and not args.classroom:
        parser.error("--check: only with --classroom")
    # Ctrl-C and SIGTERM must reach the demo and the classroom whatever started them: a parent that blocked
    # them while it started helpers (as multiprocessing's resource tracker does) passes the block on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    if args.classroom:
        return launch.main(args)
    args.host = args.host or DEFAULT_HOST
    if args.token is not None and not (8 <= len(args.token) <= 200 and args.token.isascii() and args.token.isalnum()):
        parser.error("--token: must be 8-200 letters and digits")
    try:
        free = port_is_free(args.host, args.port)
    except (OSError, UnicodeError, ValueError) as exc:
        print(f"govsim-demo: --host {args.host!r} is not an address of this machine ({exc})", file=sys.stderr)
        return 2
    if not free:
        print(f"govsim-demo: port {args.port} is in use; choose another with --port", file=sys.stderr)
        return 2
    local = is_loopback(args.host)
    token = "" if local and args.token is None else (args.token or secrets.token_hex(12))
    query = f"lang={args.lang}" + (f"&token={token}" if token else "")
    proc: subprocess.Popen | None = None
    signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        ensure_assets()
        print(f"govsim-demo: starting the teaching demo on {args.host}:{args.port} ...", flush=True)
        # Own session: a Ctrl-C in the terminal reaches only this process, which then stops the server once.
        proc = subprocess.Popen(server_command(args.host, args.port), env=server_env(token), start_new_session=True)
        if not wait_until_listening(proc, args.host, args.port, START_TIMEOUT):
            code = proc.poll()
            stop(proc)
            print(f"govsim-demo: the server did not start (exit code {code})", file=sys.stderr)
            return 1
        if not local:
            print(
                "govsim-demo: WARNING: the demo is reachable from other machines; anyone who has one of the "
                "links below can use it (there is no other login). Share the link only with your class.",
                flush=True,
            )
            for address in reachable_addresses(args.host):
                print(f"govsim-demo: on the network: {url_for(address, args.port, query)}", flush=True)
        link = url_for(_connect_host(args.host), args.port, query)
        print(f"govsim-demo: open {link} in a browser (Ctrl-C to stop)", flush=True)
        code = proc.wait()
        print(f"govsim-demo: the server stopped (exit code {code})", file=sys.stderr)
        return 1 if code else 0
    except KeyboardInterrupt:
        print("\ngovsim-demo: stopping ...", flush=True)
        if proc is not None:
            stop(proc)
        print("govsim-demo: stopped", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc is not None:
            stop(proc)


if __name__ == "__main__":
    sys.exit(main())
