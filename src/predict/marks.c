/*
 * marks.c - progress marks of the epoch in progress (ct__predictor_progress
 * adds them) and the steady rate they show, which the prediction uses for the
 * epoch in progress and to keep epoch 1's warm-up apart. See predictor.h.
 */
#include "predict/predict_internal.h"

#include <math.h>

int ct__pred_marks_add(ct__pred_marks *m, double fraction, double elapsed_s,
                       const double energy_j[CT_COMPONENT_COUNT]) {
    if (!isfinite(fraction) || fraction < 0 || fraction > 1 || !ct__pred_finite_nonneg(elapsed_s)) return CT_EINVAL;
    if (m->n > 0 && (fraction < m->last.f || elapsed_s < m->last.t)) return CT_EINVAL;
    ct__pred_mark k;
    k.f = fraction;
    k.t = elapsed_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        double e = energy_j ? energy_j[c] : NAN;
        /* energy that goes backwards within an epoch is not a measurement */
        if (!ct__pred_finite_nonneg(e) || (m->n > 0 && isfinite(m->last.e[c]) && e < m->last.e[c])) e = NAN;
        k.e[c] = e;
    }
    if (m->n == 0) m->first = k;
    m->last = k;
    m->n++;
    int g = (int)(fraction * CT__PRED_GRID);
    if (g > CT__PRED_GRID) g = CT__PRED_GRID;
    /* the first mark at or past each k / GRID; marks jump over grid points, so fill all passed ones */
    for (int i = g; i >= 0 && !(m->grid_have & (1u << i)); i--) {
        m->grid[i] = k;
        m->grid_have |= 1u << i;
    }
    return 0;
}


/*
 * The steady rate (value per whole epoch) of series s in an epoch's marks, and
 * the anchor mark after which it holds. When the first half of the observed
 * span ran more than 10 % slower than the second (a warm-up that lasted past
 * the first mark: cuDNN autotuning, the first batches of a compiled model),
 * the rate is taken from the second half only. The anchor is chosen on the
 * duration series and used for every series. relvar: the variance of the rate
 * from the spread of the rates between grid snapshots, relative to rate^2.
 */
int ct__pred_mark_rate(const ct__pred_marks *m, int s, ct__pred_mark *anchor, double *rate, double *relvar) {
    if (m->n < 3 || m->last.f - m->first.f < 0.02) return 0;
    const ct__pred_mark *a = &m->first, *l = &m->last;
    double mid_f = 0.5 * (a->f + l->f);
    const ct__pred_mark *mid = NULL;
    for (int k = (int)ceil(mid_f * CT__PRED_GRID); k <= CT__PRED_GRID; k++) {
        if (!(m->grid_have & (1u << k))) continue;
        if (m->grid[k].f > a->f && m->grid[k].f < l->f) mid = &m->grid[k];
        break;
    }
    if (mid) {
        double ra = (mid->t - a->t) / (mid->f - a->f), rb = (l->t - mid->t) / (l->f - mid->f);
        if (ra > 1.03 * rb) a = mid;
    }
    double va = ct__pred_mark_value(a, s), vl = ct__pred_mark_value(l, s);
    if (!isfinite(va) || !isfinite(vl) || l->f - a->f <= 0) return 0;
    *anchor = *a;
    *rate = (vl - va) / (l->f - a->f);
    if (!(*rate >= 0)) return 0;
    /* spread of the rates between consecutive grid snapshots after the anchor */
    double sw = 0, swr = 0, swr2 = 0;
    int nseg = 0;
    const ct__pred_mark *prev = a;
    for (int k = 0; k <= CT__PRED_GRID; k++) {
        if (!(m->grid_have & (1u << k))) continue;
        const ct__pred_mark *g = &m->grid[k];
        if (g->f <= prev->f || g->f > l->f) continue;
        double v0 = ct__pred_mark_value(prev, s), v1 = ct__pred_mark_value(g, s);
        if (isfinite(v0) && isfinite(v1)) {
            double w = g->f - prev->f, r = (v1 - v0) / w;
            sw += w, swr += w * r, swr2 += w * r * r, nseg++;
        }
        prev = g;
    }
    *relvar = 0;
    if (nseg >= 3 && *rate > 0) {
        double mean = swr / sw, var = swr2 / sw - mean * mean;
        if (var < 0) var = 0;
        /* rates of slots of width w vary as 1/w; the whole span averages nseg of them */
        *relvar = var / (double)(nseg - 1) / (*rate * *rate);
    }
    return 1;
}
