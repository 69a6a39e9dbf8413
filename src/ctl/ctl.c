/*
 * ctl.c — control socket plumbing shared by the daemon and the CLI.
 * The daemon's command handling lives in daemon/daemon.c; this file only
 * moves bytes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"

static int addr_of(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path)
        return -ENAMETOOLONG;
    memcpy(sun->sun_path, path, strlen(path) + 1);
    return 0;
}

int ctl_listen(const char *path)
{
    struct sockaddr_un sun;
    int r = addr_of(path, &sun);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    /* A stale socket from a crashed daemon: remove it only if nobody answers. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        if (connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
            close(probe);
            close(fd);
            return -EADDRINUSE;
        }
        close(probe);
    }
    unlink(path);
    mode_t old = umask(0117);
    r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
    umask(old);
    if (r < 0 || listen(fd, 16) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

int ctl_request(const char *path, const char *cmd, char *out, size_t outlen, int timeout_ms)
{
    struct sockaddr_un sun;
    int r = addr_of(path, &sun);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    char line[CTL_LINE_MAX];
    int n = snprintf(line, sizeof line, "%s\n", cmd);
    if (n < 0 || (size_t)n >= sizeof line || write(fd, line, (size_t)n) != n) {
        close(fd);
        return -EIO;
    }
    size_t got = 0;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    for (;;) {
        int pr = poll(&pfd, 1, timeout_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            close(fd);
            return -ETIMEDOUT;
        }
        ssize_t k = read(fd, out + got, outlen - 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
        if (got == outlen - 1)
            break;
    }
    out[got] = '\0';
    close(fd);
    return 0;
}
