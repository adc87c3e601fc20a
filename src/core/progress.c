/* progress.c - progress within an epoch and the refined prediction of the
 * tracker (issue 12). The model itself is src/predict/predictor.c; this file
 * feeds it from the tracker's readings and turns its answer into a ct_result
 * (PUE, carbon intensity over the predicted remaining time). */
#include "core/tracker_impl.h"

#include <math.h>
#include <string.h>

/* Energy (J) per component spent in the epoch in progress, up to now: what the
 * measurement thread last read, plus the last measured power for the time
 * since that reading (t->mu held). No system call. */
static void epoch_energy_now(const ct_tracker *t, double now_mono, double e[CT_COMPONENT_COUNT]) {
    double last_read[CT_COMPONENT_COUNT] = {0, 0};
    memset(e, 0, CT_COMPONENT_COUNT * sizeof e[0]);
    for (int i = 0; i < t->nsrc; i++) {
        const ct__source_inst *s = &t->src[i];
        if (s->ndev == 0) continue;
        ct_component c = t->devs[s->dev0].component;
        for (int d = s->dev0; d < s->dev0 + s->ndev; d++)
            if (t->cum_j[d] > t->epoch0_j[d]) e[t->devs[d].component] += t->cum_j[d] - t->epoch0_j[d];
        if (!s->failed && s->last_read_mono > last_read[c]) last_read[c] = s->last_read_mono;
    }
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!t->have[c]) continue;
        double since = last_read[c] > t->epoch_start_mono ? last_read[c] : t->epoch_start_mono;
        double dt = now_mono - since;
        if (dt > 0 && t->power_w[c] > 0) e[c] += t->power_w[c] * dt;
    }
}

