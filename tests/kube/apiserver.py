#!/usr/bin/env python3
"""A Kubernetes API server double for netpath's tests and benchmark.

It serves the objects of a kubectl-format List (the file `--cluster` reads) over HTTPS the way
kube-apiserver does: discovery (/version, /api, /apis, /api/v1, /apis/GROUP/VERSION), typed List
envelopes (NodeList, PodList, ConfigMapList, ...; items without kind/apiVersion, as the server
sends them; custom resources with theirs), pagination with limit/continue (remainingItemCount,
an opaque continue token, 410 Expired for a stale one), field selectors (metadata.name,
metadata.namespace, spec.nodeName, status.phase; = == !=), single-object GETs, and Status objects
for 400, 401, 403, 404 and 410.

Authentication: `Authorization: Bearer TOKEN` (--token), or a client certificate signed by --ca.
Anything else is 401. --deny VERB:RESOURCE makes that request 403 with the apiserver's message.
A group absent from the List (no IPPool or BlockAffinity) is not served at all: its paths are 404
and discovery does not list it, as on a cluster without Calico's CRDs.

Usage: apiserver.py --list FILE --cert C --key K [--ca CA] [--token T] [--deny list:pods]
                    [--port-file F] [--log F]
Prints nothing; writes the listening port to --port-file (when given) once it accepts. Stops by
itself after --lifetime seconds (default 600) so a test that dies cannot leave it behind.
"""

import argparse
import base64
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# (group, version, plural, kind, namespaced)
SHORT_NAMES = {"nodes": ["no"], "pods": ["po"], "configmaps": ["cm"], "services": ["svc"],
               "namespaces": ["ns"]}
RESOURCES = [
    ("", "v1", "nodes", "Node", False),
    ("", "v1", "pods", "Pod", True),
    ("", "v1", "configmaps", "ConfigMap", True),
    ("", "v1", "services", "Service", True),
    ("", "v1", "namespaces", "Namespace", False),
    ("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    ("crd.projectcalico.org", "v1", "ippools", "IPPool", False),
    ("crd.projectcalico.org", "v1", "blockaffinities", "BlockAffinity", False),
]
RESOURCE_VERSION = "424242"


def status(code, reason, message, details=None):
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details or {},
        "code": code,
    }


