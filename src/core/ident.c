/*
 * ident.c — identifier checks for ICCID, IMSI, IMEI, MSISDN and IPv4.
 *
 * The Luhn algorithm (ISO/IEC 7812-1 Annex B) guards ICCIDs and 15-digit
 * IMEIs against typing and transcription errors; a carrier export that
 * fails it is corrupt and must not be imported.  Nothing here allocates.
 */
#include <string.h>

#include "core/ident.h"

const char *ident_error_str(int err)
{
    switch (err) {
    case IDENT_E_EMPTY: return "empty";
    case IDENT_E_NOT_DIGITS: return "not all digits";
    case IDENT_E_LENGTH: return "wrong number of digits";
    case IDENT_E_LUHN: return "Luhn check digit wrong";
    case IDENT_E_IP: return "not a dotted-quad IPv4 address";
    case IDENT_E_NAME: return "names are 1-63 letters, digits, '-', '_' or '.'";
    default: return "invalid";
    }
}

int ident_all_digits(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Sum with every second digit from the right doubled, starting at `dbl`. */
static unsigned luhn_sum(const char *s, size_t len, int dbl)
{
    unsigned sum = 0;
    for (size_t i = len; i-- > 0;) {
        unsigned d = (unsigned)(s[i] - '0');
        if (dbl) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        dbl = !dbl;
    }
    return sum;
}

int ident_luhn_valid(const char *s, size_t len)
{
    return len > 1 && ident_all_digits(s, len) && luhn_sum(s, len, 0) % 10 == 0;
}

int ident_luhn_digit(const char *s, size_t len)
{
    return (int)((10 - luhn_sum(s, len, 1) % 10) % 10);
}

static int check_digits(const char *s, size_t len, size_t min, size_t max)
{
    if (len == 0)
        return IDENT_E_EMPTY;
    if (!ident_all_digits(s, len))
        return IDENT_E_NOT_DIGITS;
    if (len < min || len > max)
        return IDENT_E_LENGTH;
    return 0;
}

int ident_check_iccid(const char *s, size_t len)
{
    int r = check_digits(s, len, ICCID_MIN, ICCID_MAX);
    if (r < 0)
        return r;
    return ident_luhn_valid(s, len) ? 0 : IDENT_E_LUHN;
}

int ident_check_imsi(const char *s, size_t len)
{
    return check_digits(s, len, IMSI_MIN, IMSI_MAX);
}

int ident_imei_core(const char *s, size_t len, char ret_core[IMEI_CORE_LEN + 1])
{
    int r = check_digits(s, len, 14, 16);
    if (r < 0)
        return r;
    if (len == 15 && !ident_luhn_valid(s, len))
        return IDENT_E_LUHN;
    memcpy(ret_core, s, IMEI_CORE_LEN);
    ret_core[IMEI_CORE_LEN] = '\0';
    return 0;
}

int ident_check_msisdn(const char *s, size_t len)
{
    if (len && s[0] == '+') {
        s++;
        len--;
    }
    return check_digits(s, len, 5, MSISDN_MAX);
}

int ident_parse_ipv4(const char *s, size_t len, uint32_t *ret)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned n = 0, digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            n = n * 10 + (unsigned)(s[i] - '0');
            if (++digits > 3 || n > 255)
                return IDENT_E_IP;
            i++;
        }
        if (digits == 0)
            return IDENT_E_IP;
        /* "01.2.3.4": leading zeros read as octal by inet_aton; refuse. */
        if (digits > 1 && s[i - digits] == '0')
            return IDENT_E_IP;
        v = v << 8 | n;
        if (part < 3) {
            if (i >= len || s[i] != '.')
                return IDENT_E_IP;
            i++;
        }
    }
    if (i != len)
        return IDENT_E_IP;
    *ret = v;
    return 0;
}

int ident_check_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > IDENT_NAME_MAX)
        return IDENT_E_NAME;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return IDENT_E_NAME;
    }
    return 0;
}

int ident_digits_u64(const char *s, size_t len, uint64_t *ret)
{
    uint64_t v = 0;
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *ret = v;
    return 0;
}
