"""The classroom's web server: light pages for 30 phones and the teacher's screen, on Starlette.

Why not Solara here: each Solara page is a virtual kernel with a websocket and a widget tree kept on
the server; for 30 phones that is heavy, and a reload rebuilds it. These pages are static HTML and a
small script; they ask ``/api/...`` for the session's state with a long poll (the answer comes as soon
as the state changes, or after :data:`POLL_SECONDS`), send choices as JSON, and load each chart as one
SVG drawn once per round and cached. Nothing a page does steps a model: the round driver (a server
thread, :meth:`~experiments.classroom.session.Session.run_driver`) alone does.

Security on a school network:

- teacher actions (and the teacher's screen, the debrief and the exports) need the teacher key printed
  in the terminal (``?key=...`` once; a same-site cookie keeps it), from this laptop too: a page of
  another site open in the teacher's browser must not be able to act as the teacher;
- every request must name this server in ``Host`` (one of the addresses it serves: a DNS-rebinding page
  names its own) and, when it carries an ``Origin``, come from one of them;
- a student's requests carry the seat token of their tab; every choice is validated by the session;
- nicknames are written into pages only as text (``textContent``), never as markup, and the pages'
  Content-Security-Policy allows only this server's own scripts;
- one session at a time; join attempts per address and minute are limited, and so are the seats one
  address holds (the teacher may allow more, and may remove a seat); request bodies are small (their
  ``Content-Length`` is checked before reading and their size while reading) and JSON is nested at most
  :data:`MAX_DEPTH` deep; requests that are not a seated student's do not move the teacher's counters;
- exported CSV cells that a spreadsheet would read as a formula are prefixed with ``'``;
- nothing is written to disk (nicknames live in memory until the session ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hmac
import io
import json
import threading
import time
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from analysis.palette import STYLE_COLOURS
from sim import ConfigError

from ..lesson.charts import PALETTE, org_name
from ..lesson.export import csv_row
from ..lesson.texts import Texts, catalogue
from .charts import GROUP_COLOURS, Line, group_colour, group_dotted, line_chart, style_colour
from .session import CHOICE_FIELDS, LEVELS, JoinRefused, Session, Settings

MAX_PAST = 10
"""Past sessions (restarted) whose debrief the teacher can still open."""
POLL_SECONDS = 20.0
"""Longest the teacher's request for news waits before it is answered unchanged."""
STUDENT_POLL_SECONDS = 4.0
"""Longest a student's request for news waits: its page asks again at once, so the server knows within a few
seconds that a page is gone (see ``Settings.away_after``)."""
MAX_BODY = 4096
"""Largest request body (bytes) accepted; larger ones are refused before (or while) reading."""
MAX_DEPTH = 8
"""Deepest nesting of JSON arrays and objects accepted in a request body."""
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
KEY_COOKIE = "govsim_teacher"
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


