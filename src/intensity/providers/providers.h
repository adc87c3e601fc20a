/*
 * providers.h - live carbon-intensity services, the location they serve, and
 * the time series they return. Internal to src/intensity/.
 *
 * Shapes of the services: shared/spec/intensity-apis.md. A provider needs both
 * libcurl and jansson (CT_HAVE_CURL && CT_HAVE_JANSSON); without them the
 * fetch functions return CT_ENOTSUP and the static tables serve.
 *
 * Thread safety: every function here is reentrant; the data structures are
 * owned by the caller.
 */
#ifndef CT_INTENSITY_PROVIDERS_H
#define CT_INTENSITY_PROVIDERS_H

#include "intensity/intensity.h"

#include <stdatomic.h>

#define CT__HAVE_LIVE (CT_HAVE_CURL && CT_HAVE_JANSSON)

/* ------------------------------------------------------------------ */
/* Location (location.c)                                               */
/* ------------------------------------------------------------------ */
typedef struct ct__location {
    char country[3];                           /* ISO alpha-2 upper case, "" unknown */
    char zone[48];                             /* Electricity Maps zone, "" none */
    char postcode[12];                         /* UK outward postcode upper case, "" none */
    double lat, lon;                           /* degrees; NaN when unset */
    char cloud_provider[24], cloud_region[48]; /* "" none */
    double cloud_g_per_kwh;                    /* the region's yearly figure; < 0 unknown */
    char origin[96];                           /* what the location was taken from, for messages */
    int given;                                 /* 1 when the user gave any location */
} ct__location;

/* Location from the options, each field falling back to its env variable
 * (CT_COUNTRY, CT_ZONE, CT_POSTCODE, CT_LATITUDE/CT_LONGITUDE,
 * CT_CLOUD_PROVIDER/CT_CLOUD_REGION). Country is derived from zone, postcode
 * or cloud region when not given. 0, or CT_EINVAL with a message naming the
 * option. */
int ct__location_resolve(const ct_config *cfg, ct__location *loc, char *why, size_t whylen);

/* 1 when cfg->offline or env CT_OFFLINE is set (and not "0"). */
int ct__offline(const ct_config *cfg);

/* The Electricity Maps key, held in one page of its own (secret.c): mmap'd,
 * left out of core dumps (MADV_DONTDUMP), locked in memory where allowed,
 * zeroed and unmapped by ct__secret_free. The key is copied nowhere else:
 * the request header is built in the same page and handed to libcurl without
 * a copy. */
#define CT__KEY_MAX 256
typedef struct ct__secret {
    char key[CT__KEY_MAX + 1];     /* NUL-terminated; "" none */
    char header[CT__KEY_MAX + 64]; /* "auth-token: <key>" while a request is built */
} ct__secret;
/* NULL when out of memory. */
ct__secret *ct__secret_new(void);
/* Zeroes and unmaps; NULL ignored. */
void ct__secret_free(ct__secret *s);
/* Zeroes n bytes in a way the compiler keeps. */
void ct__explicit_zero(void *p, size_t n);
/* A new page holding key (NULL, "" or longer than CT__KEY_MAX: NULL). */
ct__secret *ct__secret_from(const char *key);

/* The Electricity Maps key: cfg->electricitymaps_key, env
 * CT_ELECTRICITYMAPS_KEY, cfg->electricitymaps_key_file, env
 * CT_ELECTRICITYMAPS_KEY_FILE, else $XDG_CONFIG_HOME (or ~/.config)
 * /carbontracker/electricitymaps.key when it exists. A key file readable by
 * group or others is refused. Returns 0 (key copied), CT_ENODATA (no key) or
 * CT_EINVAL (refused; why says which file and why, never the key). Give it
 * the key field of a ct__secret. */
int ct__key_resolve(const ct_config *cfg, char *key, size_t keylen, char *why, size_t whylen);
/* ct__key_resolve into a new protected page: *out NULL when no key. */
int ct__key_resolve_secret(const ct_config *cfg, ct__secret **out, char *why, size_t whylen);

/* ------------------------------------------------------------------ */
/* Time series (common.c): piecewise constant, sorted, non-overlapping  */
/* ------------------------------------------------------------------ */
typedef struct ct__ipoint {
    double t0, t1; /* Unix s, [t0, t1) */
    double g;      /* gCO2eq/kWh */
} ct__ipoint;

typedef struct ct__iseries {
    ct__ipoint *p;
    int n, cap;
} ct__iseries;

int ct__iseries_add(ct__iseries *s, double t0, double t1, double g); /* 0 or CT_ENOMEM; ignores t1 <= t0 or g < 0 */
/* Sorts by t0, averages points with the same t0 (e.g. DK1 and DK2), trims
 * overlaps so each point ends where the next starts. */
