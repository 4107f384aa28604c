"""What every benchmark shares: the machine's description, percentiles, and real server processes.

A benchmark measures the real server started the way a county starts it (``kanavat serve``)
in its own process, with load generators in further processes on loopback, so the figures
include HTTP, websockets, JSON, SQLite and logging, and the generator's own CPU is not
charged to the server. CPU and memory are read from ``/proc`` for the server's pid alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "config.toml"
TOKEN_ENV = "KANAVAT_BENCH_TWILIO_TOKEN"
ACCOUNT_SID = "AC" + "be" * 16
CALLER_ID = "+358451234567"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Prompt renderings are content-addressed; sharing them keeps server start-up short.
PROMPT_CACHE = Path(tempfile.gettempdir()) / "kanavat-bench-prompts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine() -> str:
    """One line for RESULTS.md: CPU model, usable cores, memory, kernel, Python."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gb = 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    cores = len(os.sched_getaffinity(0))
    return (
        f"{model}, {cores} cores usable, {mem_gb:.0f} GB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def own_peak_mb() -> float:
    """This process's own memory high-water mark (VmHWM). ``ru_maxrss`` is kept across
    fork and exec on Linux, so a child started by a bigger parent would report its peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: Sequence[float], q: float) -> float:
    """Percentile ``q`` (0-100) of ``values`` in the same unit; NaN when there are none."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


def ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:.0f} ms"


@dataclass
class ProcStat:
    """CPU seconds and resident memory of one process, from /proc (no psutil needed)."""

    pid: int

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


@dataclass(frozen=True)
class ProcGroup:
    """CPU seconds and resident memory of several processes together (servers sharing a
    store); ``pid`` is the first's (py-spy attaches to one)."""

    pids: tuple[int, ...]

    @property
    def pid(self) -> int:
        return self.pids[0]

    def cpu_seconds(self) -> float:
        return sum(ProcStat(p).cpu_seconds() for p in self.pids)

    def rss_mb(self) -> float:
        return sum(ProcStat(p).rss_mb() for p in self.pids)


@dataclass
class Window:
    """CPU used by a process over a stretch of wall time."""

    stat: ProcStat | ProcGroup
    started: float = field(default_factory=time.monotonic)
    cpu0: float = 0.0

    def __post_init__(self) -> None:
        self.cpu0 = self.stat.cpu_seconds()

    def cores(self) -> float:
        """Average cores busy since the window opened (1.0 = one core fully)."""
        wall = time.monotonic() - self.started
        return (self.stat.cpu_seconds() - self.cpu0) / wall if wall > 0 else 0.0


def twilio_section(api_base: str) -> str:
    """A ``[twilio]`` section whose token the benchmark knows (from the environment)."""
    return (
        "[twilio]\n"
        f'account_sid = "{ACCOUNT_SID}"\n'
        f'auth_token = "env:{TOKEN_ENV}"\n'
        f'caller_id = "{CALLER_ID}"\n'
        f'api_base = "{api_base}"\n'
    )


def set_public_url(text: str, port: int) -> str:
    import re

    text, n = re.subn(
        r'^public_url = "[^"]*"', f'public_url = "http://127.0.0.1:{port}"', text, flags=re.M
    )
    assert n == 1, "config has no server.public_url line"
    return text


class Server:
    """``kanavat serve`` in a subprocess on a free port, with a known Twilio auth token;
    ``processes`` > 1: that many servers sharing the store and the port (the config's
    ``[server] workers_per_machine`` set to it), the kernel spreading connections."""

    def __init__(
        self, workdir: Path, config_text: str, *, log_level: str = "INFO", processes: int = 1
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.config_path = workdir / "config.toml"
        if processes > 1:
            assert "[server]\n" in config_text
            config_text = config_text.replace(
                "[server]\n", f"[server]\nworkers_per_machine = {processes}\n", 1
            )
        self.config_path.write_text(set_public_url(config_text, self.port), encoding="utf-8")
        self.log_path = workdir / "server.log"
        self.log_level = log_level
        self.processes = processes
        self.proc: subprocess.Popen[bytes] | None = None
        self.others: list[subprocess.Popen[bytes]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            TOKEN_ENV: self.token,
            "KANAVAT_PROMPT_CACHE": str(PROMPT_CACHE),
            "PYTHONPATH": str(ROOT),
        }

    def config(self):  # kanavat.config.Config, imported late: bench start-up stays quick
        from kanavat import config as configuration

        return configuration.load(self.config_path, env={TOKEN_ENV: self.token})

    def _spawn(self, log_path: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "kanavat", "serve", "--config", str(self.config_path)),
                *("--port", str(self.port), "--log-level", self.log_level),
            ],
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.workdir,
        )

    def start(self, timeout: float = 120.0) -> None:
        self.proc = self._spawn(self.log_path)
        self._healthy(self.proc, timeout)
        self._prompts_ready(timeout)
        for n in range(1, self.processes):
            other = self._spawn(self.log_path.with_name(f"server{n}.log"))
            self.others.append(other)
            # Started: registered in ``workers``, and its start-up lock given up.
            deadline = time.monotonic() + timeout
            while not (self._workers() > n and self._nobody_starting()):
                if other.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {n} did not start; see its log in {self.workdir}")
                time.sleep(0.2)

    def _healthy(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as r,
            ):
                if r.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {timeout} s; see {self.log_path}")

    def _prompts_ready(self, timeout: float) -> None:
        """Wait for the server's start-up prompt loading (a thread that renders or loads
        every prompt of the config's phone campaigns, ``voice.prompts.ready``): it is
        start-up work, not the traffic a level measures, and it took a level's first
        second. Only where the log shows it (INFO and below)."""
        if self.log_level not in ("DEBUG", "INFO"):
            return
        deadline = time.monotonic() + timeout
        while "voice.prompts.ready" not in self.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"prompts not loaded after {timeout} s; see {self.log_path}")
            time.sleep(0.1)

    def _nobody_starting(self) -> bool:
        import fcntl

        database = Path(self.config().database)
        fd = os.open(database.with_name(database.name + ".starting"), os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True

    def _workers(self) -> int:
        from kanavat.store import Store

        store = Store(self.config().database)
        try:
            return int(store.one("SELECT count(*) AS n FROM workers")["n"])  # type: ignore[index]
        finally:
            store.close()

    @property
    def stat(self) -> ProcStat | ProcGroup:
        assert self.proc is not None
        if not self.others:
            return ProcStat(self.proc.pid)
        return ProcGroup((self.proc.pid, *(p.pid for p in self.others)))

    def stop(self) -> None:
        for proc in [p for p in (self.proc, *self.others) if p is not None]:
            proc.terminate()
        for proc in [p for p in (self.proc, *self.others) if p is not None]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.proc, self.others = None, []

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat, for the share the machine was busy."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return float(sum(fields) - idle), float(sum(fields))


def run_generators(args: list[list[str]], timeout: float) -> list[dict]:
    """Run load generator processes at once; each prints one JSON object on its last line.

    The first result also carries ``generator_cores`` (the generators' CPU over the run) and
    ``machine_busy`` (share of all cores busy, whoever used them): on two shared cores these
    say whether the server or the machine was the limit.
    """
    import resource

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = machine_busy()
    t0 = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for a in args
    ]
    results = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        lines = out.decode().strip().splitlines()
        if p.returncode != 0 or not lines:
            raise RuntimeError(f"load generator failed ({p.returncode}): {err.decode()[-2000:]}")
        results.append(json.loads(lines[-1]))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = machine_busy()
    wall = time.monotonic() - t0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if results:
        results[0]["generator_cores"] = cpu / wall if wall > 0 else 0.0
        results[0]["machine_busy"] = (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1])
    return results


