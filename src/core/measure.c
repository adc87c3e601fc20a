/* The measurement thread: reading the sources, power samples, the energy
 * charged at the intensity of each moment, intensity changes and the live
 * status line. Everything here runs with the tracker's lock held. */
#include "core/tracker_impl.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* The live view from the running totals and the epoch in progress (t->mu held). */
void ct__fill_status(const ct_tracker *t, ct_status *st) {
    memset(st, 0, sizeof *st);
    double now = ct__monotonic_s();
    st->elapsed_s = now - t->t0_mono;
    st->epoch = t->epoch_no;
    st->epochs = t->cfg.epochs;
    st->in_epoch = t->in_epoch;
    double co2 = t->sum_co2_g, done_s = t->sum_duration_s;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        st->power_w[c] = t->power_w[c];
        st->energy_j[c] = t->sum_energy_j[c];
    }
    if (t->in_epoch) {
        for (int d = 0; d < t->ndev; d++)
            if (t->cum_j[d] > t->epoch0_j[d]) st->energy_j[t->devs[d].component] += t->cum_j[d] - t->epoch0_j[d];
        co2 += t->epoch_co2_g * t->cfg.pue;
        done_s += now - t->epoch_start_mono;
    }
    st->energy_kwh = ct__energy_kwh(st->energy_j, t->cfg.pue);
    st->co2eq_g = co2;
    if (t->has_prediction) {
        /* the latest refined prediction (issue 12); computed here when the
         * measurement thread has not refitted since the last epoch or mark */
        ct_result fresh;
        const ct_result *pr = t->has_refined ? &t->refined : &t->predicted;
        if (t->pred_stale && ct__tracker_prediction(t, &fresh) == 0) pr = &fresh;
        st->has_prediction = 1;
        st->predicted_energy_kwh = pr->energy_kwh;
        st->predicted_co2eq_g = pr->co2eq_g;
        st->predicted_energy_kwh_low = pr->energy_kwh_low;
        st->predicted_energy_kwh_high = pr->energy_kwh_high;
        st->predicted_remaining_s = pr->duration_s > done_s ? pr->duration_s - done_s : 0;
    }
    st->budget_exceeded = t->budget_exceeded;
}

/* The live status line on stderr (measurement thread, t->mu held). */
static void status_draw(ct_tracker *t) {
    if (!t->status_enabled || t->finished) return;
    ct_status st;
    ct__fill_status(t, &st);
    ct__report_status(&t->rep, &st);
}

/* ------------------------------------------------------------------ */
/* Reading the sources (t->mu held)                                    */
/* ------------------------------------------------------------------ */

/* Reads the sources selected by `due` (NULL = all) at monotonic time now.
 * Energy of each device since its previous reading is charged to the
 * current epoch's CO2eq at the intensity of this moment. */
void ct__read_sources(ct_tracker *t, double now_mono, const int *due) {
    for (int i = 0; i < t->nsrc; i++) {
        ct__source_inst *s = &t->src[i];
        if ((due && !due[i]) || s->failed) continue;
        if (s->ops->read(s->state, now_mono, t->cum_j + s->dev0) != 0) {
            s->failed = 1;
            for (int d = 0; d < s->ndev; d++) t->devs[s->dev0 + d].lost = 1;
            ct__report_source_failed(&t->rep, s->ops->name);
        }
        s->last_read_mono = now_mono;
    }
    double delta_j = 0;
    for (int d = 0; d < t->ndev; d++) {
        double dj = t->cum_j[d] - t->prev_j[d];
        if (dj > 0) delta_j += dj;
        t->prev_j[d] = t->cum_j[d];
    }
    if (t->in_epoch && delta_j > 0) {
        ct__intensity_value iv;
        ct__intensity_now(t->intensity, t->t0_unix + (now_mono - t->t0_mono), &iv);
        t->epoch_co2_g += ct__j_to_kwh(delta_j) * iv.g_per_kwh;
        if ((unsigned)iv.kind < CT__INTENSITY_KINDS) {
            t->epoch_kind_j[iv.kind] += delta_j;
            ct__strlcpy(t->kind_source[iv.kind], iv.source, sizeof t->kind_source[0]);
        }
    }
}