class Classroom:
    """The server's one session, its round driver thread, and what waits for news of it.

    Args:
        settings: The teacher's settings.
        teacher_key: Key that allows teacher actions from other machines.
        join_base: The address students open (shown with the code and in the QR code).
        hosts: Other names or addresses of this server that pages may use (besides ``join_base``'s host and
            the loopback names).
    """

    def __init__(self, settings: Settings, teacher_key: str, join_base: str,
                 hosts: tuple[str, ...] = ()) -> None:
        self.settings = settings
        self.hosts = served_hosts(join_base, hosts)
        self.teacher_key = teacher_key
        self.join_base = join_base
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._charts: dict[tuple, bytes] = {}
        self._stop = threading.Event()
        self._driver: threading.Thread | None = None
        self.past: list[dict[str, Any]] = []  # finished or restarted sessions, newest first (in memory only)
        self.session = self._new_session(version=0)

    def _new_session(self, version: int) -> Session:
        session = Session(self.settings)
        session.version = version
        session.on_change(self._notify)
        return session

    def start_driver(self) -> None:
        """Start the round driver of the current session."""
        self._stop = threading.Event()
        self._driver = threading.Thread(target=self.session.run_driver, args=(self._stop,), daemon=True,
                                        name="classroom-round-driver")
        self._driver.start()

    def stop_driver(self) -> None:
        """Stop the round driver (at shutdown, or before a restart)."""
        self._stop.set()
        if self._driver is not None:
            self._driver.join(timeout=10)

    def keep(self, session: Session) -> None:
        """Keep a session's debrief (its view, class chart and exports in both languages) among the past ones."""
        if session.round == 0:
            return
        number = (self.past[0]["id"] + 1) if self.past else 1
        view = session.teacher_view()
        entry: dict[str, Any] = {"id": number, "case": session.settings.case, "round": session.round,
                                 "ended": time.strftime("%H:%M"), "view": view, "chart": {}, "choices": {},
                                 "results": {}}
        for lang in ("nl", "en"):
            texts = Texts(lang)
            entry["chart"][lang] = class_svg(session, texts).encode("utf-8")
            entry["choices"][lang] = session.export_log(dutch=lang == "nl")
            entry["results"][lang] = results_csv(session, texts)
        self.past.insert(0, entry)
        del self.past[MAX_PAST:]

    def past_session(self, request: Request) -> dict[str, Any] | None:
        """The past session a request names (``?past=<id>``), if kept."""
        wanted = request.query_params.get("past")
        return next((p for p in self.past if str(p["id"]) == wanted), None) if wanted else None

    def past_list(self) -> list[dict[str, Any]]:
        """The past sessions kept, for the teacher's list (newest first)."""
        return [{"id": p["id"], "case": p["case"], "round": p["round"], "ended": p["ended"]} for p in self.past]

    def restart(self) -> None:
        """A new session with the same settings and a new code (the old one is kept among the past ones)."""
        with self.lock:
            old = self.session
            self.keep(old)
            self.stop_driver()
            self.session = self._new_session(version=old.version + 1)
            self._charts.clear()
            self.start_driver()
        self._notify()

    def _notify(self) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        if self._event is not None:
            self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seen: int, timeout: float = POLL_SECONDS) -> None:
        """Return when the session's version differs from ``seen``, or after ``timeout`` seconds."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if self._event is None:
            self._event = asyncio.Event()
        deadline = self.loop.time() + timeout
        while self.session.version == seen:
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                return
            event = self._event
            if self.session.version != seen:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 1.0))

    def chart(self, key: tuple, draw: Any) -> bytes:
        """A chart drawn once per key (the key holds the round) and kept for every page that shows it."""
        with self.lock:
            found = self._charts.get(key)
        if found is None:
            found = draw().encode("utf-8")
            with self.lock:
                if len(self._charts) > 2000:
                    self._charts.clear()
                self._charts[key] = found
        return found


# --------------------------------------------------------------------------- helpers


def _hostname(value: str) -> str:
    """The host name of a ``Host`` header or an address (port and IPv6 brackets removed, lower case)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def served_hosts(join_base: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The host names pages may use for this server: the join address's, the loopback ones, ``extra``."""
    from urllib.parse import urlsplit

    names = {*LOOPBACK_NAMES, *(_hostname(h) for h in extra)}
    found = urlsplit(join_base).hostname
    if found:
        names.add(found.lower())
    return frozenset(n for n in names if n)


def refused_origin(request: Request) -> str | None:
    """Why a request does not come from a page of this server (``None`` when it does).

    ``Host`` must name one of the served hosts (a DNS-rebinding page reaches this server under its own
    name); an ``Origin``, when sent (browsers send it with every POST and every cross-site fetch), must be
    ``http://`` one of them.
    """
    from urllib.parse import urlsplit

    hosts = request.app.state.classroom.hosts
    if _hostname(request.headers.get("host", "")) not in hosts:
        return "host"
    origin = request.headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme != "http" or (parts.hostname or "") not in hosts:
            return "origin"
    if request.headers.get("sec-fetch-site") == "cross-site":
        return "origin"
    return None


def is_teacher(request: Request) -> bool:
    """The teacher key in the query, a header or the cookie (from this laptop too)."""
    key = request.app.state.classroom.teacher_key
    for given in (request.query_params.get("key"), request.headers.get("x-teacher-key"),
                  request.cookies.get(KEY_COOKIE)):
        if given and key and hmac.compare_digest(given.encode(), key.encode()):
            return True
    return False


def texts_for(request: Request) -> Texts:
    """Texts in the page's language (``?lang=``, else the session's)."""
    lang = request.query_params.get("lang") or request.app.state.classroom.settings.lang
    return Texts(lang if lang in ("nl", "en") else "nl")


def page_texts(texts: Texts) -> dict[str, str]:
    """The texts a page's script needs: the classroom's, styles, organisations and a few shared ones."""
    wanted = ("classroom.", "styles.", "organisations.", "chart.shock", "buttons.export", "mechanisms.")
    entries = catalogue(texts.lang)
    return {k: v for k, v in entries.items()
            if k.startswith(wanted) and not k.endswith((".mechanism", ".finding"))} | {"lang": texts.lang}


def shell(request: Request, kind: str, title: str) -> HTMLResponse:
    """The HTML of a page: its texts as data, a mount point, the page's script."""
    texts = texts_for(request)
    data = json.dumps({**page_texts(texts), "style_colours": STYLE_COLOURS, "group_colours": GROUP_COLOURS},
                      ensure_ascii=False).replace("<", "\\u003c")
    body = (f'<!doctype html><html lang="{texts.lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title>"
            f'<link rel="stylesheet" href="/static/classroom.css"></head>'
            f'<body class="{kind}"><main id="app" data-kind="{kind}"></main>'
            f'<script id="texts" type="application/json">{data}</script>'
            f'<script src="/static/common.js"></script>'
            f'<script src="/static/{"student" if kind == "student" else "teacher"}.js"></script></body></html>')
    return HTMLResponse(body, headers={"content-security-policy": CSP, "cache-control": "no-store"})


def forbidden() -> PlainTextResponse:
    """The answer to a teacher action without the key."""
    return PlainTextResponse("teacher actions need the teacher key printed in the terminal (the teacher's screen "
                             "address holds it)\n", status_code=403)


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refused (413) when ``Content-Length`` or the bytes read so far exceed ``limit``.

    Raises:
        HTTPException: 413 for a body too large, 400 for a ``Content-Length`` that is not a number.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise HTTPException(400, "bad content-length")
        if int(declared) > limit:
            raise HTTPException(413, f"request bodies are at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request bodies are at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


async def json_body(request: Request) -> dict[str, Any]:
    """A small JSON object from the request (an empty one for anything that is not a JSON object).

    Raises:
        HTTPException: 413 for a body too large, 400 for JSON nested deeper than :data:`MAX_DEPTH`.
    """
    body = await read_body(request)
    if json_depth(body) > MAX_DEPTH:
        raise HTTPException(400, f"JSON is nested at most {MAX_DEPTH} deep here")
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def client_address(request: Request) -> str:
    """The client's address (for the join limit)."""
    return request.client.host if request.client else ""


def _version(request: Request) -> int:
    try:
        return int(request.query_params.get("v", "-1"))
    except ValueError:
        return -1


# --------------------------------------------------------------------------- routes: students


async def student_page(request: Request) -> Response:
    """The student's page (join form, then the seat)."""
    return shell(request, "student", texts_for(request)("classroom.title"))


async def join(request: Request) -> Response:
    """Join with a nickname and the code; the answer holds the tab's seat token."""
    classroom = request.app.state.classroom
    data = await json_body(request)
    texts = texts_for(request)
    try:
        student = classroom.session.join(data.get("nickname"), data.get("code"), client_address(request))
    except JoinRefused as exc:
        return JSONResponse({"reason": exc.reason, "error": texts(f"classroom.refused_join.{exc.reason}")},
                            status_code=429 if exc.reason == "too_many" else 403)
    except ConfigError as exc:
        return JSONResponse({"reason": "nickname", "error": texts("classroom.refused", message=texts.error(exc))},
                            status_code=400)
    return JSONResponse({"token": student.token})


async def student_state(request: Request) -> Response:
    """The student's view, as soon as it changes (long poll)."""
    classroom = request.app.state.classroom
    token = request.query_params.get("token", "")
    if request.query_params.get("resume") == "1":  # a new tab found this token in the browser's storage
        if token in classroom.session.students and classroom.session.resume(token) is None:
            return JSONResponse({"reason": "in_use"}, status_code=409)  # another tab holds it: join as another
    if classroom.session.student(token) is None:
        return JSONResponse({"reason": "unknown"}, status_code=404)
    await classroom.wait(_version(request), STUDENT_POLL_SECONDS)
    view = classroom.session.student_view(token)
    if view is None:
        return JSONResponse({"reason": "unknown"}, status_code=404)
    return JSONResponse(view, headers={"cache-control": "no-store"})


async def choose(request: Request) -> Response:
    """A student's choice, validated by the session (a forged one is refused, with the reason)."""
    classroom = request.app.state.classroom
    data = await json_body(request)
    texts = texts_for(request)
    try:
        classroom.session.choose(data.get("token"), data.get("choice"))
    except ConfigError as exc:
        return JSONResponse({"error": texts("classroom.refused", message=texts.error(exc))}, status_code=400)
    return JSONResponse(classroom.session.student_view(data.get("token")))


async def away(request: Request) -> Response:
    """A student's page is closing (its last word, a beacon): the seat stops counting now, and is kept."""
    data = await json_body(request)
    return JSONResponse({"away": request.app.state.classroom.session.away(data.get("token"))})


async def leave(request: Request) -> Response:
    """The student leaves; the seat is freed."""
    data = await json_body(request)
    return JSONResponse({"left": request.app.state.classroom.session.leave(data.get("token"))})


async def group_chart(request: Request) -> Response:
    """A group's chart (its public value and one seat's organisation), drawn once per round."""
    classroom = request.app.state.classroom
    session = classroom.session
    texts = texts_for(request)
    try:
        g = int(request.path_params["group"])
        seat = int(request.query_params.get("seat", "-1"))
    except ValueError:
        return PlainTextResponse("no such chart\n", status_code=404)
    if not 0 <= g < len(session.groups):
        return PlainTextResponse("no such chart\n", status_code=404)
    with session.lock:
        snap = session.groups[g].snapshot
        shocks = sorted(s for s in session.shocks if s <= session.steps)
        key = ("group", session.code, g, seat, session.round, texts.lang)

    def draw() -> str:
        lines = [Line(snap["public_value"], PALETTE["first"], texts("classroom.chart_public_value"), width=3.0)]
        if 0 <= seat < session.n_orgs:
            lines.append(Line(snap["org_history"][seat], PALETTE["second"],
                              texts("classroom.chart_own") + ": " + org_name(texts, session.org_names[seat]),
                              dashed=True))
        return line_chart(lines, texts, steps_per_round=session.settings.steps_per_round,
                          total_steps=session.settings.rounds * session.settings.steps_per_round, shocks=shocks,
                          width=360, height=270, font=14, columns=1)

    return Response(classroom.chart(key, draw), media_type="image/svg+xml",
                    headers={"cache-control": "private, max-age=3600"})


async def check_page(request: Request) -> Response:
    """A page a phone opens to confirm it reaches this laptop."""
    texts = texts_for(request)
    return HTMLResponse(f'<!doctype html><html lang="{texts.lang}"><head><meta charset="utf-8">'
                        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                        f'<title>{escape(texts("classroom.check.title"))}</title></head>'
                        f'<body style="font:20px system-ui;padding:1em"><h1>✓</h1>'
                        f'<p>{escape(texts("classroom.check.ok"))}</p></body></html>',
                        headers={"content-security-policy": CSP})


# --------------------------------------------------------------------------- routes: teacher


async def teacher_page(request: Request) -> Response:
    """The teacher's screen (or the debrief, ``/debrief``).

    Opened with ``?key=...``, it keeps the key in a same-site cookie and sends the browser to the same
    page without the key in its address (so the address bar on the projector does not show it).
    """
    if not is_teacher(request):
        return forbidden()
    key = request.query_params.get("key")
    if key:
        from starlette.responses import RedirectResponse

        rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "key"])
        response: Response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
        response.set_cookie(KEY_COOKIE, key, httponly=True, samesite="strict")
        return response
    kind = "debrief" if request.url.path.startswith("/debrief") else "teacher"
    texts = texts_for(request)
    title = texts("classroom.debrief.title" if kind == "debrief" else "classroom.teacher_title")
    return shell(request, kind, title)