@contextlib.contextmanager
def workdir(name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"kanavat-bench-{name}-") as tmp:
        yield Path(tmp)


class EmulatorProcess:
    """``bench.emulator`` in a subprocess, with the server's token; ``base_url`` for api_base."""

    def __init__(
        self, token: str, server_url: str, port: int | None = None, *, callbacks: bool = True
    ) -> None:
        self.port = port or free_port()
        self.token = token
        self.server_url = server_url
        self.callbacks = callbacks
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> EmulatorProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.emulator", str(self.port), self.token),
                self.server_url + "/twilio/sms",
                *([] if self.callbacks else ["no-callbacks"]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("emulator did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


# Frames every request or the whole server passes through: listing them says nothing.
ENTRY_FRAMES = {
    "<module>",
    "serve",
    "run_app",
    "errors",
    "_fix_request_current_app.<locals>.impl",
    "Application._handle",
    "RequestHandler._handle_request",
    "RequestHandler.start",
}


def summarise_profile(raw: Path, top: int = 12) -> list[tuple[str, float, float]]:
    """py-spy's collapsed stacks as (function (package/file), inclusive %, self %), heaviest first.

    Inclusive counts a function once per sample however deep it recurs. Listed: the heaviest
    by inclusive and by self time, among frames of
    kanavat and of the libraries on its paths (aiohttp, sqlite3, json, twilio, speech engines,
    logging); the event loop's own frames would top every list and say nothing.
    """
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    interesting = ("kanavat/", "aiohttp/", "sqlite3/", "json/", "twilio/", "vosk/", "whisper",
                   "ctranslate2/", "logging/", "hmac", "base64", "yarl/", "multidict/")  # fmt: skip
    rows = {
        name: (name, 100 * n / total, 100 * own.get(name, 0) / total)
        for name, n in inclusive.items()
        if any(k in name for k in interesting) and name.split(" (")[0] not in ENTRY_FRAMES
    }
    if not total:
        return []
    by_inclusive = sorted(rows.values(), key=lambda r: r[1], reverse=True)[:top]
    by_self = sorted(rows.values(), key=lambda r: r[2], reverse=True)[: top // 2]
    chosen = {r[0]: r for r in [*by_inclusive, *by_self] if r[1] >= 1.0}
    return sorted(chosen.values(), key=lambda r: r[1], reverse=True)


def _frame_name(frame: str) -> str:
    """``func (/long/path/pkg/file.py:12)`` -> ``func (pkg/file.py)``."""
    if " (" not in frame:
        return frame
    func, where = frame.split(" (", 1)
    path = where.split(":")[0].rstrip(")")
    parts = path.split("/")
    short = "/".join(parts[parts.index("kanavat") :] if "kanavat" in parts else parts[-2:])
    return f"{func} ({short})"


class Profile:
    """py-spy sampling a process while a block runs: ``with Profile(pid, 10, out) as p: ...``.

    ``p.top`` is then the summary (empty if py-spy is missing or could not attach).
    """

    def __init__(self, pid: int, seconds: float, out: Path) -> None:
        self.pid, self.seconds, self.out = pid, int(seconds), out
        self.proc: subprocess.Popen[bytes] | None = None
        self.top: list[tuple[str, float, float]] = []

    def __enter__(self) -> Profile:
        import shutil

        if shutil.which("py-spy"):
            args = ["record", "-p", str(self.pid), "-d", str(self.seconds), "-r", "50"]
            self.proc = subprocess.Popen(
                ["py-spy", *args, "-f", "raw", "-o", str(self.out), "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(self.seconds + 30)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()
        if self.out.exists():
            self.top = summarise_profile(self.out)
