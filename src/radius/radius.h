/*
 * radius.h — RADIUS wire constants and the packet codec's interface.
 *
 * The codec is hand-written because it sits on the hottest path of the
 * daemon: every Access-Request and Accounting-Request goes through
 * radius_packet_decode() before anything else looks at it.  It therefore
 * never allocates: the caller owns the packet buffer and a struct
 * radius_packet that holds an index (type, offset, length) into it.
 * Decoding checks every length and count and returns a named reason
 * (enum radius_error) that the server counts; nothing here logs.
 *
 * References: RFC 2865 (packets, attributes), RFC 2866 (accounting),
 * RFC 3579 §3.2 (Message-Authenticator), RFC 5176 (dynamic authorization),
 * 3GPP TS 29.061 §16.4.7 (vendor 10415 attributes).
 */
#ifndef M2MG_RADIUS_H
#define M2MG_RADIUS_H

#include <stddef.h>
#include <stdint.h>

#define RADIUS_HDR_LEN          20
#define RADIUS_AUTH_LEN         16
#define RADIUS_MIN_LEN          20      /* RFC 2865 §3 */
#define RADIUS_MAX_LEN          4096    /* RFC 2865 §3 */
#define RADIUS_MAX_ATTRS        128     /* more than any real NAS sends */
#define RADIUS_MAX_VSAS         48      /* vendor sub-attributes indexed */
#define RADIUS_MA_LEN           18      /* Message-Authenticator: type, len, 16 */
#define RADIUS_PASSWORD_MAX     128     /* RFC 2865 §5.2 */

enum radius_code {
    RADIUS_ACCESS_REQUEST = 1,
    RADIUS_ACCESS_ACCEPT = 2,
    RADIUS_ACCESS_REJECT = 3,
    RADIUS_ACCOUNTING_REQUEST = 4,
    RADIUS_ACCOUNTING_RESPONSE = 5,
    RADIUS_ACCESS_CHALLENGE = 11,
    RADIUS_STATUS_SERVER = 12,
    RADIUS_DISCONNECT_REQUEST = 40,
    RADIUS_DISCONNECT_ACK = 41,
    RADIUS_DISCONNECT_NAK = 42,
    RADIUS_COA_REQUEST = 43,
    RADIUS_COA_ACK = 44,
    RADIUS_COA_NAK = 45,
};

enum radius_attr {
    RADIUS_ATTR_USER_NAME = 1,
    RADIUS_ATTR_USER_PASSWORD = 2,
    RADIUS_ATTR_CHAP_PASSWORD = 3,
    RADIUS_ATTR_NAS_IP_ADDRESS = 4,
    RADIUS_ATTR_NAS_PORT = 5,
    RADIUS_ATTR_SERVICE_TYPE = 6,
    RADIUS_ATTR_FRAMED_PROTOCOL = 7,
    RADIUS_ATTR_FRAMED_IP_ADDRESS = 8,
    RADIUS_ATTR_FILTER_ID = 11,
    RADIUS_ATTR_REPLY_MESSAGE = 18,
    RADIUS_ATTR_STATE = 24,
    RADIUS_ATTR_CLASS = 25,
    RADIUS_ATTR_VENDOR_SPECIFIC = 26,
    RADIUS_ATTR_SESSION_TIMEOUT = 27,
    RADIUS_ATTR_CALLED_STATION_ID = 30,
    RADIUS_ATTR_CALLING_STATION_ID = 31,
    RADIUS_ATTR_NAS_IDENTIFIER = 32,
    RADIUS_ATTR_PROXY_STATE = 33,
    RADIUS_ATTR_ACCT_STATUS_TYPE = 40,
    RADIUS_ATTR_ACCT_INPUT_OCTETS = 42,
    RADIUS_ATTR_ACCT_OUTPUT_OCTETS = 43,
    RADIUS_ATTR_ACCT_SESSION_ID = 44,
    RADIUS_ATTR_ACCT_SESSION_TIME = 46,
    RADIUS_ATTR_ACCT_INPUT_GIGAWORDS = 52,
    RADIUS_ATTR_ACCT_OUTPUT_GIGAWORDS = 53,
    RADIUS_ATTR_EVENT_TIMESTAMP = 55,
    RADIUS_ATTR_CHAP_CHALLENGE = 60,
    RADIUS_ATTR_NAS_PORT_TYPE = 61,
    RADIUS_ATTR_MESSAGE_AUTHENTICATOR = 80,
    RADIUS_ATTR_ACCT_INTERIM_INTERVAL = 85,
    RADIUS_ATTR_ERROR_CAUSE = 101,
};

/*
 * Why a packet was refused.  Values are negative so that they can travel
 * as errno-style results; radius_error_name() gives the counter's name.
 * Keep RADIUS_E__COUNT last: the server sizes its counter arrays with it.
 */