async def teacher_state(request: Request) -> Response:
    """The teacher's view, as soon as it changes (long poll)."""
    if not is_teacher(request):
        return forbidden()
    classroom = request.app.state.classroom
    if request.query_params.get("past"):
        past = classroom.past_session(request)
        if past is None:
            return JSONResponse({"error": "no such past session"}, status_code=404)
        return JSONResponse({**past["view"], "past": past["id"], "past_sessions": classroom.past_list()},
                            headers={"cache-control": "no-store"})
    await classroom.wait(_version(request))
    view = classroom.session.teacher_view()
    view["join_url"] = classroom.join_base
    view["past_sessions"] = classroom.past_list()
    return JSONResponse(view, headers={"cache-control": "no-store"})


async def teacher_action(request: Request) -> Response:
    """One teacher control.

    Start, pause, extend, skip, lock, partners, shock, reassign, remove (a seat), allow (more seats from
    one address), restart.
    """
    if not is_teacher(request):
        return forbidden()
    classroom = request.app.state.classroom
    session = classroom.session
    action = request.path_params["action"]
    data = await json_body(request)
    texts = texts_for(request)
    try:
        if action == "start":
            session.start()
        elif action == "pause":
            session.pause(bool(data.get("paused", True)))
        elif action == "extend":
            session.extend(30.0)
        elif action == "skip":
            session.skip()
        elif action == "lock":
            session.lock_joining(bool(data.get("locked", True)))
        elif action == "partners":
            session.partners_visible(bool(data.get("visible", True)))
        elif action == "shock":
            session.fire_shock()
        elif action == "reassign":
            token = session.student_token(str(data.get("student", "")))
            session.reassign(token, data.get("group"), data.get("org"))
        elif action == "remove":
            session.remove(session.student_token(str(data.get("student", ""))))
        elif action == "allow":
            session.allow_address(data.get("address"))
        elif action == "restart":
            await asyncio.to_thread(classroom.restart)
        else:
            return JSONResponse({"error": f"unknown action {action[:30]!r}"}, status_code=404)
    except ConfigError as exc:
        return JSONResponse({"error": texts.error(exc)}, status_code=400)
    return JSONResponse({"ok": True})


