/*
 * fuzz.h — what the codec's libFuzzer harnesses share.
 *
 * Each harness is built two ways: with clang -fsanitize=fuzzer by
 * scripts/fuzz.sh, and with replay_main.c as an ordinary program that the
 * Meson test suite runs over the seed corpus.  FUZZ_CHECK() states a
 * property the codec promises (a round trip, an invariant of a decoded
 * packet, agreement with an independent implementation); a broken
 * property aborts, which libFuzzer reports as a crash with its input.
 */
#ifndef M2MG_FUZZ_H
#define M2MG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The shared secret the RADIUS seeds are signed with (tests/fuzz/make_corpus.py). */
#define FUZZ_SECRET "testing123"

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                     \
            abort();                                                            \
        }                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