void ct__iseries_normalize(ct__iseries *s);
void ct__iseries_free(ct__iseries *s);
int ct__iseries_copy(ct__iseries *dst, const ct__iseries *src);
/* Index of the point covering t, or -1. */
int ct__iseries_find(const ct__iseries *s, double t);
/* Time-weighted mean over [from, to] of the covered parts; *covered_s gets
 * how many seconds were covered (0: result is 0). */
double ct__iseries_mean(const ct__iseries *s, double from, double to, double *covered_s);
/* One timeline of measured points followed by forecast points that start
 * after the last measurement; gaps shorter than max_gap_s are closed by
 * extending the earlier point. */
int ct__iseries_timeline(const ct__iseries *measured, const ct__iseries *forecast, double max_gap_s, ct__iseries *out);

/* ISO 8601 UTC: "2026-04-25T18:00Z", "...:00.000Z", "...T22:55:00" (no zone
 * = UTC), "+00:00". 0 or CT_EPARSE. */

/* Copies src into dst (dstlen bytes, NUL-terminated when dstlen > 0) with
 * every occurrence of secret replaced by "***": one pass over src, never a
 * write past dst[dstlen - 1] whatever the secret's length (1 character, or
 * "*" itself). secret NULL or "": a plain bounded copy. Returns 1 when src
 * did not fit (the copy is cut; cut AFTER scrubbing, so a secret across the
 * cut never shows in part), else 0. */
int ct__scrub_copy(char *dst, size_t dstlen, const char *src, const char *secret);
/* The same for a message already in buf (size bytes), through a copy. */
void ct__scrub_secret(char *buf, size_t size, const char *secret);

/* ------------------------------------------------------------------ */
/* Providers                                                           */
/* ------------------------------------------------------------------ */
typedef struct ct__intensity_data {
    ct__iseries measured; /* live values: latest, history, current period */
    ct__iseries forecast; /* the service's forecast */
    char provider[48];    /* "Electricity Maps", "UK Carbon Intensity API", "Energi Data Service" */
    char area[64];        /* "zone DE", "postcode RG10", "national", "DK1", "DK1+DK2" */
    char note[256];       /* non-fatal problem, e.g. the forecast was refused */
    int forecast_denied;  /* the service refused the forecast (401/403): do not ask again */
} ct__intensity_data;

void ct__intensity_data_free(ct__intensity_data *d);

typedef struct ct__provider_req {
    const ct__location *loc;
    ct__secret *key; /* Electricity Maps key or NULL; never logged; header built in it */
    double now_unix_s;
    int want_history; /* also fetch the past 24 h where the service has it */
    int want_forecast;
    const atomic_int *abort_flag; /* may be NULL */
} ct__provider_req;

/* Fetches current (and forecast) values into out. 0 when a current value
 * arrived; otherwise CT_ENETWORK / CT_EPARSE / CT_ENODATA / CT_ENOTSUP
 * with a reason (never the key). */
typedef int (*ct__fetch_fn)(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why,
                            size_t whylen);

/* What a provider serves (ct__provider.serves). */
enum {
    CT__SERVES_COUNTRY = 1u << 0,     /* the countries listed in .countries (any country when NULL) */
    CT__SERVES_ZONE = 1u << 1,        /* an Electricity Maps zone key ("DE", "US-CAL-CISO") */
    CT__SERVES_POSTCODE = 1u << 2,    /* a UK outward postcode */
    CT__SERVES_COORDINATES = 1u << 3, /* latitude and longitude */
};

/* One row of the providers table (providers/table.c). */
typedef struct ct__provider {
    const char *name;         /* "Electricity Maps": in messages and value sources */
    ct__env_id url_env;       /* CT__ENV_ELECTRICITYMAPS_URL: overrides the base URL (tests, proxies) */
    const char *default_base; /* "https://api.electricitymap.org/v3" */
    const char *countries;    /* alpha-2 codes it covers, space-separated ("GB"); NULL: any country */
    unsigned serves;          /* CT__SERVES_* bits */
    int needs_key;            /* needs the Electricity Maps key (then https only, see below) */
    int has_forecast;         /* publishes a forecast (it may still refuse it to a key) */
    ct__fetch_fn fetch;
} ct__provider;

/* The table, in order of preference: the first row that serves a location
 * (and has its key, where it needs one) is chosen. */
extern const ct__provider ct__providers[];
extern const int ct__nproviders;
/* The fetch functions of the rows (one file each). */
int ct__ukgrid_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why, size_t whylen);
int ct__energidata_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why,
                         size_t whylen);
