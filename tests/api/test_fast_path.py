"""api/fast_path.py: the hot POST endpoints answered without the middleware chain and DRF.

The contract: a well-formed request with an active Bearer key of the right scope is answered by
the fast path itself, with the answer Django and DRF would give; anything else goes on to Django
with the body as received, on the same path. Requests are driven straight through the ASGI apps
with hand-made scopes (as tests/orchestrator/test_request_threads.py does).
"""
from __future__ import annotations

import asyncio
import gzip
import json
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

import api.views.events as events_view
import api.views.wait as wait_view
from api.fast_path import FastPath, _replay
from api.models import APIKey
from api.views.background import DelaySerializer, NotPlain, plain_delayed_run
from api.views.claims import ClaimsSerializer, plain_claims
from orchestrator.asgi import application, django_asgi_app
from orchestrator.models import BackgroundRun, FlowRun, TaskRun
from orchestrator.request_threads import ReusedThreadsASGIHandler
from tests.asgi import body_of, drive, http_scope
from tests.orchestrator.event_factory import flow_run_created, new_id, task_run_created

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_queues")]

EVENTS, CLAIMS, CREATE, WAIT = "/api/events/", "/api/claims/", "/api/task-runs/", "/api/task-runs/wait/"
ROUTES = (EVENTS, CLAIMS, CREATE, WAIT)
JSON_TYPE = ("Content-Type", "application/json")
WRAPPED_CALLED = 599  # what Recorder answers when it has no app behind it


@pytest.fixture
def own_queues(monkeypatch):
    """This test's own Celery queue names: the runs it creates are sent to a queue nobody reads."""
    monkeypatch.setenv("ORCHESTRATOR_QUEUE_PREFIX", f"t{uuid.uuid4().hex[:10]}")


# --- driving ASGI apps ---

def with_length(headers, body: bytes) -> list[tuple[str, str]]:
    """The headers with a Content-Length, as clients send it (DRF reads no JSON without one)."""
    headers = list(headers)
    if not any(name.lower() == "content-length" for name, _ in headers):
        headers.append(("Content-Length", str(len(body))))
    return headers


def call(app, path: str, body: bytes = b"", headers=(), method: str = "POST", query: bytes = b"",
         chunks: list[bytes] | None = None, length: bool = True) -> tuple[int, dict[str, str], bytes]:
    """(status, headers by lower-cased name, body) of one request through `app`; the body in `chunks` (ASGI
    messages) if given. `length`: add a Content-Length header when there is none."""
    chunks = chunks if chunks is not None else [body]
    if length:
        headers = with_length(headers, b"".join(chunks))
    sent = asyncio.run(drive(app, http_scope(path, method, headers, query), chunks))
    start = next(m for m in sent if m["type"] == "http.response.start")
    answer_headers: dict[str, str] = {}
    for name, value in start["headers"]:
        name, value = name.decode("latin-1").lower(), value.decode("latin-1")
        answer_headers[name] = f"{answer_headers[name]}, {value}" if name in answer_headers else value
    return start["status"], answer_headers, body_of(sent)


@dataclass
class Call:
    method: str
    path: str
    query: bytes
    body: bytes
    headers: list


class Recorder:
    """The app FastPath wraps: records each request that reaches it (with the body it could read), then
    hands it on to `inner`; without one it answers WRAPPED_CALLED (the test then fails on it)."""

    def __init__(self, inner=None) -> None:
        self.inner = inner
        self.calls: list[Call] = []
        self.receives: list = []

    async def __call__(self, scope, receive, send):
        self.receives.append(receive)
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        self.calls.append(Call(scope["method"], scope["path"], scope["query_string"], body, list(scope["headers"])))
        if self.inner is None:
            await send({"type": "http.response.start", "status": WRAPPED_CALLED, "headers": []})
            await send({"type": "http.response.body", "body": b"the wrapped app was called"})
            return
        await self.inner(scope, _replay(body, receive), send)


def fast_only() -> tuple[FastPath, Recorder]:
    recorder = Recorder()
    return FastPath(recorder), recorder


def fast_then_django() -> tuple[FastPath, Recorder]:
    recorder = Recorder(django_asgi_app)
    return FastPath(recorder), recorder


def answered_fast(path: str, body: bytes, headers) -> tuple[int, dict, bytes]:
    """The answer of the fast path alone; fails if it handed the request on."""
    fast, recorder = fast_only()
    status, answer_headers, content = call(fast, path, body, headers)
    assert recorder.calls == [], f"{path} went to the wrapped app: {status} {content[:300]!r}"
    assert status != WRAPPED_CALLED
    return status, answer_headers, content


def comparable_headers(headers: dict[str, str], ignore=()) -> dict:
    """Headers to compare: CSP as a set of directives (their order may differ), without content-length and server."""
    kept = {name: value for name, value in headers.items() if name not in ("content-length", "server", *ignore)}
    if "content-security-policy" in kept:
        kept["content-security-policy"] = frozenset(
            " ".join(d.split()) for d in kept["content-security-policy"].split(";") if d.strip())
    return kept


def body_json(body) -> bytes:
    return json.dumps(body).encode()


# --- keys and runs ---

def issue(scope: str = "ingest", name: str | None = None) -> str:
    return APIKey.issue(name or f"fast-{scope}-{uuid.uuid4().hex[:6]}", scope)[1]


