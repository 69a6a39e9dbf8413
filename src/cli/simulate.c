/*
 * simulate.c — `m2mguard simulate`: a GGSN/PGW simulator that plays a
 * scenario of Access-Requests against a running m2mguard and shows each
 * decision and the findings it produced, as they happen.
 *
 * Scenario file (etc/scenario.txt): one step per line,
 *   attach "what this shows" imsi=… [imeisv=…] [plmn=MCCMNC] [rat=NAME]
 *          [uli=tai|ecgi|tai+ecgi|cgi|sai|rai] [area=N] [cell=N]
 *          [imsi-plmn=MCCMNC] [password=…] [count=N] [expect=accept|reject]
 *   acct "what this shows" status=start|interim|stop|on|off imsi=… session=…
 *        [imeisv=…] [in=BYTES] [out=BYTES] [time=SECONDS]
 *   pause MILLISECONDS
 * While it runs it also plays the GGSN's RFC 5176 server on the client's
 * da-port: every Disconnect-Request is verified, shown and ACKed.
 * Requests are real RADIUS: Message-Authenticator first, 3GPP vendor
 * attributes, Response Authenticator verified, retransmitted on timeout.
 * Exit status 1 when a step's `expect` was not met, so the scenario is a
 * test as well as a demo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "radius/crypto.h"
#include "radius/gpp.h"
#include "radius/radius.h"

static const char usage[] =
    "usage: m2mguard [-c CONFIG] simulate [--scenario FILE] [--server HOST:PORT]\n"
    "                                     [--client NAME] [--events FILE] [--quiet]\n\n"
    "Play a GGSN scenario (default etc/scenario.txt) against the running daemon:\n"
    "each step sends real Access-Requests and prints the decision and the\n"
    "findings it raised.  The server address and the shared secret come from\n"
    "CONFIG (listen auth, and the client NAME or the first one that covers\n"
    "127.0.0.1); findings are read from the `events` file.  Exit status 1 if a\n"
    "step's expect= was not met.\n";

#define C_GREEN "\033[32m"
#define C_RED "\033[31m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

struct sim {
    int fd;
    int nas_fd;                 /* the simulated GGSN's Dynamic Authorization port */
    struct sockaddr_in server;
    struct sockaddr_in acct_server;
    const struct config_client *client;
    const char *control;
    FILE *events;
    int color;
    uint8_t id;
    int steps, requests, accepts, rejects, expect_failed, lost, disconnects;
};

struct step {
    int acct;                   /* an accounting step */
    const char *what;
    const char *imsi, *imeisv, *plmn, *rat, *uli, *imsi_plmn, *password, *expect;
    const char *session, *status;
    long area, cell, count, time;
    unsigned long long in, out;
};

/*
 * A scenario number: decimal, or hexadecimal with 0x (cells are usually
 * written in hex), the whole word, at most `max`.  strtoull() alone would
 * take "-1" as 2^64-1 and "12abc" as 12.
 */
static int scenario_number(const char *v, unsigned long long max, unsigned long long *ret)
{
    char *end;
    if (!(v[0] >= '0' && v[0] <= '9'))
        return -EINVAL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 0);
    if (errno != 0 || *end != '\0' || n > max)
        return -EINVAL;
    *ret = n;
    return 0;
}

static const char *col(struct sim *s, const char *c)
{
    return s->color ? c : "";
}

