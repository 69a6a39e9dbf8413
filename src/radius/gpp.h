/*
 * gpp.h — the 3GPP vendor attributes of TS 29.061 §16.4.7 (vendor 10415)
 * that a GGSN / PGW puts in its RADIUS requests, decoded into plain values.
 *
 * gpp_info_decode() turns the indexed VSAs of a struct radius_packet into a
 * struct gpp_info; each attribute is checked for its size and its alphabet
 * (digits where digits belong) and a bad one is a counted reason, not a
 * silent default.  The User-Location-Info decoder handles every location
 * type of TS 29.061 (CGI 0, SAI 1, RAI 2, TAI 128, ECGI 129, TAI+ECGI 130)
 * with the BCD PLMN encoding of TS 24.008 §10.5.1.3 (2- or 3-digit MNC).
 */
#ifndef M2MG_RADIUS_GPP_H
#define M2MG_RADIUS_GPP_H

#include <stddef.h>
#include <stdint.h>

#include "radius/radius.h"

#define GPP_VENDOR 10415

enum gpp_attr {
    GPP_IMSI = 1,
    GPP_CHARGING_ID = 2,
    GPP_PDP_TYPE = 3,
    GPP_GGSN_ADDRESS = 7,
    GPP_IMSI_MCC_MNC = 8,
    GPP_GGSN_MCC_MNC = 9,
    GPP_NSAPI = 10,
    GPP_SELECTION_MODE = 12,
    GPP_CHARGING_CHARACTERISTICS = 13,
    GPP_SGSN_MCC_MNC = 18,
    GPP_IMEISV = 20,
    GPP_RAT_TYPE = 21,
    GPP_USER_LOCATION_INFO = 22,
    GPP_MS_TIMEZONE = 23,
};

/* TS 29.061 Table 16.4.7.2: 3GPP-RAT-Type values. */
enum gpp_rat {
    GPP_RAT_UTRAN = 1,
    GPP_RAT_GERAN = 2,
    GPP_RAT_WLAN = 3,
    GPP_RAT_GAN = 4,
    GPP_RAT_HSPA_EVOLUTION = 5,
    GPP_RAT_EUTRAN = 6,
    GPP_RAT_VIRTUAL = 7,
    GPP_RAT_EUTRAN_NB_IOT = 8,
    GPP_RAT_LTE_M = 9,
    GPP_RAT_NR = 10,
    GPP_RAT__MAX = 10,
};

enum gpp_uli_type {
    GPP_ULI_CGI = 0,
    GPP_ULI_SAI = 1,
    GPP_ULI_RAI = 2,
    GPP_ULI_TAI = 128,
    GPP_ULI_ECGI = 129,
    GPP_ULI_TAI_ECGI = 130,
};

/* Why a 3GPP attribute was refused (counted by the server). */
enum gpp_error {
    GPP_OK = 0,
    GPP_E_IMSI = -1,            /* 3GPP-IMSI not 6..15 digits */
    GPP_E_MCC_MNC = -2,         /* an MCC-MNC string not 5 or 6 digits */
    GPP_E_IMEISV = -3,          /* 3GPP-IMEISV not 14..16 digits */
    GPP_E_RAT = -4,             /* 3GPP-RAT-Type not one octet */
    GPP_E_ULI_LENGTH = -5,      /* User-Location-Info size wrong for its type */
    GPP_E_ULI_TYPE = -6,        /* unknown location type */
    GPP_E_ULI_PLMN = -7,        /* BCD digits not decimal */
    GPP_E_TIMEZONE = -8,        /* 3GPP-MS-TimeZone not two octets */
    GPP_E_INTEGER = -9,         /* a 32-bit attribute with a wrong size */
    GPP_E_SHORT_STRING = -10,   /* NSAPI / Selection-Mode / GGSN address wrong size */
    GPP_E__COUNT = 11,
};

const char *gpp_error_name(int err);
const char *gpp_rat_name(int rat);
/* "EUTRAN", "eutran", "NB-IoT", "6" → rat value; -1 if unknown. */
int gpp_rat_from_name(const char *name);

