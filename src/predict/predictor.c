/*
 * predictor.c - the per-epoch prediction model (issue 12); see predictor.h
 * for the contract and docs/prediction.md for the model and its limits.
 *
 * Outline. Each series (duration, energy per component) is normalised by its
 * median (so noise is relative) and fitted over the last CT__PRED_WINDOW
 * epochs with a small family of models:
 *   - epoch 1 kept apart or not (warm-up, cold cache);
 *   - one level, or a linear trend, over the epochs since a change point
 *     (level shift: throttling, a neighbour job), the epochs before it having
 *     their own level; a quadratic trend over all epochs (progressive resizing);
 *   - on top, periodic epochs (epoch % k == p: validation, checkpoints) with
 *     their own extra value, found in the residuals of the best model.
 * Each candidate is scored with a Bayesian information criterion whose noise
 * variance has a weak prior (2 % of the level, 4 pseudo-observations), so one
 * or two epochs already give a sane interval. The prediction averages the
 * best candidates by their posterior weight (exp(-score / 2)); its variance
 * adds the noise of every future epoch, the uncertainty of the parameters and
 * the spread between the candidates; the 90 % interval is +-t(0.95, dof) sd.
 */
#include "predict/predictor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PRIOR_REL_SD 0.02  /* epoch-to-epoch sd assumed before any is seen, relative to the level */
#define PRIOR_DOF 4.0      /* weight of that assumption, in epochs */
#ifndef DRIFT_REL_SD
#define DRIFT_REL_SD 0.002 /* the level may wander by this much per epoch (random walk), relative */
#endif
#ifndef OCCAM
#define OCCAM (1.0 / 20) /* models less likely than this, relative to the best, are dropped */
#endif
#define MAX_PERIOD 8       /* periodic epochs: every 2nd .. 8th */
#define SHIFT_MIN_LEN 3    /* epochs after a change point before it can be believed */
#define TREND_MIN_LEN 5    /* epochs a linear trend needs */
#define QUAD_MIN_LEN 8     /* epochs a quadratic trend needs */
#ifndef TREND_PENALTY1
#define TREND_PENALTY1 2.0 /* extra BIC penalty of a linear trend, x log(epochs) */
#endif
#ifndef TREND_PENALTY2
#define TREND_PENALTY2 2.0 /* extra BIC penalty of a quadratic trend, x log(epochs) */
#endif

static int finite_nonneg(double v) { return isfinite(v) && v >= 0; }

void ct__predictor_init(ct__predictor *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->fit_epochs = -1;
}

void ct__predictor_reset(ct__predictor *p) { ct__predictor_init(p); }

void ct__predictor_begin_epoch(ct__predictor *p) {
    if (p) memset(&p->cur, 0, sizeof p->cur);
}

/* ------------------------------------------------------------------ */
/* Progress marks                                                      */
/* ------------------------------------------------------------------ */

