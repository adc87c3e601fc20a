/*
 * carbontracker.h - track and predict the energy and carbon footprint of a
 * training run (Anthony, Kanding, Selvan 2020), as a C library.
 *
 * Contract, for every function below unless it says otherwise:
 *  - Return value: 0 (or a count) on success, a negative CT_E* code on
 *    failure; never a negated errno.
 *  - Error detail, one way: every call that fails records a sentence saying
 *    why in the calling thread, read with ct_last_error_message(). It stays
 *    unchanged until that thread's next library call; after a success its
 *    content is unspecified (it may hold a warning).
 *  - NULL pointers where a pointer is required give CT_EINVAL.
 *  - The library never calls exit() and prints only what `verbose` asks for.
 *  - Threads: a ct_tracker's epoch calls (ct_epoch_start, ct_epoch_progress,
 *    ct_epoch_end, ct_stop, ct_set_confirm_fn) come from one thread at a time, the
 *    training loop's; its getters (ct_get_*, ct_epoch_count, ct_device_count,
 *    ct_log_path, ct_jsonl_path) may be called from any thread at any time
 *    until ct_tracker_free, which must not run concurrently with any other
 *    call on that tracker. The library's own measurement thread
 *    synchronises with all of them. Different trackers are independent.
 *    Functions without a tracker are safe from any thread.
 *  - Strings returned as const char *: static (valid for the life of the
 *    process) unless the function says which object owns them and until
 *    when. Never free them.
 *  - Structs grow without breaking callers: every public struct ends with
 *    `double ct_reserved[8]`. A later version adds members only by taking
 *    the place of ct_reserved elements (the array shrinks, sizeof and the
 *    offsets of existing members never change), and a new member's zero
 *    value means what the version without it did. Callers start structs
 *    they pass in with the init function (ct_config_init) or zero them,
 *    and never touch ct_reserved. Bindings that mirror a struct check their
 *    size with ct_sizeof().
 *  - Units are in every name or comment: s, W, J, kWh, gCO2eq/kWh, g.
 *    Energy in joules (J) is what the hardware saw, WITHOUT PUE. Energy in
 *    kWh and CO2eq in g are totals WITH PUE (as in the original tool).
 *  - Names: ct_ and CT_ are this header's; ct__ names are the library's
 *    internals and are not exported.
 */
#ifndef CARBONTRACKER_H
#define CARBONTRACKER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CT_BUILDING_LIBRARY) && defined(__GNUC__)
#define CT_API __attribute__((visibility("default")))
#else
#define CT_API
#endif

#define CT_VERSION_MAJOR 0
#define CT_VERSION_MINOR 3
#define CT_VERSION_PATCH 0
#define CT_VERSION "0.3.0"

/* Error codes: one list, append-only. X(name, value, message) */
#define CT_ERRNO_MAP(X)                                                                  \
    X(OK, 0, "success")                                                                  \
    X(EINVAL, -1, "invalid argument or option")                                          \
    X(ENOMEM, -2, "out of memory")                                                       \
    X(ENOSOURCE, -3, "no energy source is available for a requested component")          \
    X(ESTATE, -4, "call out of order (e.g. epoch_end without epoch_start)")              \
    X(EIO, -5, "input/output error")                                                     \
    X(ETHREAD, -6, "could not start the measurement thread")                             \
    X(ESTOPPED, -7, "monitoring has stopped (monitor_epochs reached or ct_stop called)") \
    X(EBUDGET, -8, "an energy or CO2eq budget is exceeded (the epoch was recorded)")     \
    X(EDECLINED, -9, "the user declined to continue after the prediction")               \
    X(ENODATA, -10, "no such result yet")                                                \
    X(ENETWORK, -11, "network or service error")                                         \
    X(EPARSE, -12, "malformed input")                                                    \
    X(ENOTSUP, -13, "feature not compiled in or not supported here")

typedef enum {
#define CT__ERRNO_ENUM(name, value, msg) CT_##name = value,
    CT_ERRNO_MAP(CT__ERRNO_ENUM)
#undef CT__ERRNO_ENUM
} ct_errno;

/* The text of an error code; never NULL. Static string; any thread. */
CT_API const char *ct_strerror(int code);
/* The code's name as in this header, e.g. "CT_EINVAL"; "CT_EUNKNOWN" for a
 * value not in the list. Static string; any thread. */
CT_API const char *ct_err_name(int code);

/* Version string and the optional features compiled in, e.g. "curl jansson cairo".
 * Static strings; any thread. */
CT_API const char *ct_version(void);
CT_API const char *ct_features(void);

