"""Connection deadlines, the per-client connection cap and where /metrics is served, against the
real binary on loopback sockets. Linux routes all of 127/8 to lo, so connections bound to
127.0.0.2 are a second client next to the tests' usual 127.0.0.1."""
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request

from conftest import Gateway, free_port

OTHER_CLIENT = "127.0.0.2"
# However slow the machine, a deadline of a few seconds is enforced well within this; the idle
# timeout left at its default (60 s) is not, so only the deadline under test can pass.
SLACK = 20


def start(tmp_path, **settings):
    env = {**os.environ, **{"STABLEGATE_" + key: str(value) for key, value in settings.items()}}
    return Gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, env=env).start()


def health(gateway):
    """/healthz's status code and its `status` member (it also names the version and commit)."""
    with urllib.request.urlopen(gateway.base_url + "/healthz", timeout=10) as reply:
        return reply.status, json.loads(reply.read())["status"]


def raw_connection(gateway, source=OTHER_CLIENT):
    return socket.create_connection(("127.0.0.1", gateway.port), timeout=10, source_address=(source, 0))


def kept_alive(gateway, source=OTHER_CLIENT):
    """A keep-alive connection from `source` that has had one /healthz answered."""
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10, source_address=(source, 0))
    assert get_health(connection) == 200
    return connection


def get_health(connection):
    connection.request("GET", "/healthz")
    reply = connection.getresponse()
    reply.read()
    return reply.status


def wait_closed(sockets, deadline):
    """Reads every socket until the server closes it; returns those still open at `deadline`."""
    still_open = []
    for sock in sockets:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                still_open.append(sock)
                break
            sock.settimeout(remaining)
            try:
                if sock.recv(4096) == b"":
                    break
            except (ConnectionResetError, BrokenPipeError):
                break
            except socket.timeout:
                still_open.append(sock)
                break
    return still_open


def test_half_sent_requests_are_closed_at_their_deadlines_while_healthz_answers(tmp_path):
    gateway = start(tmp_path, HTTP_HEADER_TIMEOUT=2, HTTP_BODY_TIMEOUT=2)
    sockets = []
    try:
        started = time.monotonic()
        heads = [raw_connection(gateway) for _ in range(30)]
        for sock in heads:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        bodies = [raw_connection(gateway) for _ in range(10)]
        for sock in bodies:
            # The login form is read before anything is answered, so only a deadline ends the wait.
            sock.sendall(b"POST /dashboard/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 100\r\n\r\nemail=a%40b")
        sockets = heads + bodies
        assert health(gateway) == (200, "ok")
        # A slow client keeps sending: progress does not extend a deadline.
        time.sleep(1)
        for sock in heads:
            try:
                sock.sendall(b"a")
            except OSError:
                pass  # already closed: a very slow machine; the deadline is checked below anyway
        assert health(gateway) == (200, "ok")
        assert wait_closed(sockets, started + 2 + SLACK) == [], "half-sent requests outlived their deadline"
        assert health(gateway) == (200, "ok")
    finally:
        for sock in sockets:
            sock.close()
        gateway.stop()


def test_keep_alive_connections_rest_until_the_idle_timeout_not_the_header_deadline(tmp_path):
    gateway = start(tmp_path, HTTP_HEADER_TIMEOUT=2, HTTP_IDLE_TIMEOUT=8)
    try:
        connection = kept_alive(gateway)
        first = connection.sock
        time.sleep(4)  # past the header deadline, within the idle timeout
        assert get_health(connection) == 200
        assert connection.sock is first, "the connection was reopened"
        assert wait_closed([first], time.monotonic() + 8 + SLACK) == [], "an idle connection outlived the idle timeout"
    finally:
        gateway.stop()


def test_a_client_at_its_connection_cap_is_refused_more_while_others_are_served(tmp_path):
    gateway = start(tmp_path, HTTP_MAX_CONNECTIONS_PER_CLIENT=4)
    held = []
    try:
        held = [kept_alive(gateway) for _ in range(4)]
        extra = raw_connection(gateway)
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        except OSError:
            pass  # closed before the request went out
        assert wait_closed([extra], time.monotonic() + SLACK) == [], "a fifth connection from one client was kept open"
        extra.close()
        # Another client is served, and so is every connection the first one holds.
        assert health(gateway) == (200, "ok")
        assert [get_health(connection) for connection in held] == [200] * 4
        # A closed connection frees its place (once the gateway has seen it close).
        held.pop().close()
        deadline = time.monotonic() + SLACK
        while True:
            try:
                held.append(kept_alive(gateway))
                break
            except (ConnectionError, http.client.RemoteDisconnected):
                assert time.monotonic() < deadline, "the closed connection's place was never freed"
                time.sleep(0.2)
        assert [get_health(connection) for connection in held] == [200] * 4
    finally:
        for connection in held:
            connection.close()
        gateway.stop()


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_are_only_on_the_configured_address_behind_the_token(tmp_path):
    token = "e2e-metrics-" + "7" * 20
    metrics_port = free_port()
    gateway = start(tmp_path, METRICS_LISTEN=f"127.0.0.1:{metrics_port}", METRICS_TOKEN=token)
    try:
        assert health(gateway)[0] == 200
        status, body = get(gateway.base_url + "/metrics", {"Authorization": f"Bearer {token}"})
        assert status == 404 and json.loads(body)["code"] == 10001, body
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        status, body = get(metrics)
        assert status == 401 and json.loads(body)["code"] == 20001, body
        status, body = get(metrics, {"Authorization": f"Bearer {token[:-1]}8"})
        assert status == 401 and json.loads(body)["code"] == 20002, body
        status, body = get(metrics, {"Authorization": f"Bearer {token}"})
        assert status == 200, body
        # The public port's traffic, counted per route.
        assert "hb_requests" in body and "/healthz" in body, body[:2000]
    finally:
        gateway.stop()


def test_metrics_are_not_served_without_configuration(tmp_path):
    gateway = start(tmp_path)
    try:
        status, body = get(gateway.base_url + "/metrics")
        assert status == 404 and json.loads(body)["code"] == 10001, body
    finally:
        gateway.stop()