/* A PLMN: MCC and MNC as numbers, mnc_digits 2 or 3 (they differ: 01 ≠ 001). */
struct gpp_plmn {
    uint16_t mcc;
    uint16_t mnc;
    uint8_t mnc_digits;         /* 0 when absent */
};

/* "23415" / "234015" → plmn; -1 when not 5 or 6 digits. */
int gpp_plmn_parse(const char *s, size_t len, struct gpp_plmn *ret);
/* Writes "MCC-MNC" digits ("23415") into out (at least 7 bytes). */
void gpp_plmn_format(const struct gpp_plmn *p, char *out);
static inline int gpp_plmn_equal(const struct gpp_plmn *a, const struct gpp_plmn *b)
{
    return a->mcc == b->mcc && a->mnc == b->mnc && a->mnc_digits == b->mnc_digits;
}

struct gpp_uli {
    uint8_t type;               /* enum gpp_uli_type */
    struct gpp_plmn plmn;
    uint16_t lac;               /* CGI, SAI, RAI */
    uint16_t ci;                /* CGI: cell identity; SAI: SAC; RAI: RAC */
    uint16_t tac;               /* TAI, TAI+ECGI */
    uint32_t eci;               /* ECGI, TAI+ECGI: 28-bit E-UTRAN cell id */
};

/* Decode a User-Location-Info value (type octet first). */
int gpp_uli_decode(const uint8_t *v, size_t len, struct gpp_uli *ret)
    __attribute__((warn_unused_result));
/* BCD PLMN (3 octets, TS 24.008 §10.5.1.3). */
int gpp_plmn_decode_bcd(const uint8_t v[3], struct gpp_plmn *ret)
    __attribute__((warn_unused_result));
void gpp_plmn_encode_bcd(const struct gpp_plmn *p, uint8_t out[3]);
/* Area and cell of a location as numbers policy can list: LAC or TAC; CI/SAC/RAC or ECI. */
uint32_t gpp_uli_area(const struct gpp_uli *u);
uint32_t gpp_uli_cell(const struct gpp_uli *u);

#define GPP_HAS_IMSI            (1u << 0)
#define GPP_HAS_IMSI_MCC_MNC    (1u << 1)
#define GPP_HAS_GGSN_MCC_MNC    (1u << 2)
#define GPP_HAS_SGSN_MCC_MNC    (1u << 3)
#define GPP_HAS_IMEISV          (1u << 4)
#define GPP_HAS_RAT             (1u << 5)
#define GPP_HAS_ULI             (1u << 6)
#define GPP_HAS_TIMEZONE        (1u << 7)
#define GPP_HAS_CHARGING_ID     (1u << 8)
#define GPP_HAS_PDP_TYPE        (1u << 9)
#define GPP_HAS_GGSN_ADDRESS    (1u << 10)
#define GPP_HAS_NSAPI           (1u << 11)
#define GPP_HAS_SELECTION_MODE  (1u << 12)
#define GPP_HAS_CHARGING_CHARS  (1u << 13)

struct gpp_info {
    uint32_t has;                       /* GPP_HAS_* */
    char imsi[16];
    uint8_t imsi_len;
    struct gpp_plmn imsi_plmn;          /* 3GPP-IMSI-MCC-MNC */
    struct gpp_plmn ggsn_plmn;
    struct gpp_plmn sgsn_plmn;
    char imeisv[17];                    /* digits as received */
    uint8_t imeisv_len;
    uint8_t rat;
    struct gpp_uli uli;
    uint8_t tz_offset;                  /* raw TS 24.008 time zone octet */
    uint8_t tz_dst;
    uint32_t charging_id;
    uint32_t pdp_type;
    uint32_t ggsn_address;              /* network byte order */
    uint8_t nsapi;                      /* one character */
    uint8_t selection_mode;             /* one character */
    char charging_chars[8];             /* 4 hex digits */
};

/*
 * Decode the 3GPP attributes of a packet.  A 3GPP attribute that appears
 * more than once is taken from its first occurrence.  Returns GPP_OK or the
 * first gpp_error met; ret is filled with what decoded before it.
 */
int gpp_info_decode(const struct radius_packet *pkt, struct gpp_info *ret)
    __attribute__((warn_unused_result));

#endif
