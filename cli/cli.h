/* cli.h - the carbontracker command-line tool. Uses only the public API. */
#ifndef CT_CLI_H
#define CT_CLI_H

#include "carbontracker.h"

#include <stdio.h>

/* How a wrapped command is turned into epochs and what budgets do. */
typedef struct ct_wrap_opts {
    const char *epoch_pattern; /* POSIX ERE: a matching output line starts an epoch; NULL = whole run is one epoch */
    const char *epoch_end_pattern; /* POSIX ERE: a matching output line ends an epoch */
    const char *epoch_preset;      /* "keras", "lightning", "transformers", "ultralytics", "auto"; NULL none */
    int on_budget_stop;            /* 0 = warn, 1 = stop the program (SIGTERM, then SIGKILL) */
    double grace_s;                /* s between SIGTERM and SIGKILL (default 10) */
    int pty;                       /* run the command on a pseudo-terminal: -1 when the output is a terminal
                                      (default), 0 never, 1 always */
    int status_line;               /* 1: a status line on the terminal's last row (default) */
    const char *epochs_flag;       /* the --epochs flag as the user typed it, for messages */
    /* Rewrites a library message in the user's words (option names as flags); NULL: as is. */
    void (*say_flags)(const void *ctx, const char *msg, char *out, size_t len);
    const void *say_ctx;
} ct_wrap_opts;

/* Runs argv (argv[0] looked up in PATH, no shell) under a tracker built from
 * cfg; argv NULL or empty: an empty run is measured (as the original). Returns the exit status for the tool: the command's own exit code,
 * 128+N when it was killed by signal N, 127 when it could not be started. */
int ct_cli_wrap(const ct_config *cfg, const ct_wrap_opts *w, char *const argv[]);

/* Subcommands; each gets argv from the subcommand's name on. */
int ct_cli_plan(int argc, char **argv);
int ct_cli_parse(int argc, char **argv);
int ct_cli_report(int argc, char **argv);
/* Cluster and fleet metrics (issue 13): cli/exporter.c */
int ct_cli_exporter(int argc, char **argv);
/* A JSON string (quotes included) with quotes, backslashes and control bytes
 * escaped: cli/json_out.c. */
void ct_cli_json_string(FILE *f, const char *s);
/* `parse --job JOBID DIR...`: cli/job.c */
int ct_cli_parse_job(int argc, char **argv);

#endif