def bearer(raw: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {raw}")


@pytest.fixture
def key() -> str:
    return issue("ingest")


def ok_headers(raw: str) -> list[tuple[str, str]]:
    return [bearer(raw), JSON_TYPE]


def create_run(raw: str, task_key: str = "fast-path-test") -> str:
    """A Scheduled background task run (dispatch 1), created through Django."""
    run_id = str(uuid.uuid4())
    status, _, content = call(django_asgi_app, CREATE, body_json({"id": run_id, "task_key": task_key}), ok_headers(raw))
    assert status == 201, content
    return run_id


def claims_body(*run_ids: str, dispatch=1, worker: str = "host:1") -> dict:
    return {"worker": worker, "claims": [{"kind": "task", "id": run_id, "dispatch": dispatch} for run_id in run_ids]}


def runs_body(*run_ids: str, **fields) -> dict:
    return {"runs": [{"id": run_id, "task_key": "fast-path-test", **fields} for run_id in run_ids]}


# --- 1. well-formed requests are answered without the wrapped app ---

def test_events_well_formed_is_answered_by_the_fast_path():
    raw = issue("ingest", name="sdk-host-1")
    fr = new_id()
    status, headers, content = answered_fast(EVENTS, body_json({"events": [flow_run_created(fr)]}), ok_headers(raw))
    assert status == 200
    assert headers["content-type"] == "application/json"
    # The header middlewares ran over it, as over Django's answers.
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert json.loads(content) == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert FlowRun.objects.get(pk=fr).stored_by == "sdk-host-1"  # the key's name, as the view records it


def test_claims_well_formed_is_answered_by_the_fast_path(key):
    run_id = create_run(key)
    status, _, content = answered_fast(CLAIMS, body_json(claims_body(run_id, worker="host:7")), ok_headers(key))
    assert status == 200
    answer = json.loads(content)
    assert [(c["id"], c["kind"], c["outcome"]) for c in answer["claims"]] == [(run_id, "task", "claimed")]
    assert BackgroundRun.objects.get(run_id=run_id).claimed_by == "host:7"


def test_batched_create_well_formed_is_answered_by_the_fast_path(key):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    status, _, content = answered_fast(CREATE, body_json(runs_body(first, second, parameters={"x": 1})), ok_headers(key))
    assert status == 200
    assert json.loads(content) == {"runs": [{"index": 0, "id": first, "status": 201},
                                            {"index": 1, "id": second, "status": 201}]}
    assert TaskRun.objects.filter(pk__in=[first, second], state_type="SCHEDULED").count() == 2
    assert BackgroundRun.objects.get(run_id=first).parameters == {"x": 1}


def test_wait_well_formed_is_answered_by_the_fast_path(key):
    run_id = create_run(key)
    status, _, content = answered_fast(WAIT, body_json({"ids": [run_id], "timeout": 0}), ok_headers(key))
    assert status == 200
    [run] = json.loads(content)["runs"]
    assert run["id"] == run_id and run["final"] is False and run["state"]["type"] == "SCHEDULED"


def test_wait_takes_a_read_key_too():
    run_id = create_run(issue("ingest"))
    status, _, content = answered_fast(WAIT, body_json({"ids": [run_id], "timeout": 0}), [bearer(issue("read"))])
    assert status == 200 and json.loads(content)["runs"][0]["id"] == run_id


def test_an_admin_key_is_served_on_every_route():
    admin = issue("admin")
    run_id = create_run(admin)
    bodies = {EVENTS: {"events": []}, CLAIMS: claims_body(str(uuid.uuid4())), CREATE: runs_body(str(uuid.uuid4())),
              WAIT: {"ids": [run_id], "timeout": 0}}
    for path, body in bodies.items():
        status, _, _ = answered_fast(path, body_json(body), ok_headers(admin))
        assert status == 200, path


# --- 2. the same answers as Django ---

def same_answers(fast_request, django_request, normalise=None, ignore=()) -> tuple[int, object]:
    """Send one request through the fast path (which must answer it) and one through Django; the status, JSON
    (the same bytes unless `normalise` is needed) and headers (but those in `ignore`) must be equal.
    `*_request`: (path, body, headers), built separately when a request changes state."""
    fast_status, fast_headers, fast_content = answered_fast(*fast_request)
    django_status, django_headers, django_content = call(django_asgi_app, *django_request)
    assert fast_status == django_status, (fast_content, django_content)
    if normalise is None:
        assert fast_content == django_content
        normalise = lambda data: data  # noqa: E731
    fast_data, django_data = normalise(json.loads(fast_content)), normalise(json.loads(django_content))
    assert fast_data == django_data
    assert comparable_headers(fast_headers, ignore) == comparable_headers(django_headers, ignore)
    return fast_status, fast_data


CREATE_IGNORES = ()


def test_events_empty_batch_same_as_django(key):
    request = (EVENTS, body_json({"events": []}), ok_headers(key))
    assert same_answers(request, request) == (200, {"accepted": 0, "duplicates": 0, "rejected": []})


def test_events_valid_and_invalid_event_same_as_django(key):
    def request():
        return EVENTS, body_json({"events": [flow_run_created(new_id()), {"type": "log", "id": new_id()}]}), ok_headers(key)

    status, data = same_answers(request(), request())
    assert status == 200 and data["accepted"] == 1 and [r["index"] for r in data["rejected"]] == [1]


def test_events_gzip_body_same_as_django(key):
    def request():
        body = gzip.compress(body_json({"events": [flow_run_created(new_id())]}))
        return EVENTS, body, [*ok_headers(key), ("Content-Encoding", "gzip")]

    assert same_answers(request(), request()) == (200, {"accepted": 1, "duplicates": 0, "rejected": []})


@pytest.mark.parametrize("body, encoding, status", [
    (b"{not json", "", 400),
    (b'{"events": 5}', "", 400),
    (b'[]', "", 400),
    (b"not gzip", "gzip", 400),
    (b'{"events": []}', "br", 415),
])
def test_events_refused_batches_same_as_django(key, body, encoding, status):
    headers = ok_headers(key) + ([("Content-Encoding", encoding)] if encoding else [])
    assert same_answers((EVENTS, body, headers), (EVENTS, body, headers))[0] == status


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_events_any_content_type_same_as_django(key, content_type):
    """The events view reads the raw body whatever its declared type; so does the fast path."""
    def request():
        headers = [bearer(key)] + ([("Content-Type", content_type)] if content_type else [])
        return EVENTS, body_json({"events": [flow_run_created(new_id())]}), headers

    assert same_answers(request(), request()) == (200, {"accepted": 1, "duplicates": 0, "rejected": []})


def test_events_database_unavailable_same_as_django(key, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(events_view, "ingest_batch", down)
    request = (EVENTS, body_json({"events": []}), ok_headers(key))
    status, data = same_answers(request, request)
    assert status == 503 and data["reason"] == "OperationalError"


def ids_as(placeholder: str):
    def normalise(data):
        for item in data.get("claims", data.get("runs", [])):
            item["id"] = placeholder
        return data
    return normalise


def test_claims_unknown_run_not_yet_same_as_django(key):
    request = (CLAIMS, body_json(claims_body(str(uuid.uuid4()))), ok_headers(key))
    status, data = same_answers(request, request)
    assert status == 200 and [c["outcome"] for c in data["claims"]] == ["not-yet"]


def test_claims_created_run_claimed_same_as_django(key):
    first, second = create_run(key), create_run(key)
    status, data = same_answers((CLAIMS, body_json(claims_body(first, first)), ok_headers(key)),
                                (CLAIMS, body_json(claims_body(second, second)), ok_headers(key)), ids_as("run"))
    assert status == 200 and [c["outcome"] for c in data["claims"]] == ["claimed", "taken"]


def test_claims_stale_dispatch_same_as_django(key):
    first, second = create_run(key), create_run(key)
    BackgroundRun.objects.filter(run_id__in=[first, second]).update(dispatch=3)
    status, data = same_answers((CLAIMS, body_json(claims_body(first, dispatch=2)), ok_headers(key)),
                                (CLAIMS, body_json(claims_body(second, dispatch=2)), ok_headers(key)), ids_as("run"))
    assert [c["outcome"] for c in data["claims"]] == ["stale"]


def test_create_new_runs_same_as_django(key):
    def request():
        body = runs_body(str(uuid.uuid4()), str(uuid.uuid4()), task_name="add", name="add-1", tags=["a", "b"],
                         parameters={"x": [1, 2.5, None, "é"], "nested": {"deep": True}})
        return CREATE, body_json(body), ok_headers(key)

    status, data = same_answers(request(), request(), ids_as("run"), ignore=CREATE_IGNORES)
    assert status == 200 and [r["status"] for r in data["runs"]] == [201, 201]


def test_create_existing_run_same_as_django(key):
    run_id = create_run(key)
    request = (CREATE, body_json(runs_body(run_id)), ok_headers(key))
    assert same_answers(request, request, ignore=CREATE_IGNORES) == (200, {"runs": [{"index": 0, "id": run_id, "status": 200}]})


def test_create_over_an_ingested_run_409_same_as_django(key):
    ingested = new_id()
    assert json.loads(call(django_asgi_app, EVENTS, body_json({"events": [task_run_created(ingested, None)]}),
                           ok_headers(key))[2])["accepted"] == 1
    request = (CREATE, body_json(runs_body(ingested)), ok_headers(key))
    status, data = same_answers(request, request, ignore=CREATE_IGNORES)
    assert status == 200 and data["runs"][0]["status"] == 409


def test_create_empty_list_same_as_django(key):
    request = (CREATE, body_json({"runs": []}), ok_headers(key))
    assert same_answers(request, request, ignore=CREATE_IGNORES) == (200, {"runs": []})


def test_wait_unknown_run_404_same_as_django(key):
    unknown = str(uuid.uuid4())
    request = (WAIT, body_json({"ids": [unknown], "timeout": 0}), ok_headers(key))
    status, data = same_answers(request, request)
    assert status == 404 and unknown in data["error"]


def test_wait_known_run_timeout_zero_same_as_django(key):
    run_id, other = create_run(key), create_run(key)
    request = (WAIT, body_json({"ids": [run_id, other, str(uuid.uuid4())], "timeout": 0}), ok_headers(key))
    status, data = same_answers(request, request)
    assert status == 200 and [(r["id"], r["final"]) for r in data["runs"]] == [(run_id, False)]


def test_wait_final_run_answers_with_others_final_same_as_django(key):
    run_id, other = create_run(key), create_run(key)
    TaskRun.objects.filter(pk__in=[run_id, other]).update(state_type="CANCELLED", state_name="Cancelled",
                                                           state_timestamp=timezone.now())
    request = (WAIT, body_json({"ids": [run_id, other], "timeout": 30}), ok_headers(key))
    status, data = same_answers(request, request)
    assert status == 200 and [(r["id"], r["final"]) for r in data["runs"]] == [(run_id, True), (other, True)]


# --- 3. everything unusual goes on to Django, with its body and path ---

def handed_on(path: str, body: bytes, headers, query: bytes = b"", method: str = "POST") -> tuple[int, dict, bytes]:
    """The answer of FastPath(Django) to a request the fast path must leave to Django: checks that Django got
    it once, on the same path, with the same body bytes and headers."""
    fast, recorder = fast_then_django()
    headers = with_length(headers, body)
    status, answer_headers, content = call(fast, path, body, headers, method=method, query=query)
    assert len(recorder.calls) == 1, f"{path} was answered by the fast path: {status} {content[:300]!r}"
    [seen] = recorder.calls
    assert (seen.method, seen.path, seen.query, seen.body) == (method, path, query, body)
    assert seen.headers == http_scope(path, method, headers)["headers"]
    return status, answer_headers, content


def session_cookie() -> str:
    client = Client()
    client.force_login(User.objects.create_user(f"ops-{uuid.uuid4().hex[:6]}", is_staff=True))
    return f"sessionid={client.cookies['sessionid'].value}"


def expired_key() -> str:
    stored, raw = APIKey.issue("fast-expired", "ingest", expires_in=timedelta(days=1))
    APIKey.objects.filter(pk=stored.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return raw


def revoked_key() -> str:
    stored, raw = APIKey.issue("fast-revoked", "ingest")
    call(django_asgi_app, EVENTS, body_json({"events": []}), ok_headers(raw))  # now in the recent keys' memory
    stored.revoke()
    return raw


def good_body(path: str) -> dict:
    return {EVENTS: {"events": []}, CLAIMS: claims_body(str(uuid.uuid4())),
            CREATE: runs_body(str(uuid.uuid4())), WAIT: {"ids": [str(uuid.uuid4())], "timeout": 0}}[path]


AUTH_CASES = {
    "no-authorization": (lambda: [], 401),
    "session-only": (lambda: [("Cookie", session_cookie())], None),  # DRF: 403 (no CSRF token); wait: 404 (a read)
    "basic-auth": (lambda: [("Authorization", "Basic dXNlcjpwYXNz")], 401),
    "unknown-key": (lambda: [bearer("orch_" + "x" * 43)], 401),
    "revoked-key": (lambda: [bearer(revoked_key())], 401),
    "expired-key": (lambda: [bearer(expired_key())], 401),
    "bearer-without-key": (lambda: [("Authorization", "Bearer")], 401),
    "bearer-three-words": (lambda: [("Authorization", f"Bearer {issue()} more")], 401),
    "non-ascii-key": (lambda: [("Authorization", "Bearer kéy")], 401),
}


@pytest.mark.parametrize("case", AUTH_CASES)
def test_requests_without_an_active_key_go_to_django(case):
    make_headers, expected = AUTH_CASES[case]
    for path in ROUTES:
        status, _, content = handed_on(path, body_json(good_body(path)), [*make_headers(), JSON_TYPE])
        if AUTH_CASES[case][1] is None:
            expected = 404 if path == WAIT else 403  # the session may read: the wait view looks for the unknown run
        assert status == expected, (path, content)


def test_session_only_wait_is_answered_by_django_as_a_read():
    run_id = create_run(issue())
    status, _, content = handed_on(WAIT, body_json({"ids": [run_id], "timeout": 0}), [("Cookie", session_cookie())])
    assert status == 200 and json.loads(content)["runs"][0]["id"] == run_id


@pytest.mark.parametrize("path", [EVENTS, CLAIMS, CREATE])
def test_read_scope_key_goes_to_django_on_ingest_routes(path):
    status, _, content = handed_on(path, body_json(good_body(path)), ok_headers(issue("read")))
    assert status == 403, content


@pytest.mark.parametrize("content_type, expected", [
    ("text/plain", 415), ("application/x-www-form-urlencoded", 415), ("multipart/form-data; boundary=x", 415),
    (None, 415),  # a body without a type
    ("application/json; charset=latin-1", 200),  # DRF decodes it so (the fast path takes only UTF-8)
])
def test_claims_and_create_with_another_content_type_go_to_django(key, content_type, expected):
    headers = [bearer(key)] + ([("Content-Type", content_type)] if content_type else [])
    for path in (CLAIMS, CREATE):
        status, _, content = handed_on(path, body_json(good_body(path)), headers)
        assert status == expected, (path, content)
        assert BackgroundRun.objects.exists() == (path == CREATE and expected == 200)


@pytest.mark.parametrize("path", [CLAIMS, CREATE])
def test_a_content_encoding_on_claims_or_create_goes_to_django(key, path):
    status, _, _ = handed_on(path, body_json(good_body(path)), [*ok_headers(key), ("Content-Encoding", "gzip")])
    assert status == 200  # DRF's JSON parser ignores the header and reads the JSON as it is


def test_a_charset_utf8_content_type_is_still_served_fast(key):
    status, _, _ = answered_fast(CLAIMS, body_json(good_body(CLAIMS)),
                                 [bearer(key), ("Content-Type", "Application/JSON; charset=UTF-8")])
    assert status == 200


INVALID_BODIES = {
    "invalid-json": (b'{"worker": ', b'{"runs": [', b'{"ids": [', 400),
    "empty": (b"", b"", b"", 400),
    "nan": (b'{"worker": "w", "claims": [{"kind": "task", "id": "%s", "dispatch": NaN}]}',
            b'{"runs": [{"task_key": "k", "parameters": {"x": NaN}}]}',
            b'{"ids": ["%s"], "timeout": NaN}', 400),
    "infinity": (b'{"worker": "w", "claims": [{"kind": "task", "id": "%s", "dispatch": Infinity}]}',
                 b'{"runs": [{"task_key": "k", "parameters": {"x": -Infinity}}]}',
                 b'{"ids": ["%s"], "timeout": Infinity}', 400),
    "bom": (b'\xef\xbb\xbf{"worker": "w", "claims": []}', b'\xef\xbb\xbf{"runs": []}', None, 400),
    "not-utf8": (b'{"worker": "\xff", "claims": []}', b'{"runs": [{"task_key": "\xff"}]}', b'{"ids": ["\xff"]}', 400),
    "top-level-list": (b"[]", b"[]", b"[]", 400),
}


@pytest.mark.parametrize("case", INVALID_BODIES)
def test_invalid_json_goes_to_django(key, case):
    *bodies, expected = INVALID_BODIES[case]
    for path, body in zip((CLAIMS, CREATE, WAIT), bodies):
        if body is None:
            continue  # the long poll's body goes to json.loads as bytes, which takes a UTF-8 BOM
        status, _, content = handed_on(path, body.replace(b"%s", str(uuid.uuid4()).encode()), ok_headers(key))
        assert status == expected, (path, content)


def test_single_run_create_goes_to_django(key):
    run_id = str(uuid.uuid4())
    status, _, content = handed_on(CREATE, body_json({"id": run_id, "task_key": "fast-path-test"}), ok_headers(key))
    assert status == 201
    assert json.loads(content)["id"] == run_id  # the run's detail, as only the view answers it


CREATE_ITEMS_FOR_DJANGO = {
    "nul-in-task-key": ({"task_key": "a\x00b"}, 201),
    "surrogate-in-name": ({"task_key": "k", "name": "a\ud800b"}, 201),
    "nul-in-parameters": ({"task_key": "k", "parameters": {"x": "a\x00b"}}, 201),
    "task-key-number": ({"task_key": 5}, 400),
    "task-key-missing": ({}, 400),
    "task-key-empty": ({"task_key": ""}, 400),
    "task-key-too-long": ({"task_key": "k" * 256}, 400),
    "name-null": ({"task_key": "k", "name": None}, 400),
    "tags-string": ({"task_key": "k", "tags": "a"}, 400),
    "tag-empty": ({"task_key": "k", "tags": [""]}, 400),
    "too-many-tags": ({"task_key": "k", "tags": [str(i) for i in range(101)]}, 400),
    "parameters-list": ({"task_key": "k", "parameters": [1]}, 400),
    "id-number": ({"task_key": "k", "id": 5}, 400),
    "id-not-uuid": ({"task_key": "k", "id": "nope"}, 400),
    "flow-run-id-number": ({"task_key": "k", "flow_run_id": 7}, 400),
    "item-not-object": ("k", 400),
}


@pytest.mark.parametrize("case", CREATE_ITEMS_FOR_DJANGO)
def test_create_items_needing_the_serializer_go_to_django(key, case):
    item, item_status = CREATE_ITEMS_FOR_DJANGO[case]
    plain = {"id": str(uuid.uuid4()), "task_key": "fast-path-test"}
    status, _, content = handed_on(CREATE, body_json({"runs": [plain, item]}), ok_headers(key))
    assert status == 200, content
    answers = json.loads(content)["runs"]
    assert [a["status"] for a in answers] == [201, item_status]
    if item_status == 400:
        assert answers[1]["error"]


def test_create_with_too_many_runs_goes_to_django(key):
    status, _, content = handed_on(CREATE, body_json({"runs": [{"task_key": "k"}] * 1001}), ok_headers(key))
    assert status == 400 and "1000" in content.decode()
    assert not BackgroundRun.objects.exists()


def test_create_with_runs_not_a_list_goes_to_django(key):
    status, _, _ = handed_on(CREATE, body_json({"runs": {"task_key": "k"}}), ok_headers(key))
    assert status == 400


CLAIMS_FOR_DJANGO = {
    # The schema says integer: the view refuses "1" and 1.0 as it refuses true (api.views.background.StrictIntegerField).
    "dispatch-string": ({"kind": "task", "dispatch": "1"}, 400),
    "dispatch-true": ({"kind": "task", "dispatch": True}, 400),
    "dispatch-float": ({"kind": "task", "dispatch": 1.0}, 400),
    "dispatch-zero": ({"kind": "task", "dispatch": 0}, 400),
    "dispatch-huge": ({"kind": "task", "dispatch": 2**31}, 400),
    "kind-unknown": ({"kind": "job", "dispatch": 1}, 400),
    "id-number": ({"kind": "task", "dispatch": 1, "id": 12}, 400),
    "id-not-uuid": ({"kind": "task", "dispatch": 1, "id": "nope"}, 400),
}


@pytest.mark.parametrize("case", CLAIMS_FOR_DJANGO)
def test_claims_needing_the_serializer_go_to_django(key, case):
    fields, expected = CLAIMS_FOR_DJANGO[case]
    body = {"worker": "w:1", "claims": [{"id": str(uuid.uuid4()), **fields}]}
    status, _, content = handed_on(CLAIMS, body_json(body), ok_headers(key))
    assert status == expected, content


@pytest.mark.parametrize("body, expected", [
    ({"worker": "w\x00", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}]}, 200),
    ({"worker": "", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}]}, 400),
    ({"worker": 5, "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}]}, 400),
    ({"worker": "w", "claims": []}, 400),
    ({"worker": "w", "claims": [None]}, 400),
    ({"worker": "w", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}] * 101}, 400),
])
def test_claims_bodies_needing_the_serializer_go_to_django(key, body, expected):
    status, _, content = handed_on(CLAIMS, body_json(body), ok_headers(key))
    assert status == expected, content


