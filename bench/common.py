"""Shared benchmark tools: machine description, statistics, servers, a lean HTTP client.

Every benchmark here talks only to loopback, stops by itself (bounded in count and in
time) and reports medians next to a baseline measured in the same run, because the
machine is shared and noisy: absolute numbers move, ratios much less.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "python-telegram-bot",
    "httpx",
    "uvloop",
    "httptools",
)

# ------------------------------------------------------------------------------ machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def machine() -> dict[str, str]:
    """Describe the machine and software the numbers came from."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    info = {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "ram": f"{_ram_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load (1/5/15 min)": " / ".join(f"{x:.2f}" for x in load),
    }
    info.update({p: _version(p) for p in PACKAGES})
    return info


def machine_table() -> str:
    """Return the machine description as a two-column Markdown table."""
    return table(["what", "value"], [[k, v] for k, v in machine().items()])


# ------------------------------------------------------------------------------ numbers


def median(values: Sequence[float]) -> float:
    """Return the median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """Return the p-th percentile (nearest rank, p in 0..100), or NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return a GitHub Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float, digits: int = 1) -> str:
    """Format a number for a table (NaN as a dash)."""
    return "-" if value != value else f"{value:,.{digits}f}"


def emit(name: str, text: str, data: Any, json_path: str | None) -> None:
    """Print a bench's table; also write its raw numbers as JSON when asked."""
    print(f"## {name}\n\n{text}\n", flush=True)
    if json_path:
        Path(json_path).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


# ------------------------------------------------------------------------------ servers


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Return an environment for a server under test: own data folder, own database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PUBLIC_"))}
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        PSEUDONYM_SECRET=PSEUDONYM_SECRET,
        LOG_LEVEL=env.get("BENCH_LOG_LEVEL", "WARNING"),
        PYTHONPATH=os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(ROOT)])),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


#: Fixed for a run, so a bench can compute the pseudonym a web conversation is stored under.
PSEUDONYM_SECRET = os.environ.get("BENCH_PSEUDONYM_SECRET", secrets.token_urlsafe(32))


@dataclass
class Server:
    """A server under test in its own process group; output goes to a log file."""

    command: list[str]
    env: dict[str, str]
    port: int
    log: Path
    ready_path: str = "/readyz"
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ready_after: float = float("nan")

    def start(self, timeout: float = 60.0) -> Server:
        """Start the process and wait until `ready_path` answers 200."""
        self.started_at = time.perf_counter()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.ready_after = wait_ready(self.port, self.ready_path, timeout, self.process)
        if self.ready_after != self.ready_after:
            tail = self.log.read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"{self.command} did not become ready:\n{tail}")
        self.ready_after -= self.started_at
        return self

    def rss_mb(self) -> float:
        """Return the resident memory of the server and its worker processes, in MB."""
        import psutil

        assert self.process is not None
        parent = psutil.Process(self.process.pid)
        total = parent.memory_info().rss
        for child in parent.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total / 1e6

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to stop (SIGINT, as Ctrl-C), then insist."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_ready(
    port: int, path: str, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Poll `path` every 10 ms; return the time of the first 200, or NaN on timeout/exit."""
    deadline = time.perf_counter() + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    while time.perf_counter() < deadline:
        if process is not None and process.poll() is not None:
            return float("nan")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(request)
                head = sock.recv(64)
            if head.startswith(b"HTTP/1.1 200"):
                return time.perf_counter()
        except OSError:
            pass
        time.sleep(0.01)
    return float("nan")


def serve_command(port: int, workers: int = 1) -> list[str]:
    """Return the command line of the real `python -m bot serve`."""
    command = [PYTHON, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    return command


def baseline_command(port: int, workers: int = 1) -> list[str]:
    """Return the command line of the baseline app under the same uvicorn options."""
    return [
        PYTHON,
        "-m",
        "uvicorn",
        "bench.baseline_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--no-server-header",
        "--ws",
        "none",
        "--log-level",
        "warning",
    ]


@contextlib.contextmanager
def temp_dir(prefix: str = "safe-abroad-bench-") -> Iterator[Path]:
    """Yield a fresh folder for databases and secrets, removed afterwards.

    With BENCH_KEEP=1 the folder (servers' logs included) is kept and named on stderr.
    """
    if os.environ.get("BENCH_KEEP") == "1":
        kept = Path(tempfile.mkdtemp(prefix=prefix))
        print(f"bench folder kept: {kept}", file=sys.stderr)
        yield kept
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def sqlite_url(folder: Path, name: str = "bench.db") -> str:
    """Return an async SQLite URL for a file in `folder`."""
    return f"sqlite+aiosqlite:///{folder / name}"


@contextlib.contextmanager
def temp_postgres() -> Iterator[str]:
    """Create a fresh PostgreSQL database for this run; drop it afterwards; yield its URL."""
    name = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{base.split('://', 1)[1]}/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def postgres_available() -> bool:
    """Tell whether the local PostgreSQL answers."""
    try:
        _pg_admin("SELECT 1")
    except Exception:
        return False
    return True


# ------------------------------------------------------------------------------ client


class HttpError(Exception):
    """The server closed the connection or answered something we cannot read."""


class Connection:
    """One keep-alive HTTP/1.1 connection; far leaner than a full client, so the load
    generator takes as little CPU as possible from the server on a 2-core machine."""

    def __init__(self, port: int, local_address: str | None = None):
        self.port = port
        self.local_address = local_address
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        local = (self.local_address, 0) if self.local_address else None
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=local
        )

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Send one request; return the status and the body (reconnects once if closed)."""
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                return await self._exchange(method, path, body, headers or {})
            except (ConnectionError, asyncio.IncompleteReadError, HttpError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        payload = b"" if body is None else (body if isinstance(body, bytes) else _json(body))
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HttpError(f"bad status line {status_line!r}")
        length = 0
        close = False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise HttpError("chunked responses are not supported")
            elif name == "connection" and "close" in value.lower():
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return int(parts[1]), data

    async def close(self) -> None:
        """Close the connection."""
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def loopback_addresses(start: int = 0) -> Iterator[str]:
    """Yield distinct loopback source addresses (127.0.1.0 and up), one per simulated person.

    The web API limits requests per client address; real people come from many addresses,
    so each simulated conversation gets its own instead of switching the limit off.
    """
    n = start
    while True:
        n += 1
        yield f"127.{1 + (n >> 16) % 250}.{(n >> 8) & 255}.{n & 255 or 1}"


@dataclass
class Samples:
    """Latencies (seconds) and failures collected by a bounded load run."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    #: CPU seconds the server used during the run (when measured).
    cpu: float = float("nan")

    def error(self, what: str) -> None:
        """Count one failure by kind."""
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def count(self) -> int:
        """Return how many requests succeeded."""
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        """Return successful requests per second."""
        return self.count / self.elapsed if self.elapsed else float("nan")

    @property
    def cpu_ms(self) -> float:
        """Return the server's CPU milliseconds per successful request."""
        return self.cpu / self.count * 1000 if self.count else float("nan")

    def p(self, q: float) -> float:
        """Return a latency percentile in milliseconds."""
        return percentile(self.latencies, q) * 1000


@contextlib.asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Cancel the block after `seconds`: every run stops by itself."""
    async with asyncio.timeout(seconds):
        yield


def cpu_seconds(server: Server) -> float:
    """Return the CPU time (user + system) used so far by a server and its workers."""
    import psutil

    assert server.process is not None
    parent = psutil.Process(server.process.pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total