enum radius_error {
    RADIUS_OK = 0,
    RADIUS_E_SHORT = -1,             /* fewer than 20 bytes received */
    RADIUS_E_BAD_LENGTH = -2,        /* Length field < 20 or > received */
    RADIUS_E_TOO_LONG = -3,          /* Length field > 4096 */
    RADIUS_E_ATTR_TRUNCATED = -4,    /* attribute header runs off the end */
    RADIUS_E_ATTR_LENGTH = -5,       /* attribute Length < 2 or past end */
    RADIUS_E_TOO_MANY_ATTRS = -6,
    RADIUS_E_VSA_MALFORMED = -7,     /* bad Vendor-Specific framing */
    RADIUS_E_MA_LENGTH = -8,         /* Message-Authenticator not 16 bytes */
    RADIUS_E_MA_DUPLICATE = -9,      /* more than one Message-Authenticator */
    RADIUS_E_BAD_CODE = -10,         /* code not handled on this port */
    RADIUS_E_UNKNOWN_CLIENT = -11,
    RADIUS_E_MA_MISSING = -12,       /* required Message-Authenticator absent */
    RADIUS_E_MA_BAD = -13,           /* Message-Authenticator does not verify */
    RADIUS_E_AUTH_BAD = -14,         /* Request/Response Authenticator wrong */
    RADIUS_E_NO_SPACE = -15,         /* encoder: buffer too small */
    RADIUS_E_ATTR_VALUE = -16,       /* attribute value has a wrong size */
    RADIUS_E_OVERLOAD = -17,         /* dropped because a queue was full */
    RADIUS_E__COUNT = 18,
};

const char *radius_error_name(int err);
const char *radius_code_name(int code);

struct radius_attr_ref {
    uint8_t type;
    uint8_t len;        /* value length, header excluded */
    uint16_t off;       /* offset of the value in the packet */
};

struct radius_vsa_ref {
    uint32_t vendor;
    uint8_t type;
    uint8_t len;
    uint16_t off;
};

/* A decoded packet: an index into the caller's buffer, nothing copied. */
struct radius_packet {
    const uint8_t *data;
    uint16_t len;               /* the Length field */
    uint8_t code;
    uint8_t id;
    int16_t ma_off;             /* offset of the Message-Authenticator value, -1 if none */
    uint16_t nattrs;
    uint16_t nvsas;
    struct radius_attr_ref attrs[RADIUS_MAX_ATTRS];
    struct radius_vsa_ref vsas[RADIUS_MAX_VSAS];
};

/*
 * Decode buf[0..len).  Octets past the Length field are padding and are
 * ignored (RFC 2865 §3).  Vendor-Specific attributes whose contents follow
 * the RFC 2865 §5.26 suggested format are also indexed in ->vsas; others are
 * kept only as opaque attributes.  Returns RADIUS_OK or a radius_error.
 */
int radius_packet_decode(const uint8_t *buf, size_t len,
                         struct radius_packet *ret_pkt)
    __attribute__((warn_unused_result));

/* First attribute of the given type, or NULL. */
const struct radius_attr_ref *radius_packet_find(const struct radius_packet *pkt,
                                                 uint8_t type);
/* First vendor sub-attribute, or NULL. */
const struct radius_vsa_ref *radius_packet_find_vsa(const struct radius_packet *pkt,
                                                    uint32_t vendor, uint8_t type);
/* Pointer to an attribute's value. */
static inline const uint8_t *radius_attr_value(const struct radius_packet *pkt,
                                               uint16_t off)
{
    return pkt->data + off;
}
/* 32-bit integer attribute: 0 and *ret set, or RADIUS_E_ATTR_VALUE. */
int radius_packet_get_u32(const struct radius_packet *pkt, uint8_t type,
                          uint32_t *ret);

/*
 * Encoder: writes into a caller-supplied buffer.  Errors are sticky: after
 * the first failure every call is a no-op and radius_builder_finish()
 * returns the error, so callers check once.
 */
struct radius_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
    int ma_off;         /* offset of the Message-Authenticator value, -1 if none */
};

void radius_builder_init(struct radius_builder *b, uint8_t *buf, size_t cap,
                         uint8_t code, uint8_t id, const uint8_t auth[RADIUS_AUTH_LEN]);
void radius_builder_add(struct radius_builder *b, uint8_t type,
                        const void *value, size_t len);
void radius_builder_add_u32(struct radius_builder *b, uint8_t type, uint32_t v);
void radius_builder_add_str(struct radius_builder *b, uint8_t type, const char *s);
void radius_builder_add_vsa(struct radius_builder *b, uint32_t vendor,
                            uint8_t type, const void *value, size_t len);
/* A zeroed Message-Authenticator, filled in later by radius_sign_*(). */
void radius_builder_add_ma(struct radius_builder *b);
/* Writes the Length field; returns the packet length or a radius_error. */
int radius_builder_finish(struct radius_builder *b)
    __attribute__((warn_unused_result));

#endif
