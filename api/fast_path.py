"""The SDK's and task workers' hot endpoints, served without Django's middleware chain and DRF.

    POST /api/events/          event batches (every SDK process, every task worker)
    POST /api/claims/          a task worker's claims
    POST /api/task-runs/       `.delay()`'s batched create (`{"runs": [...]}`)
    POST /api/task-runs/wait/  `.delay()` futures' long poll

A `.delay()` round trip crosses the server four times in a row (create, claim, event
batch, long poll). Through the whole stack (thirteen middlewares, then DRF's request,
authentication, content negotiation, parsing and serializers) each crossing cost about
1.3 ms of CPU before its view did any work.

This path takes only the usual, well-formed request: a Bearer API key that is active and
allows the endpoint, a JSON body that the plain validators take as it is, an allowed
Host, no HTTPS redirect due, and for event batches a token from the key's rate limit.
Everything else, every error included, goes on to Django untouched (the body is handed
over as received), and the views answer it as they always have. So this path changes
how fast a request is answered, never what the answer is: the work is done by the same
functions the views call, the JSON is rendered the same way, and the answer passes
through the same header middlewares (security, CSP, X-Frame-Options).

`ORCHESTRATOR_FAST_PATH=0` turns it off.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
from typing import Awaitable, Callable

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpResponse, JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request as DRFRequest

from api.auth import APIKeyAuthentication
from api.models import APIKey
from api.rate_limits import BUCKETS
from api.views.background import NotPlain, create_many
from api.views.claims import claims_answer, plain_claims
from api.views.events import ingest_body
from api.views.wait import BadWait, wait_answer, wait_request
from orchestrator.availability import is_database_unavailable
from orchestrator.request_threads import ReusedThreadsASGIHandler
from orchestrator.unavailable import service_unavailable

log = logging.getLogger(__name__)


def enabled() -> bool:
    return os.environ.get("ORCHESTRATOR_FAST_PATH", "1").strip().lower() not in ("0", "false", "no", "off")


class Request:
    """The parts of a request the fast path looks at, and Django's request for the header middlewares."""

    __slots__ = ("django", "body", "key")

    def __init__(self, scope: dict, body: bytes) -> None:
        self.body = body
        self.django = ASGIRequest(scope, io.BytesIO(body))
        self.key: APIKey | None = None

    def header(self, name: str) -> str:
        return self.django.META.get(name, "")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # as DRF's JSONParser (STRICT_JSON): no NaN or Infinity


class Headers:
    """Django's response-header middlewares, run over the fast path's answers (and its HTTPS redirect check)."""

    def __init__(self) -> None:
        from csp.middleware import CSPMiddleware

        self.security = SecurityMiddleware(lambda request: None)
        self.csp = CSPMiddleware(lambda request: None)
        self.frame = XFrameOptionsMiddleware(lambda request: None)

    def admit(self, request: Request) -> None:
        """NotPlain when Django would not serve the request as it is (a disallowed Host, an HTTPS redirect)."""
        try:
            request.django.get_host()
        except DisallowedHost:
            raise NotPlain from None
        if self.security.process_request(request.django) is not None:
            raise NotPlain
        self.csp.process_request(request.django)

    def finish(self, request: Request, response: HttpResponse) -> HttpResponse:
        response = self.frame.process_response(request.django, response)
        response = self.csp.process_response(request.django, response)
        return self.security.process_response(request.django, response)


