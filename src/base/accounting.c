/* Pure accounting arithmetic: counter deltas, integration
 * and the bounded power series. No I/O here, so every line is unit-tested
 * with known values (tests/test_accounting.c). */
#include "base/base.h"

#include <string.h>

uint64_t ct__counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range) {
    if (cur >= prev) return cur - prev;
    /* The counter wrapped. powercap counts 0..max_range inclusive, so one
     * wrap adds (max_range - prev) to reach the top, 1 to reach 0, then cur. */
    if (max_range == 0 || prev > max_range) return cur; /* range unknown: best we can do */
    return (max_range - prev) + cur + 1;
}

double ct__trapezoid_j(double t0_s, double p0_w, double t1_s, double p1_w) {
    if (t1_s <= t0_s) return 0.0;
    return (t1_s - t0_s) * (p0_w + p1_w) * 0.5;
}

double ct__j_to_kwh(double joules) { return joules / 3.6e6; }

double ct__energy_kwh(const double energy_j[CT_COMPONENT_COUNT], double pue) {
    double j = 0;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) j += energy_j[c];
    return ct__j_to_kwh(j) * pue;
}

void ct__series_reset(ct__series *s) {
    memset(s, 0, sizeof *s);
    s->stride = 1;
}

/* Each stored point is the mean of `stride` raw samples. When the buffer is
 * full, neighbouring points are merged and the stride doubles: at most
 * CT__SERIES_MAX points, whatever the number of samples. */
void ct__series_add(ct__series *s, double t_s, const double p_w[CT_COMPONENT_COUNT]) {
    if (s->stride < 1) s->stride = 1;
    s->acc_t += t_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) s->acc_p[c] += p_w[c];
    s->pending++;
    if (s->pending < s->stride) return;
    if (s->n == CT__SERIES_MAX) {
        for (int i = 0; i < CT__SERIES_MAX / 2; i++) {
            s->t[i] = (s->t[2 * i] + s->t[2 * i + 1]) * 0.5;
            for (int c = 0; c < CT_COMPONENT_COUNT; c++) s->p[i][c] = (s->p[2 * i][c] + s->p[2 * i + 1][c]) * 0.5;
        }
        s->n = CT__SERIES_MAX / 2;
        /* The pending group has the old stride; store it as a point anyway
         * (its weight differs slightly, which only affects the plot). */
        s->stride *= 2;
    }
    s->t[s->n] = s->acc_t / s->pending;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) s->p[s->n][c] = s->acc_p[c] / s->pending;
    s->n++;
    s->pending = 0;
    s->acc_t = 0;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) s->acc_p[c] = 0;
}
