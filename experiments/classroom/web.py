"""The classroom's web server: light pages for 30 phones and the teacher's screen, on Starlette.

Why not Solara here: each Solara page is a virtual kernel with a websocket and a widget tree kept on
the server; for 30 phones that is heavy, and a reload rebuilds it. These pages are static HTML and a
small script; they ask ``/api/...`` for the session's state with a long poll (the answer comes as soon
as the state changes, or after :data:`POLL_SECONDS`), send choices as JSON, and load each chart as one
SVG drawn once per round and cached. Nothing a page does steps a model: the round driver (a server
thread, :meth:`~experiments.classroom.session.Session.run_driver`) alone does.

Security on a school network:

- teacher actions (and the teacher's screen, the debrief and the exports) are accepted only from this
  laptop itself (a loopback client address) or with the teacher key printed in the terminal
  (``?key=...`` once; a cookie keeps it);
- a student's requests carry the seat token of their tab; every choice is validated by the session;
- nicknames are written into pages only as text (``textContent``), never as markup, and the pages'
  Content-Security-Policy allows only this server's own scripts;
- one session at a time; join attempts per address and minute are limited; request bodies are small;
  nothing is written to disk (nicknames live in memory until the session ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hmac
import io
import ipaddress
import json
import threading
from html import escape
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from analysis.palette import STYLE_COLOURS
from sim import ConfigError

from ..lesson.charts import PALETTE, org_name
from ..lesson.texts import Texts, catalogue
from .charts import Line, group_colour, line_chart, style_colour
from .session import CHOICE_FIELDS, LEVELS, JoinRefused, Session, Settings

POLL_SECONDS = 20.0
"""Longest a page's request for news waits before it is answered unchanged."""
MAX_BODY = 4096
KEY_COOKIE = "govsim_teacher"
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


class Classroom:
    """The server's one session, its round driver thread, and what waits for news of it.

    Args:
        settings: The teacher's settings.
        teacher_key: Key that allows teacher actions from other machines.
        join_base: The address students open (shown with the code and in the QR code).
    """

    def __init__(self, settings: Settings, teacher_key: str, join_base: str) -> None:
        self.settings = settings
        self.teacher_key = teacher_key
        self.join_base = join_base
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._charts: dict[tuple, bytes] = {}
        self._stop = threading.Event()
        self._driver: threading.Thread | None = None
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

    def restart(self) -> None:
        """A new session with the same settings and a new code (the old one is dropped)."""
        with self.lock:
            old = self.session
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


def is_local(request: Request) -> bool:
    """Whether the request comes from this machine (a loopback client address)."""
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_teacher(request: Request) -> bool:
    """Loopback, or the teacher key in the query, a header or the cookie."""
    if is_local(request):
        return True
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
    wanted = ("classroom.", "styles.", "organisations.", "chart.shock", "buttons.export")
    entries = catalogue(texts.lang)
    return {k: v for k, v in entries.items()
            if k.startswith(wanted) and not k.endswith((".mechanism", ".finding"))} | {"lang": texts.lang}


def shell(request: Request, kind: str, title: str) -> HTMLResponse:
    """The HTML of a page: its texts as data, a mount point, the page's script."""
    texts = texts_for(request)
    data = json.dumps({**page_texts(texts), "style_colours": STYLE_COLOURS}, ensure_ascii=False).replace("<", "\\u003c")
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
    """The answer to a teacher action from elsewhere without the key."""
    return PlainTextResponse("teacher actions need this laptop or the teacher key printed in its terminal\n",
                             status_code=403)


async def json_body(request: Request) -> dict[str, Any]:
    """A small JSON object from the request (an empty one for anything else)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        return {"__too_large__": True}
    try:
        data = json.loads(body or b"{}")
    except ValueError:
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
    if classroom.session.student(token) is None:
        return JSONResponse({"reason": "unknown"}, status_code=404)
    await classroom.wait(_version(request))
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
    """The teacher's screen (or the debrief, ``/debrief``)."""
    if not is_teacher(request):
        return forbidden()
    kind = "debrief" if request.url.path.startswith("/debrief") else "teacher"
    texts = texts_for(request)
    title = texts("classroom.debrief.title" if kind == "debrief" else "classroom.teacher_title")
    response = shell(request, kind, title)
    key = request.query_params.get("key")
    if key:
        response.set_cookie(KEY_COOKIE, key, httponly=True, samesite="strict")
    return response


async def teacher_state(request: Request) -> Response:
    """The teacher's view, as soon as it changes (long poll)."""
    if not is_teacher(request):
        return forbidden()
    classroom = request.app.state.classroom
    await classroom.wait(_version(request))
    view = classroom.session.teacher_view()
    view["join_url"] = classroom.join_base
    return JSONResponse(view, headers={"cache-control": "no-store"})


async def teacher_action(request: Request) -> Response:
    """One teacher control: start, pause, extend, skip, lock, partners, shock, reassign, restart."""
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
    lines = [Line(snap["public_value"], group_colour(i), texts("classroom.group_title", n=i + 1))
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
    with session.lock:
        key = ("class", session.code, session.round, len(session.groups), bool(session.references), texts.lang)
        shocks = sorted(s for s in session.shocks if s <= session.steps)

    def draw() -> str:
        return line_chart(class_lines(session, texts), texts, steps_per_round=session.settings.steps_per_round,
                          total_steps=session.settings.rounds * session.settings.steps_per_round, shocks=shocks,
                          width=640, height=380, font=16)

    return Response(classroom.chart(key, draw), media_type="image/svg+xml", headers={"cache-control": "no-store"})


def results_csv(session: Session, texts: Texts) -> str:
    """Every group's and replay's results per step (full precision), with each run's replay fingerprint."""
    dutch = texts.lang == "nl"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dutch else ",", lineterminator="\r\n")
    writer.writerow([texts("classroom.export.series"), texts("classroom.export.step"),
                     texts("metrics.public_value.label"), texts("metrics.mean_trust.label"),
                     texts("classroom.debrief.fingerprint"), "case", "seed"])

    def num(v: float) -> str:
        text = repr(float(v))
        return text.replace(".", ",") if dutch else text

    for name, snap in session.series().items():
        label = name if name.startswith("group") else f"all_{name}"
        for step, (pv, tr) in enumerate(zip(snap["public_value"], snap["mean_trust"], strict=True)):
            writer.writerow([label, step, num(pv), num(tr), snap["fingerprint"], session.settings.case,
                             session.settings.seed])
    return out.getvalue()


async def export(request: Request) -> Response:
    """The log of choices (``/export/choices.csv``) or the results (``/export/results.csv``)."""
    if not is_teacher(request):
        return forbidden()
    session = request.app.state.classroom.session
    texts = texts_for(request)
    what = request.path_params["what"]
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


def create_app(settings: Settings, teacher_key: str, join_base: str) -> Starlette:
    """The classroom's ASGI app (its round driver starts with the app and stops with it)."""
    classroom = Classroom(settings, teacher_key, join_base)

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
        Route("/api/teacher", teacher_state),
        Route("/api/teacher/{action}", teacher_action, methods=["POST"]),
    ], lifespan=lifespan)
    app.state.classroom = classroom
    return app


__all__ = ["CHOICE_FIELDS", "LEVELS", "Classroom", "create_app", "is_teacher"]
