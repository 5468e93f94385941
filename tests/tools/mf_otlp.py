#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An OpenTelemetry collector for the testbed, and a reader of what it got.

  serve --grpc-port P [--http-port Q] --out FILE --pid FILE
        [--tls-cert F --tls-key F [--tls-ca F]] [--stall] [--no-gzip]
      OTLP over gRPC (grpcio): LogsService/Export, TraceService/Export and
      MetricsService/Export, each answered with an empty response; and, with --http-port, OTLP
      over HTTP: any POST answered 200, a body of Content-Encoding gzip
      inflated first.  Each request on one line of FILE,
      as JSON: {"via": "grpc" or "http", "path": the method's or the POST's
      path, "type": the HTTP Content-Type ("" over gRPC), "enc": its
      Content-Encoding ("" over gRPC, where grpcio inflates a gzip'd
      message itself), "headers": {name in lower case: value} of the
      request's headers or gRPC metadata, "peer": the common name of the
      client's certificate ("" without), "t": when it came (s since the
      epoch), "body": the request's bytes in base64}.  With --tls-cert and
      --tls-key both speak TLS only (gRPC's h2 by ALPN), and with --tls-ca
      they ask a client certificate that CA issued and refuse a client
      without one.  With --stall a request is kept and never answered.
      With --no-gzip the gRPC server takes no compressed message (grpcio
      refuses it: UNIMPLEMENTED).  Prints "listening" once it accepts;
      writes its pid to --pid.

  read FILE --pb DIR
      Each request of FILE decoded with the Python classes protoc made of
      the repository's proto/ into DIR: one JSON line per log record or
      span, {"path", "type", "enc", "headers", "peer", "t", "service" (its resource's service.name),
      "kind" ("log" or the span's kind number), "body" (a log record's
      string body), "value" (a log record's body as protobuf's JSON
      writes the AnyValue: {"kvlistValue": ...}), "attrs" {key: string value}, and for a span "trace",
      "id", "parent" (hex) and "start", "end" (ns)}; or per metric data
      point, {"path", "type", "service", "workload" (its resource's),
      "kind": "metric", "name", "attrs", and "value" (a sum's) or "count"
      and "sum" (a histogram's), "start", "time" (ns)}.
"""
import argparse
import base64
import http.server
import json
import gzip
import os
import ssl
import sys
import threading
import time
from concurrent import futures

LOGS = "opentelemetry.proto.collector.logs.v1.LogsService"
TRACES = "opentelemetry.proto.collector.trace.v1.TraceService"
METRICS = "opentelemetry.proto.collector.metrics.v1.MetricsService"


def serve(a):
    import grpc

    with open(a.pid, "w") as f:
        f.write("%d\n" % os.getpid())
    out = open(a.out, "a", buffering=1)
    lock = threading.Lock()
    never = threading.Event()

    def keep(via, path, ctype, enc, headers, peer, body):
        line = json.dumps({"via": via, "path": path, "type": ctype,
                           "enc": enc, "headers": headers, "peer": peer,
                           "t": time.time(),
                           "body": base64.b64encode(body).decode()})
        with lock:
            out.write(line + "\n")
        if a.stall:
            never.wait()

    def grpc_peer(ctx):
        cn = ctx.auth_context().get("x509_common_name") or [b""]
        return cn[0].decode()

    def handler(service):
        def export(req, ctx):
            md = {k: v for k, v in ctx.invocation_metadata()
                  if isinstance(v, str)}
            keep("grpc", "/%s/Export" % service, "", "", md,
                 grpc_peer(ctx), req)
            return b""
        return grpc.method_handlers_generic_handler(
            service, {"Export": grpc.unary_unary_rpc_method_handler(export)})

    # identity alone (bit 0): a gzip'd message is refused.
    opts = [("grpc.compression_enabled_algorithms_bitset", 1)] \
        if a.no_gzip else []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=opts)
    server.add_generic_rpc_handlers((handler(LOGS), handler(TRACES),
                                     handler(METRICS)))
    where = "%s:%d" % (a.bind, a.grpc_port)
    if a.tls_cert:
        ca = open(a.tls_ca, "rb").read() if a.tls_ca else None
        creds = grpc.ssl_server_credentials(
            [(open(a.tls_key, "rb").read(), open(a.tls_cert, "rb").read())],
            root_certificates=ca, require_client_auth=ca is not None)
        server.add_secure_port(where, creds)
    else:
        server.add_insecure_port(where)
    server.start()

    if a.http_port:
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                enc = self.headers.get("Content-Encoding", "")
                if enc == "gzip":
                    body = gzip.decompress(body)
                peer = ""
                cert = getattr(self.connection, "getpeercert",
                               lambda: None)()
                for rdn in (cert or {}).get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            peer = v
                keep("http", self.path,
                     self.headers.get("Content-Type", ""), enc,
                     {k.lower(): v for k, v in self.headers.items()},
                     peer, body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        hs = http.server.ThreadingHTTPServer((a.bind, a.http_port), H)
        hs.daemon_threads = True
        if a.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a.tls_cert, a.tls_key)
            if a.tls_ca:
                ctx.load_verify_locations(a.tls_ca)
                ctx.verify_mode = ssl.CERT_REQUIRED
            hs.socket = ctx.wrap_socket(hs.socket, server_side=True)
        threading.Thread(target=hs.serve_forever, daemon=True).start()
    print("listening", flush=True)
    server.wait_for_termination()


def attrs(kvs):
    return {kv.key: kv.value.string_value for kv in kvs}


def read(a):
    sys.path.insert(0, a.pb)
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import \
        metrics_service_pb2
    from google.protobuf.json_format import MessageToDict

    try:
        lines = open(a.file).read().splitlines()
    except FileNotFoundError:
        return
    for line in lines:
        r = json.loads(line)
        body = base64.b64decode(r["body"])
        head = {k: r.get(k) for k in ("path", "type", "enc", "headers",
                                      "peer", "t")}
        if r["path"].endswith("/logs") or LOGS in r["path"]:
            req = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
            for rl in req.resource_logs:
                svc = attrs(rl.resource.attributes).get("service.name")
                for sl in rl.scope_logs:
                    for rec in sl.log_records:
                        print(json.dumps(dict(
                            head, service=svc, kind="log",
                            body=rec.body.string_value,
                            value=MessageToDict(rec.body),
                            time=rec.time_unix_nano,
                            attrs=attrs(rec.attributes))))
            continue
        if r["path"].endswith("/metrics") or METRICS in r["path"]:
            req = metrics_service_pb2.ExportMetricsServiceRequest.FromString(
                body)
            for rm in req.resource_metrics:
                res = attrs(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        pts = (m.sum.data_points if m.HasField("sum")
                               else m.histogram.data_points)
                        for p in pts:
                            d = dict(head, service=res.get("service.name"),
                                     workload=res.get("workload"),
                                     kind="metric", name=m.name,
                                     attrs=attrs(p.attributes),
                                     start=p.start_time_unix_nano,
                                     time=p.time_unix_nano)
                            if m.HasField("sum"):
                                d["value"] = p.as_int
                            else:
                                d["count"] = p.count
                                d["sum"] = p.sum
                            print(json.dumps(d))
            continue
        req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        for rs in req.resource_spans:
            svc = attrs(rs.resource.attributes).get("service.name")
            for ss in rs.scope_spans:
                for s in ss.spans:
                    print(json.dumps(dict(
                        head, service=svc, kind=s.kind, name=s.name,
                        trace=s.trace_id.hex(), id=s.span_id.hex(),
                        parent=s.parent_span_id.hex(),
                        start=s.start_time_unix_nano,
                        end=s.end_time_unix_nano,
                        status=s.status.code, attrs=attrs(s.attributes))))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--bind", default="127.0.0.1")
    s.add_argument("--grpc-port", type=int, required=True)
    s.add_argument("--http-port", type=int, default=0)
    s.add_argument("--out", required=True)
    s.add_argument("--pid", required=True)
    s.add_argument("--tls-cert")
    s.add_argument("--tls-key")
    s.add_argument("--tls-ca")
    s.add_argument("--stall", action="store_true")
    s.add_argument("--no-gzip", action="store_true")
    r = sub.add_parser("read")
    r.add_argument("file")
    r.add_argument("--pb", required=True)
    a = ap.parse_args()
    serve(a) if a.cmd == "serve" else read(a)


if __name__ == "__main__":
    main()
