/*
 * results_internal.h - what the results code (parse, aggregation, report)
 * shares. One reader per log format:
 *   - json_read.c   one JSON value (one JSON Lines record);
 *   - jsonl_read.c  our JSON Lines files: safe open, streamed line by line,
 *                   records decoded into the structs below;
 *   - text_log.c    the original's text logs (standard + output log), read
 *                   line by line without regular expressions.
 * aggregate.c, run_detail.c, runs_format.c and the Python package (through
 * ct_text_log_json) all read through these. Never installed.
 */
#ifndef CT_RESULTS_INTERNAL_H
#define CT_RESULTS_INTERNAL_H

#include "base/base.h"

#include <stdio.h>
#include <sys/types.h>

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
    double num;      /* CT_JSON_NUMBER */
    const char *str; /* CT_JSON_STRING: NUL-terminated UTF-8 */
    const char *key; /* member name when inside an object, else NULL */
    int count;       /* children of an array/object */
    ct_json *child;  /* first child */
    ct_json *next;   /* next sibling */
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
/* Totals and measurement kinds shared by both formats                 */
/* ------------------------------------------------------------------ */
/* How the energy of a run was obtained. */
enum {
    CT__MEAS_UNKNOWN = -1, /* not stated (the original's logs) */
    CT__MEAS_MEASURED = 0, /* every component from a counter or power readings */
    CT__MEAS_PARTLY = 1,   /* some components estimated (TDP x utilisation, simulated) */
    CT__MEAS_ESTIMATED = 2 /* every component estimated */
};
/* "measured", "partly estimated", "estimated", "not stated". */
const char *ct__measurement_name(int meas);

typedef struct ct_run_total {
    int valid;
    int epochs;                 /* -1: the block gave no count ("Actual consumption:") */
    double duration_s;          /* -1 when unreadable */
    double energy_kwh, co2eq_g; /* with PUE */
    double intensity_g_per_kwh; /* the energy-weighted intensity the CO2eq used; NaN unknown */
    int measurement;            /* CT__MEAS_* */
    char intensity_source[160];
} ct_run_total;

/* ------------------------------------------------------------------ */
/* Safe opening (jsonl_read.c)                                          */
/* ------------------------------------------------------------------ */
/* Whole text files are read with base's ct__read_file (regular files only,
 * never blocking); JSON Lines files are streamed (below). */

/* ------------------------------------------------------------------ */
/* JSON Lines files (jsonl_read.c)                                      */
/* ------------------------------------------------------------------ */
/* Streams a file line by line through a buffer that only grows to the
 * longest line (at most 64 MiB; a longer line is returned empty and counted
 * in long_lines): a 10^6-epoch log is read in constant memory. */
typedef struct ct_jsonl_file {
    int fd;
    off_t size;
    off_t base_off; /* file offset of buf[0] */
    char *buf;
    size_t cap, len, pos;
    int eof;
    int skipping; /* inside a line over 64 MiB: read through, not kept */
    long lineno;
    long long_lines; /* such lines, returned as empty lines */
} ct_jsonl_file;

/* 0 or a CT_E* code (detail in ct_last_error_message()). */
int ct__jsonl_open(ct_jsonl_file *f, const char *path);
/* Next line (without its newline, may be empty): 1, 0 at the end, CT_EIO/CT_ENOMEM. */
int ct__jsonl_next(ct_jsonl_file *f, const char **line, size_t *len);
/* The last non-blank line of the file, read from its tail (at most 1 MiB
 * back) into the caller's malloc'd *out: 1 found, 0 none, CT_E* code.
 * Leaves the streaming position alone. */
int ct__jsonl_last_line(ct_jsonl_file *f, char **out, size_t *len);
void ct__jsonl_close(ct_jsonl_file *f);

typedef enum {
    CT__REC_OTHER = 0,
    CT__REC_HEADER,
    CT__REC_EPOCH,
    CT__REC_PREDICTION,
    CT__REC_FINAL,
    CT__REC_GAP, /* {"event":"gap"} (also "type"): records lost (disk full), docs/jsonl-schema.md */
    CT__REC_INTENSITY
} ct_rec_kind;
ct_rec_kind ct__jsonl_kind(const ct_json *rec);
/* A totals object (final's actual/predicted, or a prediction record). */
void ct__jsonl_total(const ct_json *o, ct_run_total *t);
/* Measurement of a header's devices list (CT__MEAS_*; UNKNOWN without one). */
int ct__jsonl_devices_measurement(const ct_json *devices);
/* Epochs a gap record says are missing (the length of its "epochs_missing"
 * list, or a count there or in "epochs"; else 0 = an unknown number). */
