/*
 * replay_main.c — a main() for the libFuzzer harnesses without libFuzzer.
 *
 * Linked with one harness, it calls LLVMFuzzerTestOneInput() once per
 * input file: every file named on the command line, and every regular
 * file (in name order, dot-files skipped) of every directory named.  The
 * Meson suite 'fuzz-replay' runs it over the seed corpora, so ordinary
 * builds and the sanitizer build both exercise each harness on each seed,
 * and a crash input saved by scripts/fuzz.sh can be replayed under gdb.
 *
 * Each input is copied into a heap block of exactly its size, as libFuzzer
 * does, so AddressSanitizer sees a read one octet past the end.  An empty
 * run is a failure: a corpus that vanished must not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (1u << 20)   /* larger than any seed or crash file */

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX_INPUT);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, REPLAY_MAX_INPUT, f);
    int err = ferror(f) || !feof(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "replay: %s: read error or larger than %u octets\n", path,
                REPLAY_MAX_INPUT);
        free(buf);
        return -1;
    }
    /*
     * Exactly-sized copy.  Like libFuzzer, never pass NULL: glibc's and
     * ASan's malloc(0) return a distinct pointer, and ASan flags any read
     * of it.
     */
    uint8_t *data = malloc(n);
    if (!data) {
        free(buf);
        return -1;
    }
    memcpy(data, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 0;
}

static int skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int replay_dir(const char *dir, unsigned *count)
{
    struct dirent **names;
    int n = scandir(dir, &names, skip_dot, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int w = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (w < 0 || (size_t)w >= sizeof path) {
            rc = -1;
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) < 0)
                rc = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], &count) < 0)
                rc = 1;
        } else if (replay_file(argv[i]) < 0) {
            rc = 1;
        } else {
            count++;
        }
    }
    printf("replayed %u input(s)\n", count);
    if (count == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    return rc;
}
