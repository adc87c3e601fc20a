/*
 * base.h - the floor every part of the library stands on: clocks, strings,
 * files, numbers, errors, JSON writing, ISO-8601 times and the pure energy
 * arithmetic. Includes nothing of the library but the public header.
 * Never installed.
 *
 * Naming: ct_ is public (include/carbontracker.h), ct__ is internal across
 * files, static otherwise. A few internal types still carry a single ct_
 * (ct_intensity, ct_gpu_ident, the results readers' ct_run_* and ct_json*):
 * they are internal all the same (not in the public header, never exported:
 * the library is built with hidden visibility) and take ct__ when their
 * files are next reworked.
 * Layers (a file includes only its own layer and those below):
 *   base/       this floor
 *   sources/    energy sources behind ct__source_ops     (base)
 *   intensity/  carbon intensity, static tables, live    (base)
 *   output/     every channel the tracker writes to      (base)
 *   core/       options, ranks, tracker lifecycle, measurement thread,
 *               epochs, prediction                       (base, sources, intensity, output)
 *   results/    reading logs back: parse, aggregate, report (base, output)
 */
#ifndef CT_BASE_H
#define CT_BASE_H

#include "carbontracker.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CT__MSG_LEN 1024

/* ------------------------------------------------------------------ */
/* Small utilities (base/util.c)                                       */
/* ------------------------------------------------------------------ */
double ct__monotonic_s(void); /* CLOCK_MONOTONIC, s */
double ct__unix_s(void);      /* CLOCK_REALTIME, s since the epoch */
/* Whether span_s has passed from since_s to now_s (clock values in s), to a
 * microsecond: the difference of two large clock values carries rounding
 * ((t + 11) - (t + 1) is 9.999999999998 for some t), which must not decide. */
int ct__span_reached(double since_s, double now_s, double span_s);
char *ct__strdup(const char *s); /* NULL -> NULL */
void ct__strlcpy(char *dst, const char *src, size_t len);
/* Reads a whole small file (at most max - 1 bytes kept) into a NUL-terminated
 * malloc'd buffer. Only a regular file is read, and opening never blocks (a
 * FIFO or device is refused). Returns 0, or CT_EIO / CT_ENOMEM / CT_EINVAL with
 * the path and the system's reason in this thread's detail; never -errno
 * (errno is left as the failing call set it). */
int ct__read_file(const char *path, size_t max, char **out, size_t *outlen);
/* Opens an outside path for reading without ever blocking (O_NONBLOCK, then
 * fstat on the descriptor) and keeps only a regular file; nofollow refuses a
 * symlink at the last component. Returns the fd (plain blocking reads from
 * then on) and its size (size may be NULL), or CT_EIO/CT_EINVAL with the
 * detail in ct_last_error_message() and errno set (EISDIR, EINVAL for a
 * FIFO/device/socket, or open's). */
int ct__open_regular(const char *path, int nofollow, off_t *size);
/* Parses an unsigned decimal integer with overflow and garbage checks (trailing
 * whitespace allowed). Returns 0 or CT_EPARSE. */
int ct__parse_u64(const char *s, uint64_t *out);
/* Environment lookup returning NULL for unset or empty. */
const char *ct__getenv(const char *name);
/* printf into a message buffer (NULL or 0 length: nothing). */
void ct__msgf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Copies s for printing in a message: control bytes (escape codes, newlines)
 * and DEL become \xNN and a backslash \\, so a planted name cannot drive the
 * terminal and an escaped name is never ambiguous. Truncates
 * to len (always terminated). Returns out. */
char *ct__printable(const char *s, char *out, size_t len);
/* fputs of a message for a console or a log: control bytes other than newline
 * and tab (an escape code in a file name, a carriage return) become \xNN. */
void ct__fput_clean(FILE *f, const char *s);
/* Path join into buf; returns CT_EINVAL if it does not fit. */
int ct__path_join(char *buf, size_t len, const char *a, const char *b);
/* Grows the array *arr of *cap elements of elem bytes to hold at least need
 * (doubling, from 16); 0, or CT_ENOMEM with *arr and *cap unchanged. */
int ct__grow(void **arr, int *cap, int need, size_t elem);