async def qr_code(request: Request) -> Response:
    """The QR code of the join address with the code, made here (segno), as SVG."""
    if not is_teacher(request):
        return forbidden()
    import segno

    classroom = request.app.state.classroom
    url = f"{classroom.join_base}?code={classroom.session.code}"
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=8, border=2, dark="#000000", light="#ffffff")
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers={"cache-control": "no-store"})


def class_lines(session: Session, texts: Texts) -> list[Line]:
    """Every group's public value, and the debrief's all-facilitative and all-directive replays (dashed)."""
    series = session.series()
    lines = [Line(snap["public_value"], group_colour(i), texts("classroom.group_title", n=i + 1),
                  dotted=group_dotted(i))
             for i, snap in enumerate(series[f"group {g.index + 1}"] for g in session.groups)]
    for style in session.references:
        lines.append(Line(series[style]["public_value"], style_colour(style),
                          texts("classroom.reference", style=texts.option("leadership", style).lower()), dashed=True))
    return lines


async def class_chart(request: Request) -> Response:
    """The chart of every group (and, in the debrief, the replays), drawn once per round."""
    if not is_teacher(request):
        return forbidden()
    classroom = request.app.state.classroom
    session = classroom.session
    texts = texts_for(request)
    if request.query_params.get("past"):
        past = classroom.past_session(request)
        if past is None:
            return PlainTextResponse("no such past session\n", status_code=404)
        return Response(past["chart"][texts.lang], media_type="image/svg+xml", headers={"cache-control": "no-store"})
    with session.lock:
        key = ("class", session.code, session.round, len(session.groups), bool(session.references), texts.lang)
    return Response(classroom.chart(key, lambda: class_svg(session, texts)), media_type="image/svg+xml",
                    headers={"cache-control": "no-store"})