int ct__em_fetch(const ct__provider_req *req, const char *base, ct__intensity_data *out, char *why, size_t whylen);
/* A row by name, or NULL. */
const ct__provider *ct__provider_find(const char *name);
/* 1 when p serves loc (key not considered). */
int ct__provider_serves(const ct__provider *p, const ct__location *loc);

/* The base URL: the provider's env variable, else its default; no trailing slash. */
void ct__provider_base(const ct__provider *p, char *buf, size_t len);

/* Which service serves loc: the first row of the table that serves it (rows
 * needing a key skipped without one); NULL (static table) otherwise, with
 * the reason in why. */
const ct__provider *ct__provider_choose(const ct__location *loc, int have_key, char *why, size_t whylen);

/* Whether the key may be sent to base: 0 for https, and for plain http to
 * this machine (localhost, 127.0.0.0/8, ::1: *plain_loopback = 1 and why
 * holds a warning to say once); CT_EINVAL (why says so; the key is not sent)
 * for plain http to any other host or any other scheme. Providers without a
 * key: always 0. */
int ct__provider_key_transport(const ct__provider *p, const char *base, int *plain_loopback, char *why, size_t whylen);
/* 1 when the URL's host is this machine (localhost, 127.0.0.0/8, ::1). */
int ct__url_is_loopback(const char *url);

/* Pure parsers (jansson), fed bytes directly by the tests. */
int ct__em_parse_latest(const char *body, size_t len, ct__iseries *measured, char *zone, size_t zonelen, char *why,
                        size_t whylen);
/* list_key: "history" or "forecast". */
int ct__em_parse_list(const char *body, size_t len, const char *list_key, ct__iseries *out, char *why, size_t whylen);
/* Any of the UK API's shapes (national list, regional list, regional object);
 * periods that have ended or contain now go to measured, later ones to forecast. */
int ct__ukgrid_parse(const char *body, size_t len, double now_unix_s, ct__iseries *measured, ct__iseries *forecast,
                     char *why, size_t whylen);
/* area: "DK1", "DK2" or NULL for both (averaged per time). */
int ct__energidata_parse(const char *body, size_t len, const char *area, ct__iseries *out, char *why, size_t whylen);
/* Energi Data Service price area for a location: "DK1", "DK2" or NULL (both). */
const char *ct__energidata_area(const ct__location *loc);

/* IP geolocation (ipinfo.c): only called when no location was given and not
 * offline. Fills country (and lat/lon) of loc. */
int ct__ipinfo_parse(const char *body, size_t len, ct__location *loc, char *why, size_t whylen);
int ct__ipinfo_locate(const atomic_int *abort_flag, ct__location *loc, char *why, size_t whylen);

#if CT_HAVE_JANSSON
#include <jansson.h>
/* Parses a JSON body; NULL with "malformed JSON from <what>: ..." in why. */
json_t *ct__provider_json_parse(const char *body, size_t len, const char *what, char *why, size_t whylen);
/* A number (integer or real) field of obj, or NAN when missing, null or not a number. */
double ct__provider_json_number(const json_t *obj, const char *key);
#endif
#if CT__HAVE_LIVE
/* GET url. Non-2xx answers become CT_ENETWORK with "<what>: HTTP 401 ...
 * (server's message)"; secret (may be NULL) is scrubbed from every message.
 * On 0, *body (malloc'd, NUL-terminated) and *len hold the 2xx body.
 * *http_status gets the status (0 when none). */
int ct__provider_get(const char *what, const char *url, char *const *headers, const char *secret,
                     const atomic_int *abort_flag, char **body, size_t *len, long *http_status, char *why,
                     size_t whylen);
#endif

/* ------------------------------------------------------------------ */
/* Planner (plan.c): pure window search                                */
/* ------------------------------------------------------------------ */
typedef struct ct__plan_window {
    double start, end;  /* Unix s of the best window */
    double mean_g;      /* mean over the best window */
    double first_start; /* earliest possible start (now, or the first forecast time) */
    double now_mean_g;  /* mean over [first_start, first_start + duration] */
    double horizon_end; /* end of the contiguous forecast */
} ct__plan_window;

/* Lowest-mean window of duration_s starting in [now, now + within_s] (within_s
 * <= 0: anywhere in the horizon) and fully inside the timeline's contiguous
 * coverage from now. Ties go to the earliest start. 0, or CT_ENODATA when the
 * timeline does not cover a whole window (why says how much it covers). */
int ct__plan_best_window(const ct__iseries *timeline, double now, double duration_s, double within_s,
                         ct__plan_window *out, char *why, size_t whylen);

#endif
