/*
 * gpp.c — decoding the 3GPP vendor attributes (TS 29.061 §16.4.7).
 *
 * These values drive security decisions (which SIM, which device, where),
 * so each is checked for its exact size and alphabet; a value a GGSN would
 * never send is refused with a named reason rather than half-understood.
 * Runs on the authentication path: no allocation, no logging.
 */
#include <string.h>
#include <strings.h>

#include "radius/gpp.h"

static const char *const error_names[GPP_E__COUNT] = {
    [0] = "ok",
    [-GPP_E_IMSI] = "gpp_bad_imsi",
    [-GPP_E_MCC_MNC] = "gpp_bad_mcc_mnc",
    [-GPP_E_IMEISV] = "gpp_bad_imeisv",
    [-GPP_E_RAT] = "gpp_bad_rat_type",
    [-GPP_E_ULI_LENGTH] = "gpp_uli_bad_length",
    [-GPP_E_ULI_TYPE] = "gpp_uli_unknown_type",
    [-GPP_E_ULI_PLMN] = "gpp_uli_bad_plmn",
    [-GPP_E_TIMEZONE] = "gpp_bad_timezone",
    [-GPP_E_INTEGER] = "gpp_bad_integer",
    [-GPP_E_SHORT_STRING] = "gpp_bad_short_value",
};

const char *gpp_error_name(int err)
{
    if (err > 0 || err <= -GPP_E__COUNT)   /* not -err: INT_MIN has no negation */
        return "unknown_error";
    return error_names[-err];
}

static const struct {
    int rat;
    const char *name;
} rat_names[] = {
    { GPP_RAT_UTRAN, "UTRAN" },
    { GPP_RAT_GERAN, "GERAN" },
    { GPP_RAT_WLAN, "WLAN" },
    { GPP_RAT_GAN, "GAN" },
    { GPP_RAT_HSPA_EVOLUTION, "HSPA-Evolution" },
    { GPP_RAT_EUTRAN, "EUTRAN" },
    { GPP_RAT_VIRTUAL, "Virtual" },
    { GPP_RAT_EUTRAN_NB_IOT, "NB-IoT" },
    { GPP_RAT_LTE_M, "LTE-M" },
    { GPP_RAT_NR, "NR" },
};

const char *gpp_rat_name(int rat)
{
    for (size_t i = 0; i < sizeof rat_names / sizeof rat_names[0]; i++)
        if (rat_names[i].rat == rat)
            return rat_names[i].name;
    return "unknown";
}

int gpp_rat_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof rat_names / sizeof rat_names[0]; i++)
        if (strcasecmp(rat_names[i].name, name) == 0)
            return rat_names[i].rat;
    if (name[0] >= '0' && name[0] <= '9') {
        int v = 0;
        for (const char *p = name; *p; p++) {
            if (*p < '0' || *p > '9' || v > 255)
                return -1;
            v = v * 10 + (*p - '0');
        }
        return v <= 255 ? v : -1;
    }
    return -1;
}

