#!/usr/bin/env python3
"""acmeproxy.py: a fault-injecting HTTPS proxy in front of Pebble.

The integration tests put it between the daemon and Pebble to make the CA
misbehave on purpose.  It terminates TLS on a loopback port with a
certificate the daemon's trust-bundle trusts, and forwards every request
to Pebble over HTTPS with the Host header unchanged: Pebble builds every
URL it hands out from the request's Host, and checks a JWS "url" against
https://Host/path, so the daemon only ever sees the proxy's address and
nothing needs rewriting.

Rules say what to do instead of (or on top of) forwarding.  A rule matches
a request by endpoint name (see ENDPOINTS) or a path regex, optionally a
method, and applies `times` times or until it is cleared.  The first
matching rule with uses left wins.  Actions:

  respond    answer without asking Pebble: status (default 200), and
             problem (an RFC 8555 error type, e.g. rateLimited: a problem
             document is sent), detail, json (a body object) or body (text)
  drop       forward, then send the status line, the headers and half of
             the body, and close the connection
  stall      hold the request `seconds` (default 3600) or until the rule is
             cleared, then forward it
  malformed  forward, then send only the first half of the body (or `body`)
  oversize   forward, then pad the body with spaces to `bytes` (default
             2 MiB + 1)
  wrongkey   forward a certificate download, then swap its leaf for one of
             the same names but another key, issued by a CA of our own
  rewrite    forward, then merge `set` (an object, recursively) into the
             JSON body: e.g. {"status": "processing"} for an order, or
             {"meta": {"profiles": {...}}, "renewalInfo": URL} for the
             directory

Every action takes retry_after (seconds) to add a Retry-After header.

Rules come from --rules FILE (a JSON list) and from the control port (plain
HTTP on loopback):

  GET    /rules        the rules, with how often each was used ("hits")
  POST   /rules        add a rule (an object) or rules (a list); -> {"ids"}
  DELETE /rules        remove every rule (a stalled request goes on)
  DELETE /rules/ID     remove one

Every request is recorded, as it arrives, as one JSON line in --log:
time, method, path, endpoint, the JWS protected header and payload
(decoded; payload "" for POST-as-GET), and the action applied, if any.

Python 3 standard library only; `openssl` (the command) for wrongkey.
"""

import argparse
import base64
import http.client
import http.server
import itertools
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# Pebble's paths (wfe/wfe.go), by the names RFC 8555 gives the resources.
ENDPOINTS = {
    "directory": r"^/dir$",
    "newNonce": r"^/nonce-plz$",
    "newAccount": r"^/sign-me-up$",
    "account": r"^/my-account/",
    "newOrder": r"^/order-plz$",
    "order": r"^/my-order/",
    "finalize": r"^/finalize-order/",
    "authz": r"^/authZ/",
    "challenge": r"^/chalZ/",
    "certificate": r"^/certZ/",
    "revokeCert": r"^/revoke-cert$",
    "keyChange": r"^/rollover-account-key$",
    "renewalInfo": r"^/renewal-info/",
}

ACTIONS = ("respond", "drop", "stall", "malformed", "oversize", "wrongkey",
           "rewrite")

# Not passed on in either direction; the proxy sets its own.  Accept-Encoding
# is dropped so that Pebble's bodies arrive as they are and can be changed.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te",
              "trailer", "transfer-encoding", "upgrade", "accept-encoding"}
RESPONSE_OWN = HOP_BY_HOP | {"content-length", "date", "server"}

ERR_PREFIX = "urn:ietf:params:acme:error:"


def endpoint_of(path):
    """The endpoint name of a request path, or None."""
    for name, pattern in ENDPOINTS.items():
        if re.search(pattern, path):
            return name
    return None


def b64url_json(text):
    """Decodes a base64url JSON member of a JWS: object, "" or the text."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if raw == b"":
        return ""
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def merge(into, what):
    """Merges the object `what` into `into`, recursively."""
    for key, value in what.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


class Rule:
    """One fault: what it matches, what it does, how often."""

    _ids = itertools.count(1)

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a rule is a JSON object")
        spec = dict(spec)
        self.action = spec.pop("action", None)
        if self.action not in ACTIONS:
            raise ValueError("action must be one of %s, not %r" %
                             (", ".join(ACTIONS), self.action))
        self.endpoint = spec.pop("endpoint", None)
        path = spec.pop("path", None)
        if self.endpoint is not None:
            if self.endpoint not in ENDPOINTS:
                raise ValueError("unknown endpoint %r (known: %s)" %
                                 (self.endpoint, ", ".join(ENDPOINTS)))
            path = ENDPOINTS[self.endpoint]
        if path is None:
            raise ValueError("a rule needs an endpoint or a path")
        self.path = re.compile(path)
        self.method = spec.pop("method", None)
        self.times = spec.pop("times", None)
        if self.times is not None and (not isinstance(self.times, int) or
                                       self.times < 1):
            raise ValueError("times must be a positive integer")
        self.params = spec
        self.id = next(Rule._ids)
        self.hits = 0
        self.removed = threading.Event()

    def matches(self, method, path):
        return ((self.method is None or self.method == method) and
                (self.times is None or self.hits < self.times) and
                self.path.search(path) is not None)

    def describe(self):
        d = {"id": self.id, "action": self.action, "path": self.path.pattern,
             "method": self.method, "times": self.times, "hits": self.hits}
        if self.endpoint is not None:
            d["endpoint"] = self.endpoint
        d.update(self.params)
        return d


class Rules:
    """The rules in force, shared by every request thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, specs):
        made = [Rule(s) for s in specs]
        with self.lock:
            self.rules.extend(made)
        return [r.id for r in made]

    def take(self, method, path):
        """The first rule that matches, counting this use; or None."""
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def remove(self, rule_id=None):
        with self.lock:
            gone = [r for r in self.rules
                    if rule_id is None or r.id == rule_id]
            self.rules = [r for r in self.rules if r not in gone]
        for r in gone:
            r.removed.set()
        return len(gone)

    def describe(self):
        with self.lock:
            return [r.describe() for r in self.rules]


