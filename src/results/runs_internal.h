/*
 * runs_internal.h - the list of runs behind ct_runs, shared by the files of
 * `parse`, from the top down: aggregate.c (ct_parse_paths, the public
 * getters), scan.c (which files make a run), runs_read.c (reading one run),
 * ranks_merge.c (ranks of a job), runs_list.c (records, warnings, interned
 * strings; calls none of the others) and runs_format.c (text, JSON, CSV,
 * LaTeX). Never installed.
 *
 * Memory: one compact record per run (about 200 B with its file name);
 * host, job id and intensity source are interned (one copy per distinct
 * string), so 50,000 runs keep well under 0.5 kB each.
 */
#ifndef CT_RESULTS_RUNS_INTERNAL_H
#define CT_RESULTS_RUNS_INTERNAL_H

#include "results_internal.h"

typedef struct run_rec {
    char *file;         /* owned */
    const char *host;   /* interned ("" when unknown) */
    const char *job_id; /* interned */
    const char *source; /* interned intensity source */
    double start, end;  /* Unix s; NaN unknown */
    double duration_s, energy_kwh, co2eq_g;
    double intensity; /* g/kWh the CO2eq used (energy-weighted); NaN unknown */
    int rank, epochs, epochs_planned;
    int gaps, gap_epochs; /* gap records (epochs missing), their epoch count */
    short files;
    signed char measurement; /* CT__MEAS_* */
    char format;             /* 'j' JSON Lines, 't' text */
    unsigned char predicted, early_stop, complete, measuring, dropped;
} run_rec;

typedef struct intern_tab {
    char **slots;
    size_t cap, n;
} intern_tab;

struct ct_runs {
    run_rec *runs;
    int n, cap;
    char **warnings;
    int nw, capw;
    intern_tab strings;
};

/* runs_list.c */
int ct__runs_warn(ct_runs *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ct__runs_intern(ct_runs *r, const char *s); /* NULL when out of memory */
run_rec *ct__runs_new(ct_runs *r);                      /* NULL when out of memory */

/* runs_read.c: the kinds of log files a run has, their name endings, and
 * reading one group of them (a run's base path, which of the kinds exist).
 * Returns 0 (counted or warned) or CT_ENOMEM. */
enum { CT__K_JSONL = 0, CT__K_STD = 1, CT__K_OUT = 2, CT__K_COUNT = 3 };
extern const char *const ct__kind_suffix[CT__K_COUNT];
int ct__runs_read_group(ct_runs *r, ct_json_doc *doc, const char *base, const int have[3]);

/* ranks_merge.c: ranks of one job combined into one run (drops the others). 0 or CT_ENOMEM. */
int ct__runs_combine_ranks(ct_runs *r);

/* scan.c: how paths become groups of files, each read with ct__runs_read_group */
int ct__runs_collect(ct_runs *r, const char *const *paths, int npaths, unsigned flags, ct_json_doc *doc);

#endif /* CT_RESULTS_RUNS_INTERNAL_H */
