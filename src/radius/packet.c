/*
 * packet.c — RADIUS packet decoding and encoding (RFC 2865 §3, §5).
 *
 * Decoding builds an index over the caller's buffer and copies nothing, so
 * the server can decode straight out of its recvmmsg() buffers without an
 * allocation per packet.  Every attribute length is checked against the
 * packet's Length field before anything reads the value; the first
 * violation ends decoding with a named reason.  The encoder writes into a
 * caller-supplied buffer with sticky errors, so a reply that would not fit
 * is refused as a whole instead of being sent truncated.
 */
#include <string.h>

#include "radius/radius.h"

static const char *const error_names[RADIUS_E__COUNT] = {
    [0] = "ok",
    [-RADIUS_E_SHORT] = "short_packet",
    [-RADIUS_E_BAD_LENGTH] = "bad_length",
    [-RADIUS_E_TOO_LONG] = "too_long",
    [-RADIUS_E_ATTR_TRUNCATED] = "attr_truncated",
    [-RADIUS_E_ATTR_LENGTH] = "attr_bad_length",
    [-RADIUS_E_TOO_MANY_ATTRS] = "too_many_attrs",
    [-RADIUS_E_VSA_MALFORMED] = "vsa_malformed",
    [-RADIUS_E_MA_LENGTH] = "ma_bad_length",
    [-RADIUS_E_MA_DUPLICATE] = "ma_duplicate",
    [-RADIUS_E_BAD_CODE] = "bad_code",
    [-RADIUS_E_UNKNOWN_CLIENT] = "unknown_client",
    [-RADIUS_E_MA_MISSING] = "ma_missing",
    [-RADIUS_E_MA_BAD] = "ma_bad",
    [-RADIUS_E_AUTH_BAD] = "authenticator_bad",
    [-RADIUS_E_NO_SPACE] = "no_space",
    [-RADIUS_E_ATTR_VALUE] = "attr_bad_value",
    [-RADIUS_E_OVERLOAD] = "overload",
};

const char *radius_error_name(int err)
{
    if (err > 0 || err <= -RADIUS_E__COUNT)   /* not -err: INT_MIN has no negation */
        return "unknown_error";
    return error_names[-err];
}

const char *radius_code_name(int code)
{
    switch (code) {
    case RADIUS_ACCESS_REQUEST: return "Access-Request";
    case RADIUS_ACCESS_ACCEPT: return "Access-Accept";
    case RADIUS_ACCESS_REJECT: return "Access-Reject";
    case RADIUS_ACCOUNTING_REQUEST: return "Accounting-Request";
    case RADIUS_ACCOUNTING_RESPONSE: return "Accounting-Response";
    case RADIUS_ACCESS_CHALLENGE: return "Access-Challenge";
    case RADIUS_STATUS_SERVER: return "Status-Server";
    case RADIUS_DISCONNECT_REQUEST: return "Disconnect-Request";
    case RADIUS_DISCONNECT_ACK: return "Disconnect-ACK";
    case RADIUS_DISCONNECT_NAK: return "Disconnect-NAK";
    case RADIUS_COA_REQUEST: return "CoA-Request";
    case RADIUS_COA_ACK: return "CoA-ACK";
    case RADIUS_COA_NAK: return "CoA-NAK";
    default: return "unknown";
    }
}

/*
 * RFC 2865 §5.26 recommends sub-attributes of one-octet type and length
 * inside Vendor-Specific; 3GPP follows it.  A VSA that does not is still a
 * valid RADIUS attribute (the RFC only "SHOULD"s the format), so only a
 * Vendor-Id that does not fit is an error; mis-framed contents of an
 * unknown vendor are ignored, those of 3GPP are refused because we read them.
 */
static int index_vsa(struct radius_packet *p, uint16_t off, uint8_t len)
{
    if (len < 4)
        return RADIUS_E_VSA_MALFORMED;
    const uint8_t *v = p->data + off;
    uint32_t vendor = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
                      (uint32_t)v[2] << 8 | v[3];
    size_t pos = 4;
    /* First pass: check the framing so a half-indexed VSA never remains. */
    while (pos < len) {
        if (len - pos < 2 || v[pos + 1] < 2 || v[pos + 1] > len - pos)
            return vendor == 10415 ? RADIUS_E_VSA_MALFORMED : RADIUS_OK;
        pos += v[pos + 1];
    }
    for (pos = 4; pos < len; pos += v[pos + 1]) {
        if (p->nvsas >= RADIUS_MAX_VSAS)
            return RADIUS_E_TOO_MANY_ATTRS;
        struct radius_vsa_ref *r = &p->vsas[p->nvsas++];
        r->vendor = vendor;
        r->type = v[pos];
        r->len = (uint8_t)(v[pos + 1] - 2);
        r->off = (uint16_t)(off + pos + 2);
    }
    return RADIUS_OK;
}

int radius_packet_decode(const uint8_t *buf, size_t len,
                         struct radius_packet *ret_pkt)
{
    struct radius_packet *p = ret_pkt;

    if (len < RADIUS_MIN_LEN)
        return RADIUS_E_SHORT;
    size_t plen = (size_t)buf[2] << 8 | buf[3];
    if (plen > RADIUS_MAX_LEN)
        return RADIUS_E_TOO_LONG;
    /* RFC 2865 §3: shorter than the Length field → silently discard. */
    if (plen < RADIUS_MIN_LEN || plen > len)
        return RADIUS_E_BAD_LENGTH;

    p->data = buf;
    p->len = (uint16_t)plen;
    p->code = buf[0];
    p->id = buf[1];
    p->ma_off = -1;
    p->nattrs = 0;
    p->nvsas = 0;

