/*
 * crypto.c — RADIUS authenticators, Message-Authenticator, PAP and CHAP.
 *
 * MD5 comes from OpenSSL's low-level MD5_* interface.  OpenSSL 3 marks it
 * deprecated in favour of EVP, but EVP costs a provider dispatch and a
 * context allocation per digest, which at 100k+ packets per second is a
 * measurable share of the whole server; MD5_CTX is a plain struct that can
 * be copied, which lets HMAC-MD5 start from precomputed pad states.  The
 * algorithm RADIUS mandates will not change, so the trade is safe.
 *
 * Never log or copy a secret out of here; wipe what is no longer needed.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/md5.h>

#include "radius/crypto.h"

_Static_assert(sizeof(MD5_CTX) <= sizeof(((struct radius_secret *)0)->hmac_inner),
               "MD5_CTX must fit the precomputed HMAC state");

int radius_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

int radius_secret_init(struct radius_secret *s, const char *secret, size_t len)
{
    uint8_t pad[64];
    MD5_CTX c;

    if (len == 0 || len > RADIUS_SECRET_MAX)
        return -EINVAL;
    memset(s, 0, sizeof *s);
    memcpy(s->key, secret, len);
    s->len = len;

    /* RFC 2104: keys longer than the block are hashed first. */
    uint8_t k[64] = { 0 };
    size_t klen = len;
    if (len > 64) {
        MD5((const unsigned char *)secret, len, k);
        klen = 16;
    } else {
        memcpy(k, secret, len);
    }
    (void)klen;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    MD5_Init(&c);
    MD5_Update(&c, pad, 64);
    memcpy(s->hmac_inner, &c, sizeof c);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    MD5_Init(&c);
    MD5_Update(&c, pad, 64);
    memcpy(s->hmac_outer, &c, sizeof c);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(&c, sizeof c);
    return 0;
}

void radius_secret_wipe(struct radius_secret *s)
{
    if (s)
        OPENSSL_cleanse(s, sizeof *s);
}

void radius_md5(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[16])
{
    MD5_CTX c;
    MD5_Init(&c);
    MD5_Update(&c, a, alen);
    if (blen)
        MD5_Update(&c, b, blen);
    MD5_Final(out, &c);
}

/* HMAC-MD5 over up to three pieces, from the precomputed pad states. */
static void hmac3(const struct radius_secret *s, const uint8_t *p1, size_t l1,
                  const uint8_t *p2, size_t l2, const uint8_t *p3, size_t l3,
                  uint8_t out[16])
{
    MD5_CTX c;
    uint8_t inner[16];

    memcpy(&c, s->hmac_inner, sizeof c);
    MD5_Update(&c, p1, l1);
    if (l2)
        MD5_Update(&c, p2, l2);
    if (l3)
        MD5_Update(&c, p3, l3);
    MD5_Final(inner, &c);
    memcpy(&c, s->hmac_outer, sizeof c);
    MD5_Update(&c, inner, 16);
    MD5_Final(out, &c);
}

void radius_hmac_md5(const struct radius_secret *s, const uint8_t *data,
                     size_t len, uint8_t out[16])
{
    hmac3(s, data, len, NULL, 0, NULL, 0, out);
}

/*
 * HMAC over the packet with the MA value replaced by zeros, and optionally
 * the header authenticator replaced by zeros too — without copying the
 * packet: the digest is fed in pieces around the fields that change.
 */
static void ma_compute(const uint8_t *buf, size_t len, int ma_off, int zero_auth,
                       const struct radius_secret *s, uint8_t out[16])
{
    static const uint8_t zero[16];
    MD5_CTX c;
    uint8_t inner[16];

    memcpy(&c, s->hmac_inner, sizeof c);
    if (zero_auth) {
        MD5_Update(&c, buf, 4);
        MD5_Update(&c, zero, 16);
    } else {
        MD5_Update(&c, buf, 20);
    }
    MD5_Update(&c, buf + 20, (size_t)ma_off - 20);
    MD5_Update(&c, zero, 16);
    MD5_Update(&c, buf + ma_off + 16, len - (size_t)ma_off - 16);
    MD5_Final(inner, &c);
    memcpy(&c, s->hmac_outer, sizeof c);
    MD5_Update(&c, inner, 16);
    MD5_Final(out, &c);
}

