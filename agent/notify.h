/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify: the service manager's readiness protocol (systemd's sd_notify),
 * spoken by the agent itself: one datagram of newline-separated
 * assignments ("READY=1\nSTATUS=...") to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name written with a leading
 * '@').  Without the variable every call does nothing, so the agent runs
 * the same under any supervisor.
 *
 *   READY=1       the listeners are up and the policy is loaded
 *   RELOADING=1   certificates are being read again (SIGHUP), with
 *                 MONOTONIC_USEC, followed by READY=1 when done
 *   MAINPID=N     the agent's child N, started by the upgrade in place,
 *                 took over (upgrade.h): it is the main process now, and
 *                 says READY=1 itself; this one drains without STOPPING=1
 *   STOPPING=1    the agent is going down
 *   STATUS=...    a line for `systemctl status` (an upgrade started, or
 *                 failed and why)
 */
#ifndef MF_AGENT_NOTIFY_H
#define MF_AGENT_NOTIFY_H

/* Sends @state (assignments, newline-separated) to $NOTIFY_SOCKET.
 * Returns 0 when sent or when there is no socket to send to, -errno
 * otherwise. */
int notify_send(const char *state);

/* notify_send() of a formatted state. */
int notify_sendf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MF_AGENT_NOTIFY_H */
