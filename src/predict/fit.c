/*
 * fit.c - the model fit of one series (duration, energy per component) over
 * the last CT__PRED_WINDOW epochs; predictor.c explains the model, predictor.h
 * the contract, docs/prediction.md its limits.
 */
#include "predict/predict_internal.h"

#include <math.h>
#include <string.h>

#ifndef OCCAM
#define OCCAM (1.0 / 20) /* models less likely than this, relative to the best, are dropped */
#endif
#define MAX_PERIOD 8    /* periodic epochs: every 2nd .. 8th */
#define SHIFT_MIN_LEN 3 /* epochs after a change point before it can be believed */
#define TREND_MIN_LEN 5 /* epochs a linear trend needs */
#define QUAD_MIN_LEN 8  /* epochs a quadratic trend needs */
#ifndef TREND_PENALTY1
#define TREND_PENALTY1 2.0 /* extra BIC penalty of a linear trend, x log(epochs) */
#endif
#ifndef TREND_PENALTY2
#define TREND_PENALTY2 2.0 /* extra BIC penalty of a quadratic trend, x log(epochs) */
#endif

/* One-sided 95 % quantile of Student's t with dof degrees of freedom
 * (Cornish-Fisher expansion around the normal quantile; < 0.5 % off for dof >= 3). */
double ct__pred_t95(double dof) {
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
    int m;                     /* points (head included) */
    int ep[CT__PRED_WINDOW];   /* epoch numbers */
    double t[CT__PRED_WINDOW]; /* scaled times */
    double y[CT__PRED_WINDOW]; /* normalised values */
    double prior;              /* PRIOR_DOF * prior variance */
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
                      (d == 1   ? TREND_PENALTY1
                       : d == 2 ? TREND_PENALTY2
                                : 0) *
                          logm;
            keep(best, nbest, &c);
        }
    }
}

/* Value of a model at scaled time t (normalised units). */
static double model_at(const ct__pred_model *md, double t) {
    return md->beta[0] + md->beta[1] * t + md->beta[2] * t * t;
}

/* Fits one series from the ring; fills f. */
void ct__pred_fit_series(const ct__predictor *p, int s, ct__pred_fit *f) {
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