int radius_verify_ma(const struct radius_packet *pkt,
                     const struct radius_secret *s, int zero_auth)
{
    uint8_t mac[16];
    if (pkt->ma_off < 0)
        return RADIUS_E_MA_MISSING;
    ma_compute(pkt->data, pkt->len, pkt->ma_off, zero_auth, s, mac);
    return radius_ct_equal(mac, pkt->data + pkt->ma_off, 16) ? 0 : RADIUS_E_MA_BAD;
}

int radius_verify_request_auth(const struct radius_packet *pkt,
                               const struct radius_secret *s)
{
    static const uint8_t zero[16];
    MD5_CTX c;
    uint8_t d[16];

    MD5_Init(&c);
    MD5_Update(&c, pkt->data, 4);
    MD5_Update(&c, zero, 16);
    MD5_Update(&c, pkt->data + 20, pkt->len - 20u);
    MD5_Update(&c, s->key, s->len);
    MD5_Final(d, &c);
    return radius_ct_equal(d, pkt->data + 4, 16) ? 0 : RADIUS_E_AUTH_BAD;
}

int radius_verify_response(const struct radius_packet *pkt,
                           const uint8_t req_auth[RADIUS_AUTH_LEN],
                           const struct radius_secret *s)
{
    MD5_CTX c;
    uint8_t d[16];

    MD5_Init(&c);
    MD5_Update(&c, pkt->data, 4);
    MD5_Update(&c, req_auth, 16);
    MD5_Update(&c, pkt->data + 20, pkt->len - 20u);
    MD5_Update(&c, s->key, s->len);
    MD5_Final(d, &c);
    if (!radius_ct_equal(d, pkt->data + 4, 16))
        return RADIUS_E_AUTH_BAD;
    if (pkt->ma_off >= 0) {
        /* RFC 3579 §3.2: the reply's MA uses the request authenticator. */
        uint8_t hdr[20], mac[16];
        static const uint8_t zero[16];
        memcpy(hdr, pkt->data, 4);
        /* An Accounting-Response's MA is over a zero authenticator
         * (radius_sign_acct_response); every other reply's over the request's. */
        memcpy(hdr + 4, pkt->code == RADIUS_ACCOUNTING_RESPONSE ? zero : req_auth, 16);
        MD5_CTX h;
        uint8_t inner[16];
        memcpy(&h, s->hmac_inner, sizeof h);
        MD5_Update(&h, hdr, 20);
        MD5_Update(&h, pkt->data + 20, (size_t)pkt->ma_off - 20);
        MD5_Update(&h, zero, 16);
        MD5_Update(&h, pkt->data + pkt->ma_off + 16, pkt->len - (size_t)pkt->ma_off - 16);
        MD5_Final(inner, &h);
        memcpy(&h, s->hmac_outer, sizeof h);
        MD5_Update(&h, inner, 16);
        MD5_Final(mac, &h);
        if (!radius_ct_equal(mac, pkt->data + pkt->ma_off, 16))
            return RADIUS_E_MA_BAD;
    }
    return 0;
}

void radius_sign_response(uint8_t *buf, size_t len, int ma_off,
                          const uint8_t req_auth[RADIUS_AUTH_LEN],
                          const struct radius_secret *s)
{
    MD5_CTX c;

    memcpy(buf + 4, req_auth, 16);
    if (ma_off >= 0) {
        uint8_t mac[16];
        memset(buf + ma_off, 0, 16);
        radius_hmac_md5(s, buf, len, mac);
        memcpy(buf + ma_off, mac, 16);
    }
    MD5_Init(&c);
    MD5_Update(&c, buf, len);
    MD5_Update(&c, s->key, s->len);
    MD5_Final(buf + 4, &c);
}

