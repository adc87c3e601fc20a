/*
 * ct_internal.h - what the library's parts share. Never installed.
 *
 * Naming: ct_ is public, ct__ is internal across files, static otherwise.
 * Architecture (one folder per concern):
 *   core/       tracker lifecycle, measurement thread, accounting arithmetic,
 *               options, errors, ranks
 *   sources/    energy sources behind ct_source_ops (RAPL, TDP estimate,
 *               simulated, NVML, AMD GPU)
 *   intensity/  carbon intensity: static tables, live providers
 *   output/     console text, the original's log files, JSON Lines
 */
#ifndef CT_INTERNAL_H
#define CT_INTERNAL_H

#include "carbontracker.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#define CT__MSG_LEN 1024

/* ------------------------------------------------------------------ */
/* Small utilities (core/util.c)                                       */
/* ------------------------------------------------------------------ */
double ct__monotonic_s(void);      /* CLOCK_MONOTONIC, s */
double ct__unix_s(void);           /* CLOCK_REALTIME, s since the epoch */
char *ct__strdup(const char *s);   /* NULL -> NULL */
void ct__strlcpy(char *dst, const char *src, size_t len);
/* Reads a whole small file (< max bytes) into a NUL-terminated malloc'd buffer. */
int ct__read_file(const char *path, size_t max, char **out, size_t *outlen);
/* Parses an unsigned decimal integer with overflow and garbage checks (trailing
 * whitespace allowed). Returns 0 or CT_EPARSE. */
int ct__parse_u64(const char *s, uint64_t *out);
/* Environment lookup returning NULL for unset or empty. */
const char *ct__getenv(const char *name);
/* printf into a message buffer (NULL or 0 length: nothing). */
void ct__msgf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Path join into buf; returns CT_EINVAL if it does not fit. */
int ct__path_join(char *buf, size_t len, const char *a, const char *b);

/* ------------------------------------------------------------------ */
/* Options (core/config.c)                                             */
/* ------------------------------------------------------------------ */
/* Validates `in` and makes the tracker's own copy: strings duplicated,
 * -1 epochs resolved, country from CT_COUNTRY, CT_OFFLINE read. */
int ct__config_resolve(const ct_config *in, ct_config *out, char *msg, size_t len);
void ct__config_free(ct_config *c);
int ct__parse_components(const char *spec, int want[CT_COMPONENT_COUNT], char *msg, size_t len);

/* ------------------------------------------------------------------ */
/* Energy sources (sources/)                                           */
/* ------------------------------------------------------------------ */

/* What a source gets from the tracker. */
typedef struct ct_source_ctx {
    const ct_config *cfg;  /* validated options, strings owned by the tracker */
    /* Non-fatal notices (e.g. the RAPL permission fix, MIG, a lost GPU).
     * level: 0 = info (verbose 2), 1 = warning. Safe to call from any thread. */
    void (*notice)(void *user, int level, const char *msg);
    void *user;
} ct_source_ctx;

typedef struct ct_source_ops {
    const char *name;        /* "rapl", "tdp", "sim-cpu", "sim-gpu", "nvml", "amdgpu" */
    ct_component component;
    /* Probe and open. 0 and *state set, or CT_ENOSOURCE/CT_E* with a reason
     * the user can read in why. Must not block for long or touch the network. */
    int (*open)(const ct_source_ctx *ctx, void **state, char *why, size_t whylen);
    int (*device_count)(void *state);
    void (*describe)(void *state, int index, ct_device_desc *out);
    /* Brings every device up to monotonic time now_s and writes its cumulative
     * energy since open, in J, to energy_j[0..device_count-1]. A device that
     * fails is marked lost (describe) and keeps its last value. Returns
     * non-zero only if the whole source has failed. Called with the tracker's
     * lock held; never concurrently for one state. */
    int (*read)(void *state, double now_s, double *energy_j);
    /* Longest time between reads that keeps the energy exact, s: 60 for
     * wrapping counters, 0.1 for polled power, 0 for no constraint. */
    double (*max_read_interval)(void *state);
    void (*close)(void *state);
} ct_source_ops;

extern const ct_source_ops ct__source_sim_cpu;
extern const ct_source_ops ct__source_rapl;
extern const ct_source_ops ct__source_tdp;
extern const ct_source_ops ct__source_sim_gpu;
extern const ct_source_ops ct__source_nvml;
extern const ct_source_ops ct__source_amdgpu;

/* ------------------------------------------------------------------ */
/* Accounting arithmetic (core/accounting.c): pure, unit-tested         */
/* ------------------------------------------------------------------ */