class Recorder:
    """Appends one JSON line per request to a file."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8")

    def record(self, method, path, body, rule):
        entry = {"time": round(time.time(), 3), "method": method,
                 "path": path, "endpoint": endpoint_of(path),
                 "fault": rule.action if rule else None,
                 "rule": rule.id if rule else None}
        if method == "POST" and body:
            try:
                jws = json.loads(body)
                entry["protected"] = b64url_json(jws["protected"])
                entry["payload"] = b64url_json(jws["payload"])
            except (ValueError, KeyError, TypeError) as e:
                entry["jws_error"] = str(e)
        with self.lock:
            self.file.write(json.dumps(entry, sort_keys=True) + "\n")
            self.file.flush()


class WrongKeyIssuer:
    """Certificates for the same names under other keys, from our own CA."""

    def __init__(self, workdir):
        self.dir = workdir
        self.lock = threading.Lock()
        self.ca = os.path.join(workdir, "wrongkey-ca.pem")
        self.ca_key = os.path.join(workdir, "wrongkey-ca-key.pem")
        self.serial = itertools.count(1)

    def _openssl(self, *args, stdin=None):
        return subprocess.run(("openssl",) + args, input=stdin, check=True,
                              capture_output=True).stdout

    def _make_ca(self):
        if not os.path.exists(self.ca):
            self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", self.ca_key, "-out", self.ca,
                          "-days", "7", "-subj", "/CN=acmeproxy wrong-key CA")

    def reissue(self, chain):
        """chain with its first certificate replaced; bytes in and out."""
        end = b"-----END CERTIFICATE-----"
        leaf = chain[:chain.index(end) + len(end)] + b"\n"
        sans = self._openssl("x509", "-noout", "-ext", "subjectAltName",
                             stdin=leaf).decode().splitlines()[1:]
        san = ",".join(s.strip() for s in ",".join(sans).split(",") if s.strip())
        with self.lock:
            self._make_ca()
            n = next(self.serial)
        key = os.path.join(self.dir, "wrongkey-%d-key.pem" % n)
        cert = os.path.join(self.dir, "wrongkey-%d.pem" % n)
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                      "-out", cert, "-days", "7", "-subj", "/CN=wrong key",
                      "-addext", "subjectAltName=" + san,
                      "-CA", self.ca, "-CAkey", self.ca_key)
        with open(cert, "rb") as f, open(self.ca, "rb") as g:
            return f.read() + g.read()


class Upstream:
    """Pebble's HTTPS address and how to verify it."""

    def __init__(self, url, cafile):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "https" or not u.hostname or not u.port:
            raise ValueError("--upstream must be https://HOST:PORT")
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=cafile)

    def request(self, method, path, headers, body):
        """(status, reason, [(name, value)], body) from Pebble."""
        conn = http.client.HTTPSConnection(self.host, self.port,
                                           context=self.ctx, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True,
                            skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    """One client connection (keep-alive): every request through apply()."""

    protocol_version = "HTTP/1.1"
    server_version = "acmeproxy"

    def do_GET(self):
        self.handle_any("GET")

    def do_HEAD(self):
        self.handle_any("HEAD")

    def do_POST(self):
        self.handle_any("POST")

    def log_message(self, fmt, *args):
        sys.stderr.write("acmeproxy: %s\n" % (fmt % args))

    def handle_any(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = urllib.parse.urlsplit(self.path).path
        rule = self.server.rules.take(method, path)
        self.server.recorder.record(method, path, body, rule)
        try:
            self.apply(method, body, rule)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                socket.timeout) as e:
            self.log_message("%s %s: client went away: %s", method,
                             self.path, e)
            self.close_connection = True

    def forward(self, method, body):
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP]
        try:
            return self.server.upstream.request(method, self.path, headers,
                                                body)
        except (OSError, http.client.HTTPException) as e:
            self.log_message("upstream: %s", e)
            return 502, "Bad Gateway", [("Content-Type", "text/plain")], \
                ("upstream: %s\n" % e).encode()

    def reply(self, method, status, headers, body, retry_after=None):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in RESPONSE_OWN and not (
                    retry_after is not None and name.lower() == "retry-after"):
                self.send_header(name, value)
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def drop(self, method, status, headers, body):
        """Headers promising the whole body, half of it, then a hang-up."""
        if method != "HEAD" and len(body) >= 2:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in RESPONSE_OWN:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def respond(self, method, p, retry_after):
        status = int(p.get("status", 200))
        if "problem" in p:
            ptype = p["problem"]
            if ":" not in ptype:
                ptype = ERR_PREFIX + ptype
            doc = {"type": ptype, "status": status,
                   "detail": p.get("detail", "injected by acmeproxy")}
            body, ctype = json.dumps(doc).encode(), "application/problem+json"
        elif "json" in p:
            body, ctype = json.dumps(p["json"]).encode(), "application/json"
        else:
            body, ctype = str(p.get("body", "")).encode(), "text/plain"
        self.reply(method, status, [("Content-Type", ctype)], body,
                   retry_after)

    def apply(self, method, body, rule):
        if rule is None:
            status, _, headers, data = self.forward(method, body)
            self.reply(method, status, headers, data)
            return
        p = rule.params
        retry_after = p.get("retry_after")
        if rule.action == "respond":
            self.respond(method, p, retry_after)
            return
        if rule.action == "stall":
            rule.removed.wait(float(p.get("seconds", 3600)))
        status, _, headers, data = self.forward(method, body)
        if rule.action == "drop":
            self.drop(method, status, headers, data)
            return
        if rule.action == "malformed":
            data = p["body"].encode() if "body" in p else data[:len(data) // 2]
        elif rule.action == "oversize":
            size = int(p.get("bytes", 2 * 1024 * 1024 + 1))
            data = data + b" " * max(0, size - len(data))
        elif rule.action == "wrongkey" and status == 200 and data:
            data = self.server.wrongkey.reissue(data)
        elif rule.action == "rewrite" and data:
            doc = json.loads(data)
            merge(doc, p.get("set", {}))
            data = json.dumps(doc, indent=2).encode()
        self.reply(method, status, headers, data, retry_after)


class ControlHandler(http.server.BaseHTTPRequestHandler):
    """The rules, over plain HTTP on loopback."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("acmeproxy control: %s\n" % (fmt % args))

    def answer(self, status, doc):
        body = (json.dumps(doc) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/rules":
            self.answer(200, self.server.rules.describe())
        else:
            self.answer(404, {"error": "no such path: " + self.path})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            spec = json.loads(self.rfile.read(length) or b"null")
            specs = spec if isinstance(spec, list) else [spec]
            ids = self.server.rules.add(specs)
        except (ValueError, re.error) as e:
            self.answer(400, {"error": str(e)})
            return
        self.answer(200, {"ids": ids})

    def do_DELETE(self):
        m = re.fullmatch(r"/rules(?:/(\d+))?", self.path)
        if m is None:
            self.answer(404, {"error": "no such path: " + self.path})
            return
        n = self.server.rules.remove(int(m.group(1)) if m.group(1) else None)
        self.answer(200, {"removed": n})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", type=int, required=True,
                    help="HTTPS port on 127.0.0.1 for the daemon")
    ap.add_argument("--control", type=int, required=True,
                    help="plain HTTP port on 127.0.0.1 for the rules")
    ap.add_argument("--upstream", required=True,
                    help="Pebble, https://127.0.0.1:PORT")
    ap.add_argument("--upstream-ca", required=True,
                    help="the CA of Pebble's HTTPS certificate")
    ap.add_argument("--cert", required=True, help="our HTTPS certificate")
    ap.add_argument("--key", required=True, help="its key")
    ap.add_argument("--log", required=True, help="JSONL request record")
    ap.add_argument("--rules", help="JSON list of rules to start with")
    ap.add_argument("--workdir", help="scratch files (default: a temp dir)")
    args = ap.parse_args()

    rules = Rules()
    if args.rules:
        with open(args.rules, encoding="utf-8") as f:
            rules.add(json.load(f))
    workdir = args.workdir or tempfile.mkdtemp(prefix="acmeproxy.")
    os.makedirs(workdir, exist_ok=True)

    ctl = http.server.ThreadingHTTPServer(("127.0.0.1", args.control),
                                          ControlHandler)
    ctl.daemon_threads = True
    ctl.rules = rules
    threading.Thread(target=ctl.serve_forever, daemon=True).start()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.listen),
                                          ProxyHandler)
    srv.daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.cert, args.key)
    # The handshake happens in the connection's own thread, on first read.
    srv.socket = tls.wrap_socket(srv.socket, server_side=True,
                                 do_handshake_on_connect=False)
    srv.rules = rules
    srv.recorder = Recorder(args.log)
    srv.upstream = Upstream(args.upstream, args.upstream_ca)
    srv.wrongkey = WrongKeyIssuer(workdir)
    sys.stderr.write("acmeproxy: https://127.0.0.1:%d -> %s, control "
                     "http://127.0.0.1:%d\n" % (args.listen, args.upstream,
                                                 args.control))
    srv.serve_forever()


if __name__ == "__main__":
    main()