int ct__predictor_progress(ct__predictor *p, double fraction, double elapsed_s,
                           const double energy_j[CT_COMPONENT_COUNT]) {
    if (!p || !isfinite(fraction) || fraction < 0 || fraction > 1 || !finite_nonneg(elapsed_s)) return CT_EINVAL;
    ct__pred_marks *m = &p->cur;
    if (m->n > 0 && (fraction < m->last.f || elapsed_s < m->last.t)) return CT_EINVAL;
    ct__pred_mark k;
    k.f = fraction;
    k.t = elapsed_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        double e = energy_j ? energy_j[c] : NAN;
        /* energy that goes backwards within an epoch is not a measurement */
        if (!finite_nonneg(e) || (m->n > 0 && isfinite(m->last.e[c]) && e < m->last.e[c])) e = NAN;
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

/* The value of series s at a mark (duration: time; energy: J), NaN if unknown. */
static double mark_value(const ct__pred_mark *k, int s) { return s == 0 ? k->t : k->e[s - 1]; }

/*
 * The steady rate (value per whole epoch) of series s in an epoch's marks, and
 * the anchor mark after which it holds. When the first half of the observed
 * span ran more than 10 % slower than the second (a warm-up that lasted past
 * the first mark: cuDNN autotuning, the first batches of a compiled model),
 * the rate is taken from the second half only. The anchor is chosen on the
 * duration series and used for every series. relvar: the variance of the rate
 * from the spread of the rates between grid snapshots, relative to rate^2.
 */
static int mark_rate(const ct__pred_marks *m, int s, ct__pred_mark *anchor, double *rate, double *relvar) {
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
    double va = mark_value(a, s), vl = mark_value(l, s);
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
        double v0 = mark_value(prev, s), v1 = mark_value(g, s);
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

/* ------------------------------------------------------------------ */
/* Epochs                                                              */
/* ------------------------------------------------------------------ */

int ct__predictor_add_epoch(ct__predictor *p, double duration_s, const double energy_j[CT_COMPONENT_COUNT]) {
    if (!p) return CT_EINVAL;
    double v[CT__PRED_SERIES];
    v[0] = duration_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) v[1 + c] = energy_j ? energy_j[c] : NAN;
    int epoch = p->epochs + 1;
    for (int s = 0; s < CT__PRED_SERIES; s++) {
        if (finite_nonneg(v[s])) {
            p->measured[s] += v[s];
        } else {
            v[s] = NAN;
            p->gaps[s]++;
        }
    }
    /* Marks: the excess spent before the steady rate (warm-up), and the rate. */
    ct__pred_mark anchor;
    double rate, relvar;
    if (mark_rate(&p->cur, 0, &anchor, &rate, &relvar)) {
        double excess[CT__PRED_SERIES];
        for (int s = 0; s < CT__PRED_SERIES; s++) {
            double r = 0;
            excess[s] = 0;
            p->prev_rate[s] = NAN;
            if (mark_rate(&p->cur, s, &anchor, &r, &relvar)) {
                double x = mark_value(&anchor, s) - anchor.f * r;
                excess[s] = x > 0 ? x : 0;
                p->prev_rate[s] = r;
            }
            if (!isfinite(v[s])) excess[s] = 0;
            if (excess[s] > v[s]) excess[s] = v[s];
        }
        p->has_prev_rate = 1;
        if (epoch == 1) {
            p->has_warmup = 1;
            memcpy(p->warmup, excess, sizeof excess);
        } else {
            for (int s = 0; s < CT__PRED_SERIES; s++) p->later_excess_sum[s] += excess[s];
            p->later_excess_n++;
        }
    }
    int slot = (epoch - 1) % CT__PRED_WINDOW;
    p->ring_epoch[slot] = epoch;
    memcpy(p->ring_y[slot], v, sizeof v);
    p->epochs = epoch;
    memset(&p->cur, 0, sizeof p->cur);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The fit                                                             */
/* ------------------------------------------------------------------ */

/* One-sided 95 % quantile of Student's t with dof degrees of freedom
 * (Cornish-Fisher expansion around the normal quantile; < 0.5 % off for dof >= 3). */
static double t95(double dof) {
    const double z = 1.6448536269514722;
    if (!(dof > 1)) dof = 1;
    double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
    double g1 = (z3 + z) / 4, g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
    double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
    double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
    double q = z + g1 / dof + g2 / (dof * dof) + g3 / (dof * dof * dof) + g4 / (dof * dof * dof * dof);
    return q > 12 ? 12 : q;
}

static void sort_doubles(double *a, int n) {
    for (int i = 1; i < n; i++) {
        double x = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > x) a[j + 1] = a[j], j--;
        a[j + 1] = x;
    }
}

/* Sums of a segment: 1, t, t^2, t^3, t^4, y, t y, t^2 y, y^2. */
enum { S0, S1, S2, S3, S4, Y0, Y1, Y2, YY, NSUM };

/* Inverts the (d+1)x(d+1) normal matrix of the sums; 0 if singular. */
static int invert_normal(const double *sm, int d, double inv[3][3]) {
    memset(inv, 0, sizeof(double[3][3]));
    double a = sm[S0], b = sm[S1], c = sm[S2], e = sm[S3], f = sm[S4];
    if (d == 0) {
        if (!(a > 0)) return 0;
        inv[0][0] = 1 / a;
        return 1;
    }
    if (d == 1) {
        double det = a * c - b * b;
        if (!(det > 1e-12 * (a * c + 1e-300))) return 0;
        inv[0][0] = c / det, inv[0][1] = inv[1][0] = -b / det, inv[1][1] = a / det;
        return 1;
    }
    /* [[a b c] [b c e] [c e f]] */
    double m00 = c * f - e * e, m01 = -(b * f - c * e), m02 = b * e - c * c;
    double det = a * m00 + b * m01 + c * m02;
    if (!(fabs(det) > 1e-12 * (a * c * f + 1e-300))) return 0;
    double m11 = a * f - c * c, m12 = -(a * e - b * c), m22 = a * c - b * b;
    inv[0][0] = m00 / det, inv[0][1] = inv[1][0] = m01 / det, inv[0][2] = inv[2][0] = m02 / det;
    inv[1][1] = m11 / det, inv[1][2] = inv[2][1] = m12 / det, inv[2][2] = m22 / det;
    return 1;
}

typedef struct cand {
    ct__pred_model m;
    double score;
} cand;

/* Keeps the best `CT__PRED_MODELS` candidates, sorted by score. */
static void keep(cand *best, int *n, const cand *c) {
    int i = *n < CT__PRED_MODELS ? (*n)++ : CT__PRED_MODELS;
    if (i == CT__PRED_MODELS) {
        if (c->score >= best[CT__PRED_MODELS - 1].score) return;
        i = CT__PRED_MODELS - 1;
    }
    while (i > 0 && best[i - 1].score > c->score) best[i] = best[i - 1], i--;
    best[i] = *c;
}

typedef struct fitctx {
    int m;                       /* points (head included) */
    int ep[CT__PRED_WINDOW];     /* epoch numbers */
    double t[CT__PRED_WINDOW];   /* scaled times */
    double y[CT__PRED_WINDOW];   /* normalised values */
    double prior;                /* PRIOR_DOF * prior variance */
} fitctx;

/*
 * Scores every candidate; keeps the best in `best`. A candidate is a segment
 * start j (points j .. m-1 fitted with a polynomial of degree d) and what
 * comes before it: nothing (j = 0), epoch 1 alone (j = 1: the head model),
 * or a level since epoch 1, or epoch 1 apart and a level after it (a change
 * point at j; whichever of the two fits better for its number of parameters).
 */
static void candidates(const fitctx *x, cand *best, int *nbest) {
    int m = x->m;
    int can_head = m >= 2 && x->ep[0] == 1;
    double suf[CT__PRED_WINDOW + 1][NSUM];
    memset(suf[m], 0, sizeof suf[m]);
    for (int i = m - 1; i >= 0; i--) {
        double t = x->t[i], y = x->y[i], t2 = t * t;
        const double add[NSUM] = {1, t, t2, t2 * t, t2 * t2, y, t * y, t2 * y, y * y};
        for (int k = 0; k < NSUM; k++) suf[i][k] = suf[i + 1][k] + add[k];
    }
    double logm = log((double)(m > 2 ? m : 2));
    double head_ratio = exp(logm / m); /* one more parameter is worth it when the variance drops by this */
    for (int j = 0; j < m; j++) {
        int len = m - j, is_head = j == 1 && can_head;
        if (j > 0 && !is_head && len < SHIFT_MIN_LEN) break;
        /* change points: every epoch among the last 16, every 4th before (cost) */
        if (j > 1 && len > 16 && len % 4 != 0) continue;
        double pre_a = 0, pre_b = -1; /* a: one level over 0..j-1; b: epoch 1 apart, a level over 1..j-1 */
        if (j > 0 && !is_head) {
            double n0 = suf[0][S0] - suf[j][S0], sy = suf[0][Y0] - suf[j][Y0], ss = suf[0][YY] - suf[j][YY];
            pre_a = ss - sy * sy / n0;
            if (pre_a < 0) pre_a = 0;
            if (can_head && j >= 2) {
                n0 = suf[1][S0] - suf[j][S0], sy = suf[1][Y0] - suf[j][Y0], ss = suf[1][YY] - suf[j][YY];
                pre_b = ss - sy * sy / n0;
                if (pre_b < 0) pre_b = 0;
            }
        }
        for (int d = 0; d <= 1; d++) {
            if (d == 1 && len < TREND_MIN_LEN) break;
            cand c;
            memset(&c, 0, sizeof c);
            if (!invert_normal(suf[j], d, c.m.cov)) continue;
            const double rhs[3] = {suf[j][Y0], suf[j][Y1], suf[j][Y2]};
            double sse = suf[j][YY];
            for (int r = 0; r <= d; r++) {
                double v = 0;
                for (int k = 0; k <= d; k++) v += c.m.cov[r][k] * rhs[k];
                c.m.beta[r] = v;
                sse -= v * rhs[r];
            }
            if (sse < 0) sse = 0;
            int params = d + 1, head = is_head;
            if (is_head) {
                params += 1;
            } else if (j > 0) {
                params += 2;
                if (pre_b >= 0 && (x->prior + sse + pre_a) > head_ratio * (x->prior + sse + pre_b)) {
                    sse += pre_b, params += 1, head = 1;
                } else {
                    sse += pre_a;
                }
            }
            c.m.degree = d;
            c.m.head = head;
            c.m.sigma2 = (x->prior + sse) / (PRIOR_DOF + m);
            /* a trend is extrapolated only when its highest term is significant (|t| > 2):
             * a trend fitted to noise does the most harm far ahead */
            if (d > 0 && c.m.beta[d] * c.m.beta[d] < 4.0 * c.m.sigma2 * c.m.cov[d][d]) continue;
            /* A linear trend is extrapolated as a line, but its interval allows any
             * curvature the data cannot exclude: the parameter variance is the
             * quadratic's (resizing in steps, a curriculum that accelerates). */
            double covq[3][3];
            if (d == 1 && len >= QUAD_MIN_LEN && invert_normal(suf[j], 2, covq)) memcpy(c.m.cov, covq, sizeof covq);
            c.m.seg_start = x->ep[j];
            c.m.sigma2 = (x->prior + sse) / (PRIOR_DOF + m);
            c.m.dof = PRIOR_DOF + m - params;
            if (c.m.dof < 2) c.m.dof = 2;
            /* BIC; trends pay extra because a wrong trend hurts most far ahead */
            c.score = m * log(c.m.sigma2) + params * logm +
                      (d == 1 ? TREND_PENALTY1 : d == 2 ? TREND_PENALTY2 : 0) * logm;
            keep(best, nbest, &c);
        }
    }
}

/* Value of a model at scaled time t (normalised units). */
static double model_at(const ct__pred_model *md, double t) {
    return md->beta[0] + md->beta[1] * t + md->beta[2] * t * t;
}

/* Fits one series from the ring; fills f. */
static void fit_series(const ct__predictor *p, int s, ct__pred_fit *f) {
    memset(f, 0, sizeof *f);
    f->gaps = p->gaps[s];
    fitctx x;
    x.m = 0;
    int first = p->epochs > CT__PRED_WINDOW ? p->epochs - CT__PRED_WINDOW + 1 : 1;
    double raw[CT__PRED_WINDOW];
    for (int e = first; e <= p->epochs; e++) {
        int slot = (e - 1) % CT__PRED_WINDOW;
        double y = p->ring_y[slot][s];
        if (!isfinite(y)) continue;
        if (e == 1 && p->has_warmup) {
            /* epoch 1 as a steady epoch: its warm-up out, the usual start-up of an epoch in */
            double usual = p->later_excess_n ? p->later_excess_sum[s] / p->later_excess_n : 0;
            y = y - p->warmup[s] + usual;
            if (y < 0) y = 0;
        }
        x.ep[x.m] = e;
        raw[x.m++] = y;
    }
    if (x.m == 0) return;
    /* zero-length epochs (duration 0) carry no information about the rate: left out
     * of the fit unless every epoch is one */
    if (s == 0) {
        int k = 0;
        for (int i = 0; i < x.m; i++)
            if (raw[i] > 0) x.ep[k] = x.ep[i], raw[k++] = raw[i];
        if (k > 0) x.m = k;
    }
    /* the level: median of the last (up to) 15 epochs after the first (the first may be a warm-up) */
    double sorted[15];
    int nm = 0;
    for (int i = x.m - 1; i >= 0 && nm < 15; i--)
        if (x.ep[i] != 1 || x.m == 1) sorted[nm++] = raw[i];
    sort_doubles(sorted, nm);
    double med = nm % 2 ? sorted[nm / 2] : 0.5 * (sorted[nm / 2 - 1] + sorted[nm / 2]);
    f->valid = 1;
    f->last_epoch = x.ep[x.m - 1];
    f->centre = med;
    f->norm = fabs(med) > 0 ? fabs(med) : 0;
    if (f->norm == 0)
        for (int i = 0; i < x.m; i++) f->norm = fmax(f->norm, fabs(raw[i]));
    f->t_origin = x.ep[x.m - 1];
    f->t_scale = x.ep[x.m - 1] - x.ep[0] > 0 ? (double)(x.ep[x.m - 1] - x.ep[0]) : 1.0;
    if (f->norm == 0) { /* all zero: nothing will be spent */
        f->nmodels = 1;
        f->model[0].weight = 1;
        f->model[0].dof = PRIOR_DOF;
        return;
    }
    for (int i = 0; i < x.m; i++) {
        x.t[i] = (x.ep[i] - f->t_origin) / f->t_scale;
        x.y[i] = (raw[i] - f->centre) / f->norm;
    }
    x.prior = PRIOR_DOF * PRIOR_REL_SD * PRIOR_REL_SD;

    cand best[CT__PRED_MODELS];
    int nbest = 0;
    for (int pass = 0; pass < 2; pass++) {
        nbest = 0;
        candidates(&x, best, &nbest);
        if (nbest == 0) return;
        if (pass == 1 || x.m < 2 * 2 + 2) break;
        /* Periodic epochs, in the residuals of the best model. */
        const ct__pred_model *bm = &best[0].m;
        /* residuals: the segment from the model, the epochs before it around their mean */
        double r[CT__PRED_WINDOW];
        int b = bm->head;
        double pre_s = 0;
        int pre_n = 0;
        for (int i = b; i < x.m; i++)
            if (x.ep[i] < bm->seg_start) pre_s += x.y[i], pre_n++;
        double pre_mean = pre_n ? pre_s / pre_n : 0;
        for (int i = b; i < x.m; i++)
            r[i] = x.ep[i] < bm->seg_start ? x.y[i] - pre_mean : x.y[i] - model_at(bm, x.t[i]);
        double sse0 = 0;
        for (int i = b; i < x.m; i++) sse0 += r[i] * r[i];
        int bk = 0, bp = 0, bnp = 0, bnq = 0;
        double bgain = 0, bdelta = 0;
        for (int k = 2; k <= MAX_PERIOD; k++) {
            double sp[MAX_PERIOD] = {0};
            int np[MAX_PERIOD] = {0}, ntot = 0;
            double stot = 0;
            int cls = x.ep[b] % k; /* epoch % k, kept up to date without a division per epoch */
            for (int i = b; i < x.m; i++) {
                if (i > b)
                    for (cls += x.ep[i] - x.ep[i - 1]; cls >= k; cls -= k) {
                    }
                sp[cls] += r[i], np[cls]++, stot += r[i], ntot++;
            }
            for (int ph = 0; ph < k; ph++) {
                int nq = ntot - np[ph];
                if (np[ph] < 2 || nq < 2) continue;
                double mp = sp[ph] / np[ph], mq = (stot - sp[ph]) / nq;
                double gain = (double)np[ph] * nq / ntot * (mp - mq) * (mp - mq);
                if (gain > bgain * 1.0001) bgain = gain, bk = k, bp = ph, bdelta = mp - mq, bnp = np[ph], bnq = nq;
            }
        }
        if (!bk) break;
        double s_before = (x.prior + sse0) / (PRIOR_DOF + x.m), s_after = (x.prior + sse0 - bgain) / (PRIOR_DOF + x.m);
        double logm = log((double)x.m);
        if (!(x.m * log(s_before / s_after) > 3 * logm + 2 * log(35.0))) break;
        f->period = bk, f->phase = bp, f->period_delta = bdelta;
        f->period_var = s_after * (1.0 / bnp + 1.0 / bnq);
        for (int i = b; i < x.m; i++)
            if (x.ep[i] % bk == bp) x.y[i] -= bdelta;
    }
    /* posterior weights, within Occam's window (Madigan & Raftery 1994): a
     * model 20 times less likely than the best is dropped, not averaged in,
     * so a far-fetched trend cannot widen the interval of a steady run */
    double wsum = 0;
    for (int i = 0; i < nbest; i++) {
        best[i].m.weight = exp(-0.5 * (best[i].score - best[0].score));
        if (best[i].m.weight < OCCAM) best[i].m.weight = 0;
        wsum += best[i].m.weight;
    }
    f->nmodels = 0;
    for (int i = 0; i < nbest; i++) {
        best[i].m.weight /= wsum;
        if (best[i].m.weight <= 0) continue;
        f->model[f->nmodels++] = best[i].m;
    }
    f->head = best[0].m.head;
}

/* ------------------------------------------------------------------ */
/* Prediction                                                          */
/* ------------------------------------------------------------------ */

/* sums over the epochs a < i <= b of i and of i^2 */
static double sum_i(double a, double b) { return (b * (b + 1) - a * (a + 1)) / 2; }
static double sum_i2(double a, double b) {
    return (b * (b + 1) * (2 * b + 1) - a * (a + 1) * (2 * a + 1)) / 6;
}
static double count_phase(int a, int b, int k, int ph) { /* epochs a < i <= b with i % k == ph */
    if (k <= 0 || b <= a) return 0;
    long long cb = ph == 0 ? b / k : (b >= ph ? (b - ph) / k + 1 : 0);
    long long ca = ph == 0 ? a / k : (a >= ph ? (a - ph) / k + 1 : 0);
    return (double)(cb - ca);
}

/* Sum over epochs a < i <= b of series s (raw units), its variance, and the dof. */
static void series_sum(const ct__pred_fit *f, int a, int b, double *mean, double *var, double *dof) {
    *mean = 0, *var = 0, *dof = PRIOR_DOF;
    if (!f->valid || b <= a) return;
    double h = b - a;
    double t0 = f->t_origin, ts = f->t_scale;
    /* sums of u = i - t0 and u^2 over the horizon, then t = u / ts */
    double su = sum_i(a, b) - h * t0, su2 = sum_i2(a, b) - 2 * t0 * sum_i(a, b) + h * t0 * t0;
    double cvec[3] = {h, su / ts, su2 / (ts * ts)};
    double nper = count_phase(a, b, f->period, f->phase);
    double means[CT__PRED_MODELS], vars[CT__PRED_MODELS], mbar = 0;
    for (int j = 0; j < f->nmodels; j++) {
        const ct__pred_model *md = &f->model[j];
        double mu = 0, q = 0;
        for (int r = 0; r < 3; r++) {
            mu += md->beta[r] * cvec[r];
            for (int k = 0; k < 3; k++) q += cvec[r] * md->cov[r][k] * cvec[k];
        }
        mu += nper * f->period_delta;
        /* slow drift of the level (a random walk): sum over h, h' <= H of min(h, h') */
        double drift = DRIFT_REL_SD * DRIFT_REL_SD * h * (h + 1) * (2 * h + 1) / 6;
        double v = md->sigma2 * (q + h) + nper * nper * f->period_var + drift;
        /* raw units; a model that would predict negative epochs predicts none */
        double raw = h * f->centre + f->norm * mu;
        means[j] = raw > 0 ? raw : 0;
        vars[j] = f->norm * f->norm * v;
        mbar += md->weight * means[j];
    }
    double vbar = 0, dbar = 0;
    for (int j = 0; j < f->nmodels; j++) {
        const ct__pred_model *md = &f->model[j];
        vbar += md->weight * (vars[j] + (means[j] - mbar) * (means[j] - mbar));
        dbar += md->weight * md->dof;
    }
    *mean = mbar, *var = vbar, *dof = dbar > 2 ? dbar : 2;
}

int ct__predictor_profile(const ct__predictor *p, int first_epoch, int last_epoch, int max_pieces,
                          double *duration_s, double *energy_j) {
    if (!p || !duration_s || !energy_j || max_pieces < 1) return CT_EINVAL;
    if (p->epochs == 0 || first_epoch < 1 || last_epoch < first_epoch) return 0;
    ct__pred_fit scratch[CT__PRED_SERIES];
    const ct__pred_fit *fits = p->fit;
    if (p->fit_epochs != p->epochs) {
        for (int s = 0; s < CT__PRED_SERIES; s++) fit_series(p, s, &scratch[s]);
        fits = scratch;
    }
    long long n = (long long)last_epoch - first_epoch + 1;
    int pieces = n < max_pieces ? (int)n : max_pieces;
    for (int i = 0; i < pieces; i++) {
        /* piece i: epochs a < e <= b */
        int a = first_epoch - 1 + (int)(n * i / pieces), b = first_epoch - 1 + (int)(n * (i + 1) / pieces);
        double m, v, d;
        series_sum(&fits[0], a, b, &m, &v, &d);
        duration_s[i] = m;
        energy_j[i] = 0;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            series_sum(&fits[1 + c], a, b, &m, &v, &d);
            energy_j[i] += m;
        }
    }
    return pieces;
}

