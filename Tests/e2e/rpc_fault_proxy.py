"""A fault-injecting JSON-RPC HTTP proxy for the end-to-end tests of the gateway's chain watcher.

It listens on a free loopback port (a `ThreadingHTTPServer` in a background thread of the test
process) and forwards to an upstream JSON-RPC URL (the sandbox chain), except that the test can
switch it, at run time, to answer the way real providers and load-balanced node fleets misbehave:

    proxy = RPCFaultProxy(chain.chain(0)["rpc_url"]).start()
    proxy.mode = "range_cap"; proxy.cap = 10      # or proxy.set("range_cap", cap=10)
    ...
    proxy.mode = "pass"
    proxy.count("eth_getLogs", mode="range_cap")   # how many eth_getLogs calls it saw in that mode
    proxy.stop()

Single requests and JSON-RPC batches (arrays) are both handled. Faults of one call (a range
limit, a lagging backend's short answer, a JSON-RPC rate-limit error) are applied per batch item,
the other items being forwarded upstream together, still as one batch; faults of the transport
(HTTP 429/502, an empty or cut answer, a hang, a dead endpoint) apply to the whole HTTP request.

Modes:
  pass        forward as is.
  rate_limit  half the requests: HTTP 429 with `Retry-After: <retry_after>` (1); the other half:
              HTTP 200 with the JSON-RPC error {"code": -32005, "message": "limit exceeded"} for
              every call (per item in a batch).
  range_cap   `eth_getLogs` spanning more than `cap` blocks gets {"code": -32602, "message":
              "eth_getLogs is limited to a <cap> range"}; everything else is forwarded.
  html_502    HTTP 502 with an HTML page (a load balancer with no healthy backend).
  truncated   a valid upstream answer cut in half: alternately a well-formed HTTP response whose
              JSON body is cut (Content-Length of the half), and the full Content-Length announced
              with only half the body sent before the connection is closed.
  empty       HTTP 200 with an empty body.
  hang        hold the request `hang_seconds` (3) — longer than the gateway's `rpc_timeout_ms` —
              then forward it and answer (to a client that has usually given up).
  lag         a backend `lag` blocks behind: `eth_blockNumber` answers the TRUE head, but the
              backend only has blocks up to `head - lag` ("visible"): `eth_getLogs` silently drops
              logs above it (toBlock clamped, no error; [] when fromBlock is above it),
              `eth_getBlockByNumber(n)` for n above it answers null, "latest"/"pending" answer
              the visible block, receipts of transactions above it are null.
  backwards   `eth_blockNumber` alternately answers the true head and `backwards_by` (4) lower.
  dead        the connection is closed without an answer (RST), request read or not.
  refuse      the port is not listened on at all: connections are refused (and the open
              keep-alive connections are cut). Leaving this mode listens on the same port again.

Counters (thread-safe): `counts[(mode, method)]` per JSON-RPC call (batch items counted one by
one), `requests[mode]` per HTTP request, `faults[(mode, kind)]` per injected fault. For lag,
`lag_visible_max` is the highest block the lagging backend ever let the gateway see.
"""
import collections
import http.client
import json
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("pass", "rate_limit", "range_cap", "html_502", "truncated", "empty", "hang", "lag", "backwards", "dead", "refuse")

HTML_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
            b"<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n")


def _quantity(value):
    return int(value, 16) if isinstance(value, str) and value.startswith("0x") else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Connections are reset on purpose (dead, hang): do not print their tracebacks.

    def handle_error(self, request, client_address):
        pass


