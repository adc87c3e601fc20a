/* intensity.h - carbon intensity for the tracker and the planner (internal). */
#ifndef CT_INTENSITY_H
#define CT_INTENSITY_H

#include "base/base.h"

typedef struct ct__intensity_value {
    double g_per_kwh;
    ct_intensity_kind kind;
    char source[160]; /* provider, zone, time or year, e.g. "Our World in Data 2023, DK" */
} ct__intensity_value;

typedef struct ct_intensity ct_intensity;

/* Opens the intensity service for the options. Never touches the network
 * here. notice gets messages meant for the user (e.g. "world average used;
 * set CT_COUNTRY"). */
int ct__intensity_open(const ct_config *cfg, const ct__source_ctx *ctx, ct_intensity **out, char *why, size_t whylen);
/* Intensity for energy used at Unix time unix_s. Thread-safe, never blocks on I/O. */
void ct__intensity_now(ct_intensity *in, double unix_s, ct__intensity_value *out);
/* Mean intensity expected over [from, to] at constant power: the same as
 * ct__intensity_over_profile with one piece. Thread-safe, never blocks. */
void ct__intensity_over(ct_intensity *in, double from_unix_s, double to_unix_s, ct__intensity_value *out);

/* For a predictor: the energy-weighted mean intensity over a predicted power
 * profile of n pieces, piece i from t[i] to t[i + 1] (Unix s, n + 1 times,
 * increasing) at power w[i] (W, or any unit: only the shares count). Each
 * piece's time under the live service's values (its forecast for the
 * future, its measurements for the past and the present) counts at those
 * values; the rest at the current value (ct__intensity_now now: live,
 * static or default). out->value.kind is CT_INTENSITY_FORECAST when any of
 * the energy fell under the forecast, else the current value's kind (FIXED:
 * the fixed value, nothing else asked); forecast_share says how much of the
 * energy the forecast covered. Pieces with no energy or bad numbers are
 * skipped; with no energy at all the current value. Thread-safe, never
 * blocks on I/O (a mutex held for arithmetic only). */
typedef struct ct__intensity_mean {
    ct__intensity_value value; /* the mean, its kind and a source sentence */
    double forecast_share;     /* 0..1: share of the energy priced by the forecast */
    double covered_share;      /* 0..1: share priced by the service's values (forecast or measured) */
    double current_g_per_kwh;  /* the value the rest of the energy got */
} ct__intensity_mean;
void ct__intensity_over_profile(ct_intensity *in, const double *t, const double *w, int n, ct__intensity_mean *out);
/* Called by the measurement thread on each wake-up; may start a refresh. */
void ct__intensity_tick(ct_intensity *in, double unix_s);
void ct__intensity_close(ct_intensity *in);

/* Static tables (intensity/static_table.c). */
/* gCO2eq/kWh for an alpha-2 code; 0 and fills year/name, or CT_ENODATA. */
int ct__country_intensity(const char *alpha2, double *g_per_kwh, int *year, char *name, size_t namelen);
#define CT__WORLD_AVERAGE_G_PER_KWH 481.0
/* Cloud region ("gcp", "europe-west1"): 0 and g/kWh, or CT_ENODATA. */
int ct__cloud_region_intensity(const char *provider, const char *region, double *g_per_kwh, char *country2,
                               size_t c2len);
/* A country as the user wrote it (ISO 3166-1 alpha-2 or alpha-3 code, or an
 * English name; case, spaces and punctuation ignored) to its alpha-2 code.
 * 0 and a2 filled, or CT_EINVAL with a message that names the nearest match
 * ("did you mean"). Pure: no allocation. */
int ct__country_resolve(const char *text, char a2[3], char *msg, size_t len);
/* g CO2eq per km by car, and its source text. */
double ct__car_g_per_km(const char **source);

/* Embedded CSV files (generated at build time from data/). */
extern const char ct__data_country_csv[];
extern const char ct__data_cloud_csv[];
extern const char ct__data_co2eq_csv[];
extern const char ct__data_iso3166_csv[];

#endif /* CT_INTENSITY_H */
