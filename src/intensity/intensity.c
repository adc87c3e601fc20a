/* The carbon intensity the tracker uses. Order of precedence:
 *   1. the user's fixed value (carbon_intensity >= 0): no network at all,
 *   2. a live provider's value for that time (measured, else its forecast),
 *      when built with libcurl and jansson and not offline (live.c runs the
 *      fetches on its own thread; nothing here waits for the network),
 *   3. the static per-country table (country from the options or CT_COUNTRY,
 *      or derived from the zone, the UK postcode, a known cloud region, or IP
 *      geolocation once it answered),
 *   4. the world average (481 gCO2eq/kWh), with a message on how to set the country.
 * A static value used while a live service is expected says so in its source.
 *
 * Notices from the fetch thread are queued and handed to the tracker from
 * ct__intensity_tick (the measurement thread), never after close. */
#include "live.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CT__INTENSITY_QUEUE 8

struct ct_intensity {
    ct__intensity_value base; /* fixed, static or default */
    int fixed;
    ct__live *live;    /* NULL: no live service */
    int live_expected; /* a provider serves the given location (once it answers) */

    pthread_mutex_t mu; /* guards what follows */
    void (*notice)(void *user, int level, const char *msg);
    void *user;
    int nq, dropped;
    int qlevel[CT__INTENSITY_QUEUE];
    char queue[CT__INTENSITY_QUEUE][CT__MSG_LEN];
    char geo_country[3];     /* country the fetch thread found by IP geolocation */
    ct__intensity_value geo; /* static value for it, when base is the world average */
    int has_geo, geo_done;
};

/* Called on the fetch thread. */
static void queue_notice(void *user, int level, const char *msg) {
    ct_intensity *in = user;
    pthread_mutex_lock(&in->mu);
    if (in->nq < CT__INTENSITY_QUEUE) {
        in->qlevel[in->nq] = level;
        ct__strlcpy(in->queue[in->nq], msg, sizeof in->queue[0]);
        in->nq++;
    } else {
        in->dropped++;
    }
    pthread_mutex_unlock(&in->mu);
}

/* The static value, from the offline order (kept as it was before live providers). */
static void static_value(const ct_config *cfg, const ct__location *loc, const ct__source_ctx *ctx,
                         ct__intensity_value *v) {
    char msg[400];
    double g = 0;
    int year = 0;
    char name[96] = "";
    char region_cc[3] = "";
    const char *country = cfg->country ? cfg->country : (loc && loc->country[0] ? loc->country : NULL);
    if (cfg->cloud_provider && cfg->cloud_region &&
        ct__cloud_region_intensity(cfg->cloud_provider, cfg->cloud_region, &g, region_cc, sizeof region_cc) == 0) {
        v->g_per_kwh = g;
        v->kind = CT_INTENSITY_STATIC;
        snprintf(v->source, sizeof v->source, "cloud region %s:%s, Google Cloud region carbon data (CodeCarbon)",
                 cfg->cloud_provider, cfg->cloud_region);
    } else if (country && ct__country_intensity(country, &g, &year, name, sizeof name) == 0) {
        v->g_per_kwh = g;
        v->kind = CT_INTENSITY_STATIC;
        snprintf(v->source, sizeof v->source, "%s (%s), yearly average %d, Our World in Data (Ember, Energy Institute)",
                 name, country, year);
    } else {
        v->g_per_kwh = CT__WORLD_AVERAGE_G_PER_KWH;
        v->kind = CT_INTENSITY_DEFAULT;
        snprintf(v->source, sizeof v->source, "world average 2019 (no location known)");
        if (country)
            snprintf(msg, sizeof msg,
                     "No carbon intensity is known for country \"%s\"; using the world average of %.0f gCO2eq/kWh. "
                     "Set a valid ISO 3166-1 alpha-2 code with CT_COUNTRY or the country option.",
                     country, CT__WORLD_AVERAGE_G_PER_KWH);
        else
            snprintf(msg, sizeof msg,
                     "No location given: using the world average carbon intensity of %.0f gCO2eq/kWh (2019). "
                     "Set the country with CT_COUNTRY=DK (ISO 3166-1 alpha-2), the country option or --country.",
                     CT__WORLD_AVERAGE_G_PER_KWH);
        if (ctx && ctx->notice) ctx->notice(ctx->user, 1, msg);
    }
}

int ct__intensity_open(const ct_config *cfg, const ct__source_ctx *ctx, ct_intensity **out, char *why, size_t whylen) {
    *out = NULL;
    ct_intensity *in = calloc(1, sizeof *in);
    if (!in) return CT_ENOMEM;
    pthread_mutex_init(&in->mu, NULL);
    if (ctx) {
        in->notice = ctx->notice;
        in->user = ctx->user;
    }
    if (cfg->carbon_intensity >= 0) {
        in->base.g_per_kwh = cfg->carbon_intensity;
        in->base.kind = CT_INTENSITY_FIXED;
        snprintf(in->base.source, sizeof in->base.source, "fixed value set by the user");
        in->fixed = 1;
        *out = in;
        return 0;
    }
    ct__location loc;
    int rc = ct__location_resolve(cfg, &loc, why, whylen);
    if (rc) {
        ct__intensity_close(in);
        return rc;
    }
    static_value(cfg, &loc, ctx, &in->base);

    char sub[CT__MSG_LEN];
    if (!ct__offline(cfg)) {
        /* The key is read here, once, from the caller's options (or its file
         * or env variable) into a page kept out of core dumps; the fetch
         * thread keeps its own such page and nothing else holds it. */
        ct__secret *key = NULL;
        int krc = ct__key_resolve_secret(cfg, &key, sub, sizeof sub);
        if (krc == CT_EINVAL && ctx && ctx->notice) ctx->notice(ctx->user, 1, sub); /* refused key file: say why */
        in->live = ct__live_start(cfg, &loc, key ? key->key : NULL, cfg->intensity_refresh_s, queue_notice, in, sub,
                                  sizeof sub);
        char base[512];
        int plain = 0;
        in->live_expected = in->live && loc.given &&
                            ct__live_choose(&loc, key != NULL, base, sizeof base, &plain, sub, sizeof sub);
        ct__secret_free(key);
    }
    *out = in;
    return 0;
}

