"""The websocket that keeps an open dashboard page current (`/ws/live/?page=<path>`).

Every page's <body> connects here with its own path. The consumer joins the
channel groups that page shows (orchestrator/broadcast.py publishes to them),
gathers the group messages into one `Changes`, and sends one frame of HTML that
htmx swaps out of band by element id. Pushes to one browser are at least
`window` seconds apart: the first change after a quiet spell goes out at once,
a burst is folded into the next push. On (re)connect the page gets a full
refresh, so whatever it missed while away is shown.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import QueryDict

from dashboard import fragments
from orchestrator import broadcast, retries

log = logging.getLogger(__name__)
UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
PAGE_GROUPS = [
    (re.compile(r"^/$"), lambda m: broadcast.RUNS_GROUP),
    (re.compile(rf"^/flow-runs/({UUID})/$"), lambda m: broadcast.flow_run_group(m[1].lower())),
    (re.compile(r"^/task-runs/$"), lambda m: broadcast.TASK_RUNS_GROUP),
    (re.compile(rf"^/task-runs/({UUID})/$"), lambda m: broadcast.task_run_group(m[1].lower())),
    (re.compile(r"^/workers/$"), lambda m: broadcast.WORKERS_GROUP),
]
MAX_PAGE_LENGTH = 4096
# The Gantt layout a push carried (dashboard/gantt.py): the next push may then send changed rows alone.
GANTT_LAYOUT = re.compile(r'id="gantt" class="gantt" data-gantt-layout="([0-9a-f]*)"')
SIGNED_OUT = 4401  # close code for a socket whose session ended (htmx does not reconnect on it)
# Logging out closes a session's sockets at once (session_ended); this catches expiry and the rest.
SESSION_RECHECK = 10.0


def page_of(query_string: bytes) -> tuple[str, QueryDict]:
    """The page path and its query from `?page=/path/?a=b`; ("", empty) when it is not a local path."""
    page = parse_qs(query_string.decode("latin-1")).get("page", [""])[0][:MAX_PAGE_LENGTH]
    parts = urlsplit(page)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return "", QueryDict()
    return parts.path, QueryDict(parts.query)


def groups_for_path(path: str) -> list[str]:
    for pattern, group in PAGE_GROUPS:
        match = pattern.match(path)
        if match:
            name = group(match)
            # A task run page also counts itself among the open ones (see broadcast.TASK_RUN_PAGES_GROUP).
            return [name, broadcast.TASK_RUN_PAGES_GROUP] if name.startswith("task-run.") else [name]
    return []


def session_group(session_key: str) -> str:
    """The group a session's sockets join, so logging out closes them (group names allow 100 chars)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()