class RPCFaultProxy:
    """See the module docstring."""

    def __init__(self, upstream, mode="pass", cap=10, lag=10, backwards_by=4, hang_seconds=3.0, retry_after=1, name="proxy"):
        self.upstream = upstream
        parts = urllib.parse.urlsplit(upstream)
        self._upstream_host, self._upstream_port = parts.hostname, parts.port or 80
        self._upstream_path = parts.path or "/"
        self.name = name
        self.cap = cap
        self.lag = lag
        self.backwards_by = backwards_by
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._mode = "pass"
        self.counts = collections.Counter()
        self.requests = collections.Counter()
        self.faults = collections.Counter()
        self.lag_visible_max = None
        self._sequence = collections.Counter()  # per mode, for the alternating faults
        self._connections = set()
        self._local = threading.local()
        self.server = None
        self.port = None
        self.mode = mode

    # ---- life cycle -------------------------------------------------------------------------

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self._listen(0)
        return self

    def stop(self):
        self._close_listener()
        self._cut_connections()

    def _listen(self, port):
        last = None
        for _ in range(50):  # a port just closed may take a moment to be bound again
            try:
                self.server = _Server(("127.0.0.1", port), self._handler())
                break
            except OSError as error:
                last = error
                time.sleep(0.1)
        else:
            raise AssertionError(f"{self.name}: could not listen on 127.0.0.1:{port}: {last}")
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name=f"{self.name}-{self.port}", daemon=True).start()

    def _close_listener(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def _cut_connections(self):
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # Another thread reads from it: shut it down (which wakes that thread), not close it.
            try:
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- switching --------------------------------------------------------------------------

    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, value):
        assert value in MODES, f"unknown mode {value!r}; one of {MODES}"
        previous = self._mode
        self._mode = value
        if self.port is None:
            return  # not started yet
        if value == "refuse" and previous != "refuse":
            self._close_listener()
            self._cut_connections()
        elif previous == "refuse" and value != "refuse":
            self._listen(self.port)

    def set(self, mode, **params):
        """Sets parameters (cap, lag, backwards_by, hang_seconds, retry_after), then the mode."""
        for key, value in params.items():
            assert hasattr(self, key) and key != "mode", key
            setattr(self, key, value)
        self.mode = mode
        return self

    # ---- counters ---------------------------------------------------------------------------

    def count(self, method=None, mode=None):
        """JSON-RPC calls seen, optionally of one method and/or in one mode."""
        with self._lock:
            return sum(n for (m, meth), n in self.counts.items() if (mode is None or m == mode) and (method is None or meth == method))

    def fault_count(self, mode=None, kind=None):
        with self._lock:
            return sum(n for (m, k), n in self.faults.items() if (mode is None or m == mode) and (kind is None or k == kind))

    def _note(self, mode, calls):
        with self._lock:
            self.requests[mode] += 1
            for call in calls:
                self.counts[(mode, call.get("method") if isinstance(call, dict) else None)] += 1
            self._sequence[mode] += 1
            return self._sequence[mode]

    def _fault(self, mode, kind, n=1):
        with self._lock:
            self.faults[(mode, kind)] += n

    # ---- upstream ---------------------------------------------------------------------------

    def _post_upstream(self, payload):
        """POSTs JSON to the upstream on this thread's keep-alive connection; returns (status, bytes)."""
        body = json.dumps(payload).encode()
        for attempt in range(2):
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = self._local.connection = http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=60)
            try:
                connection.request("POST", self._upstream_path, body=body, headers={"Content-Type": "application/json"})
                reply = connection.getresponse()
                return reply.status, reply.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _upstream_call(self, method, params=()):
        _, raw = self._post_upstream({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        return json.loads(raw)["result"]

    # ---- per-call faults (applied to each item of a batch) ------------------------------------

    def _plan(self, mode, call, head, sequence):
        """For one call: ("answer", response) answered here, or ("forward", call, post) where
        post(response) -> response rewrites the upstream's answer."""
        if not isinstance(call, dict):
            return "answer", {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        ident, method, params = call.get("id"), call.get("method"), list(call.get("params") or [])

        def error(code, message):
            return "answer", {"jsonrpc": "2.0", "id": ident, "error": {"code": code, "message": message}}

        def result(value):
            return "answer", {"jsonrpc": "2.0", "id": ident, "result": value}

        def keep(response):
            return response

        if mode == "rate_limit":
            self._fault(mode, "-32005")
            return error(-32005, "limit exceeded")
        if mode == "range_cap" and method == "eth_getLogs" and params:
            criteria = params[0] or {}
            start, end = _quantity(criteria.get("fromBlock")), _quantity(criteria.get("toBlock"))
            if criteria.get("blockHash") is None and start is not None and end is not None and end - start + 1 > self.cap:
                self._fault(mode, "range")
                return error(-32602, f"eth_getLogs is limited to a {self.cap} range")
        if mode == "backwards" and method == "eth_blockNumber" and sequence % 2 == 1:
            lower = max(0, head - self.backwards_by)
            self._fault(mode, "lower_head")
            return result(hex(lower))
        if mode == "lag":
            visible = max(0, head - self.lag)
            with self._lock:
                self.lag_visible_max = visible if self.lag_visible_max is None else max(self.lag_visible_max, visible)
            if method == "eth_getLogs" and params and (params[0] or {}).get("blockHash") is None:
                criteria = dict(params[0] or {})
                start = _block(criteria.get("fromBlock", "latest"), visible)
                end = _block(criteria.get("toBlock", "latest"), visible)
                if end > visible:
                    self._fault(mode, "logs_clamped")
                if start > visible:
                    return result([])
                criteria["fromBlock"], criteria["toBlock"] = hex(start), hex(min(end, visible))
                return "forward", {**call, "params": [criteria, *params[1:]]}, keep
            if method == "eth_getBlockByNumber" and params:
                number = _block(params[0], visible)
                if number > visible:
                    self._fault(mode, "null_block")
                    return result(None)
                if params[0] in ("latest", "pending", "safe", "finalized"):
                    self._fault(mode, "latest_lagged")
                return "forward", {**call, "params": [hex(number), *params[1:]]}, keep
            if method == "eth_getTransactionReceipt":
                def hide_unseen(response):
                    receipt = response.get("result")
                    if isinstance(receipt, dict) and (_quantity(receipt.get("blockNumber")) or 0) > visible:
                        self._fault(mode, "receipt_hidden")
                        return {**response, "result": None}
                    return response
                return "forward", call, hide_unseen
        return "forward", call, keep

    def _answer(self, mode, request, sequence):
        """The JSON to send back for a parsed request (an object or a batch array)."""
        calls = request if isinstance(request, list) else [request]
        head = None
        if mode in ("lag", "backwards"):
            head = int(self._upstream_call("eth_blockNumber"), 16)
        plans = [self._plan(mode, call, head, sequence) for call in calls]
        forwarded = [plan[1] for plan in plans if plan[0] == "forward"]
        answers = {}
        if forwarded:
            _, raw = self._post_upstream(forwarded if isinstance(request, list) else forwarded[0])
            upstream = json.loads(raw)
            upstream = upstream if isinstance(upstream, list) else [upstream]
            by_id = {json.dumps(answer.get("id")): answer for answer in upstream}
            for plan in plans:
                if plan[0] == "forward":
                    answer = by_id.get(json.dumps(plan[1].get("id")))
                    answers[id(plan)] = plan[2](answer) if answer is not None else None
        out = []
        for plan in plans:
            answer = plan[1] if plan[0] == "answer" else answers.get(id(plan))
            if answer is not None:
                out.append(answer)
        return out if isinstance(request, list) else out[0]

    # ---- HTTP -------------------------------------------------------------------------------

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with proxy._lock:
                    proxy._connections.add(self.connection)

            def finish(self):
                with proxy._lock:
                    proxy._connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

            def send_body(self, status, body, content_type="application/json", headers=()):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                mode = proxy.mode
                if mode in ("dead", "refuse"):
                    proxy._note(mode, [])
                    proxy._fault(mode, "reset")
                    self.close_connection = True
                    _reset(self.connection)
                    return
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    request = json.loads(raw)
                except ValueError:
                    return self.send_body(200, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
                calls = request if isinstance(request, list) else [request]
                sequence = proxy._note(mode, calls)
                try:
                    if mode == "rate_limit" and sequence % 2 == 1:
                        proxy._fault(mode, "http_429")
                        return self.send_body(429, b"Too Many Requests\n", "text/plain", [("Retry-After", str(proxy.retry_after))])
                    if mode == "html_502":
                        proxy._fault(mode, "http_502")
                        return self.send_body(502, HTML_502, "text/html")
                    if mode == "empty":
                        proxy._fault(mode, "empty")
                        return self.send_body(200, b"")
                    if mode == "hang":
                        proxy._fault(mode, "hang")
                        time.sleep(proxy.hang_seconds)
                    body = json.dumps(proxy._answer(mode, request, sequence)).encode()
                    if mode == "truncated":
                        half = body[: len(body) // 2]
                        if sequence % 2:
                            proxy._fault(mode, "cut_body")
                            return self.send_body(200, half)
                        proxy._fault(mode, "cut_connection")
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(half)
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_WR)  # EOF before the announced length
                        return
                    self.send_body(200, body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout) or the test cut it
                except OSError:
                    self.close_connection = True

        return Handler


def _block(value, latest):
    """A block parameter as a number, "latest"-like tags meaning `latest`."""
    if value in (None, "latest", "pending", "safe", "finalized"):
        return latest
    if value == "earliest":
        return 0
    return int(value, 16)


def _reset(connection):
    """Closes a socket with a TCP RST (no FIN, no answer)."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        connection.close()
    except OSError:
        pass