static int build(struct sim *s, const struct step *st, uint8_t *buf, uint8_t auth[16])
{
    struct radius_builder b;
    getrandom(auth, 16, 0);
    radius_builder_init(&b, buf, RADIUS_MAX_LEN, RADIUS_ACCESS_REQUEST, s->id++, auth);
    radius_builder_add_ma(&b);
    radius_builder_add_str(&b, RADIUS_ATTR_USER_NAME, st->imsi);
    if (st->password) {
        uint8_t hidden[RADIUS_PASSWORD_MAX];
        int n = radius_pap_hide(&s->client->secret, auth, st->password, hidden);
        if (n > 0)
            radius_builder_add(&b, RADIUS_ATTR_USER_PASSWORD, hidden, (size_t)n);
    }
    radius_builder_add_u32(&b, RADIUS_ATTR_NAS_IP_ADDRESS, 0x7f000001);
    radius_builder_add_str(&b, RADIUS_ATTR_CALLED_STATION_ID, "iot.m2m.example");
    radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI, st->imsi, strlen(st->imsi));
    if (st->imeisv)
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMEISV, st->imeisv, strlen(st->imeisv));
    if (st->imsi_plmn)
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI_MCC_MNC, st->imsi_plmn, strlen(st->imsi_plmn));
    if (st->rat) {
        int rat = gpp_rat_from_name(st->rat);
        uint8_t v = (uint8_t)(rat < 0 ? 0 : rat);
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_RAT_TYPE, &v, 1);
    }
    if (st->plmn) {
        struct gpp_plmn p;
        if (gpp_plmn_parse(st->plmn, strlen(st->plmn), &p) < 0) {
            fprintf(stderr, "m2mguard: bad plmn=%s in scenario\n", st->plmn);
            return -EINVAL;
        }
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_SGSN_MCC_MNC, st->plmn, strlen(st->plmn));
        uint8_t uli[13];
        size_t n = 0;
        const char *t = st->uli ? st->uli : "tai+ecgi";
        uint16_t area = (uint16_t)st->area;
        uint32_t cell = (uint32_t)st->cell;
        if (strcmp(t, "tai+ecgi") == 0) {
            uli[0] = GPP_ULI_TAI_ECGI;
            gpp_plmn_encode_bcd(&p, uli + 1);
            uli[4] = (uint8_t)(area >> 8);
            uli[5] = (uint8_t)area;
            gpp_plmn_encode_bcd(&p, uli + 6);
            uli[9] = (uint8_t)((cell >> 24) & 0x0f);
            uli[10] = (uint8_t)(cell >> 16);
            uli[11] = (uint8_t)(cell >> 8);
            uli[12] = (uint8_t)cell;
            n = 13;
        } else if (strcmp(t, "tai") == 0) {
            uli[0] = GPP_ULI_TAI;
            gpp_plmn_encode_bcd(&p, uli + 1);
            uli[4] = (uint8_t)(area >> 8);
            uli[5] = (uint8_t)area;
            n = 6;
        } else if (strcmp(t, "ecgi") == 0) {
            uli[0] = GPP_ULI_ECGI;
            gpp_plmn_encode_bcd(&p, uli + 1);
            uli[4] = (uint8_t)((cell >> 24) & 0x0f);
            uli[5] = (uint8_t)(cell >> 16);
            uli[6] = (uint8_t)(cell >> 8);
            uli[7] = (uint8_t)cell;
            n = 8;
        } else {
            /* CGI, SAI, RAI: PLMN, LAC, then CI / SAC / RAC+spare. */
            uli[0] = strcmp(t, "cgi") == 0 ? GPP_ULI_CGI : strcmp(t, "sai") == 0 ? GPP_ULI_SAI
                                                                                  : GPP_ULI_RAI;
            gpp_plmn_encode_bcd(&p, uli + 1);
            uli[4] = (uint8_t)(area >> 8);
            uli[5] = (uint8_t)area;
            if (uli[0] == GPP_ULI_RAI) {
                uli[6] = (uint8_t)cell;
                uli[7] = 0xff;
            } else {
                uli[6] = (uint8_t)(cell >> 8);
                uli[7] = (uint8_t)cell;
            }
            n = 8;
        }
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_USER_LOCATION_INFO, uli, n);
    }
    int len = radius_builder_finish(&b);
    if (len < 0)
        return len;
    radius_sign_request(buf, (size_t)len, b.ma_off, &s->client->secret);
    return len;
}

static int status_code(const char *st)
{
    if (!st || !strcmp(st, "interim")) return 3;
    if (!strcmp(st, "start")) return 1;
    if (!strcmp(st, "stop")) return 2;
    if (!strcmp(st, "on")) return 7;
    if (!strcmp(st, "off")) return 8;
    return -1;
}

