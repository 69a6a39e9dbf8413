/*
 * ctl.h — the local control socket (relayctl style).
 *
 * A Unix stream socket, mode 0660, under the daemon's control.  A client
 * connects, writes one command line, reads the answer until EOF.  Commands:
 *   sync    apply store changes now; answers "ok rev=N"
 *   flush   wait until queued findings are committed; "ok"
 *   stats   counters as one JSON object
 *   reload  re-read the configuration file (same as SIGHUP); "ok" or errors
 * The CLI sends `sync` after every change it commits, so changes reach the
 * running daemon at once; the daemon also polls the store's revision every
 * 500 ms, so a change is applied within a second even if that poke is lost.
 */
#ifndef M2MG_CTL_H
#define M2MG_CTL_H

#include <stddef.h>

#define CTL_LINE_MAX 256
#define CTL_REPLY_MAX (256 * 1024)

/* Daemon side: bind and listen; returns the fd or -errno. */
int ctl_listen(const char *path);
/*
 * Client side: send `cmd`, read the reply into out (NUL-terminated).
 * Returns 0, -ENOENT/-ECONNREFUSED when no daemon runs, or -errno.
 */
int ctl_request(const char *path, const char *cmd, char *out, size_t outlen, int timeout_ms);

#endif