class Store:
    """The objects, per resource, each kept as its compact JSON bytes (serialized once)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            doc = json.load(f)
        by_kind = {r[3]: r for r in RESOURCES}
        self.items = {r[2]: [] for r in RESOURCES}
        for item in doc.get("items", []):
            r = by_kind.get(item.get("kind"))
            if r is None:
                continue
            group, version, plural, kind, namespaced = r
            if not group:
                # Core types: the server leaves TypeMeta out of list items.
                item.pop("kind", None)
                item.pop("apiVersion", None)
            meta = item.get("metadata", {})
            if namespaced:
                meta.setdefault("namespace", "default")
            key = (meta.get("namespace", ""), meta.get("name", ""))
            fields = {
                "metadata.name": meta.get("name", ""),
                "metadata.namespace": meta.get("namespace", ""),
                "spec.nodeName": (item.get("spec") or {}).get("nodeName", ""),
                "status.phase": (item.get("status") or {}).get("phase", ""),
            }
            raw = json.dumps(item, separators=(",", ":")).encode()
            self.items[plural].append((key, fields, raw))
        for plural in self.items:
            self.items[plural].sort(key=lambda x: x[0])
        self.groups = {"": True}
        for group, version, plural, kind, namespaced in RESOURCES:
            if group == "crd.projectcalico.org":
                self.groups[group] = self.groups.get(group, False) or bool(self.items[plural])
            elif group:
                self.groups[group] = True
        # No Calico objects at all: the CRDs are not installed.
        self.served = [r for r in RESOURCES if self.groups.get(r[0], False)]


def parse_selector(text):
    """A field selector: a list of (field, op, value); raises ValueError on a bad one."""
    terms = []
    for part in filter(None, text.split(",")):
        for op in ("!=", "==", "="):
            if op in part:
                field, value = part.split(op, 1)
                terms.append((field.strip(), "!=" if op == "!=" else "=", value.strip()))
                break
        else:
            raise ValueError(part)
    return terms


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apiserver-double"

    def log_message(self, fmt, *args):
        log = self.server.log
        if log:
            with self.server.log_lock:
                log.write("%s %s\n" % (self.command, self.path))
                log.flush()

    def send_json(self, code, obj=None, raw=None):
        body = raw if raw is not None else json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Audit-Id", "00000000-0000-0000-0000-000000000000")
        self.end_headers()
        self.wfile.write(body)

    def authenticated(self):
        auth = self.headers.get("Authorization", "")
        if self.server.token and auth == "Bearer " + self.server.token:
            return "token"
        cert = self.connection.getpeercert()
        if cert:
            return "cert"
        return None

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            return self.send_json(200, raw=b"ok")
        if not self.authenticated():
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        if path == "/version":
            return self.send_json(200, {
                "major": "1", "minor": "32", "gitVersion": "v1.32.0-double",
                "platform": "linux/amd64",
            })
        if path == "/api":
            return self.send_json(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
            })
        if path == "/apis":
            groups = []
            for g in sorted(set(r[0] for r in self.server.store.served if r[0])):
                v = {"groupVersion": g + "/v1", "version": "v1"}
                groups.append({"name": g, "versions": [v], "preferredVersion": v})
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return self.not_found()
        served = [r for r in self.server.store.served if r[0] == group and r[1] == version]
        if not served:
            return self.not_found()
        gv = (group + "/" if group else "") + version
        if not rest:
            return self.send_json(200, {
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                "resources": [{
                    "name": r[2], "singularName": r[3].lower(), "namespaced": r[4],
                    "kind": r[3], "verbs": ["get", "list", "watch"],
                    "shortNames": SHORT_NAMES.get(r[2], []),
                } for r in served],
            })
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        by_plural = {r[2]: r for r in served}
        r = by_plural.get(rest[0])
        if r is None or len(rest) > 2 or (namespace is not None and not r[4]):
            return self.not_found()
        plural, kind = r[2], r[3]
        verb = "get" if len(rest) == 2 else "list"
        if "%s:%s" % (verb, plural) in self.server.deny:
            scope = ' in the namespace "%s"' % namespace if namespace else " at the cluster scope"
            return self.send_json(403, status(
                403, "Forbidden",
                '%s is forbidden: User "system:serviceaccount:default:viewer" cannot %s '
                'resource "%s" in API group "%s"%s' % (plural, verb, plural, group, scope),
                {"group": group, "kind": plural}))
        items = self.server.store.items[plural]
        if verb == "get":
            key = (namespace or "", rest[1])
            for k, _, raw in items:
                if k == key:
                    if not group:
                        raw = b'{"kind":"%s","apiVersion":"%s",' % (kind.encode(), gv.encode()) + raw[1:]
                    return self.send_json(200, raw=raw)
            return self.send_json(404, status(
                404, "NotFound", '%s "%s" not found' % (plural, rest[1]),
                {"name": rest[1], "group": group, "kind": plural}))
        try:
            terms = parse_selector(query.get("fieldSelector", ""))
        except ValueError as e:
            return self.send_json(400, status(400, "BadRequest", 'invalid selector: "%s"' % e))
        for field, _, _ in terms:
            if field not in ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"):
                return self.send_json(400, status(
                    400, "BadRequest",
                    'field label not supported: %s' % field))
        if namespace is not None:
            terms.append(("metadata.namespace", "=", namespace))
        if terms:
            def keep(fields):
                for field, op, value in terms:
                    if (fields.get(field, "") == value) != (op == "="):
                        return False
                return True
            items = [i for i in items if keep(i[1])]
        start = 0
        token = query.get("continue", "")
        if token:
            try:
                start = int(json.loads(base64.b64decode(token))["start"])
            except (ValueError, KeyError, TypeError):
                return self.send_json(400, status(400, "BadRequest", "continue key is not valid"))
            if start > len(items):
                return self.send_json(410, status(
                    410, "Expired",
                    "The provided continue parameter is too old to display a consistent list result."))
        try:
            limit = int(query.get("limit", "0") or 0)
        except ValueError:
            return self.send_json(400, status(400, "BadRequest", "limit is not a number"))
        end = len(items) if limit <= 0 else min(len(items), start + limit)
        meta = {"resourceVersion": RESOURCE_VERSION}
        if end < len(items):
            meta["continue"] = base64.b64encode(json.dumps({"start": end}).encode()).decode()
            meta["remainingItemCount"] = len(items) - end
        head = json.dumps({"kind": kind + "List", "apiVersion": gv, "metadata": meta},
                          separators=(",", ":")).encode()
        body = head[:-1] + b',"items":[' + b",".join(i[2] for i in items[start:end]) + b"]}"
        self.send_json(200, raw=body)

    def not_found(self):
        self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca")
    ap.add_argument("--token")
    ap.add_argument("--deny", action="append", default=[])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()

    store = Store(args.list)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.store = store
    server.token = args.token
    server.deny = set(args.deny)
    server.log = open(args.log, "a") if args.log else None
    server.log_lock = threading.Lock()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.ca:
        ctx.load_verify_locations(args.ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    server.socket = ctx.wrap_socket(server.socket, server_side=True)

    def stop_later():
        time.sleep(args.lifetime)
        os._exit(0)

    threading.Thread(target=stop_later, daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
