/*
 * fuzz_api.c — libFuzzer harness for what the HTTP API parses itself
 * (src/api/api.c, src/cmd/tokens.c): the request path against every route
 * pattern, and the bearer token.  libmicrohttpd parses HTTP and jansson
 * the JSON bodies; both are outside m2mguard.
 *
 * Input: PATH "\n" TOKEN ["\n" WEBHOOK-URL ["\n" EVENTS]].  Properties: a
 * path that matches a pattern gives a parameter of safe characters that,
 * put back into the pattern, is the path again; a token that parses is
 * formatted back to the same bytes (one spelling per token), and every
 * formatted token parses back; a webhook URL that is accepted is http(s)
 * with a host, no blank or control character and no credentials; an
 * accepted event filter is entries of known names; a signature is "v1="
 * and 64 hex digits, the same for the same input.
 * Seeds: tests/fuzz/corpus/fuzz_api/.
 */
#include <string.h>

#include "api/internal.h"
#include "cmd/cmd.h"
#include "engine/model.h"
#include "fuzz.h"
#include "out/webhook.h"

static const char *const patterns[] = {
    "/v1/health", "/v1/sims", "/v1/sims/{iccid}", "/v1/sims/{iccid}/suspend",
    "/v1/sims/{iccid}/usage", "/v1/alerts/{id}/resolve", "/metrics",
    "/v1/webhooks/{id}/deliveries", "/v1/stream",
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

static void check_webhook(const char *url, const char *events)
{
    if (!webhook_url_problem(url)) {
        FUZZ_CHECK(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0);
        FUZZ_CHECK(strlen(url) <= WEBHOOK_URL_MAX);
        const char *host = strstr(url, "://") + 3;
        size_t n = strcspn(host, "/?#");
        FUZZ_CHECK(n > 0 && !memchr(host, '@', n));
        for (const char *p = url; *p; p++)
            FUZZ_CHECK((unsigned char)*p > ' ' && *p != 0x7f);
    }
    if (!webhook_events_problem(events)) {
        for (const char *p = events;;) {
            size_t n = strcspn(p, ",");
            char e[64];
            FUZZ_CHECK(n > 0 && n < sizeof e);
            memcpy(e, p, n);
            e[n] = '\0';
            const char *dot = strchr(e, '.');
            FUZZ_CHECK(strcmp(e, "*") == 0 || strcmp(e, "finding") == 0 ||
                       strcmp(e, "action") == 0 ||
                       (dot && strncmp(e, "finding.", 8) == 0 && finding_kind_from_name(dot + 1) >= 0) ||
                       (dot && strncmp(e, "action.", 7) == 0 && action_from_name(dot + 1) >= 0));
            if (!p[n])
                break;
            p += n + 1;
        }
    }
    char a[WEBHOOK_SIGNATURE_MAX], b[WEBHOOK_SIGNATURE_MAX];
    FUZZ_CHECK(webhook_sign(events, 1700000000, url, strlen(url), a) == 0);
    FUZZ_CHECK(webhook_sign(events, 1700000000, url, strlen(url), b) == 0);
    FUZZ_CHECK(strlen(a) == 67 && strncmp(a, "v1=", 3) == 0 && strcmp(a, b) == 0);
    for (size_t i = 3; i < 67; i++)
        FUZZ_CHECK(strchr("0123456789abcdef", a[i]) != NULL);
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
    const char *url = "", *events = "";
    char *nl2 = nl ? strchr(nl + 1, '\n') : NULL;
    if (nl2) {
        *nl2 = '\0';
        url = nl2 + 1;
        char *nl3 = strchr(nl2 + 1, '\n');
        if (nl3) {
            *nl3 = '\0';
            events = nl3 + 1;
        }
    }
    check_route(buf);
    check_token(tok);
    check_webhook(url, events);
    return 0;
}
