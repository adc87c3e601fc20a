/* The fetch thread of the intensity service. It owns all network I/O; the
 * tracker's threads only read the last answer under a short mutex. */
#include "live.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CT__LIVE_MAX_GAP_S 3600.0 /* gaps closed when joining measured and forecast */
#define CT__LIVE_KEEP_PAST_S (26.0 * 3600.0)
#define CT__LIVE_RETRY_S 60.0 /* first retries after a failure */

const ct__provider *ct__live_choose(const ct__location *loc, int have_key, char *base, size_t baselen,
                                    int *plain_loopback, char *why, size_t whylen) {
    *plain_loopback = 0;
    const ct__provider *prov = ct__provider_choose(loc, have_key, why, whylen);
    if (!prov) return NULL;
    ct__provider_base(prov, base, baselen);
    if (ct__provider_key_transport(prov, base, plain_loopback, why, whylen)) {
        *plain_loopback = -1;
        return NULL;
    }
    return prov;
}

#if CT__HAVE_LIVE

static void value_source(char *buf, size_t len, const char *provider, const char *what, const char *area, double t) {
    char iso[32];
    ct__format_iso8601(t, iso, sizeof iso);
    snprintf(buf, len, "%s%s, %s, %s", provider, what, area, iso);
}

struct ct__live {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
    int refresh_requested;
    double refresh_s;
    ct__notice_fn notice;
    void *user;
    ct__secret *key; /* the Electricity Maps key in its own page, or NULL */
    /* guarded by mu */
    ct__location loc;
    ct__intensity_data data; /* last good answer (measured kept for a day) */
    ct__iseries timeline;    /* measured then forecast */
    int has_data;
    long done, ok;
    atomic_int chosen;  /* a provider serves this location */
    atomic_int gave_up; /* the thread ended for good (no libcurl.so.4): no live value will come */
};

