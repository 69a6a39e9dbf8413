/*
 * fuzz_api.c — libFuzzer harness for what the HTTP API parses itself
 * (src/api/api.c, src/cmd/tokens.c): the request path against every route
 * pattern, and the bearer token.  libmicrohttpd parses HTTP and jansson
 * the JSON bodies; both are outside m2mguard.
 *
 * Input: PATH "\n" TOKEN.  Properties: a path that matches a pattern gives
 * a parameter of safe characters that, put back into the pattern, is the
 * path again; a token that parses is formatted back to the same bytes (one
 * spelling per token), and every formatted token parses back.
 * Seeds: tests/fuzz/corpus/fuzz_api/.
 */
#include <string.h>

#include "api/internal.h"
#include "cmd/cmd.h"
#include "fuzz.h"

static const char *const patterns[] = {
    "/v1/health", "/v1/sims", "/v1/sims/{iccid}", "/v1/sims/{iccid}/suspend",
    "/v1/sims/{iccid}/usage", "/v1/alerts/{id}/resolve", "/metrics",
};

static void check_route(const char *url)
{
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        char param[64];
        memset(param, 0x55, sizeof param);
        if (!api_route_match(patterns[i], url, param, sizeof param))
            continue;
        const char *open = strchr(patterns[i], '{');
        if (!open) {
            FUZZ_CHECK(strcmp(patterns[i], url) == 0);
            continue;
        }
        size_t n = strlen(param);
        FUZZ_CHECK(n > 0 && n < sizeof param);
        for (size_t k = 0; k < n; k++)
            FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                              param[k]) != NULL);
        char back[256];
        const char *close = strchr(open, '}');
        int len = snprintf(back, sizeof back, "%.*s%s%s", (int)(open - patterns[i]), patterns[i],
                           param, close + 1);
        FUZZ_CHECK(len > 0 && strcmp(back, url) == 0);
    }
}

static void check_token(const char *tok)
{
    int64_t id;
    uint8_t secret[32];
    char again[TOKEN_MAX];
    if (token_parse(tok, &id, secret) == 0) {
        FUZZ_CHECK(id > 0);
        FUZZ_CHECK(token_format(id, secret, again, sizeof again) == 0);
        FUZZ_CHECK(strcmp(again, tok) == 0);
    }
    /* And the other way: the input's bytes as a secret. */
    uint8_t raw[32] = { 0 };
    memcpy(raw, tok, strlen(tok) < 32 ? strlen(tok) : 32);
    FUZZ_CHECK(token_format(1 + (int64_t)(raw[0] % 100000), raw, again, sizeof again) == 0);
    uint8_t back[32];
    FUZZ_CHECK(token_parse(again, &id, back) == 0 && memcmp(back, raw, 32) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char buf[4097];
    memcpy(buf, data, size);
    buf[size] = '\0';
    if (strlen(buf) != size)
        return 0;       /* C strings: libmicrohttpd never hands over a NUL */
    char *nl = strchr(buf, '\n');
    const char *tok = "";
    if (nl) {
        *nl = '\0';
        tok = nl + 1;
    }
    check_route(buf);
    check_token(tok);
    return 0;
}