typedef enum { CT_COMPONENT_CPU = 0, CT_COMPONENT_GPU = 1, CT_COMPONENT_COUNT = 2 } ct_component;

/* Name of a component: "cpu" or "gpu" ("unknown" otherwise). Static string; any thread. */
CT_API const char *ct_component_name(ct_component c);

/* Receives the console text when ct_config.output_fn is set (see there). */
typedef void (*ct_output_fn)(void *user, int level, const char *text);

/*
 * Options. Field names follow the original carbontracker's constructor.
 * Always start from ct_config_init(). Strings are borrowed: they need to live
 * only until ct_tracker_new() returns (they are copied inside). NULL = unset.
 */
typedef struct ct_config {
    int epochs;                  /* total epochs of the training, >= 1 (required) */
    int epochs_before_pred;      /* epochs before the prediction: -1 all, 0 none (default 1) */
    int monitor_epochs;          /* epochs monitored before actual is reported: -1 all (default -1) */
    double update_interval;      /* s between background measurements (default 1.0, > 0) */
    int interpretable;           /* print equivalents (km by car) (default 1) */
    int stop_and_confirm;        /* ask "Continue training (y/n)?" after the prediction (default 0) */
    int ignore_errors;           /* on an internal error stop monitoring silently (default 0) */
    const char *components;      /* "all", "cpu", "gpu", "cpu,gpu", "gpu,cpu" (default "all") */
    int devices_by_pid;          /* only GPUs running a process of this process tree (default 0) */
    const char *log_dir;         /* directory for log files; NULL = no files */
    const char *log_file_prefix; /* prefix of log file names (default "") */
    int verbose;                 /* 0 silent, 1 results, 2 components and intensity (default 1) */
    int decimal_precision;       /* digits after the point in printed numbers (default 12) */
    const char *sim_cpu;         /* simulated CPU name; needs sim_cpu_tdp */
    double sim_cpu_tdp;          /* W */
    double sim_cpu_util;         /* 0..1 (default 0.5) */
    const char *sim_gpu;         /* simulated GPU name; needs sim_gpu_watts */
    double sim_gpu_watts;        /* W */
    double sim_gpu_util;         /* 0..1 (default 0.5) */
    double pue;                  /* power usage effectiveness (default 1.58, >= 1) */
    const char *country;     /* ISO 3166-1 alpha-2/alpha-3 or English name; NULL = env CT_COUNTRY, else world average */
    double carbon_intensity; /* fixed gCO2eq/kWh override; < 0 = unset (default -1) */

    /* Budgets (0 = none). Exceeding one makes ct_epoch_end return CT_EBUDGET. */
    double max_energy_kwh; /* kWh, with PUE */
    double max_co2_g;      /* g CO2eq */

    /* Live carbon intensity (used only when built with libcurl). */
    int offline;                          /* 1 = no network at all (also env CT_OFFLINE=1) */
    const char *zone;                     /* Electricity Maps zone, e.g. "DE" (env CT_ZONE) */
    const char *postcode;                 /* UK outward postcode (env CT_POSTCODE) */
    double latitude, longitude;           /* degrees; NaN = unset (env CT_LATITUDE/CT_LONGITUDE) */
    const char *cloud_provider;           /* e.g. "gcp" */
    const char *cloud_region;             /* e.g. "europe-west1" */
    const char *electricitymaps_key;      /* API key; never printed or logged */
    const char *electricitymaps_key_file; /* file holding the key; must not be readable by others */
    double intensity_refresh_s;           /* s between live refreshes (default 900) */

    /* Hardware shapes. */
    const char *rapl_zones; /* "auto" (packages + dram, default) or "psys" (platform zone instead) */
    int all_ranks;          /* 1 = measure on every rank, not only local rank 0 (default 0) */

    /* Live status line on stderr, updated in place every update_interval:
     * -1 = when verbose >= 1 and stderr is a terminal (default), 0 = never, 1 = always. */
    int status_line;

    /* Console text to a function instead of stdout (NULL = stdout, default):
     * every message the library would print with level <= verbose, without
     * the "CarbonTracker: " prefix and without the trailing newline (a
     * consumption block spans several lines). level: 1 results and
     * warnings, 2 details. May be called from the measurement thread, never
     * with the tracker's lock held; calls are serialised and in order. Not
     * the status line (stderr) or the stop_and_confirm question. */
    ct_output_fn output_fn;
    void *output_user; /* passed to output_fn */

    double ct_reserved[6]; /* room to grow; zeroed by ct_config_init (2 taken by output_fn, output_user) */
} ct_config;
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(ct_output_fn) == sizeof(double) && sizeof(void *) == sizeof(double),
               "ct_config: output_fn and output_user take the place of two ct_reserved doubles");