static void say(ct__live *lv, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(ct__live *lv, int level, const char *fmt, ...) {
    if (!lv->notice) return;
    char msg[CT__MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* No scrubbing here: outside text (server messages, libcurl's errors) is
     * scrubbed where it comes in, before any cut (providers/common.c). */
    lv->notice(lv->user, level, msg);
}

/* Sleeps until refresh time, a requested refresh or stop. Returns 1 on stop. */
static int wait_for(ct__live *lv, double seconds) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the condition variable waits on the monotonic clock */
    double end = (double)ts.tv_sec + ts.tv_nsec / 1e9 + seconds;
    ts.tv_sec = (time_t)end;
    ts.tv_nsec = (long)((end - floor(end)) * 1e9);
    pthread_mutex_lock(&lv->mu);
    while (!atomic_load(&lv->stop) && !lv->refresh_requested) {
        if (pthread_cond_timedwait(&lv->cv, &lv->mu, &ts) == ETIMEDOUT) break;
    }
    lv->refresh_requested = 0;
    int stop = atomic_load(&lv->stop);
    pthread_mutex_unlock(&lv->mu);
    return stop;
}

/* Keeps the last day of measurements across refreshes, bounded. */
static int merge_measured(ct__iseries *dst, const ct__iseries *old, double now) {
    for (int i = 0; i < old->n; i++) {
        if (old->p[i].t1 < now - CT__LIVE_KEEP_PAST_S) continue;
        if (dst->n && old->p[i].t0 >= dst->p[0].t0) continue; /* the new answer is authoritative there */
        if (ct__iseries_add(dst, old->p[i].t0, old->p[i].t1, old->p[i].g)) return CT_ENOMEM;
    }
    ct__iseries_normalize(dst);
    /* drop what is older than a day */
    int k = 0;
    while (k < dst->n && dst->p[k].t1 < now - CT__LIVE_KEEP_PAST_S) k++;
    if (k) {
        memmove(dst->p, dst->p + k, (size_t)(dst->n - k) * sizeof *dst->p);
        dst->n -= k;
    }
    return 0;
}

static void *fetch_main(void *arg) {
    ct__live *lv = arg;
    char why[CT__MSG_LEN];
    ct__location loc;
    pthread_mutex_lock(&lv->mu);
    loc = lv->loc;
    pthread_mutex_unlock(&lv->mu);

    if (!loc.given) {
        int rc = ct__ipinfo_locate(&lv->stop, &loc, why, sizeof why);
        if (atomic_load(&lv->stop)) return NULL;
        if (rc) {
            /* level 0: the world-average warning already tells the user to set the country */
            say(lv, 0, "no location given and IP geolocation failed (%s); set CT_COUNTRY or CT_ZONE", why);
            return NULL;
        }
        pthread_mutex_lock(&lv->mu);
        lv->loc = loc;
        pthread_mutex_unlock(&lv->mu);
        say(lv, 0, "location: %s", loc.origin);
    }
    char base[512];
    int plain_loopback = 0;
    const ct__provider *prov = ct__live_choose(&loc, lv->key != NULL, base, sizeof base, &plain_loopback, why,
                                               sizeof why);
    if (!prov) {
        say(lv, 0, "live carbon intensity: %s; the static table serves", why);
        return NULL;
    }
    if (plain_loopback) say(lv, 1, "%s", why); /* once: the base is read once */
    atomic_store(&lv->chosen, 1);
    say(lv, 0, "live carbon intensity from %s (%s), refreshed every %.0f s", prov->name, loc.origin, lv->refresh_s);

    int first = 1, forecast_denied = 0, failures = 0;
    char last_note[256] = "";
    while (!atomic_load(&lv->stop)) {
        ct__intensity_data d = {0};
        why[0] = '\0';
        ct__provider_req req = {&loc, lv->key, ct__unix_s(), first, prov->has_forecast && !forecast_denied, &lv->stop};
        int rc = prov->fetch(&req, base, &d, why, sizeof why);
        if (atomic_load(&lv->stop)) {
            ct__intensity_data_free(&d);
            break;
        }
        ct__iseries tl = {0};
        if (!rc) {
            pthread_mutex_lock(&lv->mu);
            rc = merge_measured(&d.measured, &lv->data.measured, req.now_unix_s);
            pthread_mutex_unlock(&lv->mu);
            if (!rc) rc = ct__iseries_timeline(&d.measured, &d.forecast, CT__LIVE_MAX_GAP_S, &tl);
            if (rc) snprintf(why, sizeof why, "out of memory for intensity values");
        }
        if (d.forecast_denied && !forecast_denied) {
            forecast_denied = 1;
            say(lv, 0, "%s; the prediction uses the current value", d.note);
        } else if (d.note[0] && strcmp(d.note, last_note) != 0) {
            say(lv, 1, "live carbon intensity forecast unavailable: %s", d.note);
        }
        ct__strlcpy(last_note, d.note, sizeof last_note);

        pthread_mutex_lock(&lv->mu);
        lv->done++;
        if (!rc) {
            ct__intensity_data old = lv->data;
            ct__iseries oldtl = lv->timeline;
            lv->data = d;
            lv->timeline = tl;
            lv->has_data = 1;
            lv->ok++;
            d = old;
            tl = oldtl;
        }
        pthread_mutex_unlock(&lv->mu);
        ct__intensity_data_free(&d);
        ct__iseries_free(&tl);

        if (rc == CT_ENOTSUP) { /* no libcurl.so.4 at run time: no use asking again */
            say(lv, 1, "live carbon intensity: %s; the static table serves", why);
            atomic_store(&lv->gave_up, 1);
            break;
        }
        if (rc) {
            failures++;
            if (failures == 1 || failures % 10 == 0)
                say(lv, 1, "live carbon intensity: %s; using %s until it answers", why,
                    lv->has_data ? "the last live value while it is recent, then the static table"
                                 : "the static table");
        } else {
            if (failures) say(lv, 0, "live carbon intensity: %s answers again", prov->name);
            failures = 0;
            first = 0;
        }
        double wait = lv->refresh_s;
        if (failures > 0 && failures <= 3 && wait > CT__LIVE_RETRY_S) wait = CT__LIVE_RETRY_S;
        if (wait_for(lv, wait)) break;
    }
    return NULL;
}

ct__live *ct__live_start(const ct_config *cfg, const ct__location *loc, const char *key, double refresh_s,
                         ct__notice_fn notice, void *user, char *why, size_t whylen) {
    if (ct__offline(cfg)) {
        snprintf(why, whylen, "offline");
        return NULL;
    }
    ct__live *lv = calloc(1, sizeof *lv);
    if (!lv) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    /* at most one refresh a second, whatever the option says: the services rate-limit */
    lv->refresh_s = refresh_s > 0 ? (refresh_s < 1.0 ? 1.0 : refresh_s) : 900.0;
    lv->notice = notice;
    lv->user = user;
    lv->loc = *loc;
    if (key && *key && !(lv->key = ct__secret_from(key))) {
        snprintf(why, whylen, "out of memory for the Electricity Maps key");
        free(lv);
        return NULL;
    }
    atomic_init(&lv->stop, 0);
    atomic_init(&lv->chosen, 0);
    atomic_init(&lv->gave_up, 0);
    pthread_mutex_init(&lv->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* a wall-clock jump does not skip or stall refreshes */
    pthread_cond_init(&lv->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&lv->thread, NULL, fetch_main, lv) != 0) {
        snprintf(why, whylen, "could not start the intensity fetch thread");
        pthread_cond_destroy(&lv->cv);
        pthread_mutex_destroy(&lv->mu);
        ct__secret_free(lv->key);
        free(lv);
        return NULL;
    }
    return lv;
}

void ct__live_stop(ct__live *lv) {
    if (!lv) return;
    pthread_mutex_lock(&lv->mu);
    atomic_store(&lv->stop, 1);
    pthread_cond_broadcast(&lv->cv);
    pthread_mutex_unlock(&lv->mu);
    pthread_join(lv->thread, NULL);
    ct__intensity_data_free(&lv->data);
    ct__iseries_free(&lv->timeline);
    pthread_cond_destroy(&lv->cv);
    pthread_mutex_destroy(&lv->mu);
    ct__secret_free(lv->key);
    free(lv);
}

int ct__live_active(ct__live *lv) { return lv && atomic_load(&lv->chosen) && !atomic_load(&lv->gave_up); }

int ct__live_gave_up(ct__live *lv) { return lv && atomic_load(&lv->gave_up); }

int ct__live_has_data(ct__live *lv) {
    if (!lv) return 0;
    pthread_mutex_lock(&lv->mu);
    int r = lv->has_data;
    pthread_mutex_unlock(&lv->mu);
    return r;
}

void ct__live_refresh_now(ct__live *lv) {
    if (!lv) return;
    pthread_mutex_lock(&lv->mu);
    lv->refresh_requested = 1;
    pthread_cond_broadcast(&lv->cv);
    pthread_mutex_unlock(&lv->mu);
}

void ct__live_counts(ct__live *lv, long *done, long *ok) {
    if (done) *done = 0;
    if (ok) *ok = 0;
    if (!lv) return;
    pthread_mutex_lock(&lv->mu);
    if (done) *done = lv->done;
    if (ok) *ok = lv->ok;
    pthread_mutex_unlock(&lv->mu);
}

void ct__live_location(ct__live *lv, ct__location *out) {
    if (!lv) return;
    pthread_mutex_lock(&lv->mu);
    *out = lv->loc;
    pthread_mutex_unlock(&lv->mu);
}

/* Called with mu held. */
static int now_locked(ct__live *lv, double t, ct__intensity_value *out) {
    if (!lv->has_data) return 0;
    const ct__intensity_data *d = &lv->data;
    int i = ct__iseries_find(&d->measured, t);
    if (i >= 0) {
        out->g_per_kwh = d->measured.p[i].g;
        out->kind = CT_INTENSITY_LIVE;
        value_source(out->source, sizeof out->source, d->provider, "", d->area, d->measured.p[i].t0);
        return 1;
    }
    int j = ct__iseries_find(&d->forecast, t);
    if (j >= 0) {
        out->g_per_kwh = d->forecast.p[j].g;
        out->kind = CT_INTENSITY_FORECAST;
        value_source(out->source, sizeof out->source, d->provider, " forecast", d->area, d->forecast.p[j].t0);
        return 1;
    }
    /* The newest measurement stays current for a while: services publish late. */
    double stale = lv->refresh_s * 2 > 3600 ? lv->refresh_s * 2 : 3600;
    if (d->measured.n) {
        const ct__ipoint *last = &d->measured.p[d->measured.n - 1];
        if (t >= last->t1 && t - last->t1 <= stale) {
            out->g_per_kwh = last->g;
            out->kind = CT_INTENSITY_LIVE;
            value_source(out->source, sizeof out->source, d->provider, "", d->area, last->t0);
            return 1;
        }
    }
    return 0;
}

int ct__live_now(ct__live *lv, double unix_s, ct__intensity_value *out) {
    if (!lv) return 0;
    pthread_mutex_lock(&lv->mu);
    int r = now_locked(lv, unix_s, out);
    pthread_mutex_unlock(&lv->mu);
    return r;
}

int ct__live_over(ct__live *lv, double from, double to, ct__intensity_value *out) {
    if (!lv) return 0;
    pthread_mutex_lock(&lv->mu);
    int r = 0;
    const ct__intensity_data *d = &lv->data;
    double fc_cov = 0;
    if (lv->has_data && to > from && d->forecast.n) ct__iseries_mean(&d->forecast, from, to, &fc_cov);
    if (fc_cov > 0) {
        double cov;
        double mean = ct__iseries_mean(&lv->timeline, from, to, &cov);
        char a[32], b[32];
        ct__format_iso8601(from, a, sizeof a);
        ct__format_iso8601(to, b, sizeof b);
        out->g_per_kwh = mean;
        out->kind = CT_INTENSITY_FORECAST;
        if (cov < (to - from) * 0.999)
            snprintf(out->source, sizeof out->source, "%s forecast, %s, mean %s to %s (covers %.0f%%)", d->provider,
                     d->area, a, b, 100.0 * cov / (to - from));
        else snprintf(out->source, sizeof out->source, "%s forecast, %s, mean %s to %s", d->provider, d->area, a, b);
        r = 1;
    } else {
        r = now_locked(lv, from, out);
    }
    pthread_mutex_unlock(&lv->mu);
    return r;
}

int ct__live_profile(ct__live *lv, const double *t, const double *w, int n, double current_g, ct__live_mean *out) {
    memset(out, 0, sizeof *out);
    if (!lv || n <= 0) return 0;
    pthread_mutex_lock(&lv->mu);
    if (!lv->has_data) {
        pthread_mutex_unlock(&lv->mu);
        return 0;
    }
    const ct__intensity_data *d = &lv->data;
    double energy = 0, g_energy = 0, fc_energy = 0, cov_energy = 0;
    for (int i = 0; i < n; i++) {
        double dt = t[i + 1] - t[i];
        if (!(dt > 0) || !(w[i] >= 0) || !isfinite(w[i]) || !isfinite(dt)) continue;
        double cov = 0, fc_cov = 0;
        double mean = ct__iseries_mean(&lv->timeline, t[i], t[i + 1], &cov);
        ct__iseries_mean(&d->forecast, t[i], t[i + 1], &fc_cov);
        if (fc_cov > cov) fc_cov = cov;
        energy += w[i] * dt;
        g_energy += w[i] * (mean * cov + current_g * (dt - cov));
        cov_energy += w[i] * cov;
        fc_energy += w[i] * fc_cov;
    }
    if (energy > 0) {
        out->g_per_kwh = g_energy / energy;
        out->covered_share = cov_energy / energy;
        out->forecast_share = fc_energy / energy;
    }
    ct__strlcpy(out->provider, d->provider, sizeof out->provider);
    ct__strlcpy(out->area, d->area, sizeof out->area);
    pthread_mutex_unlock(&lv->mu);
    return energy > 0;
}

int ct__live_fetch_once(ct__location *loc, ct__secret *key, double now_unix_s, ct__intensity_data *out, char *why,
                        size_t whylen) {
    memset(out, 0, sizeof *out);
    if (!loc->given) {
        char sub[CT__MSG_LEN];
        if (ct__ipinfo_locate(NULL, loc, sub, sizeof sub)) {
            snprintf(why, whylen, "no location given and IP geolocation failed (%s)", sub);
            return CT_ENODATA;
        }
    }
    char sub[CT__MSG_LEN], base[512];
    int plain_loopback = 0;
    const ct__provider *prov = ct__live_choose(loc, key != NULL, base, sizeof base, &plain_loopback, sub, sizeof sub);
    if (!prov && plain_loopback < 0) { /* the key may not go there */
        snprintf(why, whylen, "%s", sub);
        return CT_EINVAL;
    }
    if (!prov) {
        snprintf(why, whylen, "%s for %s", sub, loc->origin);
        return CT_ENODATA;
    }
    if (!prov->has_forecast) {
        snprintf(why, whylen, "%s publishes no forecast for %s", prov->name, loc->origin);
        return CT_ENODATA;
    }
    ct__provider_req req = {loc, key, now_unix_s, 0, 1, NULL};
    return prov->fetch(&req, base, out, why, whylen);
}

#else /* no libcurl or no jansson */

ct__live *ct__live_start(const ct_config *cfg, const ct__location *loc, const char *key, double refresh_s,
                         ct__notice_fn notice, void *user, char *why, size_t whylen) {
    (void)cfg;
    (void)loc;
    (void)key;
    (void)refresh_s;
    (void)notice;
    (void)user;
    snprintf(why, whylen, "built without libcurl and jansson");
    return NULL;
}
int ct__live_now(ct__live *lv, double unix_s, ct__intensity_value *out) {
    (void)lv;
    (void)unix_s;
    (void)out;
    return 0;
}
int ct__live_over(ct__live *lv, double from_unix_s, double to_unix_s, ct__intensity_value *out) {
    (void)lv;
    (void)from_unix_s;
    (void)to_unix_s;
    (void)out;
    return 0;
}
void ct__live_location(ct__live *lv, ct__location *out) {
    (void)lv;
    (void)out;
}
void ct__live_refresh_now(ct__live *lv) { (void)lv; }
int ct__live_profile(ct__live *lv, const double *t, const double *w, int n, double current_g, ct__live_mean *out) {
    (void)lv;
    (void)t;
    (void)w;
    (void)n;
    (void)current_g;
    memset(out, 0, sizeof *out);
    return 0;
}
int ct__live_active(ct__live *lv) {
    (void)lv;
    return 0;
}
int ct__live_gave_up(ct__live *lv) {
    (void)lv;
    return 0;
}
int ct__live_has_data(ct__live *lv) {
    (void)lv;
    return 0;
}
void ct__live_counts(ct__live *lv, long *done, long *ok) {
    (void)lv;
    if (done) *done = 0;
    if (ok) *ok = 0;
}
void ct__live_stop(ct__live *lv) { (void)lv; }
int ct__live_fetch_once(ct__location *loc, ct__secret *key, double now_unix_s, ct__intensity_data *out, char *why,
                        size_t whylen) {
    (void)loc;
    (void)key;
    (void)now_unix_s;
    memset(out, 0, sizeof *out);
    snprintf(why, whylen, "built without libcurl and jansson: no live carbon intensity or forecast");
    return CT_ENOTSUP;
}
#endif
