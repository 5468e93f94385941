#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The Kubernetes manifests (deploy/kubernetes/), read with python3-yaml,
# say what docs/operations.md and agent/caps.h say:
#  - every file parses, every object has a kind, a name and, but for the
#    Namespace, the namespace meshforge-system;
#  - the DaemonSet: hostNetwork, its agent container not privileged, no
#    privilege escalation, capabilities dropped to ALL and then only BPF,
#    PERFMON, NET_ADMIN and NET_BIND_SERVICE added; its mfctl containers
#    only BPF;
#  - the agent mounts bpffs at /sys/fs/bpf, cgroup2 at /sys/fs/cgroup,
#    /run/meshforge, /var/lib/meshforge (from the same host paths) and
#    /etc/meshforge read-only;
#  - liveness on /live and readiness on /ready, at 127.0.0.1 on the admin
#    port (MF_PORT_ADMIN of include/meshforge/abi.h);
#  - the policy ConfigMap is mounted by policy-init and policy-sync, which
#    run meshforge-policy-sync on its mount, and its files are policy that
#    mfctl accepts (apply --dry-run against an empty pin root);
#  - the service account mounts no token and no RBAC object is there.
# shellcheck source=tests/harness/testlib.sh
. "$(dirname "$0")/../harness/testlib.sh"
tl_init test_manifests
"$TL_PY" -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
tl_require_built "$MFCTL"

K8S=$TL_TOP/deploy/kubernetes
admin_port=$(awk '$2 == "MF_PORT_ADMIN" {print $3}' "$TL_TOP/include/meshforge/abi.h")
[ -n "$admin_port" ] || { fail admin_port "MF_PORT_ADMIN not found in abi.h"; tl_finish; }

# The checks print PASS/FAIL lines of their own (one per case).
"$TL_PY" - "$K8S" "$admin_port" "$TL_TMP" <<'PY'
import glob, os, sys, yaml

k8s, admin_port, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
failed = 0

def case(name, ok, why=""):
    global failed
    print(("PASS: test_manifests/%s" if ok else "FAIL: test_manifests/%s") % name)
    if not ok:
        failed += 1
        print("test_manifests: %s: %s" % (name, why), file=sys.stderr)

objs = []
bad = []
for path in sorted(glob.glob(os.path.join(k8s, "*.yaml"))):
    try:
        with open(path) as f:
            objs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]
    except yaml.YAMLError as e:
        bad.append("%s: %s" % (path, e))
for fname, o in objs:
    md = o.get("metadata", {})
    if not o.get("kind") or not o.get("apiVersion") or not md.get("name"):
        bad.append("%s: kind/apiVersion/name missing" % fname)
    elif o["kind"] != "Namespace" and md.get("namespace") != "meshforge-system":
        bad.append("%s: %s %s not in meshforge-system" % (fname, o["kind"], md["name"]))
case("objects_parse_and_are_namespaced", objs and not bad, "; ".join(bad))

def one(kind):
    got = [o for _, o in objs if o.get("kind") == kind]
    return got[0] if len(got) == 1 else None

ds = one("DaemonSet")
if not ds:
    case("one_daemonset", False, "want exactly one DaemonSet")
    sys.exit(1)
pod = ds["spec"]["template"]["spec"]
ctrs = {c["name"]: c for c in pod.get("initContainers", []) + pod.get("containers", [])}
agent = ctrs.get("agent", {})
vols = {v["name"]: v for v in pod.get("volumes", [])}

case("host_network", pod.get("hostNetwork") is True, "hostNetwork: %r" % pod.get("hostNetwork"))

def caps_of(c):
    sc = c.get("securityContext", {})
    return (sc.get("privileged", False), sc.get("allowPrivilegeEscalation"),
            [x.upper() for x in sc.get("capabilities", {}).get("drop", [])],
            sorted(x.upper() for x in sc.get("capabilities", {}).get("add", [])))