static int all_digits(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int gpp_plmn_parse(const char *s, size_t len, struct gpp_plmn *ret)
{
    if ((len != 5 && len != 6) || !all_digits((const uint8_t *)s, len))
        return -1;
    ret->mcc = (uint16_t)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
    ret->mnc = 0;
    for (size_t i = 3; i < len; i++)
        ret->mnc = (uint16_t)(ret->mnc * 10 + (s[i] - '0'));
    ret->mnc_digits = (uint8_t)(len - 3);
    return 0;
}

void gpp_plmn_format(const struct gpp_plmn *p, char *out)
{
    out[0] = (char)('0' + p->mcc / 100);
    out[1] = (char)('0' + p->mcc / 10 % 10);
    out[2] = (char)('0' + p->mcc % 10);
    if (p->mnc_digits == 3) {
        out[3] = (char)('0' + p->mnc / 100);
        out[4] = (char)('0' + p->mnc / 10 % 10);
        out[5] = (char)('0' + p->mnc % 10);
        out[6] = '\0';
    } else {
        out[3] = (char)('0' + p->mnc / 10 % 10);
        out[4] = (char)('0' + p->mnc % 10);
        out[5] = '\0';
    }
}

/*
 * TS 24.008 §10.5.1.3: octet 1 = MCC2|MCC1, octet 2 = MNC3|MCC3,
 * octet 3 = MNC2|MNC1; MNC3 = 0xF for a two-digit MNC.
 */
int gpp_plmn_decode_bcd(const uint8_t v[3], struct gpp_plmn *ret)
{
    uint8_t mcc1 = v[0] & 0x0f, mcc2 = v[0] >> 4, mcc3 = v[1] & 0x0f;
    uint8_t mnc3 = v[1] >> 4, mnc1 = v[2] & 0x0f, mnc2 = v[2] >> 4;

    if (mcc1 > 9 || mcc2 > 9 || mcc3 > 9 || mnc1 > 9 || mnc2 > 9 ||
        (mnc3 > 9 && mnc3 != 0x0f))
        return GPP_E_ULI_PLMN;
    ret->mcc = (uint16_t)(mcc1 * 100 + mcc2 * 10 + mcc3);
    if (mnc3 == 0x0f) {
        ret->mnc = (uint16_t)(mnc1 * 10 + mnc2);
        ret->mnc_digits = 2;
    } else {
        ret->mnc = (uint16_t)(mnc1 * 100 + mnc2 * 10 + mnc3);
        ret->mnc_digits = 3;
    }
    return GPP_OK;
}

void gpp_plmn_encode_bcd(const struct gpp_plmn *p, uint8_t out[3])
{
    uint8_t mcc1 = (uint8_t)(p->mcc / 100), mcc2 = (uint8_t)(p->mcc / 10 % 10),
            mcc3 = (uint8_t)(p->mcc % 10);
    uint8_t mnc1, mnc2, mnc3;
    if (p->mnc_digits == 3) {
        mnc1 = (uint8_t)(p->mnc / 100);
        mnc2 = (uint8_t)(p->mnc / 10 % 10);
        mnc3 = (uint8_t)(p->mnc % 10);
    } else {
        mnc1 = (uint8_t)(p->mnc / 10 % 10);
        mnc2 = (uint8_t)(p->mnc % 10);
        mnc3 = 0x0f;
    }
    out[0] = (uint8_t)(mcc2 << 4 | mcc1);
    out[1] = (uint8_t)(mnc3 << 4 | mcc3);
    out[2] = (uint8_t)(mnc2 << 4 | mnc1);
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * TS 29.061 §16.4.7.2 (3GPP-User-Location-Info) refers to the Geographic
 * Location of TS 29.060 §7.7.51 (CGI, SAI, RAI: PLMN + LAC + 2 octets; for
 * RAI the RAC is the first of those and the second is spare) and of
 * TS 29.274 §8.21 (TAI: PLMN + TAC; ECGI: PLMN + 4 spare bits + 28-bit ECI).
 */
int gpp_uli_decode(const uint8_t *v, size_t len, struct gpp_uli *ret)
{
    struct gpp_uli u;
    int r;

    if (len < 1)
        return GPP_E_ULI_LENGTH;
    memset(&u, 0, sizeof u);
    u.type = v[0];
    v++;
    len--;
    switch (u.type) {
    case GPP_ULI_CGI:
    case GPP_ULI_SAI:
    case GPP_ULI_RAI:
        if (len != 7)
            return GPP_E_ULI_LENGTH;
        if ((r = gpp_plmn_decode_bcd(v, &u.plmn)) < 0)
            return r;
        u.lac = be16(v + 3);
        u.ci = u.type == GPP_ULI_RAI ? v[5] : be16(v + 5);
        break;
    case GPP_ULI_TAI:
        if (len != 5)
            return GPP_E_ULI_LENGTH;
        if ((r = gpp_plmn_decode_bcd(v, &u.plmn)) < 0)
            return r;
        u.tac = be16(v + 3);
        break;
    case GPP_ULI_ECGI:
        if (len != 7)
            return GPP_E_ULI_LENGTH;
        if ((r = gpp_plmn_decode_bcd(v, &u.plmn)) < 0)
            return r;
        u.eci = ((uint32_t)(v[3] & 0x0f) << 24) | (uint32_t)v[4] << 16 |
                (uint32_t)v[5] << 8 | v[6];
        break;
    case GPP_ULI_TAI_ECGI: {
        if (len != 12)
            return GPP_E_ULI_LENGTH;
        struct gpp_plmn ecgi_plmn;
        if ((r = gpp_plmn_decode_bcd(v, &u.plmn)) < 0)
            return r;
        u.tac = be16(v + 3);
        if ((r = gpp_plmn_decode_bcd(v + 5, &ecgi_plmn)) < 0)
            return r;
        u.eci = ((uint32_t)(v[8] & 0x0f) << 24) | (uint32_t)v[9] << 16 |
                (uint32_t)v[10] << 8 | v[11];
        break;
    }
    default:
        return GPP_E_ULI_TYPE;
    }
    *ret = u;
    return GPP_OK;
}

uint32_t gpp_uli_area(const struct gpp_uli *u)
{
    return u->type >= GPP_ULI_TAI ? u->tac : u->lac;
}

uint32_t gpp_uli_cell(const struct gpp_uli *u)
{
    return (u->type == GPP_ULI_ECGI || u->type == GPP_ULI_TAI_ECGI) ? u->eci : u->ci;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The GPP_HAS_* bit of a 3GPP attribute type; 0 for a type not decoded. */
static uint32_t has_bit(uint8_t type)
{
    switch (type) {
    case GPP_IMSI: return GPP_HAS_IMSI;
    case GPP_CHARGING_ID: return GPP_HAS_CHARGING_ID;
    case GPP_PDP_TYPE: return GPP_HAS_PDP_TYPE;
    case GPP_GGSN_ADDRESS: return GPP_HAS_GGSN_ADDRESS;
    case GPP_IMSI_MCC_MNC: return GPP_HAS_IMSI_MCC_MNC;
    case GPP_GGSN_MCC_MNC: return GPP_HAS_GGSN_MCC_MNC;
    case GPP_NSAPI: return GPP_HAS_NSAPI;
    case GPP_SELECTION_MODE: return GPP_HAS_SELECTION_MODE;
    case GPP_CHARGING_CHARACTERISTICS: return GPP_HAS_CHARGING_CHARS;
    case GPP_SGSN_MCC_MNC: return GPP_HAS_SGSN_MCC_MNC;
    case GPP_IMEISV: return GPP_HAS_IMEISV;
    case GPP_RAT_TYPE: return GPP_HAS_RAT;
    case GPP_USER_LOCATION_INFO: return GPP_HAS_ULI;
    case GPP_MS_TIMEZONE: return GPP_HAS_TIMEZONE;
    default: return 0;
    }
}

static int decode_one(struct gpp_info *g, const struct radius_vsa_ref *a,
                      const uint8_t *v)
{
    uint32_t bit = has_bit(a->type);
    /*
     * The first occurrence of an attribute is the one that counts (gpp.h);
     * a later copy, well-formed or not, is ignored for every attribute
     * alike, so a NAS cannot make a second RAT-Type or Charging-ID win
     * over the first, nor fail a packet with a junk duplicate.
     */
    if (bit == 0 || (g->has & bit))
        return GPP_OK;
    switch (a->type) {
    case GPP_IMSI:
        if (a->len < 6 || a->len > 15 || !all_digits(v, a->len))
            return GPP_E_IMSI;
        memcpy(g->imsi, v, a->len);
        g->imsi[a->len] = '\0';
        g->imsi_len = a->len;
        break;
    case GPP_CHARGING_ID:
        if (a->len != 4)
            return GPP_E_INTEGER;
        g->charging_id = be32(v);
        break;
    case GPP_PDP_TYPE:
        if (a->len != 4)
            return GPP_E_INTEGER;
        g->pdp_type = be32(v);
        break;
    case GPP_GGSN_ADDRESS:
        if (a->len != 4)
            return GPP_E_SHORT_STRING;
        memcpy(&g->ggsn_address, v, 4);
        break;
    case GPP_IMSI_MCC_MNC:
    case GPP_GGSN_MCC_MNC:
    case GPP_SGSN_MCC_MNC: {
        struct gpp_plmn *p = a->type == GPP_IMSI_MCC_MNC ? &g->imsi_plmn
                             : a->type == GPP_GGSN_MCC_MNC ? &g->ggsn_plmn
                                                           : &g->sgsn_plmn;
        if (gpp_plmn_parse((const char *)v, a->len, p) < 0)
            return GPP_E_MCC_MNC;
        break;
    }
    case GPP_NSAPI:
        if (a->len != 1)
            return GPP_E_SHORT_STRING;
        g->nsapi = v[0];
        break;
    case GPP_SELECTION_MODE:
        if (a->len != 1)
            return GPP_E_SHORT_STRING;
        g->selection_mode = v[0];
        break;
    case GPP_CHARGING_CHARACTERISTICS:
        if (a->len != 4)
            return GPP_E_SHORT_STRING;
        memcpy(g->charging_chars, v, 4);
        g->charging_chars[4] = '\0';
        break;
    case GPP_IMEISV:
        /* TS 29.061: IMEI(SV) digits; 14 (IMEI sans check), 15, or 16. */
        if (a->len < 14 || a->len > 16 || !all_digits(v, a->len))
            return GPP_E_IMEISV;
        memcpy(g->imeisv, v, a->len);
        g->imeisv[a->len] = '\0';
        g->imeisv_len = a->len;
        break;
    case GPP_RAT_TYPE:
        if (a->len != 1)
            return GPP_E_RAT;
        g->rat = v[0];
        break;
    case GPP_USER_LOCATION_INFO: {
        int r = gpp_uli_decode(v, a->len, &g->uli);
        if (r < 0)
            return r;
        break;
    }
    case GPP_MS_TIMEZONE:
        if (a->len != 2)
            return GPP_E_TIMEZONE;
        g->tz_offset = v[0];
        g->tz_dst = v[1];
        break;
    }
    g->has |= bit;
    return GPP_OK;
}

int gpp_info_decode(const struct radius_packet *pkt, struct gpp_info *ret)
{
    ret->has = 0;
    for (unsigned i = 0; i < pkt->nvsas; i++) {
        const struct radius_vsa_ref *a = &pkt->vsas[i];
        if (a->vendor != GPP_VENDOR)
            continue;
        int r = decode_one(ret, a, pkt->data + a->off);
        if (r < 0)
            return r;
    }
    return GPP_OK;
}