#endif

/* Sets the original's defaults (see each field) and zeroes the rest. */
CT_API void ct_config_init(ct_config *cfg);

typedef struct ct_tracker ct_tracker;

/*
 * Creates a tracker: validates the options, finds the energy sources and the
 * carbon intensity, opens log files, starts the measurement thread. Does not
 * touch the network. On failure *out is NULL and ct_last_error_message()
 * says why. Ownership: the caller frees the tracker with ct_tracker_free().
 * Any thread; cfg is only read, during the call.
 */
CT_API int ct_tracker_new(const ct_config *cfg, ct_tracker **out);

/* Marks the start of an epoch: reads every energy counter now. */
CT_API int ct_epoch_start(ct_tracker *t);

/*
 * Marks the end of an epoch: reads every counter now, records the epoch,
 * prints the prediction after epochs_before_pred epochs and the actual
 * consumption when monitor_epochs is reached. Returns 0, or
 *   CT_EBUDGET    a budget is exceeded (the epoch is recorded; go on or stop),
 *   CT_EDECLINED  stop_and_confirm was answered "n" (the caller should stop),
 *   CT_ESTOPPED   monitoring had already ended (nothing recorded),
 *   other negative codes on failure.
 */
CT_API int ct_epoch_end(ct_tracker *t);

/*
 * Progress within the current epoch: `fraction` (0..1) of it is done, e.g.
 * batches done / batches per epoch. Cheap enough for every batch (one clock
 * read, no other system call; the energy so far comes from the measurement
 * thread's last reading, extrapolated at the last measured power). With
 * marks, the prediction separates a warm-up at the start of epoch 1 from the
 * steady rate and is available before epoch 1 ends. Returns 0, or
 *   CT_EINVAL    fraction not in 0..1, NaN, or smaller than the previous mark
 *                of this epoch (nothing is recorded),
 *   CT_ESTATE    no epoch in progress (0 with ignore_errors),
 *   CT_ESTOPPED  monitoring has ended.
 */
CT_API int ct_epoch_progress(ct_tracker *t, double fraction);

/*
 * Ends monitoring: reports the actual consumption of the epochs so far (an
 * epoch in progress is closed first), writes the final log records and
 * stops the measurement thread. Idempotent. Needed when training stops
 * before all monitored epochs.
 */
CT_API int ct_stop(ct_tracker *t);

/*
 * Replaces the stop_and_confirm prompt (stdin) with fn, e.g. for a notebook or
 * a GUI. fn is called on the training thread from ct_epoch_end, right after
 * the prediction, and returns non-zero to continue, 0 to stop (ct_epoch_end
 * then returns CT_EDECLINED and the standard log says "Session ended by
 * user."). NULL restores the stdin prompt. Only used when stop_and_confirm is set.
 */
typedef int (*ct_confirm_fn)(void *user);
CT_API int ct_set_confirm_fn(ct_tracker *t, ct_confirm_fn fn, void *user);

/* Stops (as ct_stop) and frees everything. NULL is ignored. No other call
 * on t may run during it or follow it; strings t returned become invalid. */
CT_API void ct_tracker_free(ct_tracker *t);

/*
 * The detail of the last failure of a library call in the calling thread
 * (every failing call records one), e.g. "epoch_end called without
 * epoch_start". Never NULL; "" when there is none. The string belongs to
 * the thread and stays valid (and unchanged) until that thread's next
 * library call; copy it to keep it.
 */
CT_API const char *ct_last_error_message(void);

/*
 * DEPRECATED: use ct_last_error_message(). The same detail, kept on the
 * tracker: the last failure (or budget warning) of a call on t. Never NULL;
 * NULL t gives ct_last_error_message(). Owned by t, valid until the next
 * epoch call on t or ct_tracker_free; read it from the training thread.
 */
CT_API const char *ct_tracker_message(const ct_tracker *t);

/* Where a carbon intensity came from. */
typedef enum {
    CT_INTENSITY_DEFAULT = 0, /* world average, no location known */
    CT_INTENSITY_STATIC = 1,  /* per-country yearly average table */
    CT_INTENSITY_FIXED = 2,   /* user's carbon_intensity override */
    CT_INTENSITY_LIVE = 3,    /* a live service, measured */
    CT_INTENSITY_FORECAST = 4 /* a live service's forecast */
} ct_intensity_kind;

/* "default", "static", "fixed", "live" or "forecast" (the names in the JSON
 * Lines log); "unknown" otherwise. Static string; any thread. */
CT_API const char *ct_intensity_kind_name(ct_intensity_kind kind);