int ct_epoch_progress(ct_tracker *t, double fraction) {
    if (!t) return ct__fail(CT_EINVAL, "ct_epoch_progress: no tracker");
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    if (t->finished) {
        rc = CT_ESTOPPED;
        ct__msgf(t->msg, sizeof t->msg, "monitoring has ended; epoch_progress ignored");
    } else if (!t->in_epoch) {
        rc = t->cfg.ignore_errors ? 0 : CT_ESTATE;
        ct__msgf(t->msg, sizeof t->msg, "epoch_progress called without epoch_start");
    } else if (!(fraction >= 0 && fraction <= 1)) {
        rc = CT_EINVAL;
        ct__msgf(t->msg, sizeof t->msg, "epoch_progress: fraction %g is not in 0..1", fraction);
    } else {
        double now = ct__monotonic_s(), e[CT_COMPONENT_COUNT];
        epoch_energy_now(t, now, e);
        if (ct__predictor_progress(&t->pred, fraction, now - t->epoch_start_mono, e) != 0) {
            rc = CT_EINVAL;
            ct__msgf(t->msg, sizeof t->msg, "epoch_progress: fraction %g is smaller than the previous mark's %g",
                     fraction, t->pred.cur.last.f);
        } else {
            t->pred_stale = 1;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return rc ? ct__fail(rc, "%s", t->msg) : 0;
}

int ct__prediction_wanted_now(const ct_tracker *t) {
    return t->cfg.max_energy_kwh > 0 || t->cfg.max_co2_g > 0 || (t->cfg.log_dir && t->cfg.log_dir[0]) ||
           t->status_enabled || t->cfg.verbose >= 2;
}

/*
 * The mean intensity (g/kWh) for the rest of the run, weighted by the energy
 * the model predicts for each part of it: the rest of the epoch in progress,
 * then the epochs to come in up to 32 pieces (periodic epochs and trends
 * show), from now on; priced by the intensity service (its forecast where
 * there is one, the current value beyond it). rest_s and rest_j: the predicted
 * remaining time and energy (J). const tracker: only reads.
 */
static void rest_profile_intensity(const ct_tracker *t, double now, double rest_s, double rest_j, double *g,
                                   ct_intensity_kind *kind, char *source, size_t srclen) {
    enum { PIECES = 32 };
    double dur[PIECES], ej[PIECES], pt[PIECES + 2], pw[PIECES + 1];
    int n = t->pred.epochs, first = n + 1 + (t->in_epoch ? 1 : 0), np = 0;
    int k = ct__predictor_profile(&t->pred, first, t->cfg.epochs, PIECES, dur, ej);
    if (k < 0) k = 0;
    double sum_s = 0, sum_j = 0;
    for (int i = 0; i < k; i++) sum_s += dur[i], sum_j += ej[i];
    /* the epoch in progress: the predicted rest less the epochs to come */
    double cur_s = rest_s - sum_s, cur_j = rest_j - sum_j;
    double tcur = now;
    pt[0] = tcur;
    if (cur_s > 1e-3 && cur_j > 1e-9 * (rest_j + 1)) {
        pw[np] = cur_j / cur_s;
        pt[++np] = tcur += cur_s;
    }
    for (int i = 0; i < k; i++) {
        if (!(dur[i] > 1e-3) || !(ej[i] > 0)) continue;
        pw[np] = ej[i] / dur[i];
        pt[++np] = tcur += dur[i];
    }
    if (np == 0) {
        ct__intensity_value iv;
        ct__intensity_over(t->intensity, now, now + rest_s, &iv);
        *g = iv.g_per_kwh, *kind = iv.kind;
        ct__strlcpy(source, iv.source, srclen);
        return;
    }
    ct__intensity_mean m;
    ct__intensity_over_profile(t->intensity, pt, pw, np, &m);
    *g = m.value.g_per_kwh, *kind = m.value.kind;
    ct__strlcpy(source, m.value.source, srclen);
}

void ct__tracker_refine(ct_tracker *t, int record) {
    ct__predictor_refit(&t->pred);
    t->has_refined = ct__tracker_prediction(t, &t->refined) == 0;
    t->pred_stale = 0;
    if (!record || !t->has_refined) return;
    /* one record per epoch, and within an epoch one per 10 % of progress at
     * most (a mark on every batch would otherwise log at every sample) */
    double f = t->in_epoch && t->pred.cur.n > 0 ? t->pred.cur.last.f : -1;
    int n = t->nepochs;
    if (n == t->pred_rec_epochs && (f < 0 || f < t->pred_rec_progress + 0.1)) return;
    t->pred_rec_epochs = n;
    t->pred_rec_progress = f;
    double kwh = t->refined.energy_kwh, said = t->pred_said_kwh;
    int announce = said > 0 && isfinite(kwh) && fabs(kwh / said - 1.0) > 0.05;
    if (announce) t->pred_said_kwh = kwh;
    ct__report_prediction_update(&t->rep, &t->refined, n, f, announce);
}

int ct__tracker_prediction(const ct_tracker *t, ct_result *out) {
    ct__prediction p;
    int rc = ct__predictor_predict(&t->pred, t->cfg.epochs, &p);
    if (rc != 0) return rc;
    memset(out, 0, sizeof *out);
    double pue = t->cfg.pue;
    out->epochs = t->cfg.epochs;
    out->duration_s = p.duration_s.total;
    out->duration_s_low = p.duration_s.total_low;
    out->duration_s_high = p.duration_s.total_high;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        out->energy_j[c] = p.energy_j[c].total;
        out->has_component[c] = t->have[c];
        out->estimated[c] = t->estimated[c];
    }
    const ct__pred_value *e = &p.energy_total_j;
    out->energy_kwh = ct__j_to_kwh(e->total) * pue;
    out->energy_kwh_low = ct__j_to_kwh(e->total_low) * pue;
    out->energy_kwh_high = ct__j_to_kwh(e->total_high) * pue;
    /* CO2eq: measured so far, plus the rest of the energy at the intensity
     * expected when it will be used (a forecast where a provider gives one) */
    double now_mono = ct__monotonic_s(), now = t->t0_unix + (now_mono - t->t0_mono);
    double rest_s = p.duration_s.remaining - (t->in_epoch ? now_mono - t->epoch_start_mono : 0);
    if (!(rest_s > 0)) rest_s = 0;
    /* the epoch in progress: what it has spent was charged as it was measured */
    double done_g = 0, done_j = 0;
    if (t->in_epoch) {
        double ej[CT_COMPONENT_COUNT];
        epoch_energy_now(t, now_mono, ej);
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) done_j += ej[c];
        done_g = t->epoch_co2_g * pue;
    }
    double g;
    ct_intensity_kind kind;
    char source[sizeof out->intensity_source];
    rest_profile_intensity(t, now, rest_s, e->remaining - done_j, &g, &kind, source, sizeof source);
    const double rem[3] = {e->remaining, e->remaining_low, e->remaining_high};
    double co2[3];
    for (int k = 0; k < 3; k++) {
        double left_j = rem[k] - done_j;
        co2[k] = t->sum_co2_g + done_g + (left_j > 0 ? ct__j_to_kwh(left_j) * pue * g : 0);
    }
    out->co2eq_g = co2[0], out->co2eq_g_low = co2[1], out->co2eq_g_high = co2[2];
    out->intensity_g_per_kwh = out->energy_kwh > 0 ? out->co2eq_g / out->energy_kwh : g;
    out->intensity_kind = kind;
    ct__strlcpy(out->intensity_source, source, sizeof out->intensity_source);
    return 0;
}
