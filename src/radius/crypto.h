/*
 * crypto.h — the cryptography RADIUS mandates: MD5 authenticators,
 * HMAC-MD5 Message-Authenticator (RFC 3579 §3.2), PAP hiding
 * (RFC 2865 §5.2) and CHAP (RFC 2865 §5.3, RFC 1994).
 *
 * A shared secret is prepared once (struct radius_secret) so that the
 * per-packet HMAC starts from precomputed inner and outer MD5 states:
 * two MD5 blocks saved on every packet.  Every comparison of an
 * authenticator or password runs in constant time.  Nothing here
 * allocates or logs; secrets never leave this module except as MD5 state.
 */
#ifndef M2MG_RADIUS_CRYPTO_H
#define M2MG_RADIUS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "radius/radius.h"

#define RADIUS_SECRET_MAX 128

struct radius_secret {
    uint8_t key[RADIUS_SECRET_MAX];
    size_t len;
    /* Opaque precomputed HMAC-MD5 states (MD5_CTX after ipad / opad). */
    uint8_t hmac_inner[128];
    uint8_t hmac_outer[128];
};

/* Prepare a secret; -EINVAL when empty or longer than RADIUS_SECRET_MAX. */
int radius_secret_init(struct radius_secret *s, const char *secret, size_t len)
    __attribute__((warn_unused_result));
/* Overwrite the secret's memory. */
void radius_secret_wipe(struct radius_secret *s);

void radius_md5(const void *a, size_t alen, const void *b, size_t blen,
                uint8_t out[16]);
void radius_hmac_md5(const struct radius_secret *s, const uint8_t *data,
                     size_t len, uint8_t out[16]);

/*
 * Verify a request's Message-Authenticator (RFC 3579 §3.2): HMAC-MD5 over
 * the packet with the attribute's value zeroed.  `pkt` must come from
 * radius_packet_decode() with ma_off >= 0.  For Accounting-Request and
 * Disconnect/CoA-Request the Request Authenticator is itself an MD5 over
 * zeros (RFC 2866 §3), so pass zero_auth=1 for those codes.
 * Returns 0 or RADIUS_E_MA_BAD.
 */
int radius_verify_ma(const struct radius_packet *pkt,
                     const struct radius_secret *s, int zero_auth)
    __attribute__((warn_unused_result));

/*
 * Accounting-Request / Disconnect-Request / CoA-Request authenticator
 * (RFC 2866 §3, RFC 5176 §3.5): MD5(Code+ID+Length+16 zero octets+attrs+secret).
 * Returns 0 or RADIUS_E_AUTH_BAD.
 */
int radius_verify_request_auth(const struct radius_packet *pkt,
                               const struct radius_secret *s)
    __attribute__((warn_unused_result));

/*
 * Verify a reply (Access-Accept/Reject, Accounting-Response, ACK/NAK)
 * against the request authenticator we sent: Response Authenticator and,
 * when present, the Message-Authenticator (for an Accounting-Response
 * computed over a zero authenticator, see radius_sign_acct_response).  Returns 0, RADIUS_E_AUTH_BAD or RADIUS_E_MA_BAD.
 */
int radius_verify_response(const struct radius_packet *pkt,
                           const uint8_t req_auth[RADIUS_AUTH_LEN],
                           const struct radius_secret *s)
    __attribute__((warn_unused_result));

/*
 * Sign a finished reply in place: fill the Message-Authenticator (if the
 * builder added one) computed with the request's authenticator in the
 * header, then the Response Authenticator
 * MD5(Code+ID+Length+RequestAuth+Attributes+Secret) (RFC 2865 §3).
 */
void radius_sign_response(uint8_t *buf, size_t len, int ma_off,
                          const uint8_t req_auth[RADIUS_AUTH_LEN],
                          const struct radius_secret *s);

/*
 * Sign an Accounting-Response.  RFC 2866 defines no Message-Authenticator
 * for accounting; the one we add (Blast-RADIUS: in every reply) is computed
 * the way deployed NASes and FreeRADIUS verify it — over the packet with a
 * zero authenticator, as for the Accounting-Request itself — and then the
 * Response Authenticator over the request's authenticator (RFC 2866 §3).
 */
void radius_sign_acct_response(uint8_t *buf, size_t len, int ma_off,
                               const uint8_t req_auth[RADIUS_AUTH_LEN],
                               const struct radius_secret *s);

/*
 * Sign a request we originate.  Access-Request: the caller put a random
 * Request Authenticator in the header; only the MA is filled.
 * Accounting/Disconnect/CoA-Request: MA computed over a zero authenticator,
 * then the Request Authenticator = MD5(packet with zero auth + secret).
 */
void radius_sign_request(uint8_t *buf, size_t len, int ma_off,
                         const struct radius_secret *s);

/*
 * PAP (RFC 2865 §5.2).  Hide: plaintext up to 128 bytes → out, returns the
 * hidden length (a multiple of 16).  Reveal: hidden value (a multiple of 16,
 * at most 128) → NUL-terminated plaintext with trailing NULs removed;
 * returns its length or RADIUS_E_ATTR_VALUE.
 */
int radius_pap_hide(const struct radius_secret *s, const uint8_t auth[16],
                    const char *password, uint8_t out[RADIUS_PASSWORD_MAX]);
int radius_pap_reveal(const struct radius_secret *s, const uint8_t auth[16],
                      const uint8_t *hidden, size_t len,
                      char out[RADIUS_PASSWORD_MAX + 1]);

/*
 * CHAP (RFC 1994 §4.1): CHAP-Password is ident(1) + MD5(ident+password+
 * challenge)(16); the challenge is CHAP-Challenge or else the Request
 * Authenticator.  Returns 1 when it matches, 0 otherwise (constant time).
 */
int radius_chap_check(const uint8_t chap_password[17], const uint8_t *challenge,
                      size_t challenge_len, const char *password, size_t pwlen)
    __attribute__((warn_unused_result));

/* Constant-time equality: 1 when equal. */
int radius_ct_equal(const void *a, const void *b, size_t len)
    __attribute__((warn_unused_result));

#endif