int ct__jsonl_gap_epochs(const ct_json *rec);

/* ------------------------------------------------------------------ */
/* The original's text logs (text_log.c)                                */
/* ------------------------------------------------------------------ */
/* Parses "H:MM:SS" or "H:MM:SS.ss" (the original's duration); -1 when not one. */
double ct__parse_hms(const char *s);

#define CT__TL_DETAIL 1u /* also keep devices and every epoch's power line */

typedef struct ct_text_power {
    int comp;            /* index into ct_text_log.comp_names */
    int value0, nvalues; /* values[value0 .. value0+nvalues) */
    int estimated;       /* the line ends in "(estimated)" */
} ct_text_power;

typedef struct ct_text_device {
    int comp; /* index into comp_names */
    char name[128];
} ct_text_device;

typedef struct ct_text_log {
    /* standard log */
    char version[32];
    double pue;                 /* NaN when not stated */
    double intensity_start;     /* ours: "Carbon intensity at start: X"; NaN */
    double intensity_avg;       /* the original's "average carbon intensity during training was X"; NaN */
    char intensity_source[160]; /* ours "(...)" or "detected location: ..." */
    int early_stop;             /* "Training was interrupted" */
    int epoch_lines;            /* "Epoch N:" lines */
    int ndurations;
    int power_lines[2];     /* cpu, gpu power lines */
    int estimated_lines[2]; /* of which "(estimated)" */
    int dram;               /* a "dram:" device among the CPU devices */
    /* output log */
    ct_run_total actual, predicted;             /* first block of each kind */
    const char *actual_equiv, *predicted_equiv; /* "This is equivalent to:" lines, into the output text; NULL */
    size_t actual_equiv_len, predicted_equiv_len;
    int finished; /* "Finished monitoring" */
    int stated;   /* CT__MEAS_* from "... consumption above is (partly) estimated" */
    /* with CT__TL_DETAIL */
    int ncomp;
    char comp_names[8][32]; /* lower case, in order of first appearance */
    int ndevices;
    ct_text_device *devices;
    double *durations; /* ndurations */
    int npower;
    ct_text_power *power;
    int nvalues;
    double *values;
} ct_text_log;

/* Reads the standard log (std, may be NULL) and the output log (out, may be
 * NULL). Both NUL-terminated. 0 or CT_ENOMEM (with CT__TL_DETAIL). */
int ct__text_log_read(const char *std, size_t stdlen, const char *out, size_t outlen, unsigned flags, ct_text_log *tl);
void ct__text_log_free(ct_text_log *tl);
/* The measurement of the run as the log states it (CT__MEAS_*). */
int ct__text_log_measurement(const ct_text_log *tl);
/* Writes the log as JSON (ct_text_log_json's schema) to f. */
void ct__text_log_write_json(FILE *f, const ct_text_log *tl);

/* ------------------------------------------------------------------ */
/* One run in detail (run_detail.c): what the report draws              */
/* ------------------------------------------------------------------ */
typedef struct ct_run_epoch {
    int epoch;             /* 1-based */
    double start_s, end_s; /* s since the run's start */
    double duration_s;
    double energy_j[CT_COMPONENT_COUNT]; /* J without PUE */
    int has[CT_COMPONENT_COUNT];
    double co2eq_g;                     /* with PUE; NaN when unknown (text logs) */
    double power_w[CT_COMPONENT_COUNT]; /* average over the epoch */
} ct_run_epoch;

typedef struct ct_run_device {
    char component[8];
    char name[128];
    char uuid[96];
    char method[24];
    char source[24];
    int estimated;
} ct_run_device;

typedef struct ct_run_point {
    double t_s;                     /* s since the run's start */
    double p_w[CT_COMPONENT_COUNT]; /* NaN when that component has no value */
} ct_run_point;

/* One prediction record of a JSON Lines log (issue 12): when it was made and
 * the predicted total with its 90 % interval (NaN when the record has none). */
