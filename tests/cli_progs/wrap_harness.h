/*
 * wrap_harness.h - running the real `carbontracker` binary (env CT_CLI) on
 * tests/cli_progs/ct_child.c for tests/test_cli_wrap.c: stdout and stderr to
 * files, pipes or a terminal (a pty), signals and answers at the right
 * moment, and a small reader of the JSON Lines log.
 */
#ifndef CT_WRAP_HARNESS_H
#define CT_WRAP_HARNESS_H

#include <stddef.h>

#define SIM_W 50.0 /* 100 W TDP x 0.5 utilisation */

typedef struct run_opts {
    double timeout_s;       /* the tool is killed after this (a hang fails the test) */
    const char *ready_text; /* once this appears in its stdout ... */
    int ready_signal;       /* ... send this signal to the tool (0: none) */
    int ready_ctrl_c;       /* ... or type Ctrl-C on its controlling terminal (a pty); 2: Ctrl-Z, then
                               once the tool has stopped, note the command's state (pid_file) and
                               continue the tool (SIGCONT, as fg does) */
    int stdout_pipe;        /* stdout to a pipe, with the arrival time of each chunk */
    const char *watch_text; /* with stdout_pipe: when this first arrived */
    int stderr_pty;         /* stderr to a terminal (raw pty); what it shows comes back in err */
    const char *env[4];     /* extra "K=V" for the tool */
    const char *stdin_text; /* the tool's stdin (else inherited) */
    int merge_err;          /* stderr to the same pipe or file as stdout (2>&1) */
    int term_rows;          /* > 0: stdout and stderr on one terminal (raw pty) of this size; what it
                               shows comes back in out */
    int term_cols;
    const char *answer;      /* stdin is a pipe; this is written to it once ready_text appeared */
    const char *pid_file;    /* with answer: the command's pid, written there by ct_child "pid" */
    const char *ready_touch; /* once ready_text appeared in the output, this file is created */
    const char *ready_jsonl; /* ... or once the JSON Lines log in this directory has an epoch record */
    int resize_rows;         /* with term_rows and ready_text: the terminal is resized to this ... */
    int resize_cols;         /* ... once ready_text showed (it is the tool's controlling terminal) */
} run_opts;

typedef struct run_result {
    int status; /* exit code, 128+N when killed by N, -1 on timeout */
    char *out, *err;
    size_t out_len, err_len;
    double elapsed_s;
    double watch_at_s;   /* with watch_text: seconds after start it arrived, -1 never */
    char state_at_ready; /* with answer and pid_file: the command's state (/proc/PID/stat) when asked */
} run_result;

typedef struct jsonl {
    char *text;
    char *lines[256];
    int n;
} jsonl;

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* Common options: simulated 50 W CPU, PUE 1, fixed intensity, quiet about location. */
#define SIM                                                                                                       \
    "--sim-cpu", "TestCPU", "--sim-cpu-tdp", "100", "--sim-cpu-util", "0.5", "--components", "cpu", "--pue", "1", \
        "--carbon-intensity", "1000"

extern const run_opts quick; /* timeout 20 s, output to files */

double now_s(void);
void sleep_s(double s);
char *read_all(const char *path, size_t *len);
char proc_state(const char *pid_file);
int contains(const char *hay, size_t len, const char *needle);
int count_of(const char *hay, const char *needle);
/* Runs CT_CLI with args (NULL-terminated, without argv[0]) in the directory tmp. */
void run_cli(const char *tmp, const run_opts *o, run_result *res, const char *const *args);
void result_free(run_result *r);
void dump_on_failure(const run_result *r);
double json_num(const char *p, const char *key);
double json_energy_cpu(const char *line);
int json_is_event(const char *line, const char *event);
int jsonl_load(const char *logdir, jsonl *j);
int jsonl_count(const jsonl *j, const char *event);
const char *jsonl_nth(const jsonl *j, const char *event, int nth);
void check_epoch(const jsonl *j, int k, double want_s);
int setup(void **state);
int teardown(void **state);

#endif
