"""A small scripted load generator: browser-like users on threads, keep-alive connections.

Standard library only (``http.client``): on a 2-core machine the client shares the CPU
with the server, so it must cost as little as possible per request. Each
:class:`Browser` keeps its cookies (the Flask session), logs in through the real form
with its CSRF token, and reuses one connection. :func:`run_closed_loop` drives N of
them at once, each sending its next request as soon as the previous one is answered.
"""

from __future__ import annotations

import http.client
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

CSRF_RE = re.compile(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ALERT_RE = re.compile(rb'<div class="fr-alert fr-alert--error[^>]*>(.*?)</div>', re.S)
TAG_RE = re.compile(r"<[^>]+>")


def describe(reply: Reply) -> str:
    """Status, redirect target and the page's error message: what went wrong, in one line."""
    match = ALERT_RE.search(reply.body)
    message = " ".join(TAG_RE.sub(" ", match.group(1).decode(errors="replace")).split()) if match else ""
    return f"HTTP {reply.status} {reply.location} {message[:300]}".strip()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "") or ""


class Browser:
    """One user: a keep-alive connection to the server and its cookies."""

    # Reconnect before sending when the connection has been idle this long (the server
    # may have closed it: a POST is never sent twice).
    IDLE_RECONNECT = 20.0

    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None or time.monotonic() - self.last_used > self.IDLE_RECONNECT:
            self.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> Reply:
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "parcours-qpv-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
                self.close()
                if attempt == 2 or method != "GET":
                    raise
                continue
            break
        self.last_used = time.monotonic()
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        self._keep_cookies(response.msg)
        return Reply(response.status, response.msg, data)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, Any]) -> Reply:
        return self.request("POST", path, {"csrf_token": self.csrf or "", **form})

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if expired or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def take_csrf(self, body: bytes) -> str | None:
        match = CSRF_RE.search(body)
        if match:
            self.csrf = match.group(1).decode()
        return self.csrf

    def login(self, email: str, password: str) -> None:
        """Log in through the form (CSRF token of the login page), then take the session's
        token from the home page: the login clears the session, and its token with it."""
        page = self.get("/compte/connexion")
        self.take_csrf(page.body)
        reply = self.post("/compte/connexion", {"email": email, "password": password})
        if reply.status != 302:
            raise RuntimeError(f"login of {email} failed: HTTP {reply.status}")
        home = self.get("/")
        if home.status != 200 or not self.take_csrf(home.body):
            raise RuntimeError(f"no CSRF token on the home page of {email} (HTTP {home.status})")


# Load ----------------------------------------------------------------------------------------


@dataclass
class Request:
    """What a client sends next, and how its answer is judged."""

    method: str
    path: str
    form: dict[str, Any] | None = None
    check: Callable[[Reply], bool] = lambda reply: reply.status == 200
    on_reply: Callable[[Reply], None] | None = None  # called with every answer


@dataclass
class Sample:
    start: float
    latency: float
    status: int  # 0: no HTTP answer (exception)
    ok: bool
    detail: str = ""  # what went wrong, for an error


@dataclass
class Stats:
    name: str
    clients: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    errors: int
    server_errors: int
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str = ""
    #: CPU used by the load generator itself, in cores (it shares the machine with the server).
    client_cpu_cores: float | None = None
    #: PostgreSQL backends during the scenario (see bench.pgwatch).
    postgresql: dict[str, Any] = field(default_factory=dict)
    ratio_to_baseline: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    return values[max(math.ceil(q * len(values)) - 1, 0)]


def summarise(name: str, clients: int, samples: list[Sample], seconds: float) -> Stats:
    latencies = sorted(s.latency * 1000 for s in samples)
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    return Stats(
        name=name, clients=clients, requests=len(samples), seconds=round(seconds, 2),
        rps=round(len(samples) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=_round(percentile(latencies, 0.50)), p95_ms=_round(percentile(latencies, 0.95)),
        p99_ms=_round(percentile(latencies, 0.99)),
        mean_ms=_round(sum(latencies) / len(latencies)) if latencies else None,
        errors=sum(1 for s in samples if not s.ok), server_errors=sum(1 for s in samples if s.status >= 500),
        statuses=statuses, first_error=next((s.detail for s in samples if not s.ok), ""),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def send(browser: Browser, request: Request) -> Sample:
    start = time.perf_counter()
    try:
        reply = browser.request(request.method, request.path,
                                None if request.form is None else {"csrf_token": browser.csrf or "", **request.form})
    except Exception as exc:  # noqa: BLE001  (a failed request is a counted error, not a crash)
        return Sample(start, time.perf_counter() - start, 0, False, f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - start
    ok = request.check(reply)
    if request.on_reply is not None:
        request.on_reply(reply)
    return Sample(start, latency, reply.status, ok, "" if ok else describe(reply))


def run_closed_loop(name: str, browsers: list[Browser], next_request: Callable[[int, int], Request | None], *,
                    warmup: float, duration: float) -> Stats:
    """Every browser sends ``next_request(client, n)`` in a loop for ``warmup + duration``
    seconds (or until it returns None); samples of the warm-up are left out."""
    samples: list[Sample] = []
    lock = threading.Lock()
    begin = time.perf_counter()
    cpu_begin = time.process_time()
    measure_from, end = begin + warmup, begin + warmup + duration
    last_finish = [measure_from]

    def worker(index: int) -> None:
        browser, n, mine = browsers[index], 0, []
        while time.perf_counter() < end:
            request = next_request(index, n)
            if request is None:
                break
            n += 1
            sample = send(browser, request)
            if sample.start >= measure_from:
                mine.append(sample)
        with lock:
            samples.extend(mine)
            last_finish[0] = max(last_finish[0], min(time.perf_counter(), end))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Until the end of the run, or until the last client ran out of work (a pool of drafts).
    stats = summarise(name, len(browsers), samples, max(last_finish[0] - measure_from, 1e-9))
    stats.client_cpu_cores = round((time.process_time() - cpu_begin) / (time.perf_counter() - begin), 2)
    return stats


def in_parallel(function: Callable[[int], Any], count: int) -> list[Any]:
    """``function(i)`` for i in range(count) on ``count`` threads; results in order."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = function(i)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