static void set_value(ct__pred_value *v, double measured, double rem, double sd_lo, double sd_hi, double floor_rem) {
    v->measured = measured;
    if (!(rem >= floor_rem)) rem = floor_rem;
    v->remaining = rem;
    v->remaining_low = rem - sd_lo;
    if (!(v->remaining_low >= floor_rem)) v->remaining_low = floor_rem;
    v->remaining_high = rem + sd_hi;
    if (!(v->remaining_high >= rem)) v->remaining_high = rem;
    v->total = measured + rem;
    v->total_low = measured + v->remaining_low;
    v->total_high = measured + v->remaining_high;
}

static void describe(const ct__pred_fit *f, char *buf, size_t len) {
    buf[0] = 0;
    if (!f->valid || f->nmodels == 0) return;
    const ct__pred_model *b = &f->model[0];
    size_t n = 0;
#define ADD(...)                                                           \
    do {                                                                   \
        if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
    } while (0)
    ADD("%s", b->degree == 0 ? "level" : b->degree == 1 ? "linear trend" : "quadratic trend");
    if (f->head) ADD(", first epoch apart");
    if (b->seg_start > 2 || (b->seg_start == 2 && !f->head)) ADD(", since epoch %d", b->seg_start);
    if (f->period) ADD(", every %d epochs (%d, %d, ...) differ", f->period, f->phase ? f->phase : f->period,
                       (f->phase ? f->phase : f->period) + f->period);
#undef ADD
}