/* An Accounting-Request as a GGSN sends it (RFC 2866, TS 29.061). */
static int build_acct(struct sim *s, const struct step *st, uint8_t *buf)
{
    struct radius_builder b;
    int code = status_code(st->status);
    radius_builder_init(&b, buf, RADIUS_MAX_LEN, RADIUS_ACCOUNTING_REQUEST, s->id++, NULL);
    radius_builder_add_ma(&b);
    radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_STATUS_TYPE, (uint32_t)code);
    radius_builder_add_u32(&b, RADIUS_ATTR_NAS_IP_ADDRESS, 0x7f000001);
    if (code != 7 && code != 8) {
        /* parse_step() requires both for every status but on / off. */
        if (!st->session || !st->imsi)
            return -EINVAL;
        radius_builder_add_str(&b, RADIUS_ATTR_ACCT_SESSION_ID, st->session);
        radius_builder_add_str(&b, RADIUS_ATTR_USER_NAME, st->imsi);
        radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMSI, st->imsi, strlen(st->imsi));
        if (st->imeisv)
            radius_builder_add_vsa(&b, GPP_VENDOR, GPP_IMEISV, st->imeisv, strlen(st->imeisv));
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_INPUT_OCTETS, (uint32_t)st->in);
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_INPUT_GIGAWORDS, (uint32_t)(st->in >> 32));
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_OUTPUT_OCTETS, (uint32_t)st->out);
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_OUTPUT_GIGAWORDS, (uint32_t)(st->out >> 32));
        radius_builder_add_u32(&b, RADIUS_ATTR_ACCT_SESSION_TIME, (uint32_t)st->time);
    }
    int len = radius_builder_finish(&b);
    if (len < 0)
        return len;
    radius_sign_request(buf, (size_t)len, b.ma_off, &s->client->secret);
    return len;
}

/*
 * The simulated GGSN's side of RFC 5176: answer every Disconnect-Request
 * that arrives within wait_ms with a Disconnect-ACK, and show it.
 */
static void serve_nas(struct sim *s, int wait_ms)
{
    if (s->nas_fd < 0)
        return;
    struct pollfd pfd = { .fd = s->nas_fd, .events = POLLIN };
    while (poll(&pfd, 1, wait_ms) > 0) {
        uint8_t in[RADIUS_MAX_LEN], out[64];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(s->nas_fd, in, sizeof in, 0, (struct sockaddr *)&from, &fl);
        struct radius_packet p;
        if (n <= 0 || radius_packet_decode(in, (size_t)n, &p) < 0 ||
            p.code != RADIUS_DISCONNECT_REQUEST ||
            radius_verify_request_auth(&p, &s->client->secret) < 0 ||
            (p.ma_off >= 0 && radius_verify_ma(&p, &s->client->secret, 1) < 0)) {
            printf("    %sGGSN: dropped an invalid Dynamic Authorization request%s\n",
                   col(s, C_RED), col(s, C_OFF));
            continue;
        }
        char who[160] = "";
        const struct radius_attr_ref *a = radius_packet_find(&p, RADIUS_ATTR_USER_NAME);
        const struct radius_attr_ref *sid = radius_packet_find(&p, RADIUS_ATTR_ACCT_SESSION_ID);
        snprintf(who, sizeof who, "User-Name %.*s, Acct-Session-Id %.*s", a ? a->len : 1,
                 a ? (const char *)p.data + a->off : "-", sid ? sid->len : 1,
                 sid ? (const char *)p.data + sid->off : "-");
        struct radius_builder b;
        radius_builder_init(&b, out, sizeof out, RADIUS_DISCONNECT_ACK, p.id, NULL);
        radius_builder_add_ma(&b);
        int len = radius_builder_finish(&b);
        if (len < 0)
            continue;
        radius_sign_response(out, (size_t)len, b.ma_off, in + 4, &s->client->secret);
        (void)sendto(s->nas_fd, out, (size_t)len, 0, (struct sockaddr *)&from, sizeof from);
        s->disconnects++;
        printf("    %sGGSN ← Disconnect-Request%s (%s) → Disconnect-ACK: session torn down\n",
               col(s, C_RED), col(s, C_OFF), who);
        wait_ms = 100;
    }
}

