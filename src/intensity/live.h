/*
 * live.h - the background side of the intensity service: one thread that
 * geolocates (when no location was given), picks the provider and refreshes
 * its values every refresh interval. Used by intensity.c; the tracker never
 * waits for it.
 *
 * Thread safety: every function may be called from any thread; ct__live_now
 * and ct__live_over only take a mutex held for memory copies, never for I/O.
 */
#ifndef CT_INTENSITY_LIVE_H
#define CT_INTENSITY_LIVE_H

#include "providers/providers.h"

typedef struct ct__live ct__live;

typedef void (*ct__notice_fn)(void *user, int level, const char *msg);

/* Starts the fetch thread when a live service may serve: not offline, built
 * with libcurl and jansson. Returns immediately; NULL with a reason in why
 * when no live service applies (the static table serves). key may be NULL;
 * it is copied into a protected page (ct__secret) and wiped on stop. refresh_s: s between refreshes (at least 1). */
ct__live *ct__live_start(const ct_config *cfg, const ct__location *loc, const char *key, double refresh_s,
                         ct__notice_fn notice, void *user, char *why, size_t whylen);

/* The live or forecast value for energy used at unix_s: 1 and *out, or 0
 * when no live value covers that time (yet). */
int ct__live_now(ct__live *lv, double unix_s, ct__intensity_value *out);

/* Mean over [from, to] using the forecast: 1 and *out when the forecast
 * covers part of it, else the live value at from; 0 when neither. */
int ct__live_over(ct__live *lv, double from_unix_s, double to_unix_s, ct__intensity_value *out);

/* Energy-weighted mean over a power profile (ct__intensity_over_profile):
 * each piece's time under the service's values (measured or forecast) at
 * those values, the rest at current_g. 1 and *out when the service has
 * answered and the profile has energy; else 0. */
typedef struct ct__live_mean {
    double g_per_kwh;      /* energy-weighted mean */
    double covered_share;  /* share of the energy under the service's values (measured or forecast) */
    double forecast_share; /* share of the energy under its forecast */
    char provider[48], area[64];
} ct__live_mean;
int ct__live_profile(ct__live *lv, const double *t, const double *w, int n, double current_g, ct__live_mean *out);

/* The location as the fetch thread sees it (after IP geolocation). */
void ct__live_location(ct__live *lv, ct__location *out);

/* 1 once the fetch thread chose a provider for the location (it serves, or
 * will once it answers); 0 before that and when none applies. */
int ct__live_active(ct__live *lv);

/* 1 when the fetch thread ended for good (libcurl.so.4 could not be
 * loaded): no live value will come; ct__live_active is then 0. */
int ct__live_gave_up(ct__live *lv);

/* 1 once any refresh succeeded (values may since have gone out of date). */
int ct__live_has_data(ct__live *lv);

/* Asks for a refresh now (tests, benchmarks). */
void ct__live_refresh_now(ct__live *lv);

/* Finished refreshes so far, and how many of them succeeded. */
void ct__live_counts(ct__live *lv, long *done, long *ok);

/* Stops the thread: an HTTP request in flight is abandoned within ~10 ms. NULL ignored. */
void ct__live_stop(ct__live *lv);

/* One synchronous fetch (the planner): geolocates when loc->given is 0,
 * chooses the provider and fetches with the forecast. 0, or a CT_E* code
 * with the reason (CT_EINVAL: the key would go over plain http to another
 * machine). key may be NULL. */
int ct__live_fetch_once(ct__location *loc, ct__secret *key, double now_unix_s, ct__intensity_data *out, char *why,
                        size_t whylen);

/* The provider for loc (ct__provider_choose) and its base URL, checked for
 * the key's transport (ct__provider_key_transport). NULL with the reason in
 * why when none serves, or when the key may not go to the base URL
 * (*plain_loopback = -1 then). *plain_loopback = 1: plain http to this
 * machine, why holds the warning to give once. */
const ct__provider *ct__live_choose(const ct__location *loc, int have_key, char *base, size_t baselen,
                                    int *plain_loopback, char *why, size_t whylen);

#endif
