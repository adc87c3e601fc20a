/* Minimal JSON writing for the JSON Lines log (the core needs no JSON library). */
#include "base/base.h"

#include <math.h>
#include <stdlib.h>

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
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void ct__json_number(FILE *f, double v) {
    if (!isfinite(v))
        fputs("null", f);
    else {
        /* Shortest of 15 or 17 significant digits that reads back exactly. */
        char buf[40];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
        fputs(buf, f);
    }
}