/* ------------------------------------------------------------------ */
/* Environment variables (base/env.c): every CT_ variable, read in one  */
/* place. X(id, name, what it sets): docs/environment.md lists them.   */
/* ------------------------------------------------------------------ */
#define CT__ENV_LIST(X)                                                                                               \
    X(COUNTRY, "CT_COUNTRY",                                                                                          \
      "country (ISO 3166-1 alpha-2/alpha-3 code or English name) when the country option is unset")                   \
    X(ZONE, "CT_ZONE", "Electricity Maps zone (DE, DK-DK1, US-CAL-CISO) when the zone option is unset")               \
    X(POSTCODE, "CT_POSTCODE", "UK outward postcode (RG10) for the UK Carbon Intensity API's regional values")        \
    X(LATITUDE, "CT_LATITUDE", "latitude in degrees (with CT_LONGITUDE) for Electricity Maps")                        \
    X(LONGITUDE, "CT_LONGITUDE", "longitude in degrees (with CT_LATITUDE)")                                           \
    X(CLOUD_PROVIDER, "CT_CLOUD_PROVIDER", "cloud provider (gcp) of the region's yearly intensity")                   \
    X(CLOUD_REGION, "CT_CLOUD_REGION", "cloud region (europe-west1) of the region's yearly intensity")                \
    X(OFFLINE, "CT_OFFLINE", "any value but 0: no network look-ups at all (static intensity tables only)")            \
    X(ELECTRICITYMAPS_KEY, "CT_ELECTRICITYMAPS_KEY", "Electricity Maps API key (prefer the key file)")                \
    X(ELECTRICITYMAPS_KEY_FILE, "CT_ELECTRICITYMAPS_KEY_FILE",                                                        \
      "file holding the Electricity Maps key (mode 600; default $XDG_CONFIG_HOME/carbontracker/electricitymaps.key)") \
    X(ELECTRICITYMAPS_URL, "CT_ELECTRICITYMAPS_URL",                                                                  \
      "Electricity Maps base URL (default https://api.electricitymap.org/v3)")                                        \
    X(ENERGIDATA_URL, "CT_ENERGIDATA_URL", "Energi Data Service base URL (default https://api.energidataservice.dk)") \
    X(UKGRID_URL, "CT_UKGRID_URL", "UK Carbon Intensity API base URL (default https://api.carbonintensity.org.uk)")   \
    X(IPINFO_URL, "CT_IPINFO_URL", "IP geolocation URL (default https://ipinfo.io/json)")                             \
    X(HTTP_TIMEOUT_MS, "CT_HTTP_TIMEOUT_MS", "total time limit of one HTTP request, ms (1-600000)")                   \
    X(POWERCAP_ROOT, "CT_POWERCAP_ROOT", "powercap sysfs root for RAPL (default /sys/class/powercap)")                \
    X(PROC_ROOT, "CT_PROC_ROOT", "procfs root: cpuinfo, stat, process trees (default /proc)")                         \
    X(DRM_ROOT, "CT_DRM_ROOT", "DRM sysfs root for AMD GPUs (default /sys/class/drm)")                                \
    X(NVML_LIBRARY, "CT_NVML_LIBRARY",                                                                                \
      "path of libnvidia-ml to load (default libnvidia-ml.so.1 from the loader's path)")                              \
    X(CGROUP_ROOT, "CT_CGROUP_ROOT",                                                                                  \
      "cgroup filesystem root for a container's CPU limit and time (default /sys/fs/cgroup)")                         \
    X(DMI_ROOT, "CT_DMI_ROOT", "DMI sysfs root: the machine's vendor and product (default /sys/class/dmi/id)")        \
    X(DRAM_ESTIMATE, "CT_DRAM_ESTIMATE",                                                                              \
      "1: estimate DRAM energy where no dram RAPL zone exists (labelled estimated)")                                  \
    X(CURL_LIBRARY, "CT_CURL_LIBRARY", "path of libcurl to load on the first live request (default libcurl.so.4)")    \
    X(REPORT_LIBRARY, "CT_REPORT_LIBRARY",                                                                            \
      "path of libcarbontracker-report.so, the report's drawing code (default: next to libcarbontracker.so)")

typedef enum ct__env_id {
#define CT__ENV_ENUM(id, name, what) CT__ENV_##id,
    CT__ENV_LIST(CT__ENV_ENUM)
#undef CT__ENV_ENUM
        CT__ENV_COUNT
} ct__env_id;

/* The variable's value; NULL when unset or empty. Any thread (getenv). */
const char *ct__env(ct__env_id id);
/* "CT_COUNTRY"; NULL for an id out of range. */
const char *ct__env_name(ct__env_id id);
/* What it sets (one line, for docs and messages). */
const char *ct__env_doc(ct__env_id id);

