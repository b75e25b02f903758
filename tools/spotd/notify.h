/*
 * tools/spotd/notify.h: systemd's readiness protocol (sd_notify), written by hand: one datagram to the socket named
 * by $NOTIFY_SOCKET. It lets packaging/spotd@.service be Type=notify without linking libsystemd.
 */
#ifndef SPOTD_NOTIFY_H
#define SPOTD_NOTIFY_H

/* Sends state ("READY=1\nMAINPID=42", "STOPPING=1", ...) to $NOTIFY_SOCKET: a path, or an abstract socket written
 * "@name". Returns 1 if sent, 0 when $NOTIFY_SOCKET is unset (not started by systemd), -1 on failure (errno set:
 * EINVAL for a malformed address). Never blocks for long: the socket is a local datagram socket. */
int spotd_notify(const char *state);

#endif
