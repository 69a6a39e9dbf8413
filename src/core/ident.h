/*
 * ident.h — the identifiers of a cellular fleet and their checks:
 * ICCID (ITU-T E.118, Luhn check digit), IMSI (ITU-T E.212),
 * IMEI / IMEISV (3GPP TS 23.003 §6), MSISDN (E.164) and IPv4 addresses.
 *
 * Used by the CSV import, the CLI, the policy compiler and the RADIUS path;
 * pure functions, no allocation.  Each validator returns 0 or a negative
 * IDENT_E_* reason whose ident_error_str() is the text an operator reads.
 */
#ifndef M2MG_CORE_IDENT_H
#define M2MG_CORE_IDENT_H

#include <stddef.h>
#include <stdint.h>

#define ICCID_MIN 18
#define ICCID_MAX 22
#define IMSI_MIN 6
#define IMSI_MAX 15
#define IMEI_CORE_LEN 14    /* TAC (8) + serial (6): what identifies a device */
#define TAC_LEN 8
#define MSISDN_MAX 15

enum ident_error {
    IDENT_E_EMPTY = -1,
    IDENT_E_NOT_DIGITS = -2,
    IDENT_E_LENGTH = -3,
    IDENT_E_LUHN = -4,
    IDENT_E_IP = -5,
    IDENT_E_NAME = -6,
};

const char *ident_error_str(int err);

/* 1 when every one of len bytes is an ASCII digit (and len > 0). */
int ident_all_digits(const char *s, size_t len);
/* Luhn check over a whole digit string (the last digit is the check). */
int ident_luhn_valid(const char *s, size_t len);
/* The Luhn check digit for a payload of digits. */
int ident_luhn_digit(const char *s, size_t len);

int ident_check_iccid(const char *s, size_t len);
int ident_check_imsi(const char *s, size_t len);
/*
 * IMEI as written in inventories: 14 digits (no check digit), 15 (with the
 * Luhn check digit, verified) or 16 (IMEISV).  On success the 14-digit
 * device identity (TAC + serial) is written to ret_core (15 bytes with NUL).
 */
int ident_imei_core(const char *s, size_t len, char ret_core[IMEI_CORE_LEN + 1]);
/* MSISDN: empty allowed by the caller; otherwise optional '+' and 5..15 digits. */
int ident_check_msisdn(const char *s, size_t len);
/* Dotted-quad IPv4 → host-order value; IDENT_E_IP when malformed. */
int ident_parse_ipv4(const char *s, size_t len, uint32_t *ret);

/* A tenant or group name: 1..63 of [A-Za-z0-9._-].  0 or IDENT_E_NAME. */
#define IDENT_NAME_MAX 63
int ident_check_name(const char *s);

/* Digit string (up to 19 digits) → integer; -1 on a non-digit. */
int ident_digits_u64(const char *s, size_t len, uint64_t *ret);

#endif