class LiveUpdatesConsumer(AsyncWebsocketConsumer):
    window = 0.15  # seconds between two pushes to one browser, at least

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        session = self.scope.get("session")
        if self.user is None or not self.user.is_authenticated or session is None or not session.session_key:
            await self.close()  # before accept: the handshake is refused
            return
        self.session_key = session.session_key
        self.path, self.query = page_of(self.scope.get("query_string", b""))
        self.joined = [*groups_for_path(self.path), session_group(self.session_key)]
        self.pending: fragments.Changes | None = None
        self.refresh_all = True  # what the page missed before (or while away): everything
        self.last_push = 0.0
        self.session_checked = asyncio.get_running_loop().time()  # AuthMiddleware just read the session
        self.flusher: asyncio.Task | None = None
        self.gantt_layout: str | None = None  # what the browser's Gantt shows, from the last push that held one
        # Renders depend on the user only through the retry permission: sockets that agree share them.
        self.render_variant = await database_sync_to_async(retries.can_retry)(self.user)
        # Join before the first render, so no change falls between what it reads and what comes next.
        if self.channel_layer is not None:  # none configured: the page still gets its refresh
            for group in self.joined:
                await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.schedule_push()

    async def disconnect(self, code) -> None:
        if getattr(self, "flusher", None) is not None:
            self.flusher.cancel()
        if self.channel_layer is not None:
            for group in getattr(self, "joined", ()):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        pass  # a page that changes its URL reconnects with the new one (static/js/live-page.js)

    # Group message handlers (message "type" with "." → "_"), see orchestrator/broadcast.py.

    async def runs_changed(self, message: dict) -> None:
        self.changes().flow_run_ids.update(message["flow_run_ids"])
        self.schedule_push()

    async def flow_run_changed(self, message: dict) -> None:
        changes = self.changes()
        changes.flow_run_ids.add(message["flow_run_id"])
        changes.task_run_ids.update(message["task_run_ids"])
        changes.logs |= bool(message["logs"])
        self.schedule_push()

    async def task_runs_changed(self, message: dict) -> None:
        self.changes().task_run_ids.update(message["task_run_ids"])
        self.schedule_push()

    async def task_run_changed(self, message: dict) -> None:
        changes = self.changes()
        changes.task_run_ids.add(message["task_run_id"])
        changes.logs |= bool(message["logs"])
        self.schedule_push()

    async def workers_changed(self, message: dict) -> None:
        self.changes().workers = True
        self.schedule_push()

    async def session_ended(self, message: dict) -> None:
        await self.close(code=SIGNED_OUT)

    # Coalescing and pushing.

    def changes(self) -> fragments.Changes:
        if self.pending is None:
            self.pending = fragments.Changes(set(), set(), False, False)
        return self.pending

    def schedule_push(self) -> None:
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self.push_pending())

    async def push_pending(self) -> None:
        loop = asyncio.get_running_loop()
        while self.refresh_all or self.pending is not None:
            wait = self.last_push + self.window - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # messages arriving meanwhile join this push
            changes = None if self.refresh_all else self.pending
            self.refresh_all, self.pending = False, None
            if changes is not None:
                changes.gantt_layout = self.gantt_layout
            if loop.time() - self.session_checked > SESSION_RECHECK:
                if not await database_sync_to_async(still_signed_in)(self.session_key, self.user):
                    await self.close(code=SIGNED_OUT)
                    return
                self.session_checked = loop.time()
            try:
                html = await shared_renders.render(self.user, self.render_variant, self.path, self.query, changes)
            except Exception:  # a page that fails to render keeps its socket; the next change retries it whole
                log.exception("live updates: rendering %s failed", self.path)
                self.refresh_all = True
                return
            if html:
                self.last_push = loop.time()
                if layout := GANTT_LAYOUT.search(html):
                    self.gantt_layout = layout[1]
                await self.send(text_data=html)


class SharedRenders:
    """Renders in flight, keyed by the page, the changes and the Gantt layout the browser shows:
    every socket of this process on the same page (of users with the same retry permission),
    pushed by the same messages, shares one render. Nothing is kept once a render is done: a
    later push reads the database again.
    """

    def __init__(self) -> None:
        self.in_flight: dict[tuple, asyncio.Future] = {}

    async def render(self, user, variant, path: str, query: QueryDict, changes: fragments.Changes | None) -> str:
        frozen = None if changes is None else (
            frozenset(changes.flow_run_ids), frozenset(changes.task_run_ids), changes.logs, changes.workers,
            changes.gantt_layout)
        key = (asyncio.get_running_loop(), variant, path, query.urlencode(), frozen)
        future = self.in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(render_in_thread(path, query, user, changes))
            self.in_flight[key] = future
            future.add_done_callback(lambda _: self.in_flight.pop(key, None))
        return await asyncio.shield(future)


def render_update(path: str, query: QueryDict, user, changes: fragments.Changes | None) -> str:
    return fragments.render_update(path, query, user, changes)


# Sockets render in parallel threads, not one after another on the single shared sync thread.
render_in_thread = database_sync_to_async(render_update, thread_sensitive=False)


def still_signed_in(session_key: str, user) -> bool:
    """The session still holds this user (not logged out, not expired, password unchanged)."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if str(session.get(SESSION_KEY)) != str(user.pk):
        return False
    stored_hash = session.get(HASH_SESSION_KEY)
    return stored_hash is None or stored_hash == user.get_session_auth_hash()


shared_renders = SharedRenders()


def close_session_sockets(sender, request, user, **kwargs) -> None:
    """On logout, close the sockets of that session in every server process (never fails the logout)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key:
        return
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(session_group(session_key), {"type": "session.ended"})
    except Exception as exc:  # the sockets still close at their next session check
        log.warning("live updates: could not close the sockets of a logged-out session: %r", exc)
