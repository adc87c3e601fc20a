/* ISO 8601 times: the one parser and formatter of the library. */
#include "base/base.h"

#include <ctype.h>
#include <math.h>
#include <time.h>

static int digits(const char **p, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p)) return -1;
        *v = *v * 10 + (**p - '0');
        (*p)++;
    }
    return 0;
}

int ct__parse_iso8601(const char *s, double *unix_s) {
    if (!s) return CT_EPARSE;
    const char *p = s;
    int Y, M, D, h = 0, m = 0, sec = 0;
    double frac = 0;
    if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D)) return CT_EPARSE;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m)) return CT_EPARSE;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec)) return CT_EPARSE;
            if (*p == '.') {
                p++;
                double scale = 0.1;
                if (!isdigit((unsigned char)*p)) return CT_EPARSE;
                while (isdigit((unsigned char)*p)) {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
    }
    int off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (digits(&p, 2, &oh)) return CT_EPARSE;
        if (*p == ':') p++;
        if (*p && digits(&p, 2, &om)) return CT_EPARSE;
        off_s = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0') return CT_EPARSE;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return CT_EPARSE;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *unix_s = (double)t + frac - off_s;
    return 0;
}

/* gmtime into buf with or without seconds (formats are fixed here). */
static void format_tm(double unix_s, int seconds, char *buf, size_t len) {
    time_t t = (time_t)floor(unix_s);
    struct tm tm;
    if (len) buf[0] = '\0';
    if (!gmtime_r(&t, &tm)) return;
    if (seconds)
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
    else
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min);
}

void ct__format_iso8601(double unix_s, char *buf, size_t len) { format_tm(unix_s, 1, buf, len); }

void ct__format_iso8601_minutes(double unix_s, char *buf, size_t len) { format_tm(unix_s, 0, buf, len); }
