"""A tiny OTLP/HTTP trace receiver that dumps every span it gets as one JSON line, for checking
what instrumentation libraries emit (no aggregator involved).

    python dump-otlp.py serve OUT.jsonl     listens on 127.0.0.1 (ephemeral port), prints
                                            {"port": N} as its first stdout line, accepts
                                            POST /v1/traces (application/x-protobuf, or OTLP/JSON)
                                            and appends one line per span to OUT.jsonl, before it
                                            answers; stops on SIGTERM / SIGINT
    python dump-otlp.py show OUT.jsonl [REGEX]
                                            prints the spans as trees, one per trace: name, kind,
                                            scope name@version and the attributes (only those
                                            whose key matches REGEX, when given; e.g.
                                            'usage|model|provider|system|response.id|cost')

A span line: trace_id, span_id, parent_span_id (hex, "" for a root), name, kind, scope
("name@version"), service (resource service.name), resource (its attributes), attributes (values
with their OTLP types kept: int, double, string, bool, arrays), start_ns, end_ns, status.

Runs on the compat main venv (scripts/compat/install-python.sh main), which has opentelemetry-proto.
"""

import base64
import json
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def any_value(v):
    which = v.WhichOneof("value")
    if which == "string_value":
        return v.string_value
    if which == "int_value":
        return v.int_value
    if which == "double_value":
        return v.double_value
    if which == "bool_value":
        return v.bool_value
    if which == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return None


def attrs(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def hex_ids_to_base64(obj):
    """OTLP/JSON writes trace and span ids in hex; protobuf's JSON mapping wants base64."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                out[k] = base64.b64encode(bytes.fromhex(v)).decode() if v else ""
            else:
                out[k] = hex_ids_to_base64(v)
        return out
    if isinstance(obj, list):
        return [hex_ids_to_base64(x) for x in obj]
    return obj


def spans_of(request):
    for rs in request.resource_spans:
        resource = attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope = f"{ss.scope.name}@{ss.scope.version}"
            for s in ss.spans:
                yield {
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "name": s.name,
                    "kind": KINDS.get(s.kind, str(s.kind)),
                    "scope": scope,
                    "service": resource.get("service.name"),
                    "resource": resource,
                    "attributes": attrs(s.attributes),
                    "start_ns": s.start_time_unix_nano,
                    "end_ns": s.end_time_unix_nano,
                    "status": {"code": s.status.code, "message": s.status.message},
                }


def serve(out_path):
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def read_body(self):
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()  # the CRLF after the chunk
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def do_POST(self):
            body = self.read_body()
            if self.path.split("?")[0] != "/v1/traces":
                self.send_error(404)
                return
            request = ExportTraceServiceRequest()
            ctype = (self.headers.get("content-type") or "").split(";")[0].strip()
            try:
                if self.headers.get("content-encoding") == "gzip":
                    import gzip

                    body = gzip.decompress(body)
                if ctype == "application/json":
                    json_format.ParseDict(hex_ids_to_base64(json.loads(body)), request, ignore_unknown_fields=True)
                else:
                    request.ParseFromString(body)
            except Exception as err:  # noqa: BLE001 - a bad body is answered, not fatal
                self.send_error(400, str(err))
                return
            lines = [json.dumps({**s, "encoding": ctype}, sort_keys=True) for s in spans_of(request)]
            with lock, open(out_path, "a", encoding="utf-8") as f:
                for line in lines:
                    f.write(line + "\n")
            if ctype == "application/json":
                reply, rtype = b"{}", "application/json"
            else:
                reply, rtype = ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf"
            self.send_response(200)
            self.send_header("content-type", rtype)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=server.shutdown).start())
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()
    return 0


def show(path, pattern=None):
    keep = re.compile(pattern) if pattern else None
    spans = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    traces = {}
    for s in spans:
        traces.setdefault(s["trace_id"], []).append(s)
    for trace_id, members in traces.items():
        by_parent = {}
        ids = {s["span_id"] for s in members}
        for s in sorted(members, key=lambda s: s["start_ns"]):
            parent = s["parent_span_id"] if s["parent_span_id"] in ids else ""
            by_parent.setdefault(parent, []).append(s)
        print(f"trace {trace_id} (service {members[0]['service']})")

        def walk(parent, depth):
            for s in by_parent.get(parent, []):
                pad = "  " * (depth + 1)
                print(f"{pad}- {s['name']} [{s['kind']}] scope={s['scope']}")
                for k in sorted(s["attributes"]):
                    if keep is not None and not keep.search(k):
                        continue
                    print(f"{pad}    {k} = {json.dumps(s['attributes'][k])}")
                walk(s["span_id"], depth + 1)

        walk("", 0)
    return 0


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("serve", "show") or len(sys.argv) > (3 if sys.argv[1] == "serve" else 4):
        print(__doc__, file=sys.stderr)
        return 2
    return serve(sys.argv[2]) if sys.argv[1] == "serve" else show(*sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