/* Copies the sources' own view of their devices (a device lost mid-run). */
void ct__refresh_devices(const ct_tracker *t) {
    for (int i = 0; i < t->nsrc; i++) {
        const ct__source_inst *s = &t->src[i];
        for (int d = 0; d < s->ndev; d++) {
            ct_device_desc *dv = &t->devs[s->dev0 + d];
            int lost = dv->lost;
            s->ops->describe(s->state, d, dv);
            dv->component = s->ops->component;
            dv->lost = dv->lost || lost;
        }
    }
}

/* The intensity kind that covered the most energy in j[] (-1 if none). */
int ct__dominant_kind(const double j[CT__INTENSITY_KINDS]) {
    int best = -1;
    for (int k = 0; k < CT__INTENSITY_KINDS; k++)
        if (j[k] > 0 && (best < 0 || j[k] > j[best])) best = k;
    return best;
}

/* A power sample: average power per component since the last sample. */
void ct__take_sample(ct_tracker *t, double now_mono) {
    double dt = now_mono - t->sample0_mono;
    if (dt <= 0) return;
    double p[CT_COMPONENT_COUNT] = {0, 0};
    for (int d = 0; d < t->ndev; d++) {
        p[t->devs[d].component] += (t->cum_j[d] - t->sample0_j[d]) / dt;
        t->sample0_j[d] = t->cum_j[d];
    }
    t->sample0_mono = now_mono;
    memcpy(t->power_w, p, sizeof p);
    if (t->in_epoch) ct__series_add(&t->series, now_mono - t->t0_mono, p);
}

/* ------------------------------------------------------------------ */
/* The measurement thread                                              */
/* ------------------------------------------------------------------ */

/* A new carbon intensity (a live value arriving, a refresh, a fallback) is
 * one "intensity" record in the JSON Lines log (t->mu held). */
static void log_intensity_change(ct_tracker *t, double now_mono) {
    ct__intensity_value iv;
    ct__intensity_now(t->intensity, t->t0_unix + (now_mono - t->t0_mono), &iv);
    const ct__intensity_value *last = &t->intensity_logged;
    if (iv.kind == last->kind && iv.g_per_kwh == last->g_per_kwh && strcmp(iv.source, last->source) == 0) return;
    t->intensity_logged = iv;
    ct__report_intensity(&t->rep, ct__unix_s(), iv.g_per_kwh, iv.kind, iv.source);
}

void *ct__measure_main(void *arg) {
    ct_tracker *t = arg;
    pthread_mutex_lock(&t->mu);
    double next_sample = ct__monotonic_s() + t->cfg.update_interval;
    while (!t->thread_stop) {
        double now = ct__monotonic_s();
        double wake = next_sample;
        for (int i = 0; i < t->nsrc; i++) {
            /* Asked every time: a source may need faster reads later (a GPU that starts being polled). */
            double iv = t->src[i].max_interval = t->src[i].ops->max_read_interval(t->src[i].state);
            if (iv > 0 && !t->src[i].failed && t->src[i].last_read_mono + iv < wake)
                wake = t->src[i].last_read_mono + iv;
        }
        if (wake > now) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            double d = wake - now;
            ts.tv_sec += (time_t)d;
            ts.tv_nsec += (long)((d - floor(d)) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&t->cv, &t->mu, &ts);
            continue; /* re-evaluate: woken early, stopped, or due */
        }
        if (now >= next_sample) {
            ct__read_sources(t, now, NULL);
            ct__take_sample(t, now);
            log_intensity_change(t, now);
            /* the refined prediction is refitted here, off the training thread (issue 12) */
            if (t->has_prediction && t->pred_stale && ct__prediction_wanted_now(t)) ct__tracker_refine(t, 1);
            status_draw(t);
            next_sample += t->cfg.update_interval;
            if (next_sample < now) next_sample = now + t->cfg.update_interval; /* we were late: do not burst */
        } else {
            int due[CT__MAX_SOURCES] = {0};
            for (int i = 0; i < t->nsrc; i++) {
                double iv = t->src[i].max_interval;
                due[i] = iv > 0 && t->src[i].last_read_mono + iv <= now;
            }
            ct__read_sources(t, now, due);
        }
        pthread_mutex_unlock(&t->mu);
        ct__reporter_flush(&t->rep); /* console text queued under the lock */
        ct__intensity_tick(t->intensity, ct__unix_s());
        ct__reporter_flush(&t->rep);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}
