/* Minimal JSON writing for the JSON Lines log (the core needs no JSON library). */
#include "base/base.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void ct__json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

void ct__json_number(FILE *f, double v) {
    if (!isfinite(v)) fputs("null", f);
    else {
        /* Shortest of 15 or 17 significant digits that reads back exactly. */
        char buf[40];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
        fputs(buf, f);
    }
}

/* ------------------------------------------------------------------ */
/* The same into a growing buffer                                      */
/* ------------------------------------------------------------------ */

static int buf_reserve(ct__buf *b, size_t more) {
    if (b->oom) return 0;
    if (b->len + more + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void ct__buf_free(ct__buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void ct__buf_putc(ct__buf *b, char c) {
    if (!buf_reserve(b, 1)) return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void ct__buf_putn(ct__buf *b, const char *s, size_t n) {
    if (!buf_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void ct__buf_puts(ct__buf *b, const char *s) { ct__buf_putn(b, s, strlen(s)); }

void ct__buf_printf(ct__buf *b, const char *fmt, ...) {
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ct__buf_puts(b, small);
        return;
    }
    if (!buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ct__buf_json_string(ct__buf *b, const char *s) {
    ct__buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': ct__buf_puts(b, "\\\""); break;
        case '\\': ct__buf_puts(b, "\\\\"); break;
        case '\n': ct__buf_puts(b, "\\n"); break;
        case '\r': ct__buf_puts(b, "\\r"); break;
        case '\t': ct__buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20) ct__buf_printf(b, "\\u%04x", *p);
            else ct__buf_putc(b, (char)*p);
        }
    }
    ct__buf_putc(b, '"');
}

void ct__buf_json_number(ct__buf *b, double v) {
    if (!isfinite(v)) {
        ct__buf_puts(b, "null");
        return;
    }
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
    ct__buf_puts(b, buf);
}