def class_svg(session: Session, texts: Texts) -> str:
    """The chart of every group (and the debrief's replays) of a session."""
    with session.lock:
        shocks = sorted(s for s in session.shocks if s <= session.steps)
    return line_chart(class_lines(session, texts), texts, steps_per_round=session.settings.steps_per_round,
                      total_steps=session.settings.rounds * session.settings.steps_per_round, shocks=shocks,
                      width=640, height=380, font=16)


def results_csv(session: Session, texts: Texts) -> str:
    """Every group's and replay's results per step (full precision), with each run's replay fingerprint.

    Headers and names in the page's language; formulas neutralised (:func:`~experiments.lesson.export.csv_cell`).
    """
    dutch = texts.lang == "nl"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dutch else ",", lineterminator="\r\n")
    writer.writerow(csv_row([texts("classroom.export.series"), texts("classroom.export.step"),
                             texts("metrics.public_value.label"), texts("metrics.mean_trust.label"),
                             texts("classroom.debrief.fingerprint"), texts("controls.case"), texts("controls.seed")]))

    def num(v: float) -> str:
        text = repr(float(v))
        return text.replace(".", ",") if dutch else text

    case = texts.option("scenario", session.settings.case)
    for name, snap in session.series().items():
        if name.startswith("group "):
            label = texts("classroom.group_title", n=int(name.split()[1]))
        else:
            label = texts("classroom.reference", style=texts.option("leadership", name).lower())
        for step, (pv, tr) in enumerate(zip(snap["public_value"], snap["mean_trust"], strict=True)):
            writer.writerow(csv_row([label, step, num(pv), num(tr), snap["fingerprint"], case, session.settings.seed]))
    return out.getvalue()


