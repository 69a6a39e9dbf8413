/*
 * fuzz_config.c — libFuzzer harness for the daemon configuration parser
 * (config/config.c): config_load() on a file holding the input, and
 * config_split_words() on each line of it.
 *
 * config_load() takes a path, so the input goes into a memfd created once
 * per process and the parser opens /proc/self/fd/N: no disk I/O per run and
 * nothing left behind.  Diagnostics go to a memory stream so the harness
 * can check that a refusal says why.
 *
 * Properties of a configuration that loads:
 *   - every global value is within its documented range;
 *   - every client has a name, a tenant, an address (prefix 0..32, mask of
 *     that prefix, net & mask == net) and a secret of 1..RADIUS_SECRET_MAX
 *     octets, and client names are unique;
 *   - a client's network is what its block's last "address" line says,
 *     parsed again here from the input;
 *   - config_client_find() agrees with a brute-force longest-prefix match
 *     and, on a client's own network, returns one at least as specific;
 * and of any input:
 *   - a NUL byte anywhere is an error (the parser promises "NUL byte in
 *     line"), and every refusal prints at least one "FILE:LINE: " line.
 * config_split_words(): words lie inside the line, in order, without a
 * newline; quoting each word back and splitting again gives the same
 * words; a smaller word limit gives a prefix of the same split.
 * Seeds: tests/fuzz/corpus/fuzz_config/ (tests/fuzz/make_corpus.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "core/ident.h"
#include "fuzz.h"

#define SPLIT_MAX 32            /* config.c's MAX_WORDS */
#define SPLIT_SMALL 4
#define LINE_CAP 8192           /* longer lines are refused by config_load */

static int memfd = -1;
static char path[64];
static char errbuf[1 << 16];
static FILE *errf;

