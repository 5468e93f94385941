#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Measures mfctl's validation against Kuma's own validator tests.

    scripts/kuma-conformance.py --kuma-git DIR --rev REV
                                [--mfctl build/bin/mfctl] [--kind KIND ...]
                                [--mfctl-args "--kuma 3.0"]
                                [--hits] [--show-yaml]

Reads Kuma's validator tests for the kinds meshforge takes from a Kuma git
directory (a bare mirror will do) at REV, without a checkout: the Ginkgo
tables of valid and invalid specs (inline YAML, Kuma's DescribeValidCases /
DescribeErrorCases, and testdata files with golden outputs).  Each case is
applied with `mfctl apply --dry-run` in a scratch state, as a Kuma user
applies it: the spec as a `kuma.io/v1alpha1` object, next to a Mesh and the
objects the spec names (Services and MeshServices for its targetRefs and
backendRefs, MeshGateways, MeshHTTPRoutes, Workloads,
MeshOpenTelemetryBackends).  Nothing of Kuma's is written anywhere.

--mfctl-args adds options to each `mfctl apply`: `--kuma 3.0` at Kuma's main
branch validates as Kuma 3.0 does (mfctl's default takes 2.14's shapes too);
`--validate ignore` drops fields a kind lacks, as Kuma's universal apply
does (mfctl's default refuses them).

Prints one line per kind (valid specs accepted / total, invalid specs
refused / total) and every miss with mfctl's message.  A miss is marked
with a reason where the script can tell:

  schema:   the spec fails the kind's OpenAPI schema in Kuma's rest.yaml
            (enum, pattern, required, type, bounds).  Kuma's apply path
            (kumactl apply, the REST API) checks it before validate(), so
            Kuma refuses such a "valid" spec as mfctl does.
  unknown:  the spec writes a field the schema does not have.  Go's lenient
            unmarshal ignores it in Kuma's test and Kuma's universal apply;
            kubectl's strict field validation refuses it on Kubernetes, and
            so does mfctl by default.  `--mfctl-args "--validate ignore"`
            runs mfctl as Kuma's universal apply reads a spec.
  name:     the case is about the object's name, which Kuma's test sets in
            Go and this script passes as metadata.name.

Exit status: 0 when the run completed (whatever the figures), 2 when the
Kuma revision or mfctl cannot be read or run.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import yaml

try:  # Debian: python3-jsonschema; without it, the script's own check.
    import jsonschema
except ImportError:  # pragma: no cover
    jsonschema = None

# Kind, where its tests and its schema are in Kuma's tree.  The tests of the
# policy plugins and of the newer resources are per directory; the legacy
# (protobuf) kinds have one file each and no rest.yaml.
PLUGIN = "pkg/plugins/policies/%s/api/v1alpha1"
CORE = "pkg/core/resources/apis/%s/api/v1alpha1"
LEGACY = "pkg/core/resources/apis/mesh/%s_validator_test.go"
KINDS = [
    ("MeshTrafficPermission", PLUGIN % "meshtrafficpermission"),
    ("MeshTimeout", PLUGIN % "meshtimeout"),
    ("MeshRetry", PLUGIN % "meshretry"),
    ("MeshCircuitBreaker", PLUGIN % "meshcircuitbreaker"),
    ("MeshHealthCheck", PLUGIN % "meshhealthcheck"),
    ("MeshLoadBalancingStrategy", PLUGIN % "meshloadbalancingstrategy"),
    ("MeshFaultInjection", PLUGIN % "meshfaultinjection"),
    ("MeshAccessLog", PLUGIN % "meshaccesslog"),
    ("MeshTrace", PLUGIN % "meshtrace"),
    ("MeshMetric", PLUGIN % "meshmetric"),
    ("MeshRateLimit", PLUGIN % "meshratelimit"),
    ("MeshHTTPRoute", PLUGIN % "meshhttproute"),
    ("MeshTCPRoute", PLUGIN % "meshtcproute"),
    ("MeshTLS", PLUGIN % "meshtls"),
    ("MeshPassthrough", PLUGIN % "meshpassthrough"),
    ("MeshOpenTelemetryBackend", CORE % "meshopentelemetrybackend"),
    ("MeshService", CORE % "meshservice"),
    ("MeshExternalService", CORE % "meshexternalservice"),
    ("MeshMultiZoneService", CORE % "meshmultizoneservice"),
    ("MeshIdentity", CORE % "meshidentity"),
    ("MeshTrust", CORE % "meshtrust"),
    ("TrafficRoute", LEGACY % "traffic_route"),
    ("RateLimit", LEGACY % "rate_limit"),
    ("MeshGateway", LEGACY % "gateway"),
    ("MeshGatewayRoute", LEGACY % "gateway_route"),
    ("Dataplane", LEGACY % "dataplane"),
    ("Mesh", LEGACY % "mesh"),
]

# The keys of a test case's struct that hold the input; the others
# (expected, Field, Message, ...) are what Kuma's validate() answers.
INPUT_KEYS = {"inputYaml", "inputYAML", "input", "yaml", "Resource",
              "dataplane", "mesh", "route", "ratelimit", "spec"}
TABLES = {"DescribeTable", "DescribeValidCases", "DescribeErrorCases"}
ENTRIES = {"Entry", "FEntry", "ErrorCase", "ErrorCases", "FErrorCase"}


class Kuma:
    """Reads files of one revision of a Kuma git directory."""

    def __init__(self, git_dir, rev):
        self.git_dir, self.rev = git_dir, rev
        self._names = None

    def _git(self, *args):
        return subprocess.run(["git", "--git-dir", self.git_dir] + list(args),
                              check=True, capture_output=True).stdout

    def names(self):
        if self._names is None:
            out = self._git("ls-tree", "-r", "--name-only", self.rev)
            self._names = set(out.decode().splitlines())
        return self._names

    def read(self, path):
        return self._git("show", "%s:%s" % (self.rev, path)).decode()

    def commit(self):
        return self._git("rev-parse", "--short=10", self.rev).decode().strip()


# --- A small Go scanner: tokens are enough to find the tables' entries. ---

TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<lcom>//[^\n]*) | (?P<bcom>/\*.*?\*/)
  | (?P<raw>`[^`]*`) | (?P<str>"(?:\\.|[^"\\\n])*") | (?P<chr>'(?:\\.|[^'\\])*')
  | (?P<ident>[A-Za-z_][A-Za-z_0-9]*) | (?P<num>[0-9][0-9a-fA-FxX_.]*)
  | (?P<punct>.)""", re.S | re.X)


def go_tokens(src):
    """(kind, text, line) for every token but spaces and comments."""
    out, line = [], 1
    for m in TOKEN.finditer(src):
        kind, text = m.lastgroup, m.group()
        if kind not in ("ws", "lcom", "bcom"):
            out.append((kind, text, line))
        line += text.count("\n")
    return out


def go_string(tok):
    kind, text, _ = tok
    if kind == "raw":
        return text[1:-1]
    if kind == "str":
        return bytes(text[1:-1], "utf-8").decode("unicode_escape")
    return None


def close_paren(toks, i):
    """Index of the token closing the bracket at toks[i]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j][1]
        if toks[j][0] != "punct":
            continue
        if t in pairs:
            depth += 1
        elif t in pairs.values():
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def field_key(toks, j, a):
    """The struct field a string at toks[j] is the value of, directly
    (`expected: "..."`) or in a call (`expected: fmt.Sprintf("...", x)`)."""
    k = j - 1
    while k > a and (toks[k][0] == "ident" or toks[k][1] in ".("):
        if toks[k][1] == "(" and toks[k - 1][1] == "Entry":
            return None
        k -= 1
    if k > a and toks[k][1] == ":" and toks[k - 1][0] == "ident":
        return toks[k - 1][1]
    return None


def entry_values(toks, a, b):
    """The strings of one Entry's arguments, as (key, value, line): key is
    the struct field that precedes a string (None for a bare argument).
    strings.Repeat("m", 63) is evaluated, the one expression Kuma's tables
    build a name with."""
    vals, j = [], a
    while j <= b:
        t = toks[j]
        if t[0] == "ident" and t[1] == "Repeat" and j + 5 <= b and \
                toks[j + 2][0] in ("str", "raw") and toks[j + 4][0] == "num":
            key = toks[j - 4][1] if j >= 4 and toks[j - 3][1] == ":" else None
            vals.append((key, go_string(toks[j + 2]) * int(toks[j + 4][1]),
                         t[2]))
            j += 6
            continue
        s = go_string(t)
        if s is not None:
            vals.append((field_key(toks, j, a), s, t[2]))
        j += 1
    return vals


class Case:
    def __init__(self, kind, valid, title, spec, where, name=None,
                 fields=()):
        self.kind, self.valid, self.title = kind, valid, title
        self.spec, self.where, self.name = spec, where, name
        self.fields = list(fields)  # where Kuma's test expects violations
        self.accepted = None
        self.message = ""
        self.reason = ""


def violation_fields(text):
    """The fields of the violations a test's expected YAML lists."""
    return re.findall(r"^\s*-?\s*field:\s*['\"]?([^'\"\n]+)", text, re.M)


def same_place(kuma_field, mfctl_path):
    """Whether an mfctl problem's path and a field Kuma names point at the
    same place, roughly: Kuma writes paths with or without `spec.`, with
    its own list names (backends.backend[0]) and tag keys in brackets."""
    def parts(p):
        p = re.sub(r"^spec(\.|$)", "", p.strip())
        return [x for x in re.split(r"[.\[\]\"]+", p.lower())
                if x and not x.isdigit()]
    k, m = parts(kuma_field), parts(mfctl_path)
    if not k or not m:
        return True
    n = min(len(k), len(m))
    return k[:n] == m[:n] or k[-1] == m[-1]


def golden_cases(kuma, kind, inputs):
    """Cases of testdata files: X.input.yaml with X.output.yaml or
    X.golden.yaml beside it, empty or missing for a valid spec.  @inputs
    maps each input path to the name the test gives the object, if any."""
    cases = []
    for path, (title, name) in sorted(inputs.items()):
        stem = path[:-len(".input.yaml")]
        expected = ""
        for suffix in (".output.yaml", ".golden.yaml"):
            if stem + suffix in kuma.names():
                expected = kuma.read(stem + suffix)
        valid = expected.strip() in ("", "null", "{}")
        cases.append(Case(kind, valid, title, kuma.read(path),
                          path, name, violation_fields(expected)))
    return cases


def test_cases(kuma, kind, path):
    """Every case of one Go test file."""
    dirname = os.path.dirname(path)
    toks = go_tokens(kuma.read(path))
    cases, files = [], {}
    i = 0
    while i < len(toks):
        t = toks[i]
        if not (t[0] == "ident" and t[1] in TABLES and i + 1 < len(toks)
                and toks[i + 1][1] == "("):
            i += 1
            continue
        end = close_paren(toks, i + 1)
        table = t[1]
        title = go_string(toks[i + 2]) or ""
        j = i + 2
        while j < end:
            e = toks[j]
            if e[0] == "ident" and e[1] == "EntriesForFolder":
                folder = go_string(toks[j + 2])
                prefix = "%s/testdata/%s/" % (dirname, folder)
                for n in kuma.names():
                    if n.startswith(prefix) and n.endswith(".input.yaml"):
                        files[n] = (os.path.basename(n), None)
                j += 1
                continue
            if not (e[0] == "ident" and e[1] in ENTRIES and
                    toks[j + 1][1] == "("):
                j += 1
                continue
            eend = close_paren(toks, j + 1)
            vals = entry_values(toks, j + 2, eend)
            where = "%s:%d" % (path, e[2])
            j = eend + 1
            if not vals:    # built in Go: counted, not run
                cases.append(Case(kind, True, "?", None, where))
                continue
            desc, args = vals[0][1], vals[1:]
            keyed = {k: v for k, v, _ in args if k}
            if "file" in keyed:
                files["%s/testdata/%s.input.yaml" % (dirname, keyed["file"])] \
                    = (desc, keyed.get("name"))
                continue
            inp = [v for k, v, _ in args if k in INPUT_KEYS]
            bare = [v for k, v, _ in args if k is None]
            name = keyed.get("Name") or keyed.get("name")
            if table == "DescribeValidCases":
                valid = True
            elif table == "DescribeErrorCases":
                valid = False
            elif "pass validation" in title:
                valid = True
            else:
                exp = keyed.get("expected")
                if exp is None and len(bare) >= 2:
                    exp = bare[-1]
                # A testCase without `expected` expects Go's zero value,
                # no violation; one given as a Violation has Field keys.
                if exp is None and "Field" not in keyed:
                    exp = ""
                valid = exp is not None and \
                    exp.strip() in ("", "null", "{}")
            if inp:
                spec = inp[0]
            elif bare and (table != "DescribeErrorCases" or
                           e[1] == "Entry"):
                spec = bare[0]
            elif bare:
                spec = bare[-1]     # ErrorCase(desc, Violation{..}, yaml)
            else:
                spec = None
            # A table over names (Kuma's Mesh at 3.0) passes one word.
            if "name" in title.lower() and re.fullmatch(r"\S+", spec) \
                    and ":" not in spec:
                name, spec = spec, "{}"
            fields = [v for k, v, _ in args if k == "Field"]
            fields += violation_fields(keyed.get("expected") or "")
            cases.append(Case(kind, valid, desc, spec, where, name, fields))
        i = end + 1
    return cases + golden_cases(kuma, kind, files)


def kind_cases(kuma, kind, where):
    if where.endswith(".go"):
        paths = [where] if where in kuma.names() else []
    else:
        paths = sorted(n for n in kuma.names()
                       if os.path.dirname(n) == where and
                       n.endswith("_test.go") and "valid" in
                       os.path.basename(n))
    cases = []
    for p in paths:
        cases += test_cases(kuma, kind, p)
    return cases


# --- Kuma's OpenAPI schema of a kind's spec. ---

def spec_schema(kuma, kind, where):
    if where.endswith(".go"):
        return None
    path = where + "/rest.yaml"
    if path not in kuma.names():
        return None
    doc = yaml.safe_load(kuma.read(path))
    item = doc["components"]["schemas"].get(kind + "Item", {})
    return item.get("properties", {}).get("spec")


def schema_errors(schema, spec):
    """What Kuma's schema refuses in @spec: a list of messages."""
    if schema is None:
        return []
    if jsonschema is not None:
        v = jsonschema.Draft202012Validator(schema)
        return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or
                            "spec", e.message.splitlines()[0][:160])
                for e in v.iter_errors(spec)]
    return own_schema_errors(schema, spec, "spec")


def own_schema_errors(s, v, path):
    """The schema keywords Kuma's specs use, without jsonschema."""
    errs = []
    if "anyOf" in s or "oneOf" in s:
        alts = s.get("anyOf") or s.get("oneOf")
        if all(own_schema_errors(a, v, path) for a in alts):
            errs.append("%s: matches none of the alternatives" % path)
        return errs
    t = s.get("type")
    types = {"object": dict, "array": list, "string": str,
             "boolean": bool, "integer": int, "number": (int, float)}
    if t in types and (not isinstance(v, types[t]) or
                       (t in ("integer", "number") and isinstance(v, bool))):
        return ["%s: is not of type %s" % (path, t)]
    if "enum" in s and v not in s["enum"]:
        errs.append("%s: %r is not one of %s" % (path, v, s["enum"]))
    if isinstance(v, str) and "pattern" in s and \
            not re.search(s["pattern"], v):
        errs.append("%s: %r does not match %r" % (path, v, s["pattern"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            errs.append("%s: %r is below %r" % (path, v, s["minimum"]))
        if "maximum" in s and v > s["maximum"]:
            errs.append("%s: %r is above %r" % (path, v, s["maximum"]))
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            errs.append("%s: fewer than %d items" % (path, s["minItems"]))
        if "maxItems" in s and len(v) > s["maxItems"]:
            errs.append("%s: more than %d items" % (path, s["maxItems"]))
        for i, x in enumerate(v):
            errs += own_schema_errors(s.get("items", {}), x,
                                      "%s/%d" % (path, i))
    if isinstance(v, dict):
        for r in s.get("required", []):
            if r not in v:
                errs.append("%s: %r is a required property" % (path, r))
        props = s.get("properties", {})
        for k, x in v.items():
            sub = props.get(k, s.get("additionalProperties"))
            if isinstance(sub, dict):
                errs += own_schema_errors(sub, x, "%s/%s" % (path, k))
    return errs


def unknown_fields(s, v, path="spec"):
    """Fields of @v that schema @s does not declare (Go ignores them)."""
    out = []
    if not isinstance(s, dict):
        return out
    for alt in s.get("anyOf", []) + s.get("oneOf", []):
        if not unknown_fields(alt, v, path):
            return []
    if isinstance(v, dict) and "properties" in s:
        extra = s.get("additionalProperties")
        for k, x in v.items():
            if k in s["properties"]:
                out += unknown_fields(s["properties"][k], x,
                                      "%s.%s" % (path, k))
            elif not extra and not s.get("x-kubernetes-preserve-unknown-fields"):
                out.append("%s.%s" % (path, k))
    elif isinstance(v, list) and "items" in s:
        for i, x in enumerate(v):
            out += unknown_fields(s["items"], x, "%s[%d]" % (path, i))
    return out


# --- The objects a case names, and one mfctl run. ---

API = "kuma.io/v1alpha1"
MF_API = "meshforge.io/v1alpha1"
BASE_SERVICE = "mf-conf-base"


def walk(v, fn, key=None):
    if isinstance(v, dict):
        fn(key, v)
        for k, x in v.items():
            walk(x, fn, k)
    elif isinstance(v, list):
        for x in v:
            walk(x, fn, key)


class World:
    """The Mesh and the objects around one case."""

    def __init__(self, kind, spec, case_name):
        self.kind = kind
        self.case_name = case_name  # a MeshService case is its own
        self.services = {}      # name -> set of sectionNames
        self.gateways = set()
        self.routes = set()
        self.workloads = set()
        self.otel = set()
        self.td = None
        walk(spec, self._note)
        for s in re.findall(r"spiffe://([^/\"'\s]+)", yaml.safe_dump(spec)):
            self.td = self.td or s

    def _note(self, key, d):
        name = d.get("name")
        if not isinstance(name, str) or not name:
            return
        kind = d.get("kind")
        if key not in ("targetRef", "backendRef", "backendRefs"):
            return
        if kind in ("MeshService", "MeshServiceSubset"):
            sec = self.services.setdefault(name, set())
            if d.get("sectionName") is not None:
                sec.add(str(d["sectionName"]))
            if isinstance(d.get("port"), int):
                sec.add(str(d["port"]))
        elif kind == "MeshGateway":
            self.gateways.add(name)
        elif kind == "MeshHTTPRoute":
            self.routes.add(name)
        elif kind in ("Dataplane", "Workload"):
            self.workloads.add(name)
        elif kind == "MeshOpenTelemetryBackend":
            self.otel.add(name)

    def learn(self, message):
        """Adds what mfctl says is missing; False when nothing new."""
        grew = False
        for what, name in re.findall(
                r'no (\w+) "([^"]+)" is defined or applied', message):
            sets = {"Service": self.services, "MeshGateway": self.gateways,
                    "MeshHTTPRoute": self.routes, "Workload": self.workloads,
                    "MeshOpenTelemetryBackend": self.otel}
            if what not in sets or name in sets[what]:
                continue
            if what == "Service":
                self.services[name] = set()
            else:
                sets[what].add(name)
            grew = True
        return grew

    def objects(self):
        objs = []
        if self.kind != "Mesh":
            if self.td:
                objs.append((MF_API, "Mesh", "default",
                             {"trustDomain": self.td}))
            else:
                objs.append((API, "Mesh", "default", None))
        objs.append((MF_API, "Node", "mf-conf-node",
                     {"address": "10.77.0.2"}))
        names = [BASE_SERVICE] + sorted(self.services)
        for i, n in enumerate(names):
            secs = self.services.get(n, set())
            if n == self.case_name and self.kind == "MeshService":
                continue
            if secs:
                ports = []
                for k, s in enumerate(sorted(secs)):
                    if s.isdigit():
                        ports.append({"port": int(s), "appProtocol": "http"})
                    else:
                        ports.append({"port": 8000 + k, "name": s,
                                      "appProtocol": "http"})
                objs.append((API, "MeshService", n, {
                    "selector": {"dataplaneTags": {"app": n}},
                    "ports": ports}))
            else:
                objs.append((MF_API, "Service", n, {
                    "vip": "10.96.%d.%d" % (i // 250, i % 250 + 1),
                    "port": 80, "protocol": "http"}))
        for n in sorted(self.gateways):
            objs.append((API, "MeshGateway", n, {
                "selectors": [{"match": {"kuma.io/service": n}}],
                "conf": {"listeners": [{"port": 8080,
                                        "protocol": "HTTP"}]}}))
        for n in sorted(self.routes):
            ref = {"kind": "MeshService", "name": BASE_SERVICE}
            objs.append((API, "MeshHTTPRoute", n, {
                "targetRef": {"kind": "Mesh"},
                "to": [{"targetRef": ref, "rules": [{
                    "matches": [{"path": {"type": "PathPrefix",
                                          "value": "/"}}],
                    "default": {"backendRefs": [ref]}}]}]}))
        for i, n in enumerate(sorted(self.workloads)):
            objs.append((MF_API, "Workload", n, {
                "node": "mf-conf-node", "ip": "10.78.0.%d" % (i + 2),
                "port": 8080, "service": BASE_SERVICE}))
        for n in sorted(self.otel):
            objs.append((API, "MeshOpenTelemetryBackend", n, {}))
        return objs


class NoAliases(yaml.SafeDumper):
    """mfctl reads no YAML aliases; the objects share no data anyway."""

    def ignore_aliases(self, data):
        return True


def case_spec(case):
    """The case's spec as a mapping, or None when it is not YAML.  Kuma's
    universal form (type, name, mesh beside the fields) loses those three,
    as Kuma's FromYAML into the spec ignores them."""
    if case.spec is None:
        return None
    try:
        spec = yaml.safe_load(case.spec)
    except yaml.YAMLError:
        return None
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return None
    if spec.get("type") == case.kind:
        for k in ("type", "name", "mesh"):
            spec.pop(k, None)
    return spec


def object_name(case):
    return case.name if case.name is not None else "conf-case"


def run_case(mfctl, extra, tmp, case, spec):
    world = World(case.kind, spec, object_name(case))
    doc = {"apiVersion": API, "kind": case.kind,
           "metadata": {"name": object_name(case)}, "spec": spec}
    for _ in range(8):
        docs = []
        for api, kind, name, s in world.objects():
            d = {"apiVersion": api, "kind": kind, "metadata": {"name": name}}
            if s is not None:
                d["spec"] = s
            docs.append(d)
        path = os.path.join(tmp, "case.yaml")
        with open(path, "w") as f:
            f.write("# objects the case names\n")
            yaml.dump_all(docs, f, Dumper=NoAliases, sort_keys=False)
            f.write("---\n# the case\n")
            yaml.dump(doc, f, Dumper=NoAliases, sort_keys=False)
        p = subprocess.run(
            [mfctl, "--bpf-root", os.path.join(tmp, "bpf"),
             "--state-dir", os.path.join(tmp, "state"),
             "--run-dir", os.path.join(tmp, "run"),
             "apply", "--dry-run"] + extra + ["-f", path],
            capture_output=True, text=True, timeout=30)
        if p.returncode not in (0, 1):
            raise RuntimeError("mfctl exited %d: %s" % (p.returncode,
                                                        p.stderr.strip()))
        msg = p.stderr.strip()
        if p.returncode == 0 or not world.learn(msg):
            return p.returncode == 0, msg, path
    return False, msg, path


def reason(case, errs, unk):
    """Why mfctl and Kuma's apply path part on @case, where it shows."""
    if case.valid and errs:
        return "schema: Kuma's schema refuses it: " + "; ".join(errs[:3])
    if case.kuma_valid and unk:
        return "unknown: " + ", ".join(unk[:4])
    if case.name is not None and not case.kuma_valid:
        return "name: %r" % case.name
    return ""


def unknown_only(case):
    """Whether mfctl refused @case only for fields it does not take: an
    invalid spec refused so is refused, but not by Kuma's rule."""
    lines = [l for l in case.message.splitlines()
             if not l.startswith("mfctl: ")]
    return bool(lines) and all(l.endswith(": unknown field") for l in lines)


def pct(a, b):
    return "%5.1f%%" % (100.0 * a / b) if b else "    -"


def frac(a, b):
    return "%4d / %-4d%s" % (a, b, pct(a, b))


def report(rows, misses, explained, unknown, elsewhere):
    print("\nPer Kuma's tests (validate() alone), and per Kuma's apply path "
          "(the kind's OpenAPI\nschema, then validate(): a test's valid "
          "spec that the schema refuses is invalid):\n")
    print("%-26s %-17s %-17s | %-17s %-17s" % (
        "kind", "tests: valid", "tests: invalid", "apply: valid",
        "apply: invalid"))
    print("%-26s %-17s %-17s | %-17s %-17s" % (
        "", "accepted", "refused", "accepted", "refused"))
    tot = [0] * 9
    for r in rows + [("total",) + tuple(tot)]:
        if r[0] == "total":
            r = ("total",) + tuple(tot)
        else:
            for i, n in enumerate(r[1:]):
                tot[i] += n
        print("%-26s %s %s | %s %s%s" % (
            r[0], frac(r[1], r[2]), frac(r[3], r[4]), frac(r[5], r[6]),
            frac(r[7], r[8]),
            "  (%d not read: no YAML)" % r[9] if r[9] else ""))
    if unknown:
        print("\nInvalid specs refused only for fields mfctl does not take "
              "(refused, but not by\nKuma's rule): " + ", ".join(
                  "%s %d" % kv for kv in sorted(unknown.items())))
    print("\nInvalid specs refused, but at none of the fields Kuma's test "
          "names: %d (another\nproblem of the spec may hide a rule mfctl "
          "lacks: worth a look)" % len(elsewhere))
    for c in elsewhere:
        first = c.message.splitlines()[0] if c.message else ""
        print("  %s: %s (%s)\n    Kuma: %s\n    mfctl: %s" % (
            c.kind, c.title, c.where, ", ".join(c.fields[:3]),
            re.sub(r"^.*?:\d+:\d+: ", "", first)))
    print("\nTest misses that Kuma's apply path explains (the test's valid "
          "spec fails the\nschema; mfctl refuses it as kumactl apply "
          "does): %d" % len(explained))
    for c in explained:
        print("  %s: %s (%s)\n    %s" % (c.kind, c.title, c.where,
                                         c.reason))
    print("\nMisses against Kuma's apply path: %d" % len(misses))
    for c in misses:
        print("\n- %s, %s spec %s: %s\n  at %s\n  reason: %s\n"
              "  mfctl: %s" % (
                  c.kind, "valid" if c.kuma_valid else "invalid",
                  "refused" if c.kuma_valid else "accepted", c.title,
                  c.where, c.reason or "-",
                  "\n         ".join(c.message.splitlines()) or
                  "(accepted)"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kuma-git", required=True,
                    help="Kuma's git directory (bare or .git)")
    ap.add_argument("--rev", required=True, help="tag, branch or commit")
    ap.add_argument("--mfctl", default="build/bin/mfctl")
    ap.add_argument("--mfctl-args", default="",
                    help="options added to each `mfctl apply` (split on "
                    "spaces), e.g. \"--kuma 3.0\"")
    ap.add_argument("--kind", action="append",
                    help="only this kind (repeatable)")
    ap.add_argument("--hits", action="store_true",
                    help="list every case, not only the misses")
    ap.add_argument("--show-yaml", action="store_true",
                    help="print the document applied for each miss")
    args = ap.parse_args()

    kuma = Kuma(args.kuma_git, args.rev)
    try:
        commit = kuma.commit()
        kuma.names()
    except subprocess.CalledProcessError as e:
        sys.stderr.write("kuma-conformance: cannot read %s at %s: %s\n" %
                         (args.kuma_git, args.rev, e.stderr.decode().strip()))
        return 2
    if not os.access(args.mfctl, os.X_OK):
        sys.stderr.write("kuma-conformance: %s is not executable\n" %
                         args.mfctl)
        return 2

    extra = args.mfctl_args.split()
    print("Kuma %s (%s), %s%s; schema check by %s" % (
        args.rev, commit, args.mfctl,
        " " + " ".join(extra) if extra else "",
        "jsonschema" if jsonschema else "the script's own check"))
    rows, misses, explained, unknown, elsewhere = [], [], [], {}, []
    with tempfile.TemporaryDirectory(prefix="mf-conf-") as tmp:
        for kind, where in KINDS:
            if args.kind and kind not in args.kind:
                continue
            cases = kind_cases(kuma, kind, where)
            if not cases:
                continue
            schema = spec_schema(kuma, kind, where)
            n = [0] * 9     # tests va vt ir it, apply va vt ir it, unread
            for c in cases:
                spec = case_spec(c)
                if spec is None:
                    n[8] += 1
                    continue
                try:
                    c.accepted, c.message, path = run_case(args.mfctl, extra,
                                                           tmp, c, spec)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    sys.stderr.write("kuma-conformance: %s\n" % e)
                    return 2
                errs = schema_errors(schema, spec)
                unk = unknown_fields(schema, spec) if schema else []
                c.kuma_valid = c.valid and not errs
                for off, valid in ((0, c.valid), (4, c.kuma_valid)):
                    if valid:
                        n[off + 1] += 1
                        n[off] += c.accepted
                    else:
                        n[off + 3] += 1
                        n[off + 2] += not c.accepted
                c.reason = reason(c, errs, unk)
                if args.show_yaml:
                    with open(path) as f:
                        c.message += "\n" + f.read()
                if not c.kuma_valid and not c.accepted and unknown_only(c):
                    unknown[kind] = unknown.get(kind, 0) + 1
                elif not c.valid and not c.accepted and c.fields:
                    paths = re.findall(r":\d+:\d+: (\S+): ", c.message)
                    if not any(same_place(f, p) for f in c.fields
                               for p in paths):
                        elsewhere.append(c)
                if c.accepted != c.kuma_valid:
                    misses.append(c)
                elif c.accepted != c.valid:
                    explained.append(c)
                elif args.hits:
                    print("  ok   %s %s: %s%s" % (
                        kind, "valid" if c.valid else "invalid", c.title,
                        "\n       " + c.message.splitlines()[0]
                        if c.message else ""))
            rows.append((kind,) + tuple(n))
    report(rows, misses, explained, unknown, elsewhere)
    return 0


if __name__ == "__main__":
    sys.exit(main())