void radius_sign_acct_response(uint8_t *buf, size_t len, int ma_off,
                               const uint8_t req_auth[RADIUS_AUTH_LEN],
                               const struct radius_secret *s)
{
    MD5_CTX c;

    memset(buf + 4, 0, 16);
    if (ma_off >= 0) {
        uint8_t mac[16];
        memset(buf + ma_off, 0, 16);
        radius_hmac_md5(s, buf, len, mac);
        memcpy(buf + ma_off, mac, 16);
    }
    memcpy(buf + 4, req_auth, 16);
    MD5_Init(&c);
    MD5_Update(&c, buf, len);
    MD5_Update(&c, s->key, s->len);
    MD5_Final(buf + 4, &c);
}

void radius_sign_request(uint8_t *buf, size_t len, int ma_off,
                         const struct radius_secret *s)
{
    int zero_auth = buf[0] != RADIUS_ACCESS_REQUEST && buf[0] != RADIUS_STATUS_SERVER;

    if (zero_auth)
        memset(buf + 4, 0, 16);
    if (ma_off >= 0) {
        uint8_t mac[16];
        memset(buf + ma_off, 0, 16);
        radius_hmac_md5(s, buf, len, mac);
        memcpy(buf + ma_off, mac, 16);
    }
    if (zero_auth) {
        MD5_CTX c;
        MD5_Init(&c);
        MD5_Update(&c, buf, len);
        MD5_Update(&c, s->key, s->len);
        MD5_Final(buf + 4, &c);
    }
}

int radius_pap_hide(const struct radius_secret *s, const uint8_t auth[16],
                    const char *password, uint8_t out[RADIUS_PASSWORD_MAX])
{
    size_t plen = strlen(password);
    if (plen > RADIUS_PASSWORD_MAX)
        return RADIUS_E_ATTR_VALUE;
    size_t n = plen == 0 ? 16 : (plen + 15) & ~(size_t)15;
    memset(out, 0, n);
    /* Octets, not a string: RFC 2865 §5.2 pads with NULs to 16 only. */
    memcpy(out, password, plen); // NOLINT(bugprone-not-null-terminated-result)
    const uint8_t *prev = auth;
    for (size_t i = 0; i < n; i += 16) {
        uint8_t b[16];
        radius_md5(s->key, s->len, prev, 16, b);
        for (int j = 0; j < 16; j++)
            out[i + j] ^= b[j];
        prev = out + i;
    }
    return (int)n;
}

int radius_pap_reveal(const struct radius_secret *s, const uint8_t auth[16],
                      const uint8_t *hidden, size_t len,
                      char out[RADIUS_PASSWORD_MAX + 1])
{
    if (len == 0 || len % 16 || len > RADIUS_PASSWORD_MAX)
        return RADIUS_E_ATTR_VALUE;
    const uint8_t *prev = auth;
    for (size_t i = 0; i < len; i += 16) {
        uint8_t b[16];
        radius_md5(s->key, s->len, prev, 16, b);
        for (int j = 0; j < 16; j++)
            out[i + j] = (char)(hidden[i + j] ^ b[j]);
        prev = hidden + i;
    }
    out[len] = '\0';
    size_t n = len;
    while (n > 0 && out[n - 1] == '\0')
        n--;
    return (int)n;
}

int radius_chap_check(const uint8_t chap_password[17], const uint8_t *challenge,
                      size_t challenge_len, const char *password, size_t pwlen)
{
    MD5_CTX c;
    uint8_t d[16];
    MD5_Init(&c);
    MD5_Update(&c, chap_password, 1);
    MD5_Update(&c, password, pwlen);
    MD5_Update(&c, challenge, challenge_len);
    MD5_Final(d, &c);
    return radius_ct_equal(d, chap_password + 1, 16);
}