async def export(request: Request) -> Response:
    """The log of choices (``/export/choices.csv``) or the results (``/export/results.csv``)."""
    if not is_teacher(request):
        return forbidden()
    classroom = request.app.state.classroom
    session = classroom.session
    texts = texts_for(request)
    what = request.path_params["what"]
    past = classroom.past_session(request)
    if request.query_params.get("past") and (past is None or what not in ("choices", "results")):
        return PlainTextResponse("no such export\n", status_code=404)
    if past is not None:
        name = f"classroom_{past['case']}_{past['id']}_{what}.csv"
        return Response("\ufeff" + past[what][texts.lang], media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{name}"'})
    if what == "choices":
        body = session.export_log(dutch=texts.lang == "nl")
    elif what == "results":
        body = results_csv(session, texts)
    else:
        return PlainTextResponse("no such export\n", status_code=404)
    name = f"classroom_{session.settings.case}_{what}.csv"
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


async def static(request: Request) -> Response:
    """The pages' CSS and scripts (package files)."""
    name = request.path_params["name"]
    if name not in ("classroom.css", "common.js", "student.js", "teacher.js"):
        return PlainTextResponse("not found\n", status_code=404)
    text = resources.files("experiments.classroom").joinpath("static", name).read_text(encoding="utf-8")
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return Response(text, media_type=f"{kind}; charset=utf-8", headers={"cache-control": "no-cache"})


class Guard:
    """ASGI middleware: refuses requests that are not this server's pages' or too large, before any route.

    A ``Host`` or ``Origin`` that is not this server's gives 403, a ``Content-Length`` too large 413.
    """

    def __init__(self, app: Any) -> None:
        """Guard ``app``."""
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Answer the request, or refuse it."""
        if scope["type"] == "http":
            request = Request(scope)
            why = refused_origin(request)
            declared = request.headers.get("content-length", "0").strip()
            refusal = None
            if why is not None:
                refusal = PlainTextResponse(f"refused: this request does not come from this server's pages ({why})\n",
                                            status_code=403)
            elif not declared.isdigit():
                refusal = PlainTextResponse("bad content-length\n", status_code=400)
            elif int(declared) > MAX_BODY:
                refusal = PlainTextResponse(f"request bodies are at most {MAX_BODY} bytes\n", status_code=413)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings, teacher_key: str, join_base: str, hosts: tuple[str, ...] = ()) -> Starlette:
    """The classroom's ASGI app (its round driver starts with the app and stops with it).

    Args:
        settings: The teacher's settings.
        teacher_key: The key every teacher action needs.
        join_base: The address students open.
        hosts: Other names of this server pages may use (see :func:`served_hosts`).
    """
    from starlette.middleware import Middleware

    classroom = Classroom(settings, teacher_key, join_base, hosts)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # noqa: ANN202
        classroom.loop = asyncio.get_running_loop()
        classroom.start_driver()
        try:
            yield
        finally:
            classroom.stop_driver()

    app = Starlette(routes=[
        Route("/", student_page),
        Route("/check", check_page),
        Route("/teacher", teacher_page),
        Route("/debrief", teacher_page),
        Route("/static/{name}", static),
        Route("/qr.svg", qr_code),
        Route("/chart/class.svg", class_chart),
        Route("/chart/group/{group}.svg", group_chart),
        Route("/export/{what}.csv", export),
        Route("/api/join", join, methods=["POST"]),
        Route("/api/student", student_state),
        Route("/api/choose", choose, methods=["POST"]),
        Route("/api/leave", leave, methods=["POST"]),
        Route("/api/away", away, methods=["POST"]),
        Route("/api/teacher", teacher_state),
        Route("/api/teacher/{action}", teacher_action, methods=["POST"]),
    ], lifespan=lifespan, middleware=[Middleware(Guard)])
    app.state.classroom = classroom
    return app


__all__ = ["CHOICE_FIELDS", "LEVELS", "Classroom", "create_app", "is_teacher"]
