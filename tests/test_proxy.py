"""The shipped deployment's proxy, for real: Debian's nginx with `deploy/nginx.conf`.

nginx runs the shipped file with only its addresses changed (loopback ports, two `serve`
processes instead of compose's `app` replicas, a self-signed certificate). People connect
from distinct loopback addresses (127.0.0.x), so nginx sees each one's own address, as it
would on the internet; the apps trust nginx (TRUSTED_PROXIES=127.0.0.1) and nobody else.

Skipped with a reason where nginx or openssl is not installed (`.ci/run` installs both).
"""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.privacy_helpers import Serve, free_port, subprocess_env

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
OPENSSL = shutil.which("openssl")
API = "/api/v1/conversations"
PSEUDONYM_SECRET = "proxy-test-pseudonyms-0123456789abcdef"
ADMIN_TOKEN = "proxy-test-admin-token-0123456789abcdef"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed"),
]


@dataclass
class Proxy:
    """A running nginx: its HTTP and HTTPS ports and its error output."""

    process: subprocess.Popen[bytes]
    http_port: int
    https_port: int
    folder: Path

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def errors(self) -> str:
        """Everything nginx wrote to its error logs so far."""
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.folder.glob("*.log"))
        )


def site_config(upstreams: list[str], http_port: int, https_port: int, certs: Path) -> str:
    """Return the shipped config with loopback addresses and test certificates."""
    text = SHIPPED.read_text(encoding="utf-8")
    servers = "".join(f"    server {u};\n" for u in upstreams)
    text, n = re.subn(r"    server app:8000;\n", servers, text)
    assert n == 1, "deploy/nginx.conf no longer has `server app:8000;` in its upstream"
    text = text.replace("listen [::]:80;", "").replace("listen [::]:443 ssl;", "")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    return text.replace("/etc/nginx/certs/", f"{certs}/")


def make_certificate(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
         "/CN=localhost", "-keyout", str(folder / "privkey.pem"),
         "-out", str(folder / "fullchain.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def start_nginx(folder: Path, upstreams: list[str]) -> Proxy:
    """Start nginx in the foreground with the shipped site config; wait until it listens."""
    folder.mkdir(parents=True, exist_ok=True)
    make_certificate(folder / "certs")
    http_port, https_port = free_port(), free_port()
    (folder / "site.conf").write_text(
        site_config(upstreams, http_port, https_port, folder / "certs"), encoding="utf-8"
    )
    temp = folder / "temp"
    temp.mkdir(exist_ok=True)
    temp.chmod(0o777)
    (folder / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/main.log warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
        f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n"
        f"  scgi_temp_path {temp}/scgi;\n  include {folder}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    stderr = (folder / "stderr.log").open("wb")
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", f"{folder}/main.log"],
        stdin=subprocess.DEVNULL,
        stdout=stderr,
        stderr=stderr,
    )
    proxy = Proxy(process, http_port, https_port, folder)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise AssertionError(f"nginx did not start:\n{proxy.errors()}")
        try:
            httpx.get(f"{proxy.http}/", timeout=1)
            return proxy
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"nginx did not listen:\n{proxy.errors()}") from None
            time.sleep(0.1)


def stop_nginx(proxy: Proxy) -> None:
    if proxy.process.poll() is None:
        proxy.process.terminate()
        try:
            proxy.process.wait(10)
        except subprocess.TimeoutExpired:
            proxy.process.kill()
            proxy.process.wait()


def client(proxy: Proxy, source: str, connections: int = 4) -> httpx.AsyncClient:
    """A client whose connections (at most `connections`) come from the address `source`."""
    transport = httpx.AsyncHTTPTransport(
        local_address=source, verify=False, limits=httpx.Limits(max_connections=connections)
    )
    return httpx.AsyncClient(base_url=proxy.https, transport=transport, timeout=20)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proxy, list[Serve]]]:
    """nginx with the shipped config in front of two `serve` processes on one database."""
    folder = tmp_path_factory.mktemp("deployment")
    database = f"sqlite+aiosqlite:///{folder / 'shared.db'}"
    apps = [
        Serve(
            subprocess_env(
                DATABASE_URL=database,
                PSEUDONYM_SECRET=PSEUDONYM_SECRET,
                ADMIN_TOKEN=ADMIN_TOKEN,
                DATA_DIR=str(folder / f"app{n}" / "data"),
                TRUSTED_PROXIES="127.0.0.1",
                LOG_LEVEL="WARNING",
            ),
            cwd=folder / f"app{n}",
        ).start()
        for n in range(2)
    ]
    proxy = None
    try:

        async def ready() -> None:
            await asyncio.gather(*(app.ready() for app in apps))

        asyncio.run(ready())
        proxy = start_nginx(folder / "nginx", [f"127.0.0.1:{app.port}" for app in apps])
        yield proxy, apps
    finally:
        if proxy is not None:
            stop_nginx(proxy)
        for app in apps:
            app.kill_quietly()


async def person(proxy: Proxy, n: int) -> list[int]:
    """One person from their own address: start, open the job check, answer, reload."""
    statuses = []
    async with client(proxy, f"127.0.0.{10 + n}") as http:
        created = await http.post(API, json={"lang": "en"})
        statuses.append(created.status_code)
        if created.status_code != 201:
            return statuses
        body = created.json()
        auth = {"Authorization": f"Bearer {body['token']}"}
        path = f"{API}/{body['id']}"
        for choice in ("menu.main.job", None):
            if choice is None:
                response = await http.get(path, headers=auth)
            else:
                response = await http.post(
                    f"{path}/messages", json={"choice": choice}, headers=auth
                )
            statuses.append(response.status_code)
            await asyncio.sleep(0.2)
    return statuses


