"""A real SMTP server for StableGate's tests (aiosmtpd): STARTTLS with a throwaway CA, AUTH,
and failure modes. Every accepted message is written to MAILDIR as NNNN.eml, with a .json
sidecar holding the envelope (sender, recipients, whether TLS and AUTH were used).

    python smtp_sink.py --port 0 --maildir DIR [--tls | --implicit-tls] [--auth USER:PASSWORD]
                        [--fail-first N] [--reject] [--silent]

Prints one JSON line when ready: {"port": …, "ca_file": …} (ca_file when --tls).
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def make_certificates(directory):
    """A CA and a localhost certificate it signs (openssl, from Debian)."""
    d = Path(directory)
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=StableGate test CA",
        "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", str(d / "server.key"), "-out", str(d / "server.csr"))
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", str(d / "server.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"), "-CAcreateserial",
        "-days", "2", "-extfile", str(d / "ext.cnf"), "-out", str(d / "server.pem"))
    return d / "ca.pem", d / "server.pem", d / "server.key"


class Sink:
    def __init__(self, maildir, fail_first, reject):
        self.maildir = Path(maildir)
        self.maildir.mkdir(parents=True, exist_ok=True)
        self.fail_first = fail_first
        self.reject = reject
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.reject:
            return "550 5.7.1 rejected by the test server"
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return "451 4.3.0 try again later (test server)"
            self.count += 1
            number = self.count
        name = self.maildir / f"{number:04d}"
        name.with_suffix(".eml").write_bytes(envelope.original_content or envelope.content)
        name.with_suffix(".json").write_text(json.dumps({
            "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
            # session.ssl is only set by STARTTLS; an implicit-TLS transport carries the SSL object.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None, "authenticated": bool(session.authenticated),
        }))
        return "250 2.0.0 stored"


def serve_silently(args):
    """A server that accepts and says nothing, so clients must time out."""
    listener = socket.create_server(("127.0.0.1", args.port))
    held = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in iter(int, 1)], daemon=True).start()
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    wait_for_stop(args)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--tls", action="store_true", help="offer and require STARTTLS")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (as on port 465)")
    parser.add_argument("--auth", help="USER:PASSWORD to require (AUTH PLAIN/LOGIN)")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 451 to the first N messages")
    parser.add_argument("--reject", action="store_true", help="answer 550 to every message")
    parser.add_argument("--silent", action="store_true", help="accept connections and never answer (timeouts)")
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    # A parent's blocked-signal mask is inherited through exec (Swift's test runner launches us
    # from a dispatch worker thread that blocks SIGTERM); unblock so SIGTERM stops us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    if args.silent:
        serve_silently(args)
        return

    if args.port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            args.port = s.getsockname()[1]
    options = {}
    ready = {"port": args.port}
    if args.tls or args.implicit_tls:
        ca, cert, key = make_certificates(tempfile.mkdtemp(prefix="smtp-sink-"))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        if args.implicit_tls:
            options.update(ssl_context=context)
        else:
            options.update(tls_context=context, require_starttls=True)
        ready["ca_file"] = str(ca)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

        # With implicit TLS the connection is encrypted before aiosmtpd sees it, so it must not
        # also demand STARTTLS before AUTH.
        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.tls)
    sink = Sink(args.maildir, args.fail_first, args.reject)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port, server_hostname="localhost", **options)
    controller.start()
    print(json.dumps(ready), flush=True)
    wait_for_stop(args)


def wait_for_stop(args):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    while not stop.wait(0.5):
        if args.exit_with_parent and os.getppid() != parent:
            break
    # Every accepted message is already on disk. Controller.stop() can wait for a client's
    # lingering TLS connection to close (Server.wait_closed on Python 3.12+), so leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
