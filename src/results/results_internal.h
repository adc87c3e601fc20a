/*
 * results_internal.h - what the results code (aggregation, report) shares:
 * a small JSON reader for our own JSON Lines records, and the detailed view
 * of one run used by the report. Never installed.
 */
#ifndef CT_RESULTS_INTERNAL_H
#define CT_RESULTS_INTERNAL_H

#include "intensity/intensity.h"
#include "output/format.h"

/* ------------------------------------------------------------------ */
/* JSON reader (json_read.c)                                           */
/* ------------------------------------------------------------------ */
/* A tolerant reader for one JSON value (one JSON Lines record). Strict on
 * syntax (a damaged line is rejected as a whole), no limits on keys, depth
 * limited to CT__JSON_MAX_DEPTH. Nodes live in an arena owned by a
 * ct_json_doc that is reused line after line, so reading a file allocates
 * only while a line is bigger than any before it. */
#define CT__JSON_MAX_DEPTH 32

typedef enum {
    CT_JSON_NULL = 0,
    CT_JSON_FALSE,
    CT_JSON_TRUE,
    CT_JSON_NUMBER,
    CT_JSON_STRING,
    CT_JSON_ARRAY,
    CT_JSON_OBJECT
} ct_json_type;

typedef struct ct_json ct_json;
struct ct_json {
    ct_json_type type;
    double num;        /* CT_JSON_NUMBER */
    const char *str;   /* CT_JSON_STRING: NUL-terminated UTF-8 */
    const char *key;   /* member name when inside an object, else NULL */
    int count;         /* children of an array/object */
    ct_json *child;    /* first child */
    ct_json *next;     /* next sibling */
};

typedef struct ct_json_doc ct_json_doc;

ct_json_doc *ct__json_doc_new(void);
void ct__json_doc_free(ct_json_doc *doc);
/* Parses text[0..len) (one value, surrounding whitespace allowed). Earlier
 * results of this doc become invalid. Returns the root or NULL with a
 * message in err (e.g. "unexpected end of input at byte 812"). */
const ct_json *ct__json_parse(ct_json_doc *doc, const char *text, size_t len, char *err, size_t errlen);

/* Accessors; all accept NULL and return the fallback then. */
const ct_json *ct__json_get(const ct_json *obj, const char *key);
double ct__json_num(const ct_json *v, double fallback);
int ct__json_int(const ct_json *v, int fallback);
int ct__json_bool(const ct_json *v, int fallback); /* true/false, else fallback */
const char *ct__json_str(const ct_json *v, const char *fallback);

/* ------------------------------------------------------------------ */
/* One run in detail (run_detail.c): what the report draws              */
/* ------------------------------------------------------------------ */
typedef struct ct_run_epoch {
    int epoch;                              /* 1-based */
    double start_s, end_s;                  /* s since the run's start */
    double duration_s;
    double energy_j[CT_COMPONENT_COUNT];    /* J without PUE */
    int has[CT_COMPONENT_COUNT];
    double co2eq_g;                         /* with PUE; NaN when unknown (text logs) */
    double power_w[CT_COMPONENT_COUNT];     /* average over the epoch */
} ct_run_epoch;

typedef struct ct_run_device {
    char component[8];
    char name[128];
    char method[24];
    char source[24];
    int estimated;
} ct_run_device;

typedef struct ct_run_point {
    double t_s;                             /* s since the run's start */
    double p_w[CT_COMPONENT_COUNT];         /* NaN when that component has no value */
} ct_run_point;

typedef struct ct_run_total {
    int valid;
    int epochs;
    double duration_s, energy_kwh, co2eq_g, intensity_g_per_kwh;
    char intensity_source[160];
} ct_run_total;

typedef struct ct_run_detail {
    char path[512];
    char format[8];                         /* "jsonl" / "text" */
    char host[128];
    char version[32];
    double start_unix_s;                    /* NaN when unknown */
    int epochs_planned;                     /* 0 unknown */
    double pue;                             /* NaN when unknown */
    double intensity_g_per_kwh;             /* at start; NaN unknown */
    char intensity_source[160];
    char intensity_kind[16];
    int has_component[CT_COMPONENT_COUNT];
    int ndevices;
    ct_run_device *devices;
    int nepochs;
    ct_run_epoch *epochs;
    int npoints;
    ct_run_point *points;                   /* power over time (epoch steps for text logs) */
    ct_run_total actual, predicted;
    int early_stop;
} ct_run_detail;

/* Loads one run for the report. 0, or CT_EIO / CT_EPARSE / CT_ENOMEM with err. */
int ct__run_detail_load(const char *path, ct_run_detail *out, char *err, size_t errlen);
void ct__run_detail_free(ct_run_detail *d);

/* Reads a whole regular file (at most max bytes) into a NUL-terminated
 * malloc'd buffer. 0, CT_EIO (err says why, e.g. "too big", strerror) or CT_ENOMEM. */
int ct__results_read_file(const char *path, size_t max, char **out, size_t *outlen, char *err, size_t errlen);

/* Text log helpers shared by aggregate.c and run_detail.c (aggregate.c). */
/* Parses "H:MM:SS" or "H:MM:SS.ss" (the original's duration); -1 when not one. */
double ct__parse_hms(const char *s);
/* The consumption block "Actual"/"Predicted consumption for N epoch(s):" of an
 * output log; which = "Actual" or "Predicted". The last such block wins.
 * 0 and *total filled (valid=1), or CT_ENODATA. */
int ct__output_log_block(const char *text, const char *which, ct_run_total *total);

#endif /* CT_RESULTS_INTERNAL_H */