/* The static value to use now (with the IP-geolocated country when that is all we know). */
static void fallback(ct_intensity *in, ct__intensity_value *out) {
    pthread_mutex_lock(&in->mu);
    *out = in->has_geo ? in->geo : in->base;
    pthread_mutex_unlock(&in->mu);
    int expected = in->live_expected && !ct__live_gave_up(in->live);
    if (!in->fixed && (expected || ct__live_active(in->live))) {
        size_t n = strlen(out->source);
        snprintf(out->source + n, sizeof out->source - n,
                 ct__live_has_data(in->live) ? " (live value out of date)" : " (no live value yet)");
    }
}

void ct__intensity_now(ct_intensity *in, double unix_s, ct__intensity_value *out) {
    if (in->fixed) {
        *out = in->base;
        return;
    }
    if (ct__live_now(in->live, unix_s, out)) return;
    fallback(in, out);
}

void ct__intensity_over_profile(ct_intensity *in, const double *t, const double *w, int n, ct__intensity_mean *out) {
    memset(out, 0, sizeof *out);
    double now = ct__unix_s(), t0 = n > 0 && isfinite(t[0]) ? t[0] : now;
    ct__intensity_value cur; /* the value now, not at t[0]: that may already be a forecast */
    ct__intensity_now(in, now, &cur);
    out->value = cur;
    out->current_g_per_kwh = cur.g_per_kwh;
    if (in->fixed || n <= 0) return;
    ct__live_mean m;
    if (!ct__live_profile(in->live, t, w, n, cur.g_per_kwh, &m)) return;
    out->value.g_per_kwh = m.g_per_kwh;
    out->forecast_share = m.forecast_share;
    out->covered_share = m.covered_share;
    if (m.forecast_share <= 0) return; /* all at measured or current values: the current value's label */
    char a[32], b[32];
    ct__format_iso8601(t0, a, sizeof a);
    ct__format_iso8601(t[n], b, sizeof b);
    out->value.kind = CT_INTENSITY_FORECAST;
    if (m.covered_share >= 0.999)
        snprintf(out->value.source, sizeof out->value.source, "%s forecast, %s, mean %s to %s", m.provider, m.area, a,
                 b);
    else
        snprintf(out->value.source, sizeof out->value.source,
                 "%s forecast, %s, mean %s to %s (%.0f%% forecast, the rest at the current %.0f)", m.provider, m.area,
                 a, b, 100.0 * m.covered_share, cur.g_per_kwh);
}

void ct__intensity_over(ct_intensity *in, double from_unix_s, double to_unix_s, ct__intensity_value *out) {
    double t[2] = {from_unix_s, to_unix_s}, w[1] = {1.0};
    ct__intensity_mean m;
    ct__intensity_over_profile(in, t, w, to_unix_s > from_unix_s ? 1 : 0, &m);
    *out = m.value;
}

void ct__intensity_tick(ct_intensity *in, double unix_s) {
    (void)unix_s;
    if (!in || !in->live) return;
    pthread_mutex_lock(&in->mu);
    int n = in->nq, dropped = in->dropped;
    int need_geo = !in->geo_done && in->base.kind == CT_INTENSITY_DEFAULT;
    pthread_mutex_unlock(&in->mu);
    if (!n && !dropped && !need_geo) return; /* the usual case: nothing to do, no allocation */

    if (need_geo) {
        ct__location loc;
        ct__live_location(in->live, &loc);
        double g;
        int year;
        char name[96];
        if (loc.country[0] && !loc.given) {
            int found = ct__country_intensity(loc.country, &g, &year, name, sizeof name) == 0;
            pthread_mutex_lock(&in->mu);
            if (found) {
                in->geo.g_per_kwh = g;
                in->geo.kind = CT_INTENSITY_STATIC;
                snprintf(in->geo.source, sizeof in->geo.source,
                         "%s (%s, from IP geolocation), yearly average %d, Our World in Data", name, loc.country, year);
                in->has_geo = 1;
            }
            in->geo_done = 1;
            pthread_mutex_unlock(&in->mu);
        }
    }
    if (!n && !dropped) return;
    int level[CT__INTENSITY_QUEUE];
    char(*msgs)[CT__MSG_LEN] = malloc(sizeof in->queue);
    if (!msgs) return;
    pthread_mutex_lock(&in->mu);
    n = in->nq;
    dropped = in->dropped;
    memcpy(level, in->qlevel, sizeof level);
    memcpy(msgs, in->queue, (size_t)n * sizeof in->queue[0]);
    in->nq = in->dropped = 0;
    pthread_mutex_unlock(&in->mu);
    for (int i = 0; i < n; i++)
        if (in->notice) in->notice(in->user, level[i], msgs[i]);
    if (dropped && in->notice) {
        char m[96];
        snprintf(m, sizeof m, "(%d more live carbon intensity messages left out)", dropped);
        in->notice(in->user, 0, m);
    }
    free(msgs);
}

void ct__intensity_close(ct_intensity *in) {
    if (!in) return;
    ct__live_stop(in->live); /* joins the fetch thread; its queued notices are dropped */
    pthread_mutex_destroy(&in->mu);
    free(in);
}
