/*
 * udp_ceiling.c — the "bare responder": the ceiling m2mguard's RADIUS
 * throughput and latency are compared with.
 *
 * It does only the work no RADIUS server may skip for an Access-Request
 * and nothing else: receive in batches (recvmmsg), decode the packet
 * (radius_packet_decode), verify the Message-Authenticator (RFC 3579 §3.2,
 * required here as m2mguard requires it), build an Access-Accept with its
 * own Message-Authenticator first, sign it (RFC 2865 §3 Response
 * Authenticator) and send the replies in batches (sendmmsg).  No client
 * table, no SIM lookup, no policy, no logging, no allocation per packet.
 * Whatever m2mguard does beyond this is what the benchmark's ratio
 * m2mguard / ceiling prices.
 *
 * Single-threaded: run it pinned to the core the daemon would get.  It
 * stops on SIGTERM or SIGINT and prints its counters on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "radius/crypto.h"
#include "radius/radius.h"

#define CEILING_BATCH           64
#define CEILING_SOCKBUF         (4 << 20)
#define CEILING_REPLY_MAX       64      /* header + Message-Authenticator */
#define CEILING_POLL_MS         200     /* how soon a signal is noticed when idle */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct counters {
    uint64_t received, replied, send_dropped;
    uint64_t refused[RADIUS_E__COUNT];
};

/*
 * Answer one request into out: the Accept's length, or the radius_error
 * that made us drop it.
 */
static int ceiling_answer(const uint8_t *req, size_t len,
                          const struct radius_secret *secret,
                          uint8_t *out, size_t cap)
{
    struct radius_packet pkt;
    struct radius_builder b;
    int r;

    if ((r = radius_packet_decode(req, len, &pkt)) != RADIUS_OK)
        return r;
    if (pkt.code != RADIUS_ACCESS_REQUEST)
        return RADIUS_E_BAD_CODE;
    if (pkt.ma_off < 0)
        return RADIUS_E_MA_MISSING;
    if ((r = radius_verify_ma(&pkt, secret, 0)) != 0)
        return r;
    radius_builder_init(&b, out, cap, RADIUS_ACCESS_ACCEPT, pkt.id, NULL);
    radius_builder_add_ma(&b);
    if ((r = radius_builder_finish(&b)) < 0)
        return r;
    radius_sign_response(out, (size_t)r, b.ma_off, pkt.data + 4, secret);
    return r;
}

static int listen_open(const char *arg)
{
    char host[256];
    const char *colon = strrchr(arg, ':');
    const char *h = arg;
    size_t hlen;
    struct addrinfo hints, *res = NULL;
    int fd, e, one = 1, sz = CEILING_SOCKBUF;
    struct timeval tv = { 0, CEILING_POLL_MS * 1000 };

    if (!colon || colon == arg || colon[1] == '\0')
        return -EINVAL;
    hlen = (size_t)(colon - arg);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
        return -EINVAL;
    fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    /* recvmmsg blocks for the first packet only up to this: stop is seen. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
        goto fail;
    freeaddrinfo(res);
    return fd;
fail:
    e = errno;
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return -e;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: udp_ceiling [--listen HOST:PORT] [--secret S]\n"
               "  --listen HOST:PORT   default 127.0.0.1:1812\n"
               "  --secret S           default benchsecret\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "secret", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static uint8_t rx[CEILING_BATCH][RADIUS_MAX_LEN];
    static uint8_t tx[CEILING_BATCH][CEILING_REPLY_MAX];
    struct mmsghdr rmsg[CEILING_BATCH], smsg[CEILING_BATCH];
    struct iovec riov[CEILING_BATCH], siov[CEILING_BATCH];
    struct sockaddr_storage peer[CEILING_BATCH];
    struct radius_secret secret;
    struct counters cnt;
    const char *listen_at = "127.0.0.1:1812";
    const char *secret_str = "benchsecret";
    int c, fd;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen_at = optarg; break;
        case 'k': secret_str = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 1;
    }
    if (radius_secret_init(&secret, secret_str, strlen(secret_str)) < 0) {
        fprintf(stderr, "udp_ceiling: the secret must be 1..%d bytes\n", RADIUS_SECRET_MAX);
        return 1;
    }
    fd = listen_open(listen_at);
    if (fd < 0) {
        fprintf(stderr, "udp_ceiling: cannot listen on %s: %s\n", listen_at,
                fd == -EINVAL ? "bad HOST:PORT" : strerror(-fd));
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;          /* no SA_RESTART: recvmmsg returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    memset(&cnt, 0, sizeof cnt);
    fprintf(stderr, "udp_ceiling: listening on %s\n", listen_at);

    while (!stop) {
        for (int i = 0; i < CEILING_BATCH; i++) {
            riov[i].iov_base = rx[i];
            riov[i].iov_len = sizeof rx[i];
            memset(&rmsg[i], 0, sizeof rmsg[i]);
            rmsg[i].msg_hdr.msg_iov = &riov[i];
            rmsg[i].msg_hdr.msg_iovlen = 1;
            rmsg[i].msg_hdr.msg_name = &peer[i];
            rmsg[i].msg_hdr.msg_namelen = sizeof peer[i];
        }
        /* MSG_WAITFORONE: block for one packet, then take what is queued. */
        int n = recvmmsg(fd, rmsg, CEILING_BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            fprintf(stderr, "udp_ceiling: recvmmsg: %s\n", strerror(errno));
            break;
        }
        unsigned out = 0;
        for (int i = 0; i < n; i++) {
            cnt.received++;
            int len = ceiling_answer(rx[i], rmsg[i].msg_len, &secret,
                                     tx[out], sizeof tx[out]);
            if (len < 0) {
                cnt.refused[-len < RADIUS_E__COUNT ? -len : 0]++;
                continue;
            }
            siov[out].iov_base = tx[out];
            siov[out].iov_len = (size_t)len;
            memset(&smsg[out], 0, sizeof smsg[out]);
            smsg[out].msg_hdr.msg_iov = &siov[out];
            smsg[out].msg_hdr.msg_iovlen = 1;
            smsg[out].msg_hdr.msg_name = &peer[i];
            smsg[out].msg_hdr.msg_namelen = rmsg[i].msg_hdr.msg_namelen;
            out++;
        }
        unsigned done = 0;
        while (done < out) {
            int r = sendmmsg(fd, smsg + done, out - done, 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                /* Full buffer or a vanished peer: a UDP server drops. */
                cnt.send_dropped += out - done;
                break;
            }
            done += (unsigned)r;
        }
        cnt.replied += done;
    }

    fprintf(stderr, "udp_ceiling: received %" PRIu64 ", replied %" PRIu64
            ", send drops %" PRIu64 "\n", cnt.received, cnt.replied, cnt.send_dropped);
    for (int i = 1; i < RADIUS_E__COUNT; i++)
        if (cnt.refused[i])
            fprintf(stderr, "udp_ceiling: dropped %s: %" PRIu64 "\n",
                    radius_error_name(-i), cnt.refused[i]);
    close(fd);
    radius_secret_wipe(&secret);
    return 0;
}
