/* The carbon intensity the tracker uses. Order of precedence:
 *   1. the user's fixed value (carbon_intensity >= 0),
 *   2. the static per-country table (country from the options or CT_COUNTRY,
 *      or the country of a known cloud region),
 *   3. the world average (481 gCO2eq/kWh), with a message on how to set the country.
 * Live providers (issue 4) plug in here; this file never blocks. */
#include "ct_internal.h"

#include <stdlib.h>
#include <string.h>

struct ct_intensity {
    ct_intensity_value base; /* fixed, static or default */
};

int ct__intensity_open(const ct_config *cfg, const ct_source_ctx *ctx, ct_intensity **out, char *why,
                       size_t whylen) {
    (void)why;
    (void)whylen;
    ct_intensity *in = calloc(1, sizeof *in);
    if (!in) return CT_ENOMEM;
    ct_intensity_value *v = &in->base;
    char msg[400];
    double g = 0;
    int year = 0;
    char name[96] = "";
    char region_cc[3] = "";
    if (cfg->carbon_intensity >= 0) {
        v->g_per_kwh = cfg->carbon_intensity;
        v->kind = CT_INTENSITY_FIXED;
        snprintf(v->source, sizeof v->source, "fixed value set by the user");
    } else if (cfg->cloud_provider && cfg->cloud_region &&
               ct__cloud_region_intensity(cfg->cloud_provider, cfg->cloud_region, &g, region_cc,
                                          sizeof region_cc) == 0) {
        v->g_per_kwh = g;
        v->kind = CT_INTENSITY_STATIC;
        snprintf(v->source, sizeof v->source, "cloud region %s:%s, Google Cloud region carbon data (CodeCarbon)",
                 cfg->cloud_provider, cfg->cloud_region);
    } else if (cfg->country && ct__country_intensity(cfg->country, &g, &year, name, sizeof name) == 0) {
        v->g_per_kwh = g;
        v->kind = CT_INTENSITY_STATIC;
        snprintf(v->source, sizeof v->source, "%s (%s), yearly average %d, Our World in Data (Ember, Energy Institute)",
                 name, cfg->country, year);
    } else {
        v->g_per_kwh = CT__WORLD_AVERAGE_G_PER_KWH;
        v->kind = CT_INTENSITY_DEFAULT;
        snprintf(v->source, sizeof v->source, "world average 2019 (no location known)");
        if (cfg->country)
            snprintf(msg, sizeof msg,
                     "No carbon intensity is known for country \"%s\"; using the world average of %.0f gCO2eq/kWh. "
                     "Set a valid ISO 3166-1 alpha-2 code with CT_COUNTRY or the country option.",
                     cfg->country, CT__WORLD_AVERAGE_G_PER_KWH);
        else
            snprintf(msg, sizeof msg,
                     "No location given: using the world average carbon intensity of %.0f gCO2eq/kWh (2019). "
                     "Set the country with CT_COUNTRY=DK (ISO 3166-1 alpha-2), the country option or --country.",
                     CT__WORLD_AVERAGE_G_PER_KWH);
        if (ctx && ctx->notice) ctx->notice(ctx->user, 1, msg);
    }
    *out = in;
    return 0;
}

void ct__intensity_now(ct_intensity *in, double unix_s, ct_intensity_value *out) {
    (void)unix_s;
    *out = in->base;
}

void ct__intensity_over(ct_intensity *in, double from_unix_s, double to_unix_s, ct_intensity_value *out) {
    (void)from_unix_s;
    (void)to_unix_s;
    *out = in->base;
}

void ct__intensity_tick(ct_intensity *in, double unix_s) {
    (void)in;
    (void)unix_s;
}

void ct__intensity_close(ct_intensity *in) { free(in); }