typedef struct ct_run_pred {
    double at_epochs;                                   /* after_epochs + progress */
    double energy_kwh, energy_kwh_low, energy_kwh_high; /* with PUE */
} ct_run_pred;

typedef struct ct_run_detail {
    char path[512];
    char format[8]; /* "jsonl" / "text" */
    char host[128];
    char version[32];
    double start_unix_s;        /* NaN when unknown */
    int epochs_planned;         /* 0 unknown */
    double pue;                 /* NaN when unknown */
    double intensity_g_per_kwh; /* at start; NaN unknown */
    char intensity_source[160];
    char intensity_kind[16];
    int has_component[CT_COMPONENT_COUNT];
    int dram;        /* a DRAM zone was measured with the CPU */
    int measurement; /* CT__MEAS_* of the whole run */
    int ndevices;
    ct_run_device *devices;
    int nepochs;
    ct_run_epoch *epochs;
    int npoints;
    ct_run_point *points; /* power over time (epoch steps for text logs) */
    ct_run_total actual, predicted;
    int early_stop;
    int gaps;       /* gap records: epochs missing (disk full) */
    int gap_epochs; /* epochs they say are missing (0 unknown) */
    int npreds;     /* prediction records, in order: how the prediction evolved */
    ct_run_pred *preds;
    char job_id[64];   /* header's job_id, "" none (multi-node jobs: job_detail.c) */
    int rank;          /* header's rank, -1 none */
    double end_unix_s; /* the final record's end; NaN none */
} ct_run_detail;

/* Loads one run for the report. 0, or CT_EIO / CT_EPARSE / CT_ENOMEM with
 * the detail in ct_last_error_message(). */
int ct__run_detail_load(const char *path, ct_run_detail *out);
void ct__run_detail_free(ct_run_detail *d);
/* As ct__run_detail_load, also a log without epochs (a step that has just started). */
int ct__run_detail_load_any(const char *path, ct_run_detail *out);

/* ------------------------------------------------------------------ */
/* One multi-node job (job_detail.c): its logs combined for the report  */
/* ------------------------------------------------------------------ */
typedef struct ct_job_node {
    char node[128];
    char steps[160];                     /* the steps/ranks found, e.g. "0, batch (within 0)" */
    int nsteps, counted;                 /* records found; counted (the rest measured the same node) */
    double energy_j[CT_COMPONENT_COUNT]; /* J without PUE */
    double energy_kwh, co2eq_g;          /* with PUE */
    double duration_s;
    int measurement; /* CT__MEAS_* */
    int complete;    /* every record has its final record */
    int missing;     /* named by the job's node lists, no records */
} ct_job_node;

typedef struct ct_job_detail {
    char job_id[64];
    ct_run_detail run; /* the counted records combined: what the plots draw */
    int nnodes;        /* found first (by name), then the missing ones */
    ct_job_node *nodes;
    int nmissing, nfiles;
    double energy_j[CT_COMPONENT_COUNT], energy_kwh, co2eq_g, duration_s;
    int measurement;
    int nnotes;
    char notes[8][240]; /* steps counted once, overlaps, unfinished logs */
    int nrecs;          /* every record read, by node then start time */
    struct ct_job_rec {
        char node[128], step[64], within[64], file[1024];
        double energy_j[CT_COMPONENT_COUNT]; /* J without PUE, summed over epochs */
        int counted, complete;
    } * recs;
} ct_job_detail;

/* 1 when id is 1-63 of A-Z a-z 0-9 _ - . (not "." or ".."). */
int ct__job_id_valid(const char *id);
/* Reads job job_id from dir (dir/job_id/ as the SLURM plugin writes, and the
 * logs in dir whose header names the job), the rules of `parse --job`. 0, or
 * CT_EINVAL / CT_EIO / CT_ENODATA / CT_ENOMEM with the detail set. */
int ct__job_detail_load(const char *dir, const char *job_id, ct_job_detail *out);
/* As ct__job_detail_load over several directories (the run's path names the first). */
int ct__job_detail_load_dirs(const char *const *dirs, int ndirs, const char *job_id, ct_job_detail *out);
void ct__job_detail_free(ct_job_detail *j);

#endif /* CT_RESULTS_INTERNAL_H */