/* A result: the actual (measured) or the predicted consumption. */
typedef struct ct_result {
    int epochs;                            /* epochs covered */
    double duration_s;                     /* s */
    double energy_kwh;                     /* kWh, WITH PUE */
    double energy_j[CT_COMPONENT_COUNT];   /* J per component, WITHOUT PUE */
    int has_component[CT_COMPONENT_COUNT]; /* 1 if the component was measured or estimated */
    int estimated[CT_COMPONENT_COUNT];     /* 1 if that component's energy is an estimate */
    double co2eq_g;                        /* g CO2eq, WITH PUE */
    double intensity_g_per_kwh;            /* mean intensity used (energy weighted) */
    ct_intensity_kind intensity_kind;
    char intensity_source[160]; /* e.g. "Our World in Data 2023 (DK)" */
    /* 90 % interval of a prediction (6 of the reserved doubles); equal to the value for actual results */
    double energy_kwh_low, energy_kwh_high; /* kWh, WITH PUE */
    double duration_s_low, duration_s_high; /* s */
    double co2eq_g_low, co2eq_g_high;       /* g CO2eq, WITH PUE */
    double ct_reserved[2];
} ct_result;

/* Actual consumption so far (or at the end), copied into *out.
 * CT_ENODATA before the first epoch ends. Any thread. */
CT_API int ct_get_actual(const ct_tracker *t, ct_result *out);

/* Predicted consumption for all epochs, copied into *out: the current best
 * prediction (refined at every epoch and progress mark), with its 90 % interval.
 * CT_ENODATA while there is nothing to predict from (no epoch ended and fewer
 * than 3 progress marks). Any thread. */
CT_API int ct_get_predicted(const ct_tracker *t, ct_result *out);

/* One finished epoch (index 0-based): times in Unix s, energy in J without PUE. */
typedef struct ct_epoch_info {
    int epoch; /* 1-based number */
    double start_unix_s, end_unix_s;
    double duration_s;
    double energy_j[CT_COMPONENT_COUNT];
    double co2eq_g; /* WITH PUE */
    double ct_reserved[8];
} ct_epoch_info;

/* Number of finished epochs recorded (>= 0), or CT_EINVAL. Any thread. */
CT_API int ct_epoch_count(const ct_tracker *t);
/* Copies finished epoch index (0-based) into *out; CT_ENODATA when there
 * is no such epoch yet. Any thread. */
CT_API int ct_get_epoch(const ct_tracker *t, int index, ct_epoch_info *out);

/* Bits of ct_status.budget_exceeded. */
#define CT_BUDGET_ENERGY 1 /* max_energy_kwh exceeded */
#define CT_BUDGET_CO2 2    /* max_co2_g exceeded */

/* Live view while running (any thread may call; cheap). */
typedef struct ct_status {
    double elapsed_s;                    /* since ct_tracker_new */
    int epoch;                           /* current or last epoch number, 0 before the first */
    int epochs;                          /* total planned */
    int in_epoch;                        /* 1 between epoch_start and epoch_end */
    double power_w[CT_COMPONENT_COUNT];  /* last measured power per component, W */
    double energy_j[CT_COMPONENT_COUNT]; /* so far, J without PUE */
    double energy_kwh;                   /* so far, WITH PUE */
    double co2eq_g;                      /* so far, WITH PUE */
    int has_prediction;
    double predicted_energy_kwh;
    double predicted_co2eq_g;
    double predicted_remaining_s;    /* s left per the prediction */
    int budget_exceeded;             /* CT_BUDGET_ENERGY | CT_BUDGET_CO2: budgets exceeded (actual or predicted) */
    double predicted_energy_kwh_low; /* the 90 % interval of predicted_energy_kwh (issue 12) */
    double predicted_energy_kwh_high;
    double ct_reserved[6];
} ct_status;

/* Copies the live view into *out. Any thread, cheap (one lock, no I/O). */
CT_API int ct_get_status(const ct_tracker *t, ct_status *out);

/* One device being measured. */
typedef struct ct_device_desc {
    ct_component component;
    char name[128];  /* "cpu:0", "dram:0", "NVIDIA H200", ... */
    char uuid[96];   /* GPUs; "" otherwise */
    char method[24]; /* "counter", "power-polling", "estimate", "simulated" */
    char source[24]; /* "rapl", "nvml", "amdgpu", "tdp", "sim" */
    int estimated;   /* 1 when the energy is an estimate */
    int lost;        /* 1 when the device failed mid-run (energy so far is kept) */
    double ct_reserved[8];
} ct_device_desc;