static void setup(void)
{
    memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
    if (memfd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    errf = fmemopen(errbuf, sizeof errbuf, "w");
    if (!errf)
        abort();
}

static void write_input(const uint8_t *data, size_t size)
{
    if (ftruncate(memfd, 0) < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = pwrite(memfd, data + off, size - off, (off_t)off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
}

static uint32_t mask_of(int prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* Longest-prefix match written independently of config_client_find(). */
static int best_prefix(const struct config *c, uint32_t addr)
{
    int best = -1;
    for (uint32_t i = 0; i < c->nclients; i++)
        if ((addr & mask_of(c->clients[i].prefix)) == c->clients[i].net &&
            c->clients[i].prefix > best)
            best = c->clients[i].prefix;
    return best;
}

static void check_find(const struct config *c, uint32_t addr)
{
    const struct config_client *f = config_client_find(c, addr);
    int best = best_prefix(c, addr);
    if (best < 0) {
        FUZZ_CHECK(f == NULL);
        return;
    }
    FUZZ_CHECK(f != NULL && f >= c->clients && f < c->clients + c->nclients);
    FUZZ_CHECK(f->prefix == best && (addr & f->mask) == f->net);
}

static char oracle_line[LINE_CAP + 1];

/*
 * The address a client block gives, read here from the input itself: the
 * last "address" line before the block's "}".  Returns 0 and the network,
 * or -1 when that value is not A.B.C.D[/0..32] as docs/configuration.md
 * defines it.
 */
static int oracle_address(const uint8_t *data, size_t size, int block_line,
                          uint32_t *ret_net, int *ret_prefix)
{
    char value[LINE_CAP + 1] = "";
    size_t start = 0;
    for (int lineno = 1; start < size; lineno++) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) + 1 : size;
        if (lineno > block_line && end - start <= LINE_CAP) {
            char *w[SPLIT_MAX];
            int too_many;
            memcpy(oracle_line, data + start, end - start);
            oracle_line[end - start] = '\0';
            int n = config_split_words(oracle_line, w, SPLIT_MAX, &too_many);
            if (n == 1 && strcmp(w[0], "}") == 0)
                break;
            if (n == 2 && strcmp(w[0], "address") == 0)
                snprintf(value, sizeof value, "%s", w[1]);
        }
        start = end;
    }
    const char *slash = strchr(value, '/');
    size_t alen = slash ? (size_t)(slash - value) : strlen(value);
    uint32_t a;
    unsigned long prefix = 32;
    if (ident_parse_ipv4(value, alen, &a) < 0)
        return -1;
    if (slash) {
        const char *d = slash + 1;
        if (!*d)
            return -1;
        for (prefix = 0; *d; d++) {
            if (*d < '0' || *d > '9')
                return -1;
            prefix = prefix * 10 + (unsigned long)(*d - '0');
            if (prefix > 32)
                return -1;
        }
    }
    *ret_prefix = (int)prefix;
    *ret_net = a & mask_of((int)prefix);
    return 0;
}

static void check_config(const struct config *c, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(strcmp(c->path, path) == 0);
    FUZZ_CHECK(c->workers >= 1 && c->workers <= CONFIG_MAX_WORKERS);
    FUZZ_CHECK(c->dup_cache_size >= 16 && c->dup_cache_size <= 1u << 24);
    FUZZ_CHECK(c->dup_cache_ttl >= 1 && c->dup_cache_ttl <= 300);
    FUZZ_CHECK(c->journal_queue >= 64 && c->journal_queue <= 1u << 22);
    FUZZ_CHECK(c->require_ma == 0 || c->require_ma == 1);
    FUZZ_CHECK(c->auth_addr.sin_family == AF_INET && c->auth_addr.sin_port != 0);
    FUZZ_CHECK(c->database[0] && c->log[0] && c->events[0] && c->control[0]);
    FUZZ_CHECK(strlen(c->control) < sizeof(((struct sockaddr_un *)0)->sun_path));
    FUZZ_CHECK(c->nclients <= CONFIG_MAX_CLIENTS);
    FUZZ_CHECK(c->nclients == 0 || c->clients != NULL);

    for (uint32_t i = 0; i < c->nclients; i++) {
        const struct config_client *cl = &c->clients[i];
        FUZZ_CHECK(cl->name[0] != '\0' && strlen(cl->name) < CONFIG_NAME_MAX);
        FUZZ_CHECK(cl->tenant[0] != '\0' && strlen(cl->tenant) < CONFIG_NAME_MAX);
        FUZZ_CHECK(cl->prefix >= 0 && cl->prefix <= 32);
        FUZZ_CHECK(cl->mask == mask_of(cl->prefix));
        FUZZ_CHECK((cl->net & cl->mask) == cl->net);
        FUZZ_CHECK(cl->secret.len >= 1 && cl->secret.len <= RADIUS_SECRET_MAX);
        FUZZ_CHECK(cl->da_port != 0);
        FUZZ_CHECK(cl->da_attrs != 0 && (cl->da_attrs & ~0x1fu) == 0);
        FUZZ_CHECK(cl->line >= 1);
        for (uint32_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(c->clients[j].name, cl->name) != 0);

        uint32_t net;
        int prefix;
        FUZZ_CHECK(oracle_address(data, size, cl->line, &net, &prefix) == 0);
        FUZZ_CHECK(net == cl->net && prefix == cl->prefix);

        const struct config_client *f = config_client_find(c, cl->net);
        FUZZ_CHECK(f != NULL && f->prefix >= cl->prefix);
        check_find(c, cl->net);
        check_find(c, cl->net | ~cl->mask);
        check_find(c, cl->net ^ 1u);
        check_find(c, cl->net - 1u);
    }
    check_find(c, 0x7f000001u);
    check_find(c, 0);
    check_find(c, 0xffffffffu);
}

/* Quote a word so that config_split_words() gives it back. */
static size_t quote_word(char *out, size_t cap, const char *w)
{
    size_t n = 0;
    if (n + 1 >= cap)
        return 0;
    out[n++] = '"';
    for (; *w; w++) {
        if (n + 4 >= cap)
            return 0;
        if (*w == '"' || *w == '\\')
            out[n++] = '\\';
        out[n++] = *w;
    }
    out[n++] = '"';
    out[n] = '\0';
    return n;
}

static char line_a[LINE_CAP + 1], line_b[LINE_CAP + 1];
static char requoted[4 * LINE_CAP + 4 * SPLIT_MAX + 2];

static void check_split_line(const char *line, size_t len)
{
    char *w[SPLIT_MAX], *w2[SPLIT_MAX];
    int too_many = 0, too_many2 = 0;

    memcpy(line_a, line, len);
    line_a[len] = '\0';
    int n = config_split_words(line_a, w, SPLIT_MAX, &too_many);
    FUZZ_CHECK(n >= -1 && n <= SPLIT_MAX);
    FUZZ_CHECK(!too_many || n == SPLIT_MAX);

    /* A smaller limit: a prefix of the same split, or the same failure. */
    memcpy(line_b, line, len);
    line_b[len] = '\0';
    int m = config_split_words(line_b, w2, SPLIT_SMALL, &too_many2);
    if (n < 0) {
        FUZZ_CHECK(m == -1 || (m == SPLIT_SMALL && too_many2));
    } else {
        FUZZ_CHECK(m == (n < SPLIT_SMALL ? n : SPLIT_SMALL));
        FUZZ_CHECK(too_many2 == (n > SPLIT_SMALL || too_many));
        for (int i = 0; i < m; i++)
            FUZZ_CHECK(strcmp(w[i], w2[i]) == 0);
    }
    if (n < 0)
        return;

    /* Words are inside the line, in order, and never span a newline. */
    const char *prev_end = line_a;
    for (int i = 0; i < n; i++) {
        size_t wl = strlen(w[i]);
        FUZZ_CHECK(w[i] >= prev_end && w[i] + wl <= line_a + len);
        FUZZ_CHECK(memchr(w[i], '\n', wl) == NULL);
        prev_end = w[i] + wl;
    }
    if (n == 0 || too_many)
        return;

    /* Round trip: quote every word, split again, same words. */
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        size_t q = quote_word(requoted + pos, sizeof requoted - pos - 1, w[i]);
        FUZZ_CHECK(q > 0);
        pos += q;
        requoted[pos++] = i + 1 < n ? ' ' : '\n';
    }
    requoted[pos] = '\0';
    int k = config_split_words(requoted, w2, SPLIT_MAX, &too_many2);
    FUZZ_CHECK(k == n && !too_many2);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(strcmp(w[i], w2[i]) == 0);
}

/* Line by line, each with its newline, as config_load() hands them over. */
static void check_split(const uint8_t *data, size_t size)
{
    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) + 1 : size;
        size_t len = end - start;
        if (len <= LINE_CAP && memchr(data + start, '\0', len) == NULL)
            check_split_line((const char *)data + start, len);
        start = end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0)
        setup();
    write_input(data, size);

    struct config *cfg = NULL;
    rewind(errf);
    int r = config_load(path, errf, &cfg);
    fflush(errf);
    long printed = ftell(errf);
    if (r == 0) {
        FUZZ_CHECK(cfg != NULL);
        FUZZ_CHECK(memchr(data, '\0', size) == NULL);
        check_config(cfg, data, size);
        config_free(cfg);
    } else {
        FUZZ_CHECK(r == -EINVAL && cfg == NULL);
        FUZZ_CHECK(printed > (long)strlen(path) + 2);
        FUZZ_CHECK(strncmp(errbuf, path, strlen(path)) == 0 && errbuf[strlen(path)] == ':');
    }
    check_split(data, size);
    return 0;
}