void ct__predictor_refit(ct__predictor *p) {
    if (!p || p->fit_epochs == p->epochs) return;
    for (int s = 0; s < CT__PRED_SERIES; s++) fit_series(p, s, &p->fit[s]);
    p->fit_epochs = p->epochs;
}

int ct__predictor_predict(const ct__predictor *p, int total_epochs, ct__prediction *out) {
    if (!p || !out || total_epochs < 1) return CT_EINVAL;
    memset(out, 0, sizeof *out);
    int n = p->epochs, N = total_epochs;
    out->epochs_seen = n;
    out->epochs_total = N;
    out->overrun = n > N || (n == N && p->cur.n > 0);
    out->warmup_separated = p->has_warmup;

    /* epoch 1 still running: everything from its marks */
    if (n == 0) {
        ct__pred_mark anchor;
        double r0, rv0;
        if (!mark_rate(&p->cur, 0, &anchor, &r0, &rv0)) return CT_ENODATA;
        out->partial = 1;
        out->warmup_separated = 1;
        double H = N - 1, rest = 1 - p->cur.last.f;
        double tq = t95(PRIOR_DOF);
        double lo_sum = 0, hi_sum = 0;
        for (int s = 0; s < CT__PRED_SERIES; s++) {
            double r, rv;
            ct__pred_value *v = s == 0 ? &out->duration_s : &out->energy_j[s - 1];
            double done = mark_value(&p->cur.last, s);
            if (!isfinite(done) || !mark_rate(&p->cur, s, &anchor, &r, &rv)) {
                set_value(v, 0, 0, 0, 0, 0);
                continue;
            }
            double rem = done + (rest + H) * r;
            double relv = PRIOR_REL_SD * PRIOR_REL_SD;
            double var = r * r * ((H + rest) * (H + rest) * (relv + rv) + H * relv);
            double sd = tq * sqrt(var);
            set_value(v, 0, rem, sd, sd, done);
            if (s > 0) lo_sum += v->remaining - v->remaining_low, hi_sum += v->remaining_high - v->remaining;
        }
        double e = 0, done_e = 0;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            e += out->energy_j[c].remaining;
            double d = mark_value(&p->cur.last, 1 + c);
            done_e += isfinite(d) ? d : 0;
        }
        set_value(&out->energy_total_j, 0, e, lo_sum, hi_sum, done_e);
        snprintf(out->model, sizeof out->model, "first epoch in progress: steady rate from its progress marks");
        return 0;
    }

    /* the cached fit when it is current, else a fit of our own (same result) */
    ct__pred_fit scratch[CT__PRED_SERIES];
    const ct__pred_fit *fits = p->fit;
    if (p->fit_epochs != n) {
        for (int s = 0; s < CT__PRED_SERIES; s++) fit_series(p, s, &scratch[s]);
        fits = scratch;
    }
    out->from_one_epoch = n == 1 && !p->has_warmup;
    int in_progress = p->cur.n > 0 && !out->overrun;
    double lo_sum = 0, hi_sum = 0;
    for (int s = 0; s < CT__PRED_SERIES; s++) {
        const ct__pred_fit *f = &fits[s];
        ct__pred_value *v = s == 0 ? &out->duration_s : &out->energy_j[s - 1];
        double mean = 0, var = 0, dof = PRIOR_DOF, floor_rem = 0;
        if (n < N) series_sum(f, n, N, &mean, &var, &dof);
        /* gaps: epochs whose value is unknown, at the level of the last epochs */
        if (f->gaps > 0 && f->valid) {
            double gm, gv, gd;
            series_sum(f, f->last_epoch, f->last_epoch + 1, &gm, &gv, &gd);
            mean += f->gaps * gm;
            var += (double)f->gaps * f->gaps * gv;
            out->gaps = out->gaps > f->gaps ? out->gaps : f->gaps;
        }
        if (in_progress && n < N) {
            /* the epoch in progress: what is done, plus the rest at the model's
             * value for this epoch, scaled by how fast this epoch runs compared
             * with the last one that had marks (weighted by the span observed) */
            double done = mark_value(&p->cur.last, s);
            if (isfinite(done)) {
                double m1, v1, d1;
                series_sum(f, n, n + 1, &m1, &v1, &d1);
                double q = 1;
                ct__pred_mark anchor;
                double r, rv;
                if (p->has_prev_rate && isfinite(p->prev_rate[s]) && p->prev_rate[s] > 0 &&
                    mark_rate(&p->cur, s, &anchor, &r, &rv)) {
                    double span = p->cur.last.f - anchor.f, w = span / (span + 0.25);
                    q = 1 + w * (r / p->prev_rate[s] - 1);
                }
                double cur = done + (1 - p->cur.last.f) * m1 * q;
                mean += cur - m1;
                floor_rem = done;
                out->partial = 1;
            }
        }
        double sd = t95(dof) * sqrt(var > 0 ? var : 0);
        set_value(v, p->measured[s], mean, sd, sd, floor_rem);
        if (s > 0) lo_sum += v->remaining - v->remaining_low, hi_sum += v->remaining_high - v->remaining;
    }
    double e = 0, me = 0, floor_e = 0;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        e += out->energy_j[c].remaining;
        me += out->energy_j[c].measured;
        if (in_progress) {
            double d = mark_value(&p->cur.last, 1 + c);
            floor_e += isfinite(d) ? d : 0;
        }
    }
    set_value(&out->energy_total_j, me, e, lo_sum, hi_sum, floor_e > e ? e : floor_e);
    describe(&fits[0], out->model, sizeof out->model);
    return 0;
}