class FastPath:
    def __init__(self, app) -> None:
        self.app = app
        self.headers = Headers()
        # Each route: what it does on a request thread (scope needed, handler, whether the body is JSON
        # to parse), except the long poll, which waits on the event loop.
        self.routes: dict[str, tuple | Callable[[Request], Awaitable[HttpResponse]]] = {
            "/api/events/": ("ingest", self._events, False),
            "/api/claims/": ("ingest", self._claims, True),
            "/api/task-runs/": ("ingest", self._create, True),
            "/api/task-runs/wait/": self.wait,
        }
        self.on = enabled()

    async def __call__(self, scope, receive, send):
        route = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" and self.on else None
        if route is None:
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        executor = ReusedThreadsASGIHandler.threads.take()
        response = None
        try:
            request = Request(scope, body)
            # sync_to_async (not a bare run_in_executor): code on the thread that goes back to the event loop
            # (async_to_sync: publishing to the in-memory channel layer) must find this server's loop.
            async with ThreadSensitiveContext(executor=executor):
                if isinstance(route, tuple):
                    response = await sync_to_async(self._in_thread)(request, *route)
                else:
                    try:
                        response = await route(request)
                    except NotPlain:
                        response = None
        except Exception:  # a bug here: answered as Django answers one in a view
            log.exception("fast path: %s failed", scope["path"])
            response = JsonResponse({"error": "internal server error"}, status=500)
        except BaseException:  # cancelled (the client went away): the thread goes back all the same
            ReusedThreadsASGIHandler.threads.give_back(executor)
            raise
        if response is None:
            await self._release(route, executor)
            return await self.app(scope, _replay(body, receive), send)
        try:
            content = response.content
            headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
            headers.append((b"content-length", str(len(content)).encode()))
            await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": content})
        finally:
            await self._release(route, executor)

    @staticmethod
    async def _release(route, executor) -> None:
        """The request's thread back to the pool; the long poll's gives its connection back first
        (after its answer is sent: one thread hop less before it)."""
        try:
            if not isinstance(route, tuple):
                await asyncio.get_running_loop().run_in_executor(executor, close_old_connections)
        finally:
            ReusedThreadsASGIHandler.threads.give_back(executor)

    # --- the routes: each answers, or raises NotPlain to leave the request to Django ---

    def _events(self, request: Request) -> HttpResponse:
        rate = float(getattr(settings, "ORCHESTRATOR_INGEST_RATE_PER_KEY", 0) or 0)
        if rate > 0 and BUCKETS.take(("key", request.key.hashed_key), rate, max(1.0, 2 * rate)) > 0:
            raise NotPlain  # Django's throttle answers 429 with Retry-After (and counts it)
        status, answer = ingest_body(request.body, request.header("HTTP_CONTENT_ENCODING"), request.key.name)
        return _drf_json(answer, status)

    def _claims(self, request: Request, data) -> HttpResponse:
        worker, wanted = plain_claims(data)
        return _drf_json(claims_answer(worker, wanted), 200)

    def _create(self, request: Request, data) -> HttpResponse:
        if type(data) is not dict or "runs" not in data:
            raise NotPlain  # the one-run form: the view answers it with the run's detail
        status, answer = create_many(data["runs"], plain_only=True)
        return _drf_json(answer, status, allow="GET, POST, HEAD, OPTIONS")  # the task-run list's methods

    async def wait(self, request: Request) -> HttpResponse:
        ids, timeout = await sync_to_async(self._wait_request)(request)
        try:
            response = await wait_answer(ids, timeout)
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            response = service_unavailable(exc)  # as orchestrator.unavailable answers the view's
        return self.headers.finish(request, response)

    def _wait_request(self, request: Request):
        close_old_connections()
        try:
            self._admit(request, ("read", "ingest"))
        except Exception:  # not plain, or e.g. the database is away: the view's own checks answer (401)
            raise NotPlain from None
        try:
            return wait_request(request.body)
        except BadWait:
            raise NotPlain from None  # the view answers 400 with the same message

    # --- shared steps ---

    def _in_thread(self, request: Request, scope: str, handler, json_body: bool) -> HttpResponse | None:
        """What Django does around a view, on the request's thread: connections, admission, key, errors.
        None: the request is not plain, and Django serves it."""
        close_old_connections()
        try:
            self._admit(request, (scope,))
            self._negotiated(request)
            if json_body:
                if request.header("CONTENT_LENGTH") in ("", "0"):
                    raise NotPlain  # DRF parses no body without a Content-Length (chunked): the view says so
                content_type = request.header("CONTENT_TYPE").split(";")
                charset = content_type[1].strip().lower() if len(content_type) > 1 else "charset=utf-8"
                if (content_type[0].strip().lower() != "application/json" or charset not in ("charset=utf-8", "charset=utf8")
                        or request.header("HTTP_CONTENT_ENCODING")):
                    raise NotPlain
                try:
                    data = json.loads(request.body.decode("utf-8"), parse_constant=_refuse_constant)
                except (ValueError, RecursionError):
                    raise NotPlain from None
                response = handler(request, data)
            else:
                response = handler(request)
        except NotPlain:
            return None
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            response = service_unavailable(exc)  # as orchestrator.unavailable's middleware answers
        finally:
            close_old_connections()
        return self.headers.finish(request, response)

    @staticmethod
    def _negotiated(request: Request) -> None:
        """NotPlain unless DRF would answer in plain JSON: no `?format=` or other query, an Accept that
        takes JSON as DRF renders it by default (none, */*, application/json without parameters)."""
        if request.django.META.get("QUERY_STRING"):
            raise NotPlain
        accept = request.header("HTTP_ACCEPT").strip()
        if accept not in ("", "*/*", "application/json"):
            raise NotPlain

    def _admit(self, request: Request, scopes: tuple[str, ...]) -> None:
        self.headers.admit(request)
        request.key = _api_key(request, scopes)


def _api_key(request: Request, scopes: tuple[str, ...]) -> APIKey:
    """The request's API key when APIKeyAuthentication takes it and it allows one of `scopes` (what HasScope
    checks); NotPlain for anything else: no key, a session, a bad, revoked or expired key, a narrower scope."""
    try:
        found = APIKeyAuthentication().authenticate(DRFRequest(request.django))
    except AuthenticationFailed:
        raise NotPlain from None
    if found is None or not any(map(found[1].allows, scopes)):
        raise NotPlain
    return found[1]


RENDERER = JSONRenderer()


def _drf_json(data, status: int, allow: str = "POST, OPTIONS") -> HttpResponse:
    """An answer as DRF's JSONRenderer and APIView would give it (same bytes, Vary and Allow)."""
    response = HttpResponse(RENDERER.render(data), status=status, content_type="application/json")
    response["Vary"] = "Accept"
    response["Allow"] = allow
    return response


def _replay(body: bytes, receive):
    """`receive` for Django: the body already read, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