/* Send one request; returns the reply code (2/3) or -ETIMEDOUT. */
static int exchange(struct sim *s, const struct step *st, char *reply_msg, size_t msglen)
{
    uint8_t buf[RADIUS_MAX_LEN], auth[16], in[RADIUS_MAX_LEN];
    int len = st->acct ? build_acct(s, st, buf) : build(s, st, buf, auth);
    if (len < 0)
        return len;
    if (st->acct)
        memcpy(auth, buf + 4, 16);
    const struct sockaddr_in *to = st->acct ? &s->acct_server : &s->server;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (sendto(s->fd, buf, (size_t)len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
            return -errno;
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        while (poll(&pfd, 1, 1000) > 0) {
            ssize_t n = recv(s->fd, in, sizeof in, 0);
            struct radius_packet p;
            if (n <= 0 || radius_packet_decode(in, (size_t)n, &p) < 0 || p.id != buf[1])
                continue;
            if (radius_verify_response(&p, auth, &s->client->secret) < 0) {
                fprintf(stderr, "m2mguard: reply failed verification (wrong secret?)\n");
                continue;
            }
            reply_msg[0] = '\0';
            const struct radius_attr_ref *a = radius_packet_find(&p, RADIUS_ATTR_REPLY_MESSAGE);
            if (a)
                snprintf(reply_msg, msglen, "%.*s", a->len, (const char *)p.data + a->off);
            const struct radius_attr_ref *ip = radius_packet_find(&p, RADIUS_ATTR_FRAMED_IP_ADDRESS);
            if (ip && ip->len == 4) {
                const uint8_t *v = p.data + ip->off;
                snprintf(reply_msg, msglen, "Framed-IP-Address %u.%u.%u.%u", v[0], v[1], v[2], v[3]);
            }
            return p.code;
        }
    }
    return -ETIMEDOUT;
}

/* Print event-log lines written since the last call (findings and actions). */
static void show_events(struct sim *s)
{
    char line[2048];
    if (!s->events)
        return;
    char reply[64];
    if (s->control)
        (void)ctl_request(s->control, "flush", reply, sizeof reply, 5000);
    clearerr(s->events);
    while (fgets(line, sizeof line, s->events)) {
        char kind[64] = "", type[16] = "", subject[64] = "";
        const char *k = strstr(line, "\"kind\":\""), *t = strstr(line, "\"type\":\""),
                   *sj = strstr(line, "\"subject\":\"");
        /* A field that does not parse stays "" (the buffers start empty). */
        if (k)
            (void)sscanf(k + 8, "%63[^\"]", kind);
        if (t)
            (void)sscanf(t + 8, "%15[^\"]", type);
        if (sj)
            (void)sscanf(sj + 11, "%63[^\"]", subject);
        if (strcmp(type, "finding") == 0) {
            const char *sev = strstr(line, "\"severity\":\"");
            char sv[16] = "";
            if (sev)
                (void)sscanf(sev + 12, "%15[^\"]", sv);
            const char *ev = strstr(line, "\"evidence\":");
            printf("      %sfinding%s %-24s %-8s %s %s%.*s%s\n", col(s, C_BOLD), col(s, C_OFF),
                   kind, sv, subject, col(s, C_DIM), ev ? (int)strcspn(ev + 11, "\n") - 1 : 0,
                   ev ? ev + 11 : "", col(s, C_OFF));
        } else if (strcmp(type, "action") == 0) {
            char outcome[24] = "";
            const char *o = strstr(line, "\"outcome\":\"");
            if (o)
                (void)sscanf(o + 11, "%23[^\"]", outcome);
            printf("      %saction%s  %s (%s)\n", col(s, C_BOLD), col(s, C_OFF), kind,
                   strcmp(outcome, "done") == 0 ? "taken" : outcome);
        }
    }
}

static int run_step(struct sim *s, struct step *st)
{
    char msg[128];
    long count = st->count > 0 ? st->count : 1;
    int last = 0, acc = 0, rej = 0;
    s->steps++;
    printf("%s▶ %s%s\n", col(s, C_BOLD), st->what ? st->what : "attach", col(s, C_OFF));
    if (st->acct)
        printf("    Accounting %s  IMSI %s  session %s  up %llu  down %llu bytes\n",
               st->status ? st->status : "interim", st->imsi ? st->imsi : "-",
               st->session ? st->session : "-", st->in, st->out);
    else
        printf("    IMSI %s  IMEISV %s  PLMN %s  RAT %s\n", st->imsi, st->imeisv ? st->imeisv : "-",
               st->plmn ? st->plmn : "-", st->rat ? st->rat : "-");
    for (long i = 0; i < count; i++) {
        last = exchange(s, st, msg, sizeof msg);
        s->requests++;
        if (last == RADIUS_ACCESS_ACCEPT || last == RADIUS_ACCOUNTING_RESPONSE) {
            acc++;
            s->accepts++;
        } else if (last == RADIUS_ACCESS_REJECT) {
            rej++;
            s->rejects++;
        } else {
            s->lost++;
        }
        if (count == 1 || i == count - 1 || (i > 0 && last != RADIUS_ACCESS_ACCEPT && rej == 1)) {
            if (count > 1)
                printf("    request %ld/%ld: ", i + 1, count);
            else
                printf("    ");
            if (last == RADIUS_ACCOUNTING_RESPONSE)
                printf("%sAccounting-Response%s (committed)\n", col(s, C_GREEN), col(s, C_OFF));
            else if (last == RADIUS_ACCESS_ACCEPT)
                printf("%sAccess-Accept%s %s\n", col(s, C_GREEN), col(s, C_OFF), msg);
            else if (last == RADIUS_ACCESS_REJECT)
                printf("%sAccess-Reject%s %s\n", col(s, C_RED), col(s, C_OFF), msg);
            else
                printf("no answer (%s)\n", strerror(-last));
        }
    }
    if (count > 1)
        printf("    %ld requests: %d accepted, %d rejected\n", count, acc, rej);
    serve_nas(s, st->acct ? 400 : 50);
    show_events(s);
    if (st->expect) {
        int want = strcmp(st->expect, "accept") == 0 ? RADIUS_ACCESS_ACCEPT : RADIUS_ACCESS_REJECT;
        if (last != want) {
            printf("    %sexpected %s: NOT MET%s\n", col(s, C_RED), st->expect, col(s, C_OFF));
            s->expect_failed++;
        }
    }
    putchar('\n');
    return 0;
}

static int parse_step(char **w, int n, struct step *st, const char *file, int line)
{
    memset(st, 0, sizeof *st);
    int i = 1;
    if (i < n && !strchr(w[i], '='))
        st->what = w[i++];
    for (; i < n; i++) {
        char *eq = strchr(w[i], '=');
        if (!eq) {
            fprintf(stderr, "%s:%d: expected key=value, got \"%s\"\n", file, line, w[i]);
            return -EINVAL;
        }
        *eq = '\0';
        const char *k = w[i], *v = eq + 1;
        /* The numbers and their ranges: what the attributes can carry. */
        static const struct { const char *key; unsigned long long max; } nums[] = {
            { "area", 0xffff },             /* TAC / LAC: 16 bits */
            { "cell", 0xffffffffu },        /* ECI (28 bits), CI, SAC, RAC */
            { "count", 100000 },
            { "in", UINT64_MAX }, { "out", UINT64_MAX },
            { "time", 0xffffffffu },        /* Acct-Session-Time: 32 bits */
        };
        unsigned long long num = 0;
        for (size_t j = 0; j < sizeof nums / sizeof nums[0]; j++)
            if (strcmp(k, nums[j].key) == 0 && scenario_number(v, nums[j].max, &num) < 0) {
                fprintf(stderr, "%s:%d: %s must be a number from 0 to %llu\n", file, line, k,
                        nums[j].max);
                return -EINVAL;
            }
        if (!strcmp(k, "imsi")) st->imsi = v;
        else if (!strcmp(k, "imeisv")) st->imeisv = v;
        else if (!strcmp(k, "plmn")) st->plmn = v;
        else if (!strcmp(k, "rat")) st->rat = v;
        else if (!strcmp(k, "uli")) st->uli = v;
        else if (!strcmp(k, "imsi-plmn")) st->imsi_plmn = v;
        else if (!strcmp(k, "password")) st->password = v;
        else if (!strcmp(k, "expect")) st->expect = v;
        else if (!strcmp(k, "area")) st->area = (long)num;
        else if (!strcmp(k, "cell")) st->cell = (long)num;
        else if (!strcmp(k, "count")) st->count = (long)num;
        else if (!strcmp(k, "session")) st->session = v;
        else if (!strcmp(k, "status")) st->status = v;
        else if (!strcmp(k, "in")) st->in = num;
        else if (!strcmp(k, "out")) st->out = num;
        else if (!strcmp(k, "time")) st->time = (long)num;
        else {
            fprintf(stderr, "%s:%d: unknown key \"%s\"\n", file, line, k);
            return -EINVAL;
        }
    }
    st->acct = strcmp(w[0], "acct") == 0;
    if (st->acct) {
        if (status_code(st->status) < 0) {
            fprintf(stderr, "%s:%d: status must be start, interim, stop, on or off\n", file, line);
            return -EINVAL;
        }
        int nas_wide = status_code(st->status) >= 7;
        if (!nas_wide && (!st->imsi || !st->session)) {
            fprintf(stderr, "%s:%d: acct needs imsi= and session=\n", file, line);
            return -EINVAL;
        }
        if (st->expect) {
            fprintf(stderr, "%s:%d: expect= is for attach steps\n", file, line);
            return -EINVAL;
        }
    } else if (!st->imsi) {
        fprintf(stderr, "%s:%d: attach needs imsi=\n", file, line);
        return -EINVAL;
    }
    if (st->expect && strcmp(st->expect, "accept") != 0 && strcmp(st->expect, "reject") != 0) {
        fprintf(stderr, "%s:%d: expect must be accept or reject\n", file, line);
        return -EINVAL;
    }
    if (st->count < 0 || st->count > 100000) {
        fprintf(stderr, "%s:%d: count must be 1..100000\n", file, line);
        return -EINVAL;
    }
    return 0;
}

int cli_simulate(struct cli *g, int argc, char **argv)
{
    static const struct option opts[] = {
        { "scenario", required_argument, NULL, 's' }, { "server", required_argument, NULL, 'S' },
        { "client", required_argument, NULL, 'C' }, { "events", required_argument, NULL, 'e' },
        { "quiet", no_argument, NULL, 'q' }, { 0 } };
    const char *scenario = "etc/scenario.txt", *server = NULL, *client = NULL, *events = NULL;
    struct sim s;
    struct config *cfg;
    int ch, status = 1;

    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    memset(&s, 0, sizeof s);
    s.fd = -1;
    s.nas_fd = -1;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:S:C:e:q", opts, NULL)) != -1) {
        switch (ch) {
        case 's': scenario = optarg; break;
        case 'S': server = optarg; break;
        case 'C': client = optarg; break;
        case 'e': events = optarg; break;
        case 'q': break;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (cli_config(g, &cfg) < 0)
        return 1;
    for (uint32_t i = 0; i < cfg->nclients && !s.client; i++)
        if (client ? strcmp(cfg->clients[i].name, client) == 0
                   : (0x7f000001u & cfg->clients[i].mask) == cfg->clients[i].net)
            s.client = &cfg->clients[i];
    if (!s.client) {
        fprintf(stderr, "m2mguard: no client %s in %s\n", client ? client : "covering 127.0.0.1",
                g->config_path);
        goto out;
    }
    s.server = cfg->auth_addr;
    if (server) {
        char host[64];
        const char *colon = strrchr(server, ':');
        if (!colon || (size_t)(colon - server) >= sizeof host) {
            fprintf(stderr, "m2mguard: --server HOST:PORT\n");
            goto out;
        }
        memcpy(host, server, (size_t)(colon - server));
        host[colon - server] = '\0';
        if (inet_pton(AF_INET, host, &s.server.sin_addr) != 1) {
            fprintf(stderr, "m2mguard: --server: bad IPv4 address\n");
            goto out;
        }
        unsigned long long port;
        if (scenario_number(colon + 1, 65535, &port) < 0 || port == 0) {
            fprintf(stderr, "m2mguard: --server HOST:PORT: bad port \"%s\"\n", colon + 1);
            goto out;
        }
        s.server.sin_port = htons((uint16_t)port);
    }
    if (!events && strcmp(cfg->events, "none") != 0 && strcmp(cfg->events, "stderr") != 0)
        events = cfg->events;
    /* Only what this run causes: start reading at the end. */
    if (events && (s.events = fopen(events, "r")) != NULL && fseek(s.events, 0, SEEK_END) != 0) {
        fprintf(stderr, "m2mguard: %s: %s; findings will not be shown\n", events, strerror(errno));
        (void)fclose(s.events);
        s.events = NULL;
    }
    s.acct_server = cfg->acct_addr;
    if (server)
        s.acct_server.sin_port = htons((uint16_t)(ntohs(s.server.sin_port) + 1));
    /* Play the GGSN's Dynamic Authorization server on the client's da-port. */
    s.nas_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    {
        struct sockaddr_in na = { .sin_family = AF_INET, .sin_port = htons(s.client->da_port),
                                  .sin_addr.s_addr = htonl(0x7f000001) };
        if (s.nas_fd >= 0 && bind(s.nas_fd, (struct sockaddr *)&na, sizeof na) < 0) {
            fprintf(stderr, "m2mguard: cannot play the GGSN on 127.0.0.1:%u (%s); "
                    "Disconnect-Requests will go unanswered\n", s.client->da_port, strerror(errno));
            close(s.nas_fd);
            s.nas_fd = -1;
        }
    }
    s.control = cfg->control;
    s.color = isatty(STDOUT_FILENO);
    s.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    getrandom(&s.id, 1, 0);

    FILE *f = fopen(scenario, "r");
    if (!f) {
        fprintf(stderr, "m2mguard: %s: %s\n", scenario, strerror(errno));
        goto out;
    }
    char line[1024], *w[32];
    int lineno = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        int too_many;
        lineno++;
        int n = config_split_words(line, w, 32, &too_many);
        if (n < 0 || too_many) {
            fprintf(stderr, "%s:%d: cannot parse line\n", scenario, lineno);
            bad = 1;
            break;
        }
        if (n == 0)
            continue;
        if (strcmp(w[0], "pause") == 0 && n == 2) {
            unsigned long long ms;
            if (scenario_number(w[1], 3600000, &ms) < 0) {
                fprintf(stderr, "%s:%d: pause takes MILLISECONDS (0 to 3600000)\n", scenario, lineno);
                bad = 1;
                break;
            }
            struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
            continue;
        }
        if (strcmp(w[0], "attach") != 0 && strcmp(w[0], "acct") != 0) {
            fprintf(stderr, "%s:%d: unknown step \"%s\" (attach, acct, pause)\n", scenario, lineno, w[0]);
            bad = 1;
            break;
        }
        struct step st;
        if (parse_step(w, n, &st, scenario, lineno) < 0) {
            bad = 1;
            break;
        }
        run_step(&s, &st);
    }
    (void)fclose(f);      /* read only: nothing to lose */
    if (bad)
        goto out;
    printf("%ssummary%s: %d steps, %d requests: %d accepted or recorded, %d rejected, %d unanswered; "
           "%d sessions cut by Disconnect-Request; %d expectations not met\n", col(&s, C_BOLD),
           col(&s, C_OFF), s.steps, s.requests, s.accepts, s.rejects, s.lost, s.disconnects,
           s.expect_failed);
    status = s.expect_failed || s.lost ? 1 : 0;
out:
    if (s.fd >= 0)
        close(s.fd);
    if (s.nas_fd >= 0)
        close(s.nas_fd);
    if (s.events)
        (void)fclose(s.events);
    config_free(cfg);
    return status;
}
