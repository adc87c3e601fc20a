/*
 * status_line.c - the live status line, a pure renderer:
 *   "elapsed 0:01:23 | epoch 3/10 | cpu 45.2 W gpu 250.1 W | 0.0123 kWh 4.1 g CO2eq | predicted 0.041 kWh, 0:03:10 left"
 *   (with its 90 % interval when known: "predicted 0.041 kWh (0.039-0.043), 0:03:10 left")
 * The tracker's thread (verbose >= 1, stderr a terminal) and the CLI wrapper
 * print it in place with "\r\033[K"; this file only formats.
 */
#include "output/format.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

typedef struct sbuf {
    char *buf;
    size_t len, need;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t off = b->need < b->len ? b->need : (b->len ? b->len - 1 : 0);
    size_t room = b->len > off ? b->len - off : 0;
    int w = vsnprintf(room ? b->buf + off : NULL, room, fmt, ap);
    va_end(ap);
    if (w > 0) b->need += (size_t)w;
}

/* Finite, non-negative, else 0: a missing reading is never printed as garbage. */
static double clean(double v) { return (isfinite(v) && v > 0) ? v : 0.0; }

int ct__status_line_render(const ct_status *st, char *buf, size_t len) {
    if (!st || (!buf && len)) return ct__fail(CT_EINVAL, "ct_format_status_line: no status or no buffer");
    if (len) buf[0] = '\0';
    sbuf b = {buf, len, 0};
    char t[32];
    ct_format_duration(clean(st->elapsed_s), 0, t, sizeof t);
    put(&b, "elapsed %s", t);
    if (st->epochs > 0) put(&b, " | epoch %d/%d", st->epoch < 0 ? 0 : st->epoch, st->epochs);
    else put(&b, " | epoch %d", st->epoch < 0 ? 0 : st->epoch);

    int shown = 0;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        /* A component that is not measured has neither power nor energy. */
        if (clean(st->power_w[c]) == 0 && clean(st->energy_j[c]) == 0) continue;
        put(&b, "%s%s %.1f W", shown ? " " : " | ", ct_component_name((ct_component)c), clean(st->power_w[c]));
        shown++;
    }
    put(&b, " | %.4f kWh %.1f g CO2eq", clean(st->energy_kwh), clean(st->co2eq_g));
    if (st->has_prediction) {
        ct_format_duration(clean(st->predicted_remaining_s), 0, t, sizeof t);
        put(&b, " | predicted %.3f kWh", clean(st->predicted_energy_kwh));
        double lo = clean(st->predicted_energy_kwh_low), hi = clean(st->predicted_energy_kwh_high);
        if (hi > lo) put(&b, " (%.3f-%.3f)", lo, hi); /* the 90 % interval (issue 12) */
        put(&b, ", %s left", t);
    }
    return b.need > 2147483647u ? 2147483647 : (int)b.need;
}

int ct_format_status_line(const ct_status *st, char *buf, size_t len) { return ct__status_line_render(st, buf, len); }
