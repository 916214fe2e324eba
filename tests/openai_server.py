"""A scriptable fake OpenAI chat-completions server for tests (loopback only, ephemeral port).

Each request to ``POST /v1/chat/completions`` takes the next planned action from a queue; when the
queue is empty it asks ``fault(body)`` for an action (fault injection, decided per request), and
otherwise answers ``respond(body)`` (default ``echo: <last user message>``). Actions:

* ``("ok", text)`` or ``("ok", text, [logprob, ...])``: answer ``text`` (with per-token logprobs);
* ``("status", code)``, ``("status", code, {header: value})`` or ``("status", code, headers, message)``: an
  OpenAI-style JSON error;
* ``("sleep", seconds)``: wait (interruptible at shutdown), then answer as if the queue were empty;
* ``("die",)``: the server goes down: this connection is dropped without an answer and the port
  stops accepting (a later ``start`` on the same port brings it back).

Every request is recorded (path, headers, parsed JSON body), and the highest number of requests
in flight at once is tracked.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Action = tuple[Any, ...]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: dict[str, Any]


class FakeOpenAIServer:
    """A real HTTP server on 127.0.0.1 that plays planned responses.

    Args:
        delay: seconds every request waits before answering (on top of any ``sleep`` action).
        port: the port to listen on (0: an ephemeral one); a restarted server reuses its port.
        respond: the answer text of a request body (default: an echo of the last user message).
        fault: per request body, an action overriding the answer (``None``: answer normally).

    Attributes:
        requests: every request received, in arrival order.
        max_in_flight: the most requests handled at the same time so far.
    """

    def __init__(
        self,
        delay: float = 0.0,
        port: int = 0,
        respond: Callable[[dict[str, Any]], str] | None = None,
        fault: Callable[[dict[str, Any]], Action | None] | None = None,
    ) -> None:
        self.delay, self.respond, self.fault = delay, respond, fault
        self.requests: list[RecordedRequest] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._plan: deque[Action] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._stopped = False

    @property
    def url(self) -> str:
        """The API root to pass as ``base_url`` (``http://127.0.0.1:<port>/v1``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def plan(self, *actions: Action) -> None:
        """Queue actions, consumed one per request in arrival order."""
        with self._lock:
            self._plan.extend(actions)

    def start(self) -> FakeOpenAIServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers and close the socket (bounded: waits at most 5 s)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def restarted(self) -> FakeOpenAIServer:
        """A new server on the same port with the same behaviour (after ``stop`` or a ``die``)."""
        self.stop()
        return FakeOpenAIServer(self.delay, self.port, self.respond, self.fault).start()

    # -- called by the handler ------------------------------------------------------------------

    def _enter(self, request: RecordedRequest) -> Action | None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            if self._plan:
                return self._plan.popleft()
        return self.fault(request.body) if self.fault else None

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


def _completion(body: dict[str, Any], text: str, logprobs: list[float] | None) -> dict[str, Any]:
    """A valid chat-completion object answering ``body`` with ``text``."""
    messages = body.get("messages") or []
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "finish_reason": "stop",
        "logprobs": None,
    }
    if logprobs is not None:
        tokens = text.split() or [""]
        choice["logprobs"] = {
            "content": [
                {"token": tokens[i % len(tokens)], "logprob": lp, "bytes": None, "top_logprobs": []}
                for i, lp in enumerate(logprobs)
            ]
        }
    return {
        "id": f"chatcmpl-fake-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt_tokens + len(text.split()),
        },
    }


def _answer(server: FakeOpenAIServer, body: dict[str, Any]) -> str:
    return server.respond(body) if server.respond else _echo(body)


def _echo(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    return f"echo: {users[-1].get('content', '')}" if users else "echo:"


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads
        timeout = 10  # socket timeout, so a stuck client cannot hold a handler forever

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr access logs
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            request = RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            action = server._enter(request)
            try:
                self._respond(body, action)
            except OSError:  # the client gave up (timeout) and closed the connection
                pass
            finally:
                server._leave()

        def _respond(self, body: dict[str, Any], action: Action | None) -> None:
            server._wait(server.delay)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            kind = action[0] if action else "ok"
            if kind == "die":  # drop this connection unanswered and stop accepting new ones
                threading.Thread(target=server.stop, daemon=True).start()
                self.close_connection = True
                return
            if kind == "sleep":
                server._wait(float(action[1]))
                self._send(200, _completion(body, _answer(server, body), None))
            elif kind == "status":
                code = int(action[1])
                headers = action[2] if len(action) > 2 else {}
                message = action[3] if len(action) > 3 else f"planned HTTP {code}"
                error = {"message": message, "type": "fake_error", "param": None, "code": None}
                self._send(code, {"error": error}, headers)
            elif kind == "ok":
                text = action[1] if action else _answer(server, body)
                logprobs = action[2] if action and len(action) > 2 else None
                self._send(200, _completion(body, text, logprobs))
            else:
                raise ValueError(f"unknown planned action {action!r}")

        def _send(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