/* Number of devices measured (fixed when the tracker is created), or CT_EINVAL. Any thread. */
CT_API int ct_device_count(const ct_tracker *t);
/* Copies device index (0-based, < ct_device_count) into *out, with its
 * current lost flag; CT_ENODATA out of range. Any thread. */
CT_API int ct_get_device(const ct_tracker *t, int index, ct_device_desc *out);

/* Paths of the log files of this run, or NULL when log_dir is unset or the
 * files could not be created. Owned by t: valid and unchanged until
 * ct_tracker_free(t). Any thread. */
CT_API const char *ct_log_path(const ct_tracker *t); /* standard log */
CT_API const char *ct_jsonl_path(const ct_tracker *t);

/* sizeof of a public struct by name ("ct_config", "ct_result", "ct_epoch_info",
 * "ct_status", "ct_device_desc", "ct_run_info", "ct_runs_total", "ct_plan_result"),
 * ct_reserved included; 0 for an unknown name. For bindings that mirror the
 * structs (the Python package checks its layouts with it). Any thread. */
CT_API size_t ct_sizeof(const char *type_name);

/* km travelled by an average new EU car that emit co2eq_g g of CO2eq (the
 * "This is equivalent to" line; figure from data/co2-equivalents.csv, EEA).
 * Pure; any thread. */
CT_API double ct_car_km(double co2eq_g);

/* Formats a duration in s as the original does: "H:MM:SS", or "H:MM:SS.ss"
 * (truncated to len-1 bytes). Pure; any thread. */