want = (False, False, ["ALL"], ["BPF", "NET_ADMIN", "NET_BIND_SERVICE", "PERFMON"])
case("agent_capabilities", caps_of(agent) == want, "got %r, want %r" % (caps_of(agent), want))
bad = []
for name in ("policy-init", "policy-sync"):
    got = caps_of(ctrs.get(name, {}))
    if got != (False, False, ["ALL"], ["BPF"]):
        bad.append("%s: %r" % (name, got))
case("mfctl_containers_only_cap_bpf", not bad, "; ".join(bad))

def mount(c, path):
    for m in c.get("volumeMounts", []):
        if m["mountPath"] == path:
            return m, vols.get(m["name"], {})
    return None, {}

bad = []
for path, host, ro in (("/sys/fs/bpf", "/sys/fs/bpf", False),
                       ("/sys/fs/cgroup", "/sys/fs/cgroup", True),
                       ("/run/meshforge", "/run/meshforge", False),
                       ("/var/lib/meshforge", "/var/lib/meshforge", False),
                       ("/etc/meshforge", "/etc/meshforge", True)):
    m, v = mount(agent, path)
    if not m:
        bad.append("%s not mounted" % path)
    elif v.get("hostPath", {}).get("path") != host:
        bad.append("%s from %r, want hostPath %s" % (path, v, host))
    elif bool(m.get("readOnly")) != ro:
        bad.append("%s readOnly=%r" % (path, m.get("readOnly")))
m, _ = mount(agent, "/sys/fs/bpf")
if m and m.get("mountPropagation") == "Bidirectional":
    bad.append("bpffs Bidirectional needs a privileged container")
case("agent_mounts", not bad, "; ".join(bad))

bad = []
for kind, path in (("livenessProbe", "/live"), ("readinessProbe", "/ready")):
    g = agent.get(kind, {}).get("httpGet", {})
    if (g.get("host"), g.get("port"), g.get("path")) != ("127.0.0.1", admin_port, path):
        bad.append("%s: %r" % (kind, g))
case("probes_on_admin_port", not bad, "; ".join(bad))

cm = one("ConfigMap")
bad = []
if not cm:
    bad.append("no ConfigMap")
else:
    for name in ("policy-init", "policy-sync"):
        c = ctrs.get(name, {})
        mounts = [m for m in c.get("volumeMounts", [])
                  if vols.get(m["name"], {}).get("configMap", {}).get("name") == cm["metadata"]["name"]]
        cmd = c.get("command", [])
        if not mounts or not cmd or cmd[0] != "/usr/local/bin/meshforge-policy-sync" or \
                mounts[0]["mountPath"] not in cmd:
            bad.append("%s: command %r, ConfigMap mounts %r" % (name, cmd, mounts))
    if "--once" not in ctrs.get("policy-init", {}).get("command", []):
        bad.append("policy-init does not apply --once")
    if not any(c["name"] == "policy-init" for c in pod.get("initContainers", [])):
        bad.append("policy-init is no init container")
    os.makedirs(os.path.join(tmp, "policy"))
    for key, text in cm.get("data", {}).items():
        with open(os.path.join(tmp, "policy", key), "w") as f:
            f.write(text)
case("configmap_applied_by_init_and_sync", not bad, "; ".join(bad))

sa = one("ServiceAccount")
rbac = [o["kind"] for _, o in objs if o.get("apiVersion", "").startswith("rbac.")]
case("service_account_no_token_no_rbac",
     sa and sa.get("automountServiceAccountToken") is False and
     pod.get("serviceAccountName") == sa["metadata"]["name"] and not rbac,
     "service account %r, RBAC objects %r" % (sa, rbac))
sys.exit(1 if failed else 0)
PY
rc=$?
[ "$rc" = 0 ] || TL_FAILED=$((TL_FAILED + 1))

# The ConfigMap's policy is policy mfctl takes.
if "$MFCTL" --bpf-root "$TL_TMP/pins" --state-dir "$TL_TMP/state" --run-dir "$TL_TMP/run" \
	apply --dry-run -f "$TL_TMP/policy" >"$TL_TMP/dry.log" 2>&1; then
	pass configmap_policy_valid
else
	fail configmap_policy_valid "$(cat "$TL_TMP/dry.log")"
fi
tl_finish