    size_t pos = RADIUS_HDR_LEN;
    while (pos < plen) {
        if (plen - pos < 2)
            return RADIUS_E_ATTR_TRUNCATED;
        uint8_t type = buf[pos];
        uint8_t alen = buf[pos + 1];
        if (alen < 2 || alen > plen - pos)
            return RADIUS_E_ATTR_LENGTH;
        if (p->nattrs >= RADIUS_MAX_ATTRS)
            return RADIUS_E_TOO_MANY_ATTRS;
        struct radius_attr_ref *a = &p->attrs[p->nattrs++];
        a->type = type;
        a->len = (uint8_t)(alen - 2);
        a->off = (uint16_t)(pos + 2);

        if (type == RADIUS_ATTR_MESSAGE_AUTHENTICATOR) {
            /* RFC 3579 §3.2: exactly 16 octets; we accept one only. */
            if (alen != RADIUS_MA_LEN)
                return RADIUS_E_MA_LENGTH;
            if (p->ma_off >= 0)
                return RADIUS_E_MA_DUPLICATE;
            p->ma_off = (int16_t)(pos + 2);
        } else if (type == RADIUS_ATTR_VENDOR_SPECIFIC) {
            int r = index_vsa(p, a->off, a->len);
            if (r < 0)
                return r;
        }
        pos += alen;
    }
    return RADIUS_OK;
}

const struct radius_attr_ref *radius_packet_find(const struct radius_packet *pkt,
                                                 uint8_t type)
{
    for (unsigned i = 0; i < pkt->nattrs; i++)
        if (pkt->attrs[i].type == type)
            return &pkt->attrs[i];
    return NULL;
}

const struct radius_vsa_ref *radius_packet_find_vsa(const struct radius_packet *pkt,
                                                    uint32_t vendor, uint8_t type)
{
    for (unsigned i = 0; i < pkt->nvsas; i++)
        if (pkt->vsas[i].vendor == vendor && pkt->vsas[i].type == type)
            return &pkt->vsas[i];
    return NULL;
}

int radius_packet_get_u32(const struct radius_packet *pkt, uint8_t type,
                          uint32_t *ret)
{
    const struct radius_attr_ref *a = radius_packet_find(pkt, type);
    if (!a || a->len != 4)
        return RADIUS_E_ATTR_VALUE;
    const uint8_t *v = pkt->data + a->off;
    *ret = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
    return RADIUS_OK;
}

void radius_builder_init(struct radius_builder *b, uint8_t *buf, size_t cap,
                         uint8_t code, uint8_t id, const uint8_t auth[RADIUS_AUTH_LEN])
{
    b->buf = buf;
    b->cap = cap < RADIUS_MAX_LEN ? cap : RADIUS_MAX_LEN;
    b->len = 0;
    b->err = 0;
    b->ma_off = -1;
    if (b->cap < RADIUS_HDR_LEN) {
        b->err = RADIUS_E_NO_SPACE;
        return;
    }
    buf[0] = code;
    buf[1] = id;
    buf[2] = buf[3] = 0;
    if (auth)
        memcpy(buf + 4, auth, RADIUS_AUTH_LEN);
    else
        memset(buf + 4, 0, RADIUS_AUTH_LEN);
    b->len = RADIUS_HDR_LEN;
}

void radius_builder_add(struct radius_builder *b, uint8_t type,
                        const void *value, size_t len)
{
    if (b->err)
        return;
    if (len > 253) {
        b->err = RADIUS_E_ATTR_VALUE;
        return;
    }
    if (b->cap - b->len < len + 2) {
        b->err = RADIUS_E_NO_SPACE;
        return;
    }
    b->buf[b->len] = type;
    b->buf[b->len + 1] = (uint8_t)(len + 2);
    if (len)
        memcpy(b->buf + b->len + 2, value, len);
    b->len += len + 2;
}

void radius_builder_add_u32(struct radius_builder *b, uint8_t type, uint32_t v)
{
    uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    radius_builder_add(b, type, be, 4);
}

void radius_builder_add_str(struct radius_builder *b, uint8_t type, const char *s)
{
    radius_builder_add(b, type, s, strlen(s));
}

void radius_builder_add_vsa(struct radius_builder *b, uint32_t vendor,
                            uint8_t type, const void *value, size_t len)
{
    uint8_t tmp[253];
    if (b->err)
        return;
    if (len > 253 - 6) {
        b->err = RADIUS_E_ATTR_VALUE;
        return;
    }
    tmp[0] = (uint8_t)(vendor >> 24);
    tmp[1] = (uint8_t)(vendor >> 16);
    tmp[2] = (uint8_t)(vendor >> 8);
    tmp[3] = (uint8_t)vendor;
    tmp[4] = type;
    tmp[5] = (uint8_t)(len + 2);
    if (len)
        memcpy(tmp + 6, value, len);
    radius_builder_add(b, RADIUS_ATTR_VENDOR_SPECIFIC, tmp, len + 6);
}

void radius_builder_add_ma(struct radius_builder *b)
{
    static const uint8_t zero[16];
    if (b->err)
        return;
    if (b->ma_off >= 0) {
        b->err = RADIUS_E_MA_DUPLICATE;
        return;
    }
    size_t at = b->len;
    radius_builder_add(b, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero, sizeof zero);
    if (!b->err)
        b->ma_off = (int)at + 2;
}

int radius_builder_finish(struct radius_builder *b)
{
    if (b->err)
        return b->err;
    b->buf[2] = (uint8_t)(b->len >> 8);
    b->buf[3] = (uint8_t)b->len;
    return (int)b->len;
}
