/*
 * fuzz_csv_import.c — libFuzzer harness for the SIM CSV import
 * (cmd/import.c): cmd_sim_import() on the input as a carrier's CSV file,
 * with --create-missing, into a real SQLite store.
 *
 * The store is an in-memory SQLite database opened once per process and
 * holding a small baseline fleet (BASELINE_CSV), so rows that collide with
 * SIMs already provisioned are exercised too.  A successful import changes
 * the database; the harness then closes it and opens a fresh one with the
 * baseline, so every run starts from the same state and a crash input
 * replays alone.  The input reaches the importer as a file path: a memfd
 * created once, opened through /proc/self/fd/N.
 *
 * Properties, which are the importer's promise "all or nothing":
 *   - res.imported is 0 or res.rows; success means no bad row;
 *   - a failed import leaves the SIM count unchanged and says why on err;
 *   - a successful one adds exactly res.imported SIMs, and the first
 *     row's SIM is then found by its ICCID;
 *   - a NUL byte anywhere in the file is refused, not silently cut.
 * Seeds: tests/fuzz/corpus/fuzz_csv_import/ (tests/fuzz/make_corpus.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "fuzz.h"
#include "store/store.h"

/* Three SIMs the fuzzed files can collide with (ICCID, IMSI, IP). */
#define BASELINE_CSV                                                           \
    "iccid,imsi,msisdn,imei,ip,group,tenant\n"                                 \
    "8944110000000009991,234159000000001,447900009991,,10.99.0.1,base,acme\n"  \
    "8944110000000009983,234159000000002,,353328110000013,10.99.0.2,base,acme\n" \
    "8944110000000009975,234159000000003,,,,base,acme\n"
#define BASELINE_SIMS 3

static int memfd = -1;
static char path[64];
static struct store *st;
static struct cmd_ctx ctx;
static char errbuf[1 << 16];

static void write_input(const void *data, size_t size)
{
    if (ftruncate(memfd, 0) < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = pwrite(memfd, (const char *)data + off, size - off, (off_t)off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
}

static int64_t sim_count(void)
{
    int64_t n = -1;
    FUZZ_CHECK(store_sim_count(st, 0, &n) == 0);
    return n;
}

/* A fresh in-memory database holding the baseline fleet. */
static void store_fresh(void)
{
    struct import_result res;

    store_close(st);
    st = NULL;
    if (store_open(":memory:", &st) != 0) {
        fprintf(stderr, "store_open: %s\n", st ? store_errmsg(st) : "out of memory");
        abort();
    }
    ctx.st = st;
    write_input(BASELINE_CSV, sizeof BASELINE_CSV - 1);
    rewind(ctx.err);
    if (cmd_sim_import(&ctx, path, 1, &res) != 0 || res.imported != BASELINE_SIMS ||
        sim_count() != BASELINE_SIMS) {
        fflush(ctx.err);
        fprintf(stderr, "baseline import failed: %s\n", errbuf);
        abort();
    }
}

static void setup(void)
{
    memfd = memfd_create("fuzz_csv_import", MFD_CLOEXEC);
    if (memfd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    ctx.control = NULL;
    ctx.quiet = 1;
    snprintf(ctx.actor, sizeof ctx.actor, "fuzz");
    ctx.out = fopen("/dev/null", "w");
    ctx.err = fmemopen(errbuf, sizeof errbuf, "w");
    if (!ctx.out || !ctx.err)
        abort();
    store_fresh();
}

/* Some ICCID of a data row in the file, copied into out, or "" (naive split). */
static void first_iccid(const uint8_t *data, size_t size, char *out, size_t cap)
{
    out[0] = '\0';
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return;
    /* The header's first column must be plain "iccid" for this shortcut. */
    if ((size_t)(nl - data) < 6 || memcmp(data, "iccid,", 6) != 0)
        return;
    const uint8_t *row = nl + 1, *end = data + size;
    size_t n = 0;
    while (row + n < end && n + 1 < cap && row[n] >= '0' && row[n] <= '9')
        n++;
    if (row + n < end && row[n] == ',' && n >= 18) {
        memcpy(out, row, n);
        out[n] = '\0';
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_result res;

    if (memfd < 0)
        setup();
    write_input(data, size);

    int64_t before = sim_count();
    rewind(ctx.err);
    memset(&res, 0x5a, sizeof res);
    int r = cmd_sim_import(&ctx, path, 1, &res);
    fflush(ctx.err);
    long printed = ftell(ctx.err);
    int64_t after = sim_count();

    FUZZ_CHECK(res.imported == 0 || res.imported == res.rows);
    if (r == 0) {
        FUZZ_CHECK(res.errors == 0 && res.imported == res.rows);
        FUZZ_CHECK(after == before + (int64_t)res.imported);
        FUZZ_CHECK(memchr(data, '\0', size) == NULL);
        char iccid[32];
        first_iccid(data, size, iccid, sizeof iccid);
        if (iccid[0] && res.imported > 0) {
            struct store_sim s;
            FUZZ_CHECK(store_sim_find(st, iccid, &s) == 0 && strcmp(s.iccid, iccid) == 0);
        }
        store_fresh();
    } else {
        FUZZ_CHECK(r < 0 && res.imported == 0);
        FUZZ_CHECK(after == before);
        FUZZ_CHECK(printed > 0);
    }
    return 0;
}
