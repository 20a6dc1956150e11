"""`make up`: migrate, create a login, start the server and a worker, load demo data.

Runs in the foreground until Ctrl-C; the children stop with it.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

ROOT = Path(settings.BASE_DIR)
DEMO_USER = "admin"
DEMO_PASSWORD = "admin"


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Command(BaseCommand):
    help = "Migrate, create the demo login, start Daphne and a Celery worker, and run the demo flow."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="do not start a Celery worker")
        parser.add_argument("--no-demo", action="store_true", help="do not run the demo flow")
        parser.add_argument("--exit-after-start", action="store_true", help="start, load demo data, then stop (smoke test)")

    def handle(self, *args, host, port, no_worker, no_demo, exit_after_start, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        login = self.ensure_login()
        key = self.demo_api_key()

        python = sys.executable
        bin_dir = Path(python).parent
        children: list[subprocess.Popen] = []
        try:
            server = subprocess.Popen(
                [str(bin_dir / "daphne"), "-v", "0", "-b", host, "-p", str(port), "orchestrator.asgi:application"], cwd=ROOT
            )
            children.append(server)
            if not wait_for_port(host, port, 30):
                raise SystemExit(f"the server did not start on {host}:{port}")
            url = f"http://{host}:{port}"
            if not no_worker:
                # The server's Celery worker runs housekeeping (-B: beat); the task worker serves the demo flow.
                children.append(
                    subprocess.Popen(
                        [str(bin_dir / "celery"), "-A", "orchestrator", "worker", "-B", "--loglevel=WARNING",
                         "--concurrency=1", "--hostname", f"demo@{socket.gethostname()}"],
                        cwd=ROOT,
                    )
                )
                children.append(
                    subprocess.Popen(
                        [python, "-m", "sdk", "serve", "examples.demo_flow:daily_revenue"],
                        cwd=ROOT, env=dict(os.environ, ORCHESTRATOR_API_URL=f"{url}/api", ORCHESTRATOR_API_KEY=key),
                    )
                )
            if not no_demo:
                self.run_demo(python, f"{url}/api", key)
            self.stdout.write(self.style.SUCCESS(
                f"\nOrchestrator is up: {url}/   login: {login[0]} / {login[1] or '(your existing password)'}\n"
                f"API docs: {url}/api/docs/   SDK settings for your own flows:\n"
                f"  export ORCHESTRATOR_API_URL={url}/api ORCHESTRATOR_API_KEY={key}\n"
                "Press Ctrl-C to stop."
            ))
            if exit_after_start:
                return
            signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

    def ensure_login(self) -> tuple[str, str | None]:
        User = get_user_model()
        if User.objects.filter(username=DEMO_USER).exists():
            return DEMO_USER, None
        User.objects.create_superuser(DEMO_USER, "admin@localhost", DEMO_PASSWORD)
        return DEMO_USER, DEMO_PASSWORD

    def demo_api_key(self) -> str:
        """One admin-scope key for local use, kept under ORCHESTRATOR_HOME so restarts reuse it."""
        from api.models import APIKey

        path = Path(settings.ORCHESTRATOR_HOME) / "demo-api-key"
        if path.exists():
            raw = path.read_text().strip()
            if APIKey.find(raw):
                return raw
        _, raw = APIKey.issue("make up (local demo)", "admin")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(raw + "\n")
        path.chmod(0o600)
        return raw

    def run_demo(self, python: str, api_url: str, key: str) -> None:
        demo = ROOT / "examples" / "demo_flow.py"
        if not demo.exists():
            return
        env = dict(os.environ, ORCHESTRATOR_API_URL=api_url, ORCHESTRATOR_API_KEY=key)
        self.stdout.write(f"running {demo.relative_to(ROOT)} against {api_url}")
        result = subprocess.run([python, str(demo)], cwd=ROOT, env=env, timeout=120)
        if result.returncode:
            self.stderr.write(f"the demo flow exited with {result.returncode} (its failures may be on purpose)")
