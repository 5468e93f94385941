#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reads deploy/kubernetes/ for the tests, so they follow the manifests
instead of a copy of them.

  mf_k8s.py podman DIR CONTAINER NODE [--map HOSTPATH=DIR]... [--configmap NAME=DIR]...
      The podman run arguments (one per line) that run CONTAINER of the
      DaemonSet as its pod spec says: capabilities, security options,
      mounts (every hostPath and ConfigMap volume mapped with --map and
      --configmap, or an error), then the image's entry point and the
      arguments, $(VAR) from the env replaced (spec.nodeName is NODE).
      The network is the caller's: the pod spec must say hostNetwork.
  mf_k8s.py probes DIR CONTAINER
      One line per probe: KIND HOST PORT PATH (KIND: liveness, readiness).
  mf_k8s.py object DIR KIND NAME
      The object as JSON.
"""
import glob
import json
import os
import re
import sys

import yaml


def die(msg):
    print("mf_k8s: " + msg, file=sys.stderr)
    sys.exit(2)


def objects(d):
    out = []
    for path in sorted(glob.glob(os.path.join(d, "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    out.append(doc)
    return out


def find(d, kind, name):
    for o in objects(d):
        if o.get("kind") == kind and o.get("metadata", {}).get("name") == name:
            return o
    die("no %s %s in %s" % (kind, name, d))


def daemonset(d):
    ds = [o for o in objects(d) if o.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        die("want one DaemonSet in %s, found %d" % (d, len(ds)))
    return ds[0]["spec"]["template"]["spec"]


def container(pod, name):
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        if c["name"] == name:
            return c
    die("no container %s" % name)


def expand(s, env):
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), s)


def podman(d, cname, node, maps, configmaps):
    pod = daemonset(d)
    c = container(pod, cname)
    if not pod.get("hostNetwork"):
        die("the pod spec does not say hostNetwork")
    sc = c.get("securityContext", {})
    args = []
    if sc.get("privileged"):
        args.append("--privileged")
    caps = sc.get("capabilities", {})
    if [x.upper() for x in caps.get("drop", [])] == ["ALL"]:
        args.append("--cap-drop=all")
    for cap in caps.get("add", []):
        args.append("--cap-add=CAP_" + cap.upper())
    if sc.get("allowPrivilegeEscalation") is False:
        args.append("--security-opt=no-new-privileges")
    if sc.get("seccompProfile", {}).get("type") == "Unconfined":
        args.append("--security-opt=seccomp=unconfined")
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if "runAsUser" in sc:
        args.append("--user=%d" % sc["runAsUser"])
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = vols[m["name"]]
        if "hostPath" in v:
            src = maps.get(v["hostPath"]["path"])
            if src is None:
                die("hostPath %s is not mapped (--map)" % v["hostPath"]["path"])
        elif "configMap" in v:
            src = configmaps.get(v["configMap"]["name"])
            if src is None:
                die("ConfigMap %s is not mapped (--configmap)" % v["configMap"]["name"])
        else:
            die("volume %s: only hostPath and configMap" % m["name"])
        opts = ["ro" if m.get("readOnly") else "rw"]
        prop = {"HostToContainer": "rslave", "Bidirectional": "rshared"}.get(
            m.get("mountPropagation"))
        if prop:
            opts.append(prop)
        args.append("--volume=%s:%s:%s" % (src, m["mountPath"], ",".join(opts)))
    env = {}
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if ref == "spec.nodeName":
            env[e["name"]] = node
        elif "value" in e:
            env[e["name"]] = e["value"]
        else:
            die("env %s: only values and spec.nodeName" % e["name"])
    for k, v in env.items():
        args.append("--env=%s=%s" % (k, v))
    argv = [expand(a, env) for a in c.get("command", []) + c.get("args", [])]
    if not argv:
        die("container %s has no command" % cname)
    args.append("--entrypoint=" + argv[0])
    args.append("IMAGE")
    args.extend(argv[1:])
    return args


def probes(d, cname):
    c = container(daemonset(d), cname)
    out = []
    for kind in ("liveness", "readiness"):
        p = c.get(kind + "Probe")
        if p and "httpGet" in p:
            g = p["httpGet"]
            out.append("%s %s %s %s" % (kind, g.get("host", "-"), g["port"], g["path"]))
    return out


def main(argv):
    if len(argv) < 3:
        die(__doc__)
    cmd, d = argv[1], argv[2]
    if cmd == "podman" and len(argv) >= 5:
        maps, cms = {}, {}
        rest = argv[5:]
        while rest:
            if len(rest) < 2 or rest[0] not in ("--map", "--configmap"):
                die("bad option: " + " ".join(rest[:2]))
            k, _, v = rest[1].partition("=")
            (maps if rest[0] == "--map" else cms)[k] = v
            rest = rest[2:]
        print("\n".join(podman(d, argv[3], argv[4], maps, cms)))
    elif cmd == "probes" and len(argv) == 4:
        print("\n".join(probes(d, argv[3])))
    elif cmd == "object" and len(argv) == 5:
        print(json.dumps(find(d, argv[3], argv[4])))
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)