/* ------------------------------------------------------------------ */
/* Errors (base/errors.c)                                              */
/* ------------------------------------------------------------------ */
/* Records the detail of a failure for ct_last_error_message() in this
 * thread (printf format) and returns code, so `return ct__fail(CT_EIO, ...)`. */
int ct__fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The CT_E* code for an errno value (ENOMEM -> CT_ENOMEM; EINVAL,
 * ENAMETOOLONG, EFAULT -> CT_EINVAL; the rest -> CT_EIO): a library call
 * never returns -errno where a CT_E* code is expected. */
int ct__errno_code(int err);
/* ct__fail with the code of err and ": <strerror(err)>" after the text. */
int ct__fail_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears this thread's detail (successful calls that promise it is empty). */
void ct__fail_clear(void);

/* ------------------------------------------------------------------ */
/* What a part gets from its owner: options and a notice sink          */
/* ------------------------------------------------------------------ */
/* What a source gets from the tracker. */
typedef struct ct__source_ctx {
    const ct_config *cfg; /* validated options, strings owned by the tracker */
    /* Non-fatal notices (e.g. the RAPL permission fix, MIG, a lost GPU).
     * level: 0 = info (verbose 2), 1 = warning. Safe to call from any thread. */
    void (*notice)(void *user, int level, const char *msg);
    void *user;
} ct__source_ctx;

/* ------------------------------------------------------------------ */
/* Accounting arithmetic (base/accounting.c): pure, unit-tested         */
/* ------------------------------------------------------------------ */
/* Delta of a wrapping counter, in counter units. max_range is the value at
 * which it wraps (powercap max_energy_range_uj); 0 = unknown (no wrap). */
uint64_t ct__counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range);
/* Trapezoid area of power samples: (t1-t0) * (p0+p1)/2, J. */
double ct__trapezoid_j(double t0_s, double p0_w, double t1_s, double p1_w);
double ct__j_to_kwh(double joules);
/* kWh WITH PUE of per-component energy in J (WITHOUT PUE): the one formula
 * for every kWh the tracker reports. */
double ct__energy_kwh(const double energy_j[CT_COMPONENT_COUNT], double pue);


/* Bounded, decimating series of power samples (memory does not grow). */
#define CT__SERIES_MAX 128
typedef struct ct__series {
    int n;       /* points stored */
    int stride;  /* raw samples per stored point */
    int pending; /* raw samples accumulated in acc */
    double acc_t, acc_p[CT_COMPONENT_COUNT];
    double t[CT__SERIES_MAX];                     /* s since tracker start */
    double p[CT__SERIES_MAX][CT_COMPONENT_COUNT]; /* W */
} ct__series;
void ct__series_reset(ct__series *s);
void ct__series_add(ct__series *s, double t_s, const double p_w[CT_COMPONENT_COUNT]);

/* ------------------------------------------------------------------ */
/* JSON writing (base/json.c)                                          */
/* ------------------------------------------------------------------ */
/* JSON string escaping into a FILE (quotes included). */
void ct__json_string(FILE *f, const char *s);
/* A finite double as JSON (null for NaN/inf). */
void ct__json_number(FILE *f, double v);

/* A growing text buffer (base/json.c): records are formatted here first and
 * leave in one write. On allocation failure `oom` is set and later output is
 * dropped; the caller checks it once at the end. */
typedef struct ct__buf {
    char *p;
    size_t len, cap;
    int oom;
} ct__buf;
void ct__buf_free(ct__buf *b);
void ct__buf_putc(ct__buf *b, char c);
void ct__buf_puts(ct__buf *b, const char *s);
void ct__buf_putn(ct__buf *b, const char *s, size_t n);
void ct__buf_printf(ct__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JSON string (quotes included) and number (null for NaN/inf) into a buffer. */
void ct__buf_json_string(ct__buf *b, const char *s);
void ct__buf_json_number(ct__buf *b, double v);

/* ------------------------------------------------------------------ */
/* ISO 8601 times (base/time.c)                                        */
/* ------------------------------------------------------------------ */
/* Parses "YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+hh:mm]" to Unix s; 0 or CT_EPARSE. */
int ct__parse_iso8601(const char *s, double *unix_s);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
void ct__format_iso8601(double unix_s, char *buf, size_t len);
/* "YYYY-MM-DDTHH:MMZ" (UTC). */
void ct__format_iso8601_minutes(double unix_s, char *buf, size_t len);

#endif /* CT_BASE_H */
