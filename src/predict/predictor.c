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
 *
 * This file: the run's epochs, the prediction and its interval. The fit is
 * fit.c's, the progress marks marks.c's (predict_internal.h).
 */
#include "predict/predictor.h"
#include "predict/predict_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifndef DRIFT_REL_SD
#define DRIFT_REL_SD 0.002 /* the level may wander by this much per epoch (random walk), relative */
#endif

void ct__predictor_init(ct__predictor *p) {
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->fit_epochs = -1;
}

void ct__predictor_reset(ct__predictor *p) { ct__predictor_init(p); }

void ct__predictor_begin_epoch(ct__predictor *p) {
    if (p) memset(&p->cur, 0, sizeof p->cur);
}

int ct__predictor_progress(ct__predictor *p, double fraction, double elapsed_s,
                           const double energy_j[CT_COMPONENT_COUNT]) {
    if (!p) return CT_EINVAL;
    return ct__pred_marks_add(&p->cur, fraction, elapsed_s, energy_j);
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
        if (ct__pred_finite_nonneg(v[s])) {
            p->measured[s] += v[s];
        } else {
            v[s] = NAN;
            p->gaps[s]++;
        }
    }
    /* Marks: the excess spent before the steady rate (warm-up), and the rate. */
    ct__pred_mark anchor;
    double rate, relvar;
    if (ct__pred_mark_rate(&p->cur, 0, &anchor, &rate, &relvar)) {
        double excess[CT__PRED_SERIES];
        for (int s = 0; s < CT__PRED_SERIES; s++) {
            double r = 0;
            excess[s] = 0;
            p->prev_rate[s] = NAN;
            if (ct__pred_mark_rate(&p->cur, s, &anchor, &r, &relvar)) {
                double x = ct__pred_mark_value(&anchor, s) - anchor.f * r;
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
/* Prediction                                                          */
/* ------------------------------------------------------------------ */

/* sums over the epochs a < i <= b of i and of i^2 */
static double sum_i(double a, double b) { return (b * (b + 1) - a * (a + 1)) / 2; }
static double sum_i2(double a, double b) { return (b * (b + 1) * (2 * b + 1) - a * (a + 1) * (2 * a + 1)) / 6; }
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

int ct__predictor_profile(const ct__predictor *p, int first_epoch, int last_epoch, int max_pieces, double *duration_s,
                          double *energy_j) {
    if (!p || !duration_s || !energy_j || max_pieces < 1) return CT_EINVAL;
    if (p->epochs == 0 || first_epoch < 1 || last_epoch < first_epoch) return 0;
    ct__pred_fit scratch[CT__PRED_SERIES];
    const ct__pred_fit *fits = p->fit;
    if (p->fit_epochs != p->epochs) {
        for (int s = 0; s < CT__PRED_SERIES; s++) ct__pred_fit_series(p, s, &scratch[s]);
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
    if (f->period)
        ADD(", every %d epochs (%d, %d, ...) differ", f->period, f->phase ? f->phase : f->period,
            (f->phase ? f->phase : f->period) + f->period);
#undef ADD
}

void ct__predictor_refit(ct__predictor *p) {
    if (!p || p->fit_epochs == p->epochs) return;
    for (int s = 0; s < CT__PRED_SERIES; s++) ct__pred_fit_series(p, s, &p->fit[s]);
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
        if (!ct__pred_mark_rate(&p->cur, 0, &anchor, &r0, &rv0)) return CT_ENODATA;
        out->partial = 1;
        out->warmup_separated = 1;
        double H = N - 1, rest = 1 - p->cur.last.f;
        double tq = ct__pred_t95(PRIOR_DOF);
        double lo_sum = 0, hi_sum = 0;
        for (int s = 0; s < CT__PRED_SERIES; s++) {
            double r, rv;
            ct__pred_value *v = s == 0 ? &out->duration_s : &out->energy_j[s - 1];
            double done = ct__pred_mark_value(&p->cur.last, s);
            if (!isfinite(done) || !ct__pred_mark_rate(&p->cur, s, &anchor, &r, &rv)) {
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
            double d = ct__pred_mark_value(&p->cur.last, 1 + c);
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
        for (int s = 0; s < CT__PRED_SERIES; s++) ct__pred_fit_series(p, s, &scratch[s]);
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
            double done = ct__pred_mark_value(&p->cur.last, s);
            if (isfinite(done)) {
                double m1, v1, d1;
                series_sum(f, n, n + 1, &m1, &v1, &d1);
                double q = 1;
                ct__pred_mark anchor;
                double r, rv;
                if (p->has_prev_rate && isfinite(p->prev_rate[s]) && p->prev_rate[s] > 0 &&
                    ct__pred_mark_rate(&p->cur, s, &anchor, &r, &rv)) {
                    double span = p->cur.last.f - anchor.f, w = span / (span + 0.25);
                    q = 1 + w * (r / p->prev_rate[s] - 1);
                }
                double cur = done + (1 - p->cur.last.f) * m1 * q;
                mean += cur - m1;
                floor_rem = done;
                out->partial = 1;
            }
        }
        double sd = ct__pred_t95(dof) * sqrt(var > 0 ? var : 0);
        set_value(v, p->measured[s], mean, sd, sd, floor_rem);
        if (s > 0) lo_sum += v->remaining - v->remaining_low, hi_sum += v->remaining_high - v->remaining;
    }
    double e = 0, me = 0, floor_e = 0;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        e += out->energy_j[c].remaining;
        me += out->energy_j[c].measured;
        if (in_progress) {
            double d = ct__pred_mark_value(&p->cur.last, 1 + c);
            floor_e += isfinite(d) ? d : 0;
        }
    }
    set_value(&out->energy_total_j, me, e, lo_sum, hi_sum, floor_e > e ? e : floor_e);
    describe(&fits[0], out->model, sizeof out->model);
    return 0;
}