CT_API void ct_format_duration(double seconds, int with_hundredths, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Results: many runs aggregated, reports, live status                  */
/* ------------------------------------------------------------------ */

/* One run as read back from its log files (ct_parse_dirs). */
typedef struct ct_run_info {
    char file[512];             /* the file the numbers came from: the .jsonl, else the standard .log */
    char format[8];             /* "jsonl" or "text" */
    char host[128];             /* host name; "" when unknown (text logs); several joined by ',' */
    char job_id[64];            /* launcher job id; "" when none */
    int rank;                   /* launcher rank, -1 when none */
    double start_unix_s;        /* Unix s the run started; NaN when unknown */
    double end_unix_s;          /* Unix s of its last record; NaN when unknown */
    int epochs;                 /* epochs the numbers below cover */
    int epochs_planned;         /* epochs of the whole training, 0 when unknown */
    double duration_s;          /* s */
    double energy_kwh;          /* kWh, WITH PUE */
    double co2eq_g;             /* g CO2eq, WITH PUE */
    char intensity_source[160]; /* where the carbon intensity came from; "" when unknown */
    int estimated;              /* 1 energy (partly) estimated, 0 measured, -1 unknown (text logs) */
    int predicted;              /* 1 the numbers are the prediction, 0 the actual consumption */
    int early_stop;             /* 1 when training stopped before all monitored epochs */
    int complete;               /* 1 when monitoring ended normally (final record / "Finished monitoring") */
    int files;                  /* log files combined into this run (ranks, hosts, JSONL + text copy) */
    double ct_reserved[8];
} ct_run_info;

/* Totals over the runs of a ct_runs list. */
typedef struct ct_runs_total {
    int runs;          /* runs counted */
    double energy_kwh; /* kWh, WITH PUE */
    double co2eq_g;    /* g CO2eq */
    double duration_s; /* s, summed over runs */
    double car_km;     /* km travelled by car equivalent to co2eq_g */
    double ct_reserved[8];
} ct_runs_total;

typedef struct ct_runs ct_runs;

/* Flags of ct_parse_paths. */
#define CT_PARSE_RECURSIVE 1u /* also read subdirectories (symlinked ones are not followed) */

/*
 * Reads every run in the given paths: a directory gives every log in it (with
 * CT_PARSE_RECURSIVE, in its subdirectories too), a file gives the run it
 * belongs to. Logs are our JSON Lines files (`*_carbontracker.jsonl`, read as
 * a stream: no size limit) and the original's text logs
 * (`*_carbontracker.log` paired with `*_carbontracker_output.log`, also as
 * the Python carbontracker writes them). Per run: the actual consumption when
 * the run finished (actual epochs >= predicted epochs) or stopped early, else
 * the prediction. A run written both as JSON Lines and as text logs counts
 * once; ranks of one distributed job are combined (docs/parse-formats.md).
 * Files that are corrupt, truncated, empty, unpaired or not regular files
 * (a FIFO is never opened for reading in a blocking way) are skipped or used
 * as far as they are readable, with one warning each (ct_runs_warning); they
 * never fail the call. Returns 0 and *out (free with ct_runs_free),
 * CT_EINVAL for bad arguments, CT_EIO when a named path cannot be read,
 * CT_ENOMEM; the detail of a failure is in ct_last_error_message().
 * Thread-safe (no shared state; the error detail is per thread).
 */
CT_API int ct_parse_paths(const char *const *paths, int npaths, unsigned flags, ct_runs **out);
/* ct_parse_paths(dirs, ndirs, 0, out). */
CT_API int ct_parse_dirs(const char *const *dirs, int ndirs, ct_runs **out);
/* Frees runs and every string it returned. NULL is ignored. */
CT_API void ct_runs_free(ct_runs *runs);
/* The getters below only read runs: any thread, also concurrently, until
 * ct_runs_free. */
/* Number of runs; runs are sorted by start time, then file name. */
CT_API int ct_runs_count(const ct_runs *runs);
/* Copies run index (0-based); CT_EINVAL when out of range. */
CT_API int ct_runs_get(const ct_runs *runs, int index, ct_run_info *out);
/* Copies the totals over all runs into *out. */
CT_API int ct_runs_totals(const ct_runs *runs, ct_runs_total *out);
/* Warnings collected while reading (one per skipped or damaged file, and for
 * a log with missing epochs). The string is owned by runs and lives until
 * ct_runs_free; file names in it are escaped (control bytes as \xNN).
 * NULL when out of range. A ct_runs is read-only after ct_parse_paths:
 * the getters may be called from several threads at once. */
CT_API int ct_runs_warning_count(const ct_runs *runs);
CT_API const char *ct_runs_warning(const ct_runs *runs, int index);
/* The original's aggregate sentence: "The training of models in this work is
 * estimated to use X kWh of electricity contributing to Y kg of CO2eq. This is
 * equivalent to Z km travelled by car. Measured by carbontracker (URL)."
 * "Measured by" becomes "Estimated (not measured) by" or "Partly measured and
 * partly estimated by" when runs were estimated. Same as
 * ct_runs_format(runs, CT_RUNS_TEXT, buf, len). */
CT_API int ct_runs_sentence(const ct_runs *runs, char *buf, size_t len);

/* Formats of ct_runs_format (docs/parse-formats.md). */
enum {
    CT_RUNS_TEXT = 0, /* the sentence */
    CT_RUNS_JSON = 1, /* totals, every run (with its measurement), warnings */
    CT_RUNS_CSV = 2,  /* a header line and one line per run */
    CT_RUNS_LATEX = 3 /* a paragraph for a paper and the method's BibTeX entry */
};
/* Writes the runs in a format into buf (NUL-terminated, truncated to len-1
 * like snprintf; buf may be NULL when len is 0). Returns the length it
 * needed, or CT_EINVAL / CT_ENOMEM. Thread-safe. */
CT_API int ct_runs_format(const ct_runs *runs, int format, char *buf, size_t len);

/* One standard log and its output log (their texts; either may be NULL) as
 * the library reads them, written as JSON into buf like ct_runs_format: devices
 * per component, epoch durations, power lines per component, the actual and
 * predicted blocks with their equivalents, early stop. For bindings (the
 * Python package's parser); the schema is in docs/parse-formats.md. */
CT_API int ct_text_log_json(const char *std_text, const char *out_text, char *buf, size_t len);

/*
 * Renders the report of one run. path_in: a `_carbontracker.jsonl` file or a
 * standard text log (`_carbontracker.log`). path_out: `.pdf` (summary table and
 * plots), `.png` or `.svg` (the plots alone), chosen by the extension. The
 * output is written to a temporary file next to it and renamed into place
 * (a planted symlink at path_out is replaced, never followed). Rendering code
 * lives in libcarbontracker-report.so, loaded on first use (a tracked program
 * never loads cairo). Returns 0, CT_ENOTSUP when reports are not available
 * (built without cairo, or the report library cannot be loaded), CT_EPARSE
 * when the input has no epochs, CT_EIO for unreadable input or unwritable
 * output, CT_EINVAL for an unknown extension; the detail is in
 * ct_last_error_message(). Thread-safe.
 */
CT_API int ct_report_render(const char *path_in, const char *path_out);
/*
 * The figure alone for a paper: one panel per file, path_out naming the
 * first ("fig.pdf" gives fig-power.pdf, fig-energy.pdf, fig-co2eq.pdf and
 * fig-prediction.pdf; .pdf or .svg). Returns as ct_report_render.
 */
CT_API int ct_report_render_panels(const char *path_in, const char *path_out);
/*
 * The report of one multi-node job (issue 13): the logs of job job_id in dir
 * (dir/job_id/ as the SLURM plugin writes them, and the logs in dir whose
 * header names the job, one per node and rank) combined as `carbontracker
 * parse --job` combines them: the job's totals, a row per node (steps or
 * ranks, energy per component, CO2eq, measured or estimated), the nodes the
 * job's node lists name without records flagged as missing, and the plots
 * over the combined run. A step or rank that measured the same node as
 * another counts once. path_out as ct_report_render (.pdf: summary page and
 * plots; .png/.svg: the plots). Returns 0, CT_ENOTSUP without cairo,
 * CT_EINVAL (bad job id or extension), CT_ENODATA (no records of the job),
 * CT_EIO; the detail is in ct_last_error_message(). Thread-safe; the strings
 * are only read during the call.
 */
CT_API int ct_report_render_job(const char *dir, const char *job_id, const char *path_out);

/*
 * One status line from a ct_status, without newline or escape codes, e.g.
 * "elapsed 0:01:23 | epoch 3/10 | cpu 45.2 W gpu 250.1 W | 0.0123 kWh 4.1 g CO2eq | predicted 0.041 kWh, 0:03:10 left".
 * Truncated to len-1 bytes. Returns the length it needed (like snprintf) or
 * CT_EINVAL. Pure: any thread.
 */
CT_API int ct_format_status_line(const ct_status *st, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Planning a cleaner start time                                       */
/* ------------------------------------------------------------------ */

/* The best start for a training of a given duration within the forecast. */
typedef struct ct_plan_result {
    double start_unix_s, end_unix_s; /* the best window, Unix s (UTC) */
    double mean_g_per_kwh;           /* mean forecast intensity over the best window, gCO2eq/kWh */
    double now_g_per_kwh;            /* mean over a window of the same duration starting now, gCO2eq/kWh */
    double savings_percent;          /* 100 * (now - best) / now; 0 when starting now is best */
    double horizon_end_unix_s;       /* Unix s where the forecast ends */
    char source[160]; /* provider, area, fetch time, e.g. "UK Carbon Intensity API forecast, national, fetched ..." */
    double ct_reserved[8];
} ct_plan_result;

/*
 * Finds the start time within [now, now + within_s] (within_s 0: anywhere in
 * the forecast) with the lowest mean forecast carbon intensity over duration_s
 * (s, > 0). The location, key and offline setting come from cfg as for a
 * tracker (location fields, env CT_COUNTRY/CT_ZONE/CT_POSTCODE/CT_LATITUDE/
 * CT_LONGITUDE/CT_CLOUD_PROVIDER/CT_CLOUD_REGION, the Electricity Maps key);
 * only the location fields, offline and the key fields are read. With no
 * location it asks IP geolocation. BLOCKS on the network (each request
 * bounded by connect and total timeouts of a few seconds; env
 * CT_HTTP_TIMEOUT_MS sets the total); not for the training thread.
 * Returns 0 and fills *out; CT_ENODATA when no forecast is available for the
 * location (offline, no service for it, forecast refused or too short);
 * CT_ENETWORK / CT_EPARSE when the service failed; CT_EINVAL for bad options
 * or a refused key file (and for an Electricity Maps URL override that is
 * plain http to another machine: the key is not sent); CT_ENOTSUP when built
 * without libcurl and jansson, or when libcurl.so.4 cannot be loaded.
 * On failure ct_last_error_message() (this thread) says why, never the key;
 * on success it is empty.
 * Thread-safe: no shared state.
 */
CT_API int ct_plan(const ct_config *cfg, double duration_s, double within_s, ct_plan_result *out);


/* ------------------------------------------------------------------ */
/* Cluster and fleet metrics                                           */
/* ------------------------------------------------------------------ */

/*
 * Live counter of one device (index as for ct_get_device): the energy in J
 * (WITHOUT PUE) it has used since the tracker was created, as of the
 * measurement thread's latest reading; monotonic (counter wraps and device
 * resets are absorbed by the sources), kept when the device is lost. Cheap:
 * copies a value under the tracker's lock; any thread. For exporters that
 * publish node counters (the `carbontracker exporter` subcommand).
 * Returns 0, CT_EINVAL, or CT_ENODATA for an index out of range.
 */
CT_API int ct_get_device_energy(const ct_tracker *t, int index, double *energy_j);

/* The carbon intensity in effect now, gCO2eq/kWh, with its kind and source
 * text (source may be NULL). Any thread; never blocks on the network. */
CT_API int ct_get_intensity_now(const ct_tracker *t, double *g_per_kwh, ct_intensity_kind *kind, char *source,
                                size_t source_len);

/* ------------------------------------------------------------------ */
/* One multi-node job's logs combined (`carbontracker parse --job`)    */
/* ------------------------------------------------------------------ */

/* A node of a job (ct_job_node_get), or the job's totals (ct_job_totals). */
typedef struct ct_job_node_info {
    char node[128];                      /* node name; "" in the totals */
    char steps[160];                     /* steps or ranks found, e.g. "batch, 0 (within batch)"; "" in the totals */
    int nsteps;                          /* records (steps, ranks) found; the totals: every record */
    int counted;                         /* of them counted (the rest measured the same node as another) */
    double energy_j[CT_COMPONENT_COUNT]; /* J WITHOUT PUE, per component (ct_component), summed over epochs */
    double energy_kwh;                   /* kWh WITH PUE */
    double co2eq_g;                      /* g CO2eq */
    double duration_s;                   /* s, the longest counted record's (totals: the longest node's) */
    int measurement;                     /* 0 measured, 1 partly estimated, 2 estimated, -1 not stated */
    int complete;                        /* 1 when every record has its final record */
    int missing; /* 1: named by the job's node lists, no records; the totals: the number of such nodes */
    int nodes;   /* the totals: nodes with records; 1 for a node with records, 0 for a missing one */
    double ct_reserved[8];
} ct_job_node_info;

/* One record (a step's or a rank's log) of a job (ct_job_step_get). */
typedef struct ct_job_step_info {
    char node[128];                      /* the node it measured */
    char step[64];                       /* the step ("batch", "0") or rank ("rank1"), else the file name */
    char within[64];                     /* the step whose time covers it, when not counted; "" otherwise */
    char file[1024];                     /* the log file read */
    double energy_j[CT_COMPONENT_COUNT]; /* J WITHOUT PUE, per component, summed over epochs */
    int counted;                         /* 1 counted in its node's totals */
    int complete;                        /* 1 when it has its final record */
    double ct_reserved[8];
} ct_job_step_info;

typedef struct ct_job ct_job;

/*
 * Reads job job_id from the directories dirs[0..ndirs-1]: in each, DIR/job_id/
 * (the SLURM plugin's logs, one per node and step, and its .nodes host lists)
 * and the logs in DIR whose header names the job (a training's own log per node
 * and rank). Per node, a step that starts within the batch step (or lies within
 * another step) measured the same node-level counters and is listed but not
 * counted again; two ranks' logs that overlap in time on one host measured the
 * same node: the larger counts. Nodes the host lists name without records are
 * flagged missing. Returns 0 and *out (free with ct_job_free); CT_EINVAL (bad
 * job id: 1-63 of A-Z a-z 0-9 _ - ., not "." or ".."), CT_EIO (a directory
 * cannot be read), CT_ENODATA (no records of the job), CT_ENOMEM; the detail
 * is in ct_last_error_message(). Thread-safe (no shared state).
 */
CT_API int ct_job_read_dirs(const char *const *dirs, int ndirs, const char *job_id, ct_job **out);
/* ct_job_read_dirs(&dir, 1, job_id, out). */
CT_API int ct_job_read(const char *dir, const char *job_id, ct_job **out);
/* Frees job and every string it returned. NULL is ignored. */
CT_API void ct_job_free(ct_job *job);
/* The getters below only read job: any thread, also concurrently, until ct_job_free. */
/* The job's totals over its counted records into *out. 0 or CT_EINVAL. */
CT_API int ct_job_totals(const ct_job *job, ct_job_node_info *out);
/* Number of nodes: those with records (by name), then the missing ones; or CT_EINVAL. */
CT_API int ct_job_node_count(const ct_job *job);
/* Copies node index (0-based); CT_EINVAL when out of range. */
CT_API int ct_job_node_get(const ct_job *job, int index, ct_job_node_info *out);
/* Number of missing nodes (listed, no records), or CT_EINVAL. */
CT_API int ct_job_missing_count(const ct_job *job);
/* The name of missing node index (0-based), owned by job until ct_job_free; NULL when out of range. */
CT_API const char *ct_job_missing(const ct_job *job, int index);
/* Number of records read (steps, ranks), ordered by node then start time; or CT_EINVAL. */
CT_API int ct_job_step_count(const ct_job *job);
/* Copies record index (0-based); CT_EINVAL when out of range. */
CT_API int ct_job_step_get(const ct_job *job, int index, ct_job_step_info *out);
/* Warnings collected while reading (skipped files, logs without a final record,
 * steps counted once, overlaps); owned by job until ct_job_free; NULL when out of range. */
CT_API int ct_job_warning_count(const ct_job *job);
CT_API const char *ct_job_warning(const ct_job *job, int index);

#ifdef __cplusplus
}
#endif
#endif /* CARBONTRACKER_H */
