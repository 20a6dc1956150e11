"""`make up`: migrate, create a login and a key, start the server and a worker, load the demo once.

Runs in the foreground until Ctrl-C; the children stop with it. Their output goes to
$ORCHESTRATOR_HOME/logs/; the terminal gets a short summary, printed last.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from orchestrator import local_setup
from orchestrator.config import private_dir
from orchestrator.launcher import (
    ChildFailed,
    ChildSpec,
    Supervisor,
    busy_port_message,
    local_address,
    log_says,
    port_in_use,
    server_answers,
)

ROOT = Path(settings.BASE_DIR)
DEMO_SCRIPT = ROOT / "examples" / "demo_flow.py"


def http_url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def allowed_host(address: str) -> str:
    """A Host header the server accepts for a request to `address` (ALLOWED_HOSTS may not list it)."""
    allowed = settings.ALLOWED_HOSTS
    if address in allowed or f"[{address}]" in allowed or "*" in allowed or not allowed:
        return address
    return allowed[0].lstrip(".")


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like a first Ctrl-C."""


def _interrupt(signum, frame):
    raise Interrupted()


class Command(BaseCommand):
    help = "Migrate, create the demo login and key, start Daphne and a Celery worker, and load the demo flows once."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to bind (env HOST)")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="port (env PORT)")
        parser.add_argument("--no-worker", action="store_true", help="do not start a Celery worker")
        demo = parser.add_mutually_exclusive_group()
        demo.add_argument("--demo", action="store_true", help="run the demo flows again (adds more demo runs)")
        demo.add_argument("--no-demo", action="store_true", help="do not run the demo flows")
        parser.add_argument(
            "--exit-after-start", action="store_true", help="start everything, load the demo, then stop (smoke test)"
        )

    def handle(self, *args, host, port, no_worker, demo, no_demo, exit_after_start, **options):
        signal.signal(signal.SIGTERM, _interrupt)
        self.home = Path(settings.ORCHESTRATOR_HOME)
        self.logs = private_dir(self.home / "logs")
        supervisor = Supervisor(say=self.say)
        try:
            if port_in_use(host, port):
                self.fail(busy_port_message(host, port))
            self.say(f"Starting: migrating the database, then the server{'' if no_worker else ' and a worker'} "
                     f"(their output goes to {self.logs}/)")
            call_command("migrate", interactive=False, verbosity=0)
            login = local_setup.ensure_login(host)
            for spec in self.children(host, port, no_worker):
                supervisor.start(spec)
            local_api = f"{http_url(local_address(host), port)}/api"  # what this machine's processes use
            key = local_setup.ensure_demo_api_key(self.home, connection.settings_dict, local_api)
            demo_note = self.load_demo(local_api, key, again=demo, skip=no_demo)
            self.print_summary(
                http_url(host, port), local_api, login, key, demo_note, no_worker,
                exposed=not local_setup.is_loopback(host),
            )
            if exit_after_start:
                supervisor.stop()
                return
            supervisor.watch()
        except ChildFailed as failure:
            self.stderr.write(self.style.ERROR(str(failure)))
            self.stderr.flush()
            supervisor.stop()
            raise SystemExit(1)
        except KeyboardInterrupt:
            self.say("")
            supervisor.stop()
        except Exception:
            supervisor.stop()  # no child outlives an unexpected error
            raise

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()  # through a pipe (`make up | tee`) too, each line when it happens

    def fail(self, message: str) -> None:
        self.stderr.write(self.style.ERROR(message))
        self.stderr.flush()
        raise SystemExit(1)

    def children(self, host: str, port: int, no_worker: bool) -> list[ChildSpec]:
        """What `make up` runs, started in this order; each must come up before the next starts."""
        return [self.server_spec(host, port), *([] if no_worker else [self.worker_spec()])]

    def server_spec(self, host: str, port: int) -> ChildSpec:
        instance = secrets.token_hex(16)
        address = local_address(host)
        return ChildSpec(
            name="server",
            argv=[str(Path(sys.executable).parent / "daphne"), "-b", host, "-p", str(port), "orchestrator.asgi:application"],
            env={"ORCHESTRATOR_INSTANCE": instance},
            cwd=ROOT,
            log_path=self.logs / "server.log",
            ready=server_answers(
                f"{http_url(address, port)}/healthz", instance, host, port, host_header=allowed_host(address)
            ),
            stopping_note="to close its connections",
            stop_timeout=15,
        )

    def worker_spec(self) -> ChildSpec:
        return ChildSpec(
            name="worker",
            argv=[
                str(Path(sys.executable).parent / "celery"), "-A", "orchestrator", "worker", "--loglevel=INFO",
                "--concurrency=1", "--hostname", f"demo@{socket.gethostname()}",
            ],
            cwd=ROOT,
            log_path=self.logs / "worker.log",
            ready=log_says(" ready."),  # Celery logs "<hostname> ready." once it consumes
            stopping_note="to finish its running task",
            stop_timeout=60,
        )

    def load_demo(self, api_url: str, key: str, again: bool, skip: bool) -> str:
        """Run the demo flows once per database (again with --demo); say what happened in one line."""
        if skip or not DEMO_SCRIPT.exists():
            return ""
        if local_setup.demo_loaded() and not again:
            return "demo: already loaded in this database (add more runs: .venv/bin/python manage.py up --demo)"
        log_path = self.logs / "demo.log"
        env = dict(os.environ, ORCHESTRATOR_API_URL=api_url, ORCHESTRATOR_API_KEY=key, PYTHONUNBUFFERED="1")
        with open(log_path, "ab") as log:
            result = subprocess.run(
                [sys.executable, str(DEMO_SCRIPT)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, timeout=180, start_new_session=True,
            )
        if result.returncode:
            return f"demo: {DEMO_SCRIPT.relative_to(ROOT)} exited with {result.returncode}; see {log_path}"
        return "demo: loaded the runs of examples/demo_flow.py (warehouse-sync fails on purpose: a Retry fixes it)"

    def print_summary(
        self, url: str, api_url: str, login: local_setup.Login, key: str, demo_note: str, no_worker: bool,
        exposed: bool = False,
    ) -> None:
        if login.generated:
            login_text = (
                f"{login.username} / {login.password}\n"
                f"  (a random password, shown only now; change it: .venv/bin/python manage.py changepassword {login.username})"
            )
        else:
            login_text = f"{login.username} / {login.password or '(your existing password)'}"
        lines = [
            "",
            *([demo_note] if demo_note else []),
            f"logs: {self.logs}/ (server.log{'' if no_worker else ', worker.log'}, demo.log)",
            "",
            f"Orchestrator is up: {url}/   login: {login_text}",
            f"API docs: {url}/api/docs/",
            *([f"Browsers on other machines: set ALLOWED_HOSTS to the name or address they use "
               f"(now: {','.join(settings.ALLOWED_HOSTS)})."] if exposed else []),
            "Report your own flows here: install the SDK into your project and point it at this server:",
            f"  pip install {ROOT}",
            f"  export ORCHESTRATOR_API_URL={api_url} ORCHESTRATOR_API_KEY={key}",
            "Press Ctrl-C to stop.",
        ]
        self.say(self.style.SUCCESS("\n".join(lines)))