async def flood(proxy: Proxy, requests: int, statuses: Counter[int]) -> None:
    """One client sending as fast as it can, with a new made-up X-Forwarded-For each time."""
    async with client(proxy, "127.0.0.250", connections=10) as http:

        async def one(i: int) -> None:
            forged = {"X-Forwarded-For": f"203.0.113.{i % 250}"}
            response = await http.post(API, json={}, headers=forged)
            statuses[response.status_code] += 1
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "rate_limited"
                assert response.headers["Retry-After"]

        await asyncio.gather(*(one(i) for i in range(requests)))


def test_one_flooding_client_does_not_lock_out_75_people(deployment) -> None:
    """H-1, M-1: the flood is limited at the proxy; every person behind it gets through."""
    proxy, _apps = deployment
    flooded: Counter[int] = Counter()

    async def scenario() -> list[list[int]]:
        await flood(proxy, 150, flooded)  # the flooder first empties what it can
        started = time.monotonic()
        people = asyncio.gather(*(person(proxy, n) for n in range(75)))
        results, _ = await asyncio.gather(people, flood(proxy, 150, flooded))
        assert time.monotonic() - started < 60
        return results

    results = asyncio.run(scenario())
    everyone = Counter(status for statuses in results for status in statuses)
    assert everyone == {201: 75, 200: 150}, everyone
    # nginx lets a burst of 60 and 3 a second through; the rest of 300 is refused.
    assert flooded[429] >= 200, flooded
    assert flooded[201] + flooded[429] == 300, flooded


def test_forged_forwarding_headers_do_not_buy_a_new_bucket(tmp_path: Path) -> None:
    """M-1: without TRUSTED_PROXIES the app ignores X-Forwarded-For (nothing trusted)."""

    async def run(trusted: str | None) -> Counter[int]:
        app = Serve(
            subprocess_env(
                PSEUDONYM_SECRET=PSEUDONYM_SECRET,
                DATA_DIR=str(tmp_path / f"d{trusted}" / "data"),
                RATE_LIMIT_PER_ADDRESS="20",  # a burst of 10
                TRUSTED_PROXIES=trusted,
                LOG_LEVEL="WARNING",
            ),
            cwd=tmp_path / f"d{trusted}",
        ).start()
        try:
            await app.ready()
            seen: Counter[int] = Counter()
            async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
                for i in range(20):
                    forged = {"X-Forwarded-For": f"203.0.113.{i}"}
                    seen[(await http.post(API, json={}, headers=forged)).status_code] += 1
            return seen
        finally:
            await app.stop()

    assert asyncio.run(run(None))[429] >= 9
    # A proxy the operator named is believed: each forwarded address has its own bucket.
    assert asyncio.run(run("127.0.0.1")) == {201: 20}


def test_plain_http_redirects_and_https_sends_hsts(deployment) -> None:
    """M-8: the shipped proxy speaks TLS; plain HTTP only redirects; browsers pin HTTPS."""
    proxy, _apps = deployment
    plain = httpx.get(f"{proxy.http}/chat", timeout=5)
    assert plain.status_code == 301
    assert plain.headers["location"].startswith("https://")
    secure = httpx.get(f"{proxy.https}/chat", verify=False, timeout=5)
    assert secure.status_code == 200
    assert "max-age=31536000" in secure.headers["strict-transport-security"]
    assert "server" not in secure.headers or "nginx/" not in secure.headers["server"]


def readme_checks() -> list[str]:
    """Return the `curl` commands of README's "5. Check" step, as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    step = readme.split("**5. Check**", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"`(curl [^`]+)`", step)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readmes_deployment_check_works_as_written(deployment) -> None:
    """README step 5, run against the shipped proxy: GET, since the app does not serve HEAD."""
    proxy, _apps = deployment
    commands = readme_checks()
    assert len(commands) == 2, commands
    outputs = []
    for command in commands:
        args = shlex.split(command)
        assert "-I" not in args and "--head" not in args, command
        args = [a.replace("https://chat.example.org", proxy.https) for a in args]
        args = [a.replace("http://chat.example.org", proxy.http) for a in args]
        done = subprocess.run(
            [args[0], "--insecure", *args[1:]], capture_output=True, text=True, timeout=20
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    headers, redirect = outputs
    assert headers.startswith("HTTP/1.1 200"), headers
    assert "strict-transport-security: max-age=31536000" in headers.lower()
    assert redirect.strip() == "301"
    # Why the README says GET: HEAD is answered 405 by the app behind the proxy.
    assert httpx.head(f"{proxy.https}/chat", verify=False, timeout=5).status_code == 405


def test_admin_cookie_is_secure_behind_the_proxy(deployment) -> None:
    """L-3: nginx says the request came by HTTPS, so the session cookie is `Secure`."""
    proxy, _apps = deployment
    response = httpx.post(
        f"{proxy.https}/admin/login",
        data={"token": ADMIN_TOKEN, "next": "/admin"},
        verify=False,
        timeout=5,
    )
    assert response.status_code == 303, response.text
    assert "secure" in response.headers["set-cookie"].lower()


def test_upstream_errors_do_not_log_client_addresses(tmp_path: Path) -> None:
    """M-5: when the app is down (a restart, a deploy), nginx's log names no one."""
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    proxy = start_nginx(tmp_path / "nginx", [dead])
    try:
        conversation = "Zq3xVn8pL2mKw9rT5yB1cA"

        async def call() -> int:
            async with client(proxy, "127.0.0.77") as http:
                response = await http.post(f"{API}/{conversation}/messages", json={"text": "x"})
                return response.status_code

        assert asyncio.run(call()) == 502
        time.sleep(0.2)
    finally:
        stop_nginx(proxy)
    log = proxy.errors()
    assert "127.0.0.77" not in log, log
    assert conversation not in log, log