def test_exactly_100_claims_are_served_fast(key):
    body = {"worker": "w", "claims": [{"kind": "task", "id": str(uuid.uuid4()), "dispatch": 1}] * 100}
    status, _, content = answered_fast(CLAIMS, body_json(body), ok_headers(key))
    assert status == 200 and len(json.loads(content)["claims"]) == 100


@pytest.mark.parametrize("body", [{"ids": []}, {"ids": "x"}, {"ids": ["nope"]}, {"ids": [None]},
                                  {"ids": [str(uuid.uuid4())], "timeout": -1}, {"ids": [str(uuid.uuid4())], "timeout": "x"},
                                  {"timeout": 0}])
def test_bad_wait_bodies_go_to_django(key, body):
    status, _, content = handed_on(WAIT, body_json(body), ok_headers(key))
    assert status == 400 and json.loads(content)["error"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_disallowed_host_goes_to_django(key, path):
    status, _, _ = handed_on(path, body_json(good_body(path)), [*ok_headers(key), ("Host", "evil.example.com")])
    assert status == 400


def test_an_https_redirect_due_goes_to_django(key, settings):
    settings.SECURE_SSL_REDIRECT = True
    recorder = Recorder(ReusedThreadsASGIHandler())  # middlewares read the setting when the handler is made
    fast = FastPath(recorder)
    status, headers, _ = call(fast, EVENTS, body_json({"events": []}), ok_headers(key))
    assert status == 301 and headers["location"].startswith("https://")
    assert [c.body for c in recorder.calls] == [body_json({"events": []})]


def test_events_over_the_rate_limit_go_to_django(key, settings):
    settings.ORCHESTRATOR_INGEST_RATE_PER_KEY = 0.001  # a burst of one request, then one every 1000 s
    fast, recorder = fast_then_django()
    first = body_json({"events": [flow_run_created(new_id())]})
    status, _, _ = call(fast, EVENTS, first, ok_headers(key))
    assert status == 200 and recorder.calls == []  # the burst's token, taken by the fast path
    second = body_json({"events": [flow_run_created(new_id())]})
    status, headers, content = call(fast, EVENTS, second, ok_headers(key))
    assert status == 429, content
    assert int(headers["retry-after"]) >= 1
    assert [(c.path, c.body) for c in recorder.calls] == [(EVENTS, second)]
    assert FlowRun.objects.count() == 1


def test_the_rate_limit_is_per_key(key, settings):
    settings.ORCHESTRATOR_INGEST_RATE_PER_KEY = 0.001
    assert answered_fast(EVENTS, body_json({"events": []}), ok_headers(key))[0] == 200
    assert answered_fast(EVENTS, body_json({"events": []}), ok_headers(issue()))[0] == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
def test_other_methods_are_not_touched(method):
    for path in ROUTES:
        assert_untouched(path, method)


def test_other_paths_are_not_touched():
    for path in ["/api/events", "/api/claims", "/api/task-runs", "/api/task-runs/wait", "/api/events/x/",
                 f"/api/task-runs/{uuid.uuid4()}/claim/", f"/api/task-runs/{uuid.uuid4()}/wait/",
                 "/api/task-runs/retry/", "/API/EVENTS/", "/healthz", "/login/"]:
        assert_untouched(path, "POST")


def assert_untouched(path: str, method: str) -> None:
    """FastPath hands the request on as it came: the same scope and the same receive, nothing read from it."""
    recorder = Recorder()
    fast = FastPath(recorder)
    scope = http_scope(path, method, [bearer("orch_unused"), JSON_TYPE])
    read = []

    async def receive():
        read.append(True)
        return {"type": "http.request", "body": b'{"events": []}', "more_body": False}

    async def send(message):
        pass

    asyncio.run(fast(scope, receive, send))
    assert len(recorder.calls) == 1, (method, path)
    assert recorder.receives == [receive], (method, path)
    assert read == [True], (method, path)  # only the recorder read it
    assert recorder.calls[0].body == b'{"events": []}'


def test_a_websocket_scope_is_not_touched():
    seen = []

    async def app(scope, receive, send):
        seen.append((scope, receive))

    async def receive():
        return {"type": "websocket.connect"}

    scope = {"type": "websocket", "path": EVENTS, "headers": []}
    asyncio.run(FastPath(app)(scope, receive, None))
    assert seen == [(scope, receive)]


def test_a_body_in_several_chunks_is_handed_on_whole(key):
    fast, recorder = fast_then_django()
    chunks = [b'{"runs": [{"task_key": 5}', b"]", b"}"]
    status, _, content = call(fast, CREATE, headers=ok_headers(key), chunks=chunks)
    assert status == 200 and json.loads(content)["runs"][0]["status"] == 400
    assert [c.body for c in recorder.calls] == [b"".join(chunks)]


def test_a_body_in_several_chunks_is_served_fast_whole(key):
    body = body_json({"events": [flow_run_created(new_id())]})
    fast, recorder = fast_only()
    status, _, content = call(fast, EVENTS, headers=ok_headers(key), chunks=[body[:10], body[10:20], body[20:]])
    assert status == 200 and json.loads(content)["accepted"] == 1 and recorder.calls == []


# --- 4. ORCHESTRATOR_FAST_PATH=0 turns it off ---

@pytest.mark.parametrize("value", ["0", "false", "off", "no", " OFF "])
def test_fast_path_turned_off_hands_everything_to_django(key, monkeypatch, value):
    monkeypatch.setenv("ORCHESTRATOR_FAST_PATH", value)
    fast, recorder = fast_then_django()
    body = body_json({"events": [flow_run_created(new_id())]})
    status, _, content = call(fast, EVENTS, body, ok_headers(key))
    assert status == 200 and json.loads(content)["accepted"] == 1
    assert [(c.path, c.body) for c in recorder.calls] == [(EVENTS, body)]


@pytest.mark.parametrize("value", ["1", "yes", ""])
def test_fast_path_on_by_default_and_with_other_values(key, monkeypatch, value):
    monkeypatch.setenv("ORCHESTRATOR_FAST_PATH", value)
    assert answered_fast(EVENTS, body_json({"events": []}), ok_headers(key))[0] == 200
    monkeypatch.delenv("ORCHESTRATOR_FAST_PATH")
    assert answered_fast(EVENTS, body_json({"events": []}), ok_headers(key))[0] == 200


def test_the_variable_is_read_when_fast_path_is_made(key, monkeypatch):
    fast, recorder = fast_only()
    monkeypatch.setenv("ORCHESTRATOR_FAST_PATH", "0")
    assert call(fast, EVENTS, body_json({"events": []}), ok_headers(key))[0] == 200
    assert recorder.calls == []


# --- 5. the plain validators agree with the DRF serializers ---

U = "6f1c2b3a-9d4e-4f5a-8b6c-7d8e9f0a1b2c"
RUN_FIELDS = ("task_key", "task_name", "name", "parameters", "tags", "flow_run_id", "parent_task_run_id")

DELAY_ITEMS = [
    {"task_key": "k"},
    {"task_key": "add-5f3a9c1e", "task_name": "add", "name": "add-3fa", "id": U},
    {"task_key": "k", "id": U.upper()},
    {"task_key": "k", "id": U.replace("-", "")},
    {"task_key": "k", "id": "{" + U + "}"},
    {"task_key": "k", "id": "urn:uuid:" + U},
    {"task_key": "k", "id": " " + U},
    {"task_key": "k", "id": U[:-1]},
    {"task_key": "k", "flow_run_id": None, "parent_task_run_id": None},
    {"task_key": "k", "flow_run_id": U, "parent_task_run_id": U.replace("-", "")},
    {"task_key": "k", "flow_run_id": ""},
    {"task_key": "k", "flow_run_id": 0},
    {"task_key": "ключ-鍵-🔑", "task_name": "naïve", "name": "ünïcödé " * 10, "tags": ["日本", "🔥"]},
    {"task_key": " ", "task_name": "", "name": "", "tags": []},
    {"task_key": "  padded  ", "name": "\ttabbed\n"},
    {"task_key": "k" * 255, "task_name": "n" * 255, "name": "x" * 255},
    {"task_key": "k" * 256},
    {"task_key": "k", "name": "x" * 256},
    {"task_key": "k", "tags": ["t"] * 100},
    {"task_key": "k", "tags": ["t"] * 101},
    {"task_key": "k", "tags": ["t" * 255, "u" * 256]},
    {"task_key": "k", "tags": [""]},
    {"task_key": "k", "tags": [1]},
    {"task_key": "k", "tags": None},
    {"task_key": "k", "tags": "t"},
    {"task_key": "k", "tags": {"t": 1}},
    {"task_key": "k", "parameters": {}},
    {"task_key": "k", "parameters": {"a": {"b": {"c": [1, 2, {"d": None}]}}, "e": [], "f": 1.5, "g": -0.0,
                                     "h": 10**20, "i": True, "j": "é\u2028"}},
    {"task_key": "k", "parameters": {"deep": json.loads("[" * 30 + "]" * 30)}},
    {"task_key": "k", "parameters": {"deep": json.loads("[" * 200 + "]" * 200)}},
    {"task_key": "k", "parameters": {"x": float("inf")}},
    {"task_key": "k", "parameters": {"x": "\x00"}},
    {"task_key": "k", "parameters": {"\x00": 1}},
    {"task_key": "k", "parameters": {"x": "\ud83d"}},
    {"task_key": "k", "parameters": {"x": "y" * 200_000}},
    {"task_key": "k", "parameters": None},
    {"task_key": "k", "parameters": [1, 2]},
    {"task_key": "k", "parameters": "x"},
    {"task_key": "a\x00b"},
    {"task_key": "a\udc00b"},
    {"task_key": None},
    {"task_key": 5},
    {"task_key": True},
    {"task_key": ["k"]},
    {"task_key": "k", "task_name": None},
    {"task_key": "k", "name": 3.5},
    {"task_key": "k", "id": 5},
    {"task_key": "k", "id": False},
    {"task_key": "k", "id": ""},
    {"task_key": "k", "unknown_field": [1, 2, 3]},
    {"name": "no task key"},
    [],
    "k",
    None,
]


def agreeing_run(item):
    """plain_delayed_run(item) or None if not plain; when plain, DelaySerializer takes it and makes the same run."""
    try:
        run = plain_delayed_run(item)
    except NotPlain:
        return None
    data = DelaySerializer(data=item)
    assert data.is_valid(), (item, data.errors)
    fields = dict(data.validated_data)
    if "id" in item:
        assert run.run_id == fields["id"], item
    else:
        assert "id" not in fields and isinstance(run.run_id, uuid.UUID)
    for name in RUN_FIELDS:
        assert getattr(run, name) == fields[name], (item, name)
        assert type(getattr(run, name)) is type(fields[name]), (item, name)
    return run


def test_plain_delayed_run_agrees_with_delay_serializer():
    plain = [item for item in DELAY_ITEMS if agreeing_run(item) is not None]
    assert len(plain) >= 15  # the list exercises both sides
    assert {"task_key": "k"} in plain and {"task_key": "a\x00b"} not in plain


def random_text(rng: random.Random) -> object:
    if rng.random() < 0.8:
        return rng.choice(["k", " ", "x" * rng.choice([1, 254, 255]), "é🔑", "日本語", "a b\t", "\u2028"])
    return rng.choice(["", "x" * 256, "a\x00", "\ud800", 5, None, True, 1.5, [], {}, ["t"]])


def random_uuid_text(rng: random.Random) -> object:
    u = uuid.UUID(int=rng.getrandbits(128), version=4)
    if rng.random() < 0.8:
        return rng.choice([str(u), str(u).upper(), u.hex, "{" + str(u) + "}", "urn:uuid:" + str(u)])
    return rng.choice([str(u)[:-1], "", 5, None, str(u) + " ", "g" * 32, u.int])


def random_json(rng: random.Random, depth: int = 0) -> object:
    kinds = ["int", "float", "str", "bool", "null"] + (["list", "dict"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, -1, 2**63, 10**30])
    if kind == "float":
        return rng.choice([0.1, -0.0, 1e300, 2.5])
    if kind == "str":
        return rng.choice(["", "x", "é", "🔥", "a\u2028b", "\x00" if rng.random() < 0.2 else "\ud800"])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "é", "", "\x00" if rng.random() < 0.2 else "c"]): random_json(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def random_delay_item(rng: random.Random) -> object:
    item = {}
    for name, make in (("task_key", random_text), ("task_name", random_text), ("name", random_text),
                       ("id", random_uuid_text), ("flow_run_id", random_uuid_text), ("parent_task_run_id", random_uuid_text)):
        if rng.random() < (0.9 if name == "task_key" else 0.5):
            item[name] = make(rng)
    if rng.random() < 0.5:
        item["tags"] = rng.choice([[random_text(rng) for _ in range(rng.randint(0, 3))]] * 4 + [["t"] * 100, "t", None,
                                                                                               ["t"] * 101])
    if rng.random() < 0.6:
        item["parameters"] = rng.choice([random_json(rng), {"x": random_json(rng)}, {}])
    return item


def test_plain_delayed_run_agrees_with_delay_serializer_on_seeded_random_items():
    rng = random.Random(20260526)
    plain = 0
    for _ in range(3000):
        item = random_delay_item(rng)
        if item.get("id", "") is None:
            continue  # test_a_null_id_is_refused_as_the_serializer_refuses_it
        plain += agreeing_run(item) is not None
    assert plain >= 500  # (860 with this seed)


def test_a_null_id_is_refused_as_the_serializer_refuses_it():
    item = {"id": None, "task_key": "k"}
    assert not DelaySerializer(data=item).is_valid()
    with pytest.raises(NotPlain):
        plain_delayed_run(item)


def test_a_null_id_in_a_batch_is_refused_as_the_serializer_refuses_it(key):
    single = call(django_asgi_app, CREATE, body_json({"id": None, "task_key": "fast-path-test"}), ok_headers(key))
    assert single[0] == 400 and "id" in json.loads(single[2])["details"]
    fast, recorder = fast_then_django()
    status, _, content = call(fast, CREATE, body_json({"runs": [{"id": None, "task_key": "fast-path-test"}]}),
                              ok_headers(key))
    assert status == 200
    assert json.loads(content)["runs"][0]["status"] == 400
    assert not TaskRun.objects.exists()


CLAIM_BODIES = [
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    {"worker": "host:1234", "claims": [{"kind": "flow", "id": U.replace("-", ""), "dispatch": 2**31 - 1},
                                       {"kind": "task", "id": "{" + U.upper() + "}", "dispatch": 7, "extra": [1]}]},
    {"worker": "ворк-🔧 " * 20, "claims": [{"kind": "task", "id": "urn:uuid:" + U, "dispatch": 1}]},
    {"worker": "w" * 255, "claims": [{"kind": "task", "id": U, "dispatch": 1}] * 100},
    {"worker": "w" * 256, "claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": 1}] * 101},
    {"worker": " ", "claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    {"worker": "", "claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    {"worker": "w\x00", "claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    {"worker": "w\ud800", "claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    {"worker": None, "claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    {"worker": "w", "claims": []},
    {"worker": "w", "claims": None},
    {"worker": "w", "claims": {"kind": "task", "id": U, "dispatch": 1}},
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": 0}]},
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": 2**31}]},
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": "1"}]},
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": True}]},
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": 1.0}]},
    {"worker": "w", "claims": [{"kind": "task", "id": U, "dispatch": None}]},
    {"worker": "w", "claims": [{"kind": "Task", "id": U, "dispatch": 1}]},
    {"worker": "w", "claims": [{"kind": None, "id": U, "dispatch": 1}]},
    {"worker": "w", "claims": [{"kind": "task", "id": U[:-1], "dispatch": 1}]},
    {"worker": "w", "claims": [{"kind": "task", "id": 5, "dispatch": 1}]},
    {"worker": "w", "claims": [{"kind": "task", "id": None, "dispatch": 1}]},
    {"worker": "w", "claims": [{"kind": "task", "dispatch": 1}]},
    {"worker": "w", "claims": [None]},
    {"worker": "w", "claims": [[]]},
    {"claims": [{"kind": "task", "id": U, "dispatch": 1}]},
    [],
    None,
]


def agreeing_claims(body):
    try:
        worker, wanted = plain_claims(body)
    except NotPlain:
        return None
    data = ClaimsSerializer(data=body)
    assert data.is_valid(), (body, data.errors)
    assert worker == data.validated_data["worker"]
    assert wanted == [(c["kind"], c["id"], c["dispatch"], c["confirm"]) for c in data.validated_data["claims"]]
    assert all(type(n) is int and isinstance(i, uuid.UUID) and type(c) is bool for _, i, n, c in wanted)
    return worker, wanted


def test_plain_claims_agrees_with_claims_serializer():
    plain = [body for body in CLAIM_BODIES if agreeing_claims(body) is not None]
    assert len(plain) >= 4
    assert CLAIM_BODIES[0] in plain and CLAIM_BODIES[-3] not in plain


def test_plain_claims_agrees_with_claims_serializer_on_seeded_random_bodies():
    rng = random.Random(526)
    plain = 0
    for _ in range(2000):
        claims = [{name: value for name, value in (
            ("kind", rng.choice(["task", "flow"] * 4 + ["Task", "", None, 1])),
            ("id", random_uuid_text(rng)),
            ("dispatch", rng.choice([1, 2, 2**31 - 1] * 3 + [0, -1, 2**31, "1", True, 1.0, None])),
            ("confirm", rng.choice([True, False] * 3 + ["true", 1, 0, None])),
        ) if rng.random() < (0.97 if name != "confirm" else 0.3)} for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        body = {"worker": random_text(rng), "claims": claims}
        plain += agreeing_claims(body) is not None
    assert plain >= 150  # (232 with this seed)


# --- 6. through the whole application: the body limit still applies ---

def test_application_serves_http_through_the_body_limit_and_the_fast_path():
    http = application.application_mapping["http"]
    assert type(http).__name__ == "RequestBodyLimit" and isinstance(http.app, FastPath)
    assert http.app.app is django_asgi_app


def test_events_body_over_the_limit_declared_is_refused_413(key, settings):
    limit = settings.ORCHESTRATOR_MAX_BATCH_BYTES
    body = b'{"events": [' + b" " * (limit - 13) + b"]}"  # one byte over
    assert len(body) == limit + 1
    status, headers, content = call(application, EVENTS, body, [*ok_headers(key), ("Content-Length", str(len(body)))])
    assert status == 413 and "the limit for this path" in json.loads(content)["error"]


def test_events_body_over_the_limit_undeclared_is_refused_413(key, settings):
    limit = settings.ORCHESTRATOR_MAX_BATCH_BYTES
    chunk = b" " * (1024 * 1024)
    chunks = [b'{"events": ['] + [chunk] * (limit // len(chunk)) + [b"]}"]
    assert sum(map(len, chunks)) > limit
    status, _, content = call(application, EVENTS, headers=ok_headers(key), chunks=chunks)
    assert status == 413 and "the limit for this path" in json.loads(content)["error"]


def test_events_body_at_the_limit_is_served(key, settings):
    limit = settings.ORCHESTRATOR_MAX_BATCH_BYTES
    body = b'{"events": [' + b" " * (limit - 14) + b"]}"
    assert len(body) == limit
    status, _, content = call(application, EVENTS, body, [*ok_headers(key), ("Content-Length", str(len(body)))])
    assert status == 200 and json.loads(content)["accepted"] == 0


def test_claims_body_over_the_default_limit_is_refused_413(key, settings):
    limit = settings.ORCHESTRATOR_MAX_REQUEST_BYTES
    body = b'{"worker": "w", "claims": []' + b" " * limit + b"}"
    status, _, _ = call(application, CLAIMS, body, [*ok_headers(key), ("Content-Length", str(len(body)))])
    assert status == 413
    status, _, _ = call(application, CLAIMS, headers=ok_headers(key), chunks=[body[:limit // 2], body[limit // 2:]])
    assert status == 413


def test_application_answers_well_formed_requests(key):
    status, _, content = call(application, EVENTS, body_json({"events": [flow_run_created(new_id())]}), ok_headers(key))
    assert status == 200 and json.loads(content)["accepted"] == 1


# --- differences once found between the two paths, each now answered alike ---

def test_authorization_split_by_a_no_break_space_goes_to_django(key):
    headers = [("Authorization", f"Bearer\xa0{key}"), JSON_TYPE]
    status, _, _ = call(django_asgi_app, EVENTS, body_json({"events": []}), headers)
    assert status == 401
    handed_on(EVENTS, body_json({"events": []}), headers)


def test_an_unacceptable_accept_header_goes_to_django(key):
    headers = [*ok_headers(key), ("Accept", "application/xml")]
    status, _, _ = call(django_asgi_app, EVENTS, body_json({"events": []}), headers)
    assert status == 406
    fr = new_id()
    status, _, _ = call(FastPath(django_asgi_app), EVENTS, body_json({"events": [flow_run_created(fr)]}), headers)
    assert status == 406 and not FlowRun.objects.filter(pk=fr).exists()


def test_an_html_accept_header_same_as_django(key):
    request = (CLAIMS, body_json(claims_body(str(uuid.uuid4()))), [*ok_headers(key), ("Accept", "text/html")])
    django_status, django_headers, _ = call(django_asgi_app, *request)
    assert django_headers["content-type"].startswith("text/html")
    status, headers, _ = call(FastPath(django_asgi_app), *request)
    assert (status, headers["content-type"]) == (django_status, django_headers["content-type"])


def test_a_format_query_parameter_same_as_django(key):
    request = dict(path=CLAIMS, body=body_json(claims_body(str(uuid.uuid4()))), headers=ok_headers(key), query=b"format=xml")
    django_status = call(django_asgi_app, **request)[0]
    assert django_status == 404
    assert call(FastPath(django_asgi_app), **request)[0] == django_status


def test_wait_database_unavailable_same_as_django(key, monkeypatch):
    run_id = create_run(key)

    def down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(wait_view, "outcomes", down)
    monkeypatch.setattr(wait_view, "outcome", down)
    request = (WAIT, body_json({"ids": [run_id], "timeout": 0}), ok_headers(key))
    django_status, django_headers, django_content = call(django_asgi_app, *request)
    assert django_status == 503 and django_headers["retry-after"]
    status, headers, content = call(FastPath(django_asgi_app), *request)
    assert (status, json.loads(content)) == (django_status, json.loads(django_content))
    assert headers.get("retry-after") == django_headers["retry-after"]


def test_create_allow_header_same_as_django(key):
    django_headers = call(django_asgi_app, CREATE, body_json({"runs": []}), ok_headers(key))[1]
    assert django_headers["allow"] == "GET, POST, HEAD, OPTIONS"
    assert answered_fast(CREATE, body_json({"runs": []}), ok_headers(key))[1]["allow"] == django_headers["allow"]


@pytest.mark.parametrize("content_length", [None, "0"])
def test_claims_without_a_content_length_same_as_django(key, content_length):
    body = body_json(claims_body(str(uuid.uuid4())))
    headers = ok_headers(key) + ([("Content-Length", content_length)] if content_length else [])
    django_status, _, django_content = call(django_asgi_app, CLAIMS, body, headers, length=False)
    assert django_status == 400, django_content
    fast_status, _, fast_content = call(FastPath(django_asgi_app), CLAIMS, body, headers, length=False)
    assert (fast_status, json.loads(fast_content)) == (django_status, json.loads(django_content))