/* Delta of a wrapping counter, in counter units. max_range is the value at
 * which it wraps (powercap max_energy_range_uj); 0 = unknown (no wrap). */
uint64_t ct__counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range);
/* Trapezoid area of power samples: (t1-t0) * (p0+p1)/2, J. */
double ct__trapezoid_j(double t0_s, double p0_w, double t1_s, double p1_w);
double ct__j_to_kwh(double joules);

/* Linear prediction: mean per-epoch value over `measured` epochs x total. */
double ct__predict_total(double sum_measured, int measured, int total);

/* Bounded, decimating series of power samples (memory does not grow). */
#define CT__SERIES_MAX 128
typedef struct ct_series {
    int n;           /* points stored */
    int stride;      /* raw samples per stored point */
    int pending;     /* raw samples accumulated in acc */
    double acc_t, acc_p[CT_COMPONENT_COUNT];
    double t[CT__SERIES_MAX];                     /* s since tracker start */
    double p[CT__SERIES_MAX][CT_COMPONENT_COUNT]; /* W */
} ct_series;
void ct__series_reset(ct_series *s);
void ct__series_add(ct_series *s, double t_s, const double p_w[CT_COMPONENT_COUNT]);

/* ------------------------------------------------------------------ */
/* Ranks (core/ranks.c)                                                */
/* ------------------------------------------------------------------ */
typedef struct ct_rank_info {
    int rank, local_rank, world_size; /* -1 when unknown */
    char launcher[16];                /* "torchrun", "slurm", "openmpi", "pmi", "" */
    char job_id[64];                  /* SLURM_JOB_ID etc., "" when none */
} ct_rank_info;
void ct__ranks_detect(ct_rank_info *out);

/* ------------------------------------------------------------------ */
/* Carbon intensity (intensity/)                                       */
/* ------------------------------------------------------------------ */
typedef struct ct_intensity_value {
    double g_per_kwh;
    ct_intensity_kind kind;
    char source[160]; /* provider, zone, time or year, e.g. "Our World in Data 2023, DK" */
} ct_intensity_value;

typedef struct ct_intensity ct_intensity;

/* Opens the intensity service for the options. Never touches the network
 * here. notice gets messages meant for the user (e.g. "world average used;
 * set CT_COUNTRY"). */
int ct__intensity_open(const ct_config *cfg, const ct_source_ctx *ctx, ct_intensity **out, char *why,
                       size_t whylen);
/* Intensity for energy used at Unix time unix_s. Thread-safe, never blocks on I/O. */
void ct__intensity_now(ct_intensity *in, double unix_s, ct_intensity_value *out);
/* Mean intensity expected over [from, to] (forecast where known). Thread-safe, never blocks. */
void ct__intensity_over(ct_intensity *in, double from_unix_s, double to_unix_s, ct_intensity_value *out);
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
/* CPU TDP in W for a /proc/cpuinfo model name; 0 or CT_ENODATA. matched gets the table's name. */
int ct__cpu_tdp_lookup(const char *model, double *tdp_w, char *matched, size_t mlen);
/* g CO2eq per km by car, and its source text. */
double ct__car_g_per_km(const char **source);

/* Embedded CSV files (generated at build time from data/). */
extern const char ct__data_country_csv[];
extern const char ct__data_cloud_csv[];
extern const char ct__data_cpu_tdp_csv[];
extern const char ct__data_co2eq_csv[];

/* ------------------------------------------------------------------ */
/* Output (output/)                                                    */
/* ------------------------------------------------------------------ */

/* The original's consumption block, without the "CarbonTracker: " prefix:
 * "\n<description>\n\tTime:\t...\n\tEnergy:\t... kWh\n\tCO2eq:\t... g[\n\tThis is equivalent to:\n\t... km travelled by car]" */
void ct__format_consumption(char *buf, size_t len, const char *description, double duration_s, double energy_kwh,
                            double co2eq_g, int precision, int interpretable);

/* JSON string escaping into a FILE (quotes included). */
void ct__json_string(FILE *f, const char *s);
/* A finite double as JSON (null for NaN/inf). */
void ct__json_number(FILE *f, double v);

/* ------------------------------------------------------------------ */
/* Results (results/, output/status_line.c; issue 5)                   */
/* ------------------------------------------------------------------ */
/* The live status line (no newline, no escape codes) into buf; returns the
 * length needed like snprintf. Pure; the tracker's thread calls it. */
int ct__status_line_render(const ct_status *st, char *buf, size_t len);

#endif /* CT_INTERNAL_H */
