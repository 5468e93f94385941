#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for the service manager of a Type=notify, NotifyAccess=main
unit, for tests on a machine where systemd is not PID 1.

usage: mf_svcmgr.py SOCKET OUT CMD...

Binds the datagram socket SOCKET (a path) for the sd_notify protocol,
becomes a child subreaper (as PID 1 is, processes orphaned under it are
its children to reap) and runs CMD with NOTIFY_SOCKET=SOCKET.  Writes to
OUT, one line each, flushed:

  started rc=N                        CMD ended (it may leave daemons)
  accepted pid=P MAIN=M A=B C=D       a notification, from the main process
  refused pid=P MAIN=M A=B            one from another process
  exit pid=P status=N | signal=N      a child reaped

The rules are systemd's for NotifyAccess=main: the main process is the
first that notifies (the unit's ExecStart process); only its messages are
taken; MAINPID=N from it makes N the main process.  Runs until SIGTERM.
"""
import ctypes
import os
import select
import signal
import socket
import struct
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    path, out_path, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = open(out_path, "a", buffering=1)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER): errno %d" % ctypes.get_errno())
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind(path)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    env = dict(os.environ, NOTIFY_SOCKET=path)
    starter = subprocess.Popen(cmd, env=env)
    main_pid = 0
    ucred = struct.calcsize("3i")
    while not stop:
        try:
            ready, _, _ = select.select([sock], [], [], 0.1)
        except InterruptedError:
            continue
        if ready:
            msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(ucred))
            pid = 0
            for level, typ, data in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", data[:ucred])[0]
            text = msg.decode(errors="replace").strip().replace("\n", " ")
            if not main_pid:
                main_pid = pid
            if pid == main_pid:
                print("accepted pid=%d MAIN=%d %s" % (pid, main_pid, text), file=out)
                for field in msg.decode(errors="replace").split("\n"):
                    if field.startswith("MAINPID="):
                        main_pid = int(field[len("MAINPID="):])
            else:
                print("refused pid=%d MAIN=%d %s" % (pid, main_pid, text), file=out)
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == starter.pid:
                print("started rc=%d" % os.waitstatus_to_exitcode(status), file=out)
            elif os.WIFEXITED(status):
                print("exit pid=%d status=%d" % (pid, os.WEXITSTATUS(status)), file=out)
            else:
                print("exit pid=%d signal=%d" % (pid, os.WTERMSIG(status)), file=out)
    sock.close()
    os.unlink(path)


if __name__ == "__main__":
    main()
