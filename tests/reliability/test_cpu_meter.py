"""bench/cpu_meter.py: the CPU the soak and bench/ingest.py attribute to each part comes from the right process."""
from __future__ import annotations

import subprocess
import sys

from bench.cpu_meter import CpuMeter

SPIN = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\nprint('done', flush=True)"
SPIN_THEN_WAIT = SPIN + "\nimport sys\nsys.stdin.read()"
IDLE = "import sys\nsys.stdin.read()"


def test_a_busy_process_is_counted_under_its_part_and_an_idle_one_is_not():
    idle = subprocess.Popen([sys.executable, "-c", IDLE], stdin=subprocess.PIPE)
    busy = subprocess.Popen([sys.executable, "-c", SPIN_THEN_WAIT], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        meter = CpuMeter({"busy": lambda: [busy.pid], "idle": lambda: [idle.pid]})
        meter.start()
        assert busy.stdout.readline() == b"done\n"  # it has spun 0.4 s of CPU and waits, alive
        sample = meter.stop()
    finally:
        for proc in (busy, idle):
            proc.stdin.close()
            proc.wait(10)
    assert 0.3 <= sample.seconds["busy"] <= 1.0
    assert sample.seconds["idle"] < 0.1
    assert sample.machine_busy >= sample.seconds["busy"] * 0.9  # the machine saw at least that much
    assert "busy" in sample.describe(events=1000)


def test_children_reaped_during_the_interval_are_counted():
    meter = CpuMeter({}, reaped_children="clients")
    meter.start()
    subprocess.run([sys.executable, "-c", SPIN], check=True, capture_output=True)
    sample = meter.stop()
    assert sample.seconds["clients"] >= 0.3
