/*
 * test_cli_wrap.c - the CLI wrapper (cli/wrap.c) end to end: the real
 * `carbontracker` binary (env CT_CLI) runs tests/cli_progs/ct_child.c
 * (CT_CHILD_PATH), a command scripted by its arguments, through the harness
 * in tests/cli_progs/wrap_harness.c.
 *
 * Energy is known because the CPU is simulated: --sim-cpu-tdp 100
 * --sim-cpu-util 0.5 is 50 W, so an epoch of d seconds is 50 * d J exactly
 * (the simulated source integrates a constant power). Epoch durations are
 * set by the child's sleeps, but a busy 2-core machine can delay the
 * tool's reading of any line, so durations are not asserted to a window; the
 * energy of each epoch is checked against 50 W times the duration the
 * tracker measured itself, and where an order matters the child waits for
 * the test (ct_child "waitfor") instead of sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"
#include "wrap_harness.h"

#ifndef CT_CHILD_PATH
#error "CT_CHILD_PATH (the ct_child helper) must be defined by the build"
#endif


static void test_exit_codes(void **state) {
    const char *tmp = *state;
    run_result r;
    run_cli(tmp, &quick, &r, ARGS(SIM, "--", CT_CHILD_PATH, "out", "hi\\n", "exit", "0"));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0);
    assert_true(contains(r.out, r.out_len, "hi\n"));
    /* The actual consumption, printed through the tracker (verbose 1). */
    assert_true(contains(r.out, r.out_len, "Actual consumption"));
    result_free(&r);

    run_cli(tmp, &quick, &r, ARGS(SIM, "--", CT_CHILD_PATH, "exit", "3"));
    assert_int_equal(r.status, 3);
    result_free(&r);

    /* Without "--", like the original: options end at the first non-option. */
    run_cli(tmp, &quick, &r, ARGS(SIM, CT_CHILD_PATH, "exit", "42"));
    assert_int_equal(r.status, 42);
    result_free(&r);
}

static void test_missing_and_not_executable(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    run_result r;
    run_cli(tmp, &quick, &r, ARGS(SIM, "--log_dir", logdir, "--", "ct-no-such-program-xyz", "arg"));
    assert_int_equal(r.status, 127);
    assert_true(contains(r.err, r.err_len, "ct-no-such-program-xyz"));
    assert_true(contains(r.err, r.err_len, "not found"));
    /* Nothing was run, so nothing was tracked or logged. */
    char *j = ts_find_suffix(logdir, "_carbontracker.jsonl");
    assert_null(j);
    result_free(&r);

    run_cli(tmp, &quick, &r, ARGS(SIM, "--", "/nonexistent/dir/prog"));
    assert_int_equal(r.status, 127);
    result_free(&r);

    /* A file without execute permission: 126, as a shell says. */
    assert_int_equal(ts_write(tmp, "notexec.sh", "#!/bin/sh\nexit 0\n"), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/notexec.sh", tmp);
    chmod(path, 0644);
    run_cli(tmp, &quick, &r, ARGS(SIM, "--", path));
    assert_int_equal(r.status, 126);
    assert_true(contains(r.err, r.err_len, "Permission denied"));
    result_free(&r);

    /* A directory is not a program either. */
    run_cli(tmp, &quick, &r, ARGS(SIM, "--", tmp));
    assert_int_equal(r.status, 126);
    result_free(&r);
}

static void test_killed_by_signal(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    run_result r;
    run_cli(tmp, &quick, &r, ARGS(SIM, "--log_dir", logdir, "--", CT_CHILD_PATH, "sleep", "0.2", "raise", "KILL"));
    if (r.status != 137) dump_on_failure(&r);
    assert_int_equal(r.status, 128 + SIGKILL);
    /* Results are still written: one epoch and the final record. */
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 1);
    assert_int_equal(jsonl_count(&j, "final"), 1);
    check_epoch(&j, 0, 0.2);
    free(j.text);
    result_free(&r);
}

/* kill -TERM <tool pid>: only the tool gets it; it forwards it, waits for the
 * command, and still writes the results. */
static void test_sigterm_forwarded(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    run_opts o = {.timeout_s = 20, .ready_text = "ready", .ready_signal = SIGTERM};
    run_result r;
    run_cli(tmp, &o, &r, ARGS(SIM, "--log_dir", logdir, "--", CT_CHILD_PATH, "out", "ready\\n", "sleep", "10"));
    if (r.status != 143) dump_on_failure(&r);
    assert_int_equal(r.status, 128 + SIGTERM); /* the command's own death, not the tool's */
    assert_true(r.elapsed_s < 8.0);
    assert_true(contains(r.out, r.out_len, "Actual consumption"));
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "header"), 1);
    assert_int_equal(jsonl_count(&j, "epoch"), 1);
    const char *fin = jsonl_nth(&j, "final", 0);
    assert_non_null(fin);
    assert_non_null(strstr(fin, "\"actual\""));
    free(j.text);
    char *std = ts_find_suffix(logdir, "_carbontracker.log");
    assert_non_null(std);
    free(std);
    result_free(&r);

    /* A command that handles SIGTERM gets it exactly once and decides its
     * exit status itself; the tool waits for it. */
    char counts[1024];
    snprintf(counts, sizeof counts, "%s/counts", tmp);
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--", CT_CHILD_PATH, "count", "TERM", "out", "ready\\n", "sleep", "0.8", "counts", counts, "exit",
                 "5"));
    assert_int_equal(r.status, 5);
    size_t l;
    char *c = read_all(counts, &l);
    assert_non_null(c);
    assert_string_equal(c, "INT=0 TERM=1 HUP=0 QUIT=0\n");
    free(c);
    result_free(&r);

    /* The same through the output pipes (pattern mode). */
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "count", "TERM", "out", "ready\\n", "sleep",
                 "0.8", "counts", counts, "exit", "6"));
    assert_int_equal(r.status, 6);
    c = read_all(counts, &l);
    assert_non_null(c);
    assert_string_equal(c, "INT=0 TERM=1 HUP=0 QUIT=0\n");
    free(c);
    result_free(&r);
}

/* Ctrl-C on the terminal goes to the whole foreground process group (tool
 * and command): the command must get SIGINT once, not a second time
 * forwarded, and the tool must survive to write the results. */
static void test_terminal_ctrl_c_delivered_once(void **state) {
    const char *tmp = *state;
    char counts[1024];
    snprintf(counts, sizeof counts, "%s/counts", tmp);
    run_opts o = {.timeout_s = 20, .ready_text = "ready", .ready_ctrl_c = 1};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--", CT_CHILD_PATH, "count", "INT", "out", "ready\\n", "sleep", "0.8", "counts", counts, "exit",
                 "7"));
    if (r.status != 7) dump_on_failure(&r);
    assert_int_equal(r.status, 7);
    assert_true(contains(r.out, r.out_len, "Actual consumption"));
    size_t l;
    char *c = read_all(counts, &l);
    assert_non_null(c);
    assert_string_equal(c, "INT=1 TERM=0 HUP=0 QUIT=0\n");
    free(c);
    result_free(&r);

    /* A command that dies of it: 130. */
    run_cli(tmp, &o, &r, ARGS(SIM, "--", CT_CHILD_PATH, "out", "ready\\n", "sleep", "10"));
    assert_int_equal(r.status, 128 + SIGINT);
    assert_true(r.elapsed_s < 8.0);
    assert_true(contains(r.out, r.out_len, "Actual consumption"));
    result_free(&r);
}

static void test_passthrough_byte_exact(void **state) {
    const char *tmp = *state;
    /* NUL, 0xff, CR, an empty line, a partial last line; a large block; and
     * stderr kept apart. --verbose 0: stdout is the command's alone. */
    static const char want_err[] = "E1\n\0\xfe no newline";
    const size_t nbytes = 300000;
    run_result r;
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--verbose", "0", "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "out",
                 "a\\0b\\xff\\r\\n\\nepoch 1\\n", "err", "E1\\n\\0\\xfe no newline", "bytes", "300000", "out",
                 "partial"));
    assert_int_equal(r.status, 0);
    const char head[] = "a\0b\xff\r\n\nepoch 1\n";
    size_t hl = sizeof head - 1;
    assert_int_equal(r.out_len, hl + nbytes + strlen("partial"));
    assert_memory_equal(r.out, head, hl);
    for (size_t k = 0; k < nbytes; k++)
        if ((unsigned char)r.out[hl + k] != (unsigned char)((k * 7 + 3) % 256))
            fail_msg("stdout byte %zu differs", hl + k);
    assert_memory_equal(r.out + hl + nbytes, "partial", 7);
    assert_int_equal(r.err_len, sizeof want_err - 1);
    assert_memory_equal(r.err, want_err, sizeof want_err - 1);
    result_free(&r);

    /* Without a pattern the command writes to the same files directly. */
    run_cli(tmp, &quick, &r, ARGS(SIM, "--verbose", "0", "--", CT_CHILD_PATH, "out", "x\\0y", "err", "e\\xff"));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.out_len, 3);
    assert_memory_equal(r.out, "x\0y", 3);
    assert_int_equal(r.err_len, 2);
    assert_memory_equal(r.err, "e\xff", 2);
    result_free(&r);
}

/* Each line is passed on when it is printed, not when the command exits. */
static void test_passthrough_unbuffered(void **state) {
    /* No timing: the command waits (waitfor) for a file that this test creates
     * only once it has seen the line; a wrapper that held the line back until
     * the command exits would leave the command waiting (exit 95 after 20 s). */
    const char *tmp = *state;
    char go[1024];
    snprintf(go, sizeof go, "%s/go", tmp);
    run_opts o = {.timeout_s = 40, .stdout_pipe = 1, .ready_text = "hello\n", .ready_touch = go};
    run_result r;
    run_cli(
        tmp, &o, &r,
        ARGS(SIM, "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "out", "hello\\n", "waitfor", go, "out", "bye\\n"));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0);
    assert_int_equal(access(go, F_OK), 0);
    result_free(&r);

    /* A partial line (a prompt, a progress bar) is not held back either. */
    unlink(go);
    o.ready_text = "50%";
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "out", "progress 50%", "waitfor", go, "out",
                 "\\n"));
    assert_int_equal(r.status, 0);
    assert_int_equal(access(go, F_OK), 0);
    result_free(&r);
}

/* Removes the status line's drawing from what a terminal showed: every
 * "ESC 7 ... ESC 8" (cursor saved, something drawn elsewhere, cursor back)
 * and the "\n ... ESC[1A" that made room for it; what is left is what the
 * command and the tracker wrote, in order. */
static size_t strip_status(const char *in, size_t n, char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\033' && i + 1 < n && in[i + 1] == '7') {
            const char *e = NULL;
            for (size_t j = i + 2; j + 1 < n; j++)
                if (in[j] == '\033' && in[j + 1] == '8') {
                    e = in + j;
                    break;
                }
            if (e) {
                i = (size_t)(e - in) + 1;
                if (k > 0 && out[k - 1] == '\n' && i + 4 < n && memcmp(in + i + 1, "\033[1A", 4) == 0) {
                    k--; /* the setup's "\n" and "ESC[1A" */
                    i += 4;
                }
                continue;
            }
        }
        out[k++] = in[i];
    }
    out[k] = '\0';
    return k;
}

/* On a terminal the command runs on a pseudo-terminal one row shorter than
 * the terminal; the status line lives on the last row (a scroll region keeps
 * the command's output above it), is drawn with the cursor saved and
 * restored, and never breaks a line of the command's. */
static void test_status_line_on_terminal(void **state) {
    const char *tmp = *state;
    char ttyf[1024];
    snprintf(ttyf, sizeof ttyf, "%s/tty", tmp);
    run_opts o = {.timeout_s = 20, .term_rows = 24, .term_cols = 80};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--epochs", "3", "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "tty", ttyf, "out", "epoch\\n",
                 "err", "stderr line one\\n", "sleep", "0.3", "err", "partial ", "sleep", "1.3", "err", "end\\n", "out",
                 "\\x1b[32mepoch\\x1b[0m\\n", "sleep", "0.4", "err", "stderr line two\\n"));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0);
    /* The command saw a terminal on both streams, one row less. */
    size_t l;
    char *t = read_all(ttyf, &l);
    assert_non_null(t);
    assert_string_equal(t, "out=1 err=1 rows=23 cols=80\n");
    free(t);
    /* The last row is kept: scroll region rows 1-23, the status line drawn on row 24. */
    assert_true(contains(r.out, r.out_len, "\033[1;23r"));
    assert_true(contains(r.out, r.out_len, "\0337\033[24;1H\033[2Kelapsed 0:00:0"));
    assert_true(contains(r.out, r.out_len, "epoch 1/3"));
    /* Small numbers in a unit that keeps their digits. */
    assert_true(contains(r.out, r.out_len, "Wh "));
    assert_false(contains(r.out, r.out_len, "0.0000 kWh"));
    assert_false(contains(r.out, r.out_len, " 0.0 g CO2eq"));
    /* ... and given back at the end. */
    assert_true(contains(r.out, r.out_len, "\033[r"));
    /* Without the status line's drawing, the command's output is whole and
     * in the order written, colours included. */
    char *plain = malloc(r.out_len + 1);
    strip_status(r.out, r.out_len, plain);
    const char *want = "epoch\nstderr line one\npartial end\n\033[32mepoch\033[0m\n";
    if (!strstr(plain, want)) fprintf(stderr, "---- stripped:\n%s\n----\n", plain);
    assert_non_null(strstr(plain, want));
    assert_non_null(strstr(plain, "stderr line two\n"));
    assert_false(contains(plain, strlen(plain), "elapsed "));
    free(plain);
    result_free(&r);
}

static void test_epoch_pattern(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    run_result r;
    /* Setup output before the first epoch and a teardown line after the
     * last; lines on stderr count as well. */
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--log_dir", logdir, "--epochs", "3", "--epoch-pattern", "^Epoch [0-9]+/3$", "--", CT_CHILD_PATH,
                 "out", "loading data\\n", "sleep", "0.2", "out", "Epoch 1/3\\n", "sleep", "0.4", "err", "Epoch 2/3\\n",
                 "sleep", "0.4", "out", "Epoch 3/3\\r\\n", "sleep", "0.4", "out",
                 "Epoch 3/3 done (not an epoch line)\\n"));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0);
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    if (jsonl_count(&j, "epoch") != 3) dump_on_failure(&r);
    assert_int_equal(jsonl_count(&j, "epoch"), 3);
    for (int k = 0; k < 3; k++) check_epoch(&j, k, 0.4);
    /* The prediction after the first epoch: 3 x epoch 1; then one refined
     * prediction after each later epoch (issue 12). */
    assert_int_equal(jsonl_count(&j, "prediction"), 3);
    assert_int_equal((int)json_num(jsonl_nth(&j, "prediction", 2), "after_epochs"), 3);
    const char *p = jsonl_nth(&j, "prediction", 0);
    assert_int_equal((int)json_num(p, "epochs"), 3);
    double e1 = json_energy_cpu(jsonl_nth(&j, "epoch", 0));
    double pe = json_energy_cpu(p);
    assert_true(fabs(pe - 3 * e1) < 0.01 * 3 * e1);
    /* Its record comes after the first epoch and before the second. */
    int ip = -1, ie1 = -1, ie2 = -1;
    for (int i = 0; i < j.n; i++) {
        if (json_is_event(j.lines[i], "prediction") && ip < 0) ip = i;
        if (json_is_event(j.lines[i], "epoch")) ie1 < 0 ? (ie1 = i) : ie2 < 0 ? (ie2 = i) : 0;
    }
    assert_true(ie1 < ip && ip < ie2);
    assert_int_equal(jsonl_count(&j, "final"), 1);
    free(j.text);
    /* The prediction is printed (verbose 1) and the output passed on. */
    assert_true(contains(r.out, r.out_len, "Predicted consumption for 3 epoch(s)"));
    assert_true(contains(r.out, r.out_len, "loading data\nEpoch 1/3\n"));
    /* The prediction came when epoch 2 started (its line was on stderr):
     * between the stdout lines of epochs 1 and 3. */
    const char *l1 = strstr(r.out, "Epoch 1/3\n"), *pr = strstr(r.out, "Predicted consumption"),
               *l3 = strstr(r.out, "Epoch 3/3\r\n");
    assert_true(l1 && pr && l3 && l1 < pr && pr < l3);
    assert_true(contains(r.err, r.err_len, "Epoch 2/3\n"));
    assert_false(contains(r.err, r.err_len, "no line of the command's output matched"));
    result_free(&r);

    /* A pattern that never matches: told so, not silently nothing. */
    run_cli(tmp, &quick, &r, ARGS(SIM, "--epoch-pattern", "^Epoch", "--", CT_CHILD_PATH, "out", "epoch 1\\n"));
    assert_int_equal(r.status, 0);
    assert_true(contains(r.err, r.err_len, "no line of the command's output matched --epoch-pattern '^Epoch'"));
    result_free(&r);
}

static void test_epoch_end_pattern(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    run_result r;
    /* The first epoch starts with the command; each "done" line ends one and
     * the next starts; after the last planned epoch the rest is not an epoch. */
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--log_dir", logdir, "--epochs", "2", "--epoch-end-pattern", "^done", "--", CT_CHILD_PATH,
                 "sleep", "0.3", "out", "done 1\\n", "sleep", "0.3", "out", "done 2\\n", "sleep", "0.3"));
    assert_int_equal(r.status, 0);
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 2);
    check_epoch(&j, 0, 0.3);
    check_epoch(&j, 1, 0.3);
    free(j.text);
    result_free(&r);

    /* Both patterns: epochs are exactly from a start line to an end line
     * (the 0.2 s between them is not counted). */
    char logdir2[1024];
    snprintf(logdir2, sizeof logdir2, "%s/logs2", tmp);
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--log_dir", logdir2, "--epochs", "2", "--epoch-pattern", "^start", "--epoch-end-pattern", "^end",
                 "--", CT_CHILD_PATH, "out", "start\\n", "sleep", "0.3", "out", "end\\n", "sleep", "0.2", "out",
                 "start\\n", "sleep", "0.3", "out", "end\\n", "sleep", "0.2"));
    assert_int_equal(r.status, 0);
    assert_true(jsonl_load(logdir2, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 2);
    check_epoch(&j, 0, 0.3);
    check_epoch(&j, 1, 0.3);
    free(j.text);
    result_free(&r);
}

/* What is refused before the command starts: a bad pattern or option (2),
 * a tracker that cannot measure (1, unless --ignore-errors). */
static void test_refused_before_start(void **state) {
    const char *tmp = *state;
    char mark[1024];
    snprintf(mark, sizeof mark, "%s/started", tmp);
    run_result r;
    run_cli(tmp, &quick, &r, ARGS(SIM, "--epoch-pattern", "(unclosed", "--", CT_CHILD_PATH, "touch", mark));
    assert_int_equal(r.status, 2);
    assert_true(contains(r.err, r.err_len, "--epoch-pattern"));
    assert_true(contains(r.err, r.err_len, "(unclosed"));
    assert_true(contains(r.err, r.err_len, "not started"));
    assert_int_not_equal(access(mark, F_OK), 0);
    result_free(&r);

    run_cli(tmp, &quick, &r, ARGS(SIM, "--epoch-end-pattern", "[z-a]", "--", CT_CHILD_PATH, "touch", mark));
    assert_int_equal(r.status, 2);
    assert_true(contains(r.err, r.err_len, "--epoch-end-pattern"));
    assert_int_not_equal(access(mark, F_OK), 0);
    result_free(&r);

    /* An invalid option of the tracker's. */
    run_cli(tmp, &quick, &r, ARGS(SIM, "--pue", "0.5", "--", CT_CHILD_PATH, "touch", mark));
    assert_int_equal(r.status, 2);
    assert_true(contains(r.err, r.err_len, "pue"));
    assert_true(contains(r.err, r.err_len, "not started"));
    assert_int_not_equal(access(mark, F_OK), 0);
    result_free(&r);

    /* No GPU source (no NVML library, no drm tree) for --components gpu. */
    run_opts nogpu = {.timeout_s = 20,
                      .env = {"CT_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1", "CT_DRM_ROOT=/nonexistent/drm"}};
    run_cli(tmp, &nogpu, &r, ARGS("--components", "gpu", "--", CT_CHILD_PATH, "touch", mark));
    assert_int_equal(r.status, 1);
    assert_true(contains(r.err, r.err_len, "gpu"));
    assert_true(contains(r.err, r.err_len, "not started"));
    assert_int_not_equal(access(mark, F_OK), 0);
    result_free(&r);

    /* ... unless errors are to be ignored: then the command runs untracked. */
    run_cli(tmp, &nogpu, &r,
            ARGS("--ignore-errors", "--components", "gpu", "--", CT_CHILD_PATH, "touch", mark, "exit", "4"));
    assert_int_equal(r.status, 4);
    assert_int_equal(access(mark, F_OK), 0);
    assert_false(contains(r.out, r.out_len, "Actual consumption"));
    result_free(&r);
}

static void test_budget_warn(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    /* Epochs of 0.3 s at 50 W: 15 J = 4.17e-6 kWh each (PUE 1); 3 epochs are
     * predicted at >= 1.25e-5 kWh after the first, over 1e-5 by >= 25 %; the
     * actual passes 1e-5 kWh during the third epoch. */
    run_result r;
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--log_dir", logdir, "--max-energy-kwh", "1e-5", "--epochs", "3", "--epoch-pattern", "^epoch",
                 "--", CT_CHILD_PATH, "out", "epoch\\n", "sleep", "0.3", "out", "epoch\\n", "sleep", "0.3", "out",
                 "epoch\\n", "sleep", "0.3", "out", "finished\\n"));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0); /* warn: the command runs to its end */
    assert_true(contains(r.out, r.out_len, "finished\n"));
    /* Which budget and by how much: one warning (the prediction, the first to
     * exceed), not one from the library and one per kind from the tool; the
     * numbers keep their digits in a scaled unit (not "1.25e-05 kWh"). */
    assert_int_equal(count_of(r.err, "budget exceeded"), 1);
    assert_int_equal(count_of(r.out, "budget"), 0);
    assert_int_equal(count_of(r.err, "energy budget of 10 mWh (--max-energy-kwh 1e-05) by "), 1);
    /* Normally the prediction after epoch 1 (3 x ~15 J) is the first to
     * exceed; on a loaded machine the check of the consumption so far can
     * come first. Either way one warning, its numbers in mWh. */
    const char *w = strstr(r.err, "budget exceeded: the ");
    assert_non_null(w);
    int predicted = strncmp(w, "budget exceeded: the predicted energy for 3 epoch(s), ", 54) == 0;
    assert_true(predicted || strncmp(w, "budget exceeded: the energy used so far, ", 41) == 0);
    char *unit = NULL;
    double v = strtod(strchr(w, ',') + 2, &unit);
    assert_memory_equal(unit, " mWh,", 5);
    assert_true(v > 10.0);
    const char *by = strstr(w, ") by ") + 5;
    char *unit2 = NULL;
    assert_true(fabs(strtod(by, &unit2) - (v - 10.0)) < 0.01);
    assert_memory_equal(unit2, " mWh", 4);
    assert_true(contains(r.err, r.err_len, "the command goes on (--on-budget warn)"));
    assert_false(contains(r.err, r.err_len, "SIGTERM"));
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 3);
    if (predicted) { /* the number told is the prediction logged, to its 4 digits */
        double pk = json_num(jsonl_nth(&j, "prediction", 0), "energy_kwh") * 1e6;
        assert_true(fabs(v - pk) <= 0.0005 * pk + 1e-9);
    }
    free(j.text);
    result_free(&r);
}

static void test_budget_stop(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    /* A training that never ends, 0.2 s epochs: 10 J = 2.78e-6 kWh, at 1000
     * g/kWh 2.78e-3 g each; 100 epochs are predicted at 0.28 g > 0.05 g. */
    run_result r;
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--log_dir", logdir, "--max-co2-g", "0.05", "--on-budget", "stop", "--grace", "2", "--epochs",
                 "100", "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "repeat", "epoch\\n", "0.2"));
    if (r.status != 143) dump_on_failure(&r);
    assert_int_equal(r.status, 128 + SIGTERM);
    assert_true(r.elapsed_s < 15.0);
    assert_true(contains(r.err, r.err_len, "budget exceeded: the predicted CO2eq for 100 epoch(s)"));
    assert_true(contains(r.err, r.err_len, "(--max-co2-g 0.05)"));
    assert_true(contains(r.err, r.err_len, "stopping the command"));
    assert_true(contains(r.err, r.err_len, "sent SIGTERM"));
    assert_false(contains(r.err, r.err_len, "sent SIGKILL"));
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_true(jsonl_count(&j, "epoch") >= 1);
    assert_int_equal(jsonl_count(&j, "final"), 1);
    free(j.text);
    result_free(&r);

    /* A command that ignores SIGTERM gets SIGKILL after the grace period. */
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--max-co2-g", "0.05", "--on-budget", "stop", "--grace", "0.5", "--epochs", "100",
                 "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "ignore", "TERM", "repeat", "epoch\\n", "0.2"));
    if (r.status != 137) dump_on_failure(&r);
    assert_int_equal(r.status, 128 + SIGKILL);
    assert_true(contains(r.err, r.err_len, "sent SIGTERM"));
    assert_true(contains(r.err, r.err_len, "sent SIGKILL"));
    /* First epoch 0.2 s + grace 0.5 s, give or take scheduling. */
    assert_true(r.elapsed_s >= 0.65 && r.elapsed_s < 15.0);
    result_free(&r);
}

/* --stop-and-confirm answered "n" after the prediction stops the command
 * like a budget; "y" lets it finish. */
static void test_stop_and_confirm(void **state) {
    const char *tmp = *state;
    run_opts o = {.timeout_s = 20, .stdin_text = "n\n"};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--stop-and-confirm", "--grace", "2", "--epochs", "5", "--epoch-pattern", "^epoch", "--",
                 CT_CHILD_PATH, "repeat", "epoch\\n", "0.2"));
    if (r.status != 143) dump_on_failure(&r);
    assert_int_equal(r.status, 128 + SIGTERM);
    assert_true(contains(r.err, r.err_len, "declined"));
    assert_true(contains(r.err, r.err_len, "sent SIGTERM"));
    result_free(&r);

    o.stdin_text = "y\n";
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--stop-and-confirm", "--epochs", "3", "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "out",
                 "epoch\\n", "sleep", "0.1", "out", "epoch\\n", "sleep", "0.1", "out", "epoch\\n", "exit", "0"));
    assert_int_equal(r.status, 0);
    assert_false(contains(r.err, r.err_len, "SIGTERM"));
    assert_true(contains(r.out, r.out_len, "Actual consumption for 3 epoch(s)"));
    result_free(&r);
}

/* Without epochs from the output the whole run is one epoch: the actual so
 * far is watched while it runs. 1e-5 kWh = 36 J = 0.72 s at 50 W. */
static void test_budget_stop_whole_run(void **state) {
    const char *tmp = *state;
    run_result r;
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--update-interval", "0.1", "--max-energy-kwh", "1e-5", "--on-budget", "stop", "--grace", "2",
                 "--", CT_CHILD_PATH, "sleep", "10"));
    if (r.status != 143) dump_on_failure(&r);
    assert_int_equal(r.status, 128 + SIGTERM);
    assert_true(r.elapsed_s >= 0.7 && r.elapsed_s < 8.0);
    assert_true(contains(r.err, r.err_len, "budget exceeded: the energy used so far"));
    assert_true(contains(r.err, r.err_len, "sent SIGTERM"));
    result_free(&r);
}

/* "0\n1\n...\n(n-1)\n": what ct_child "alternate n" writes, alone, to one file. */
static char *alternate_text(int n) {
    char *b = malloc((size_t)n * 8 + 1);
    size_t k = 0;
    for (int i = 0; i < n; i++) k += (size_t)sprintf(b + k, "%d\n", i);
    b[k] = '\0';
    return b;
}

/* Ctrl-Z stops the command (its own session: the terminal's SIGTSTP reaches
 * the tool only) and then the tool; continuing the tool continues both. */
static void test_ctrl_z_stops_both(void **state) {
    const char *tmp = *state;
    char pidf[1024];
    snprintf(pidf, sizeof pidf, "%s/pid", tmp);
    run_opts o = {.timeout_s = 20, .ready_text = "ready", .ready_ctrl_c = 2, .pid_file = pidf};
    run_result r;
    run_cli(tmp, &o, &r, ARGS(SIM, "--", CT_CHILD_PATH, "pid", pidf, "out", "ready\n", "sleep", "0.5", "exit", "9"));
    if (r.status != 9 || r.state_at_ready != 'T') dump_on_failure(&r);
    assert_int_equal(r.state_at_ready, 'T');
    assert_int_equal(r.status, 9);
    assert_true(contains(r.out, r.out_len, "Actual consumption"));
    result_free(&r);
}

/* --pty always: into a file too, a stdio-buffered program's epoch lines
 * arrive when printed (line buffering), bytes unchanged. */
static void test_pty_always_into_file(void **state) {
    const char *tmp = *state;
    char logdir[1024], go[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    snprintf(go, sizeof go, "%s/go", tmp);
    run_opts o = {.timeout_s = 30, .ready_text = "epoch 1\n", .ready_touch = go};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--verbose", "0", "--pty", "always", "--log_dir", logdir, "--epochs", "2", "--epoch-pattern",
                 "^epoch", "--", CT_CHILD_PATH, "stdio", "epoch 1\n", "waitfor", go, "stdio", "epoch 2\n"));
    assert_int_equal(r.status, 0);
    assert_int_equal(access(go, F_OK), 0); /* the first line was in the file before the second was printed */
    assert_int_equal(r.out_len, strlen("epoch 1\nepoch 2\n"));
    assert_memory_equal(r.out, "epoch 1\nepoch 2\n", r.out_len);
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 2);
    assert_true(json_num(jsonl_nth(&j, "epoch", 0), "duration_s") > 0.0);
    free(j.text);
    result_free(&r);
}

/* The terminal is resized: the command's pseudo-terminal gets the new size
 * (less the status line's row) before the command gets SIGWINCH. */
static void test_window_size_follows(void **state) {
    const char *tmp = *state;
    char wf[1024];
    snprintf(wf, sizeof wf, "%s/winch", tmp);
    run_opts o = {.timeout_s = 20,
                  .term_rows = 24,
                  .term_cols = 80,
                  .ready_text = "ready\n",
                  .resize_rows = 40,
                  .resize_cols = 132};
    run_result r;
    run_cli(tmp, &o, &r, ARGS(SIM, "--", CT_CHILD_PATH, "out", "ready\n", "winch", wf));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0);
    size_t l;
    char *t = read_all(wf, &l);
    assert_non_null(t);
    assert_string_equal(t, "winch rows=39 cols=132\n");
    free(t);
    /* The scroll region follows the new size. */
    assert_true(contains(r.out, r.out_len, "\033[1;39r"));
    result_free(&r);
}

/* stdout and stderr into one pipe or one file (2>&1), with an epoch pattern
 * (the output goes through the tool): the bytes are exactly what the command
 * alone writes there, in its order. The old wrapper gave 0,2,4,...,1,3,... */
static void test_output_order_pipe_and_file(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    char *want = alternate_text(150);
    for (int pipe_mode = 1; pipe_mode >= 0; pipe_mode--) {
        run_opts o = {.timeout_s = 20, .stdout_pipe = pipe_mode, .merge_err = 1};
        run_result r;
        run_cli(tmp, &o, &r,
                ARGS(SIM, "--verbose", "0", "--log_dir", logdir, "--epoch-pattern", "^0$", "--", CT_CHILD_PATH,
                     "alternate", "150"));
        assert_int_equal(r.status, 0);
        if (r.out_len != strlen(want) || memcmp(r.out, want, r.out_len) != 0) dump_on_failure(&r);
        assert_int_equal(r.out_len, strlen(want));
        assert_memory_equal(r.out, want, r.out_len);
        result_free(&r);
    }
    free(want);
}

/* On a terminal the command writes to a pseudo-terminal: stdout and stderr
 * in the order written, as on the terminal without the tool. */
static void test_output_order_terminal(void **state) {
    const char *tmp = *state;
    char logdir[1024], ttyf[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    snprintf(ttyf, sizeof ttyf, "%s/tty", tmp);
    char *want = alternate_text(150);
    run_opts o = {.timeout_s = 20, .term_rows = 30, .term_cols = 100};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--verbose", "0", "--log_dir", logdir, "--epoch-pattern", "^0$", "--", CT_CHILD_PATH, "tty", ttyf,
                 "alternate", "150"));
    assert_int_equal(r.status, 0);
    if (r.out_len != strlen(want) || memcmp(r.out, want, r.out_len) != 0) dump_on_failure(&r);
    assert_int_equal(r.out_len, strlen(want));
    assert_memory_equal(r.out, want, r.out_len);
    size_t l;
    char *t = read_all(ttyf, &l);
    assert_non_null(t);
    assert_string_equal(t, "out=1 err=1 rows=30 cols=100\n"); /* no status line at --verbose 0 */
    free(t);
    result_free(&r);
    free(want);
}

/* A program that buffers its stdio output (a block in a pipe, a line on a
 * terminal): on a terminal its epoch lines arrive when printed, so the
 * epochs have their durations (the old wrapper measured zero-length epochs
 * at exit). */
static void test_buffered_program_on_terminal(void **state) {
    const char *tmp = *state;
    char logdir[1024], go[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    snprintf(go, sizeof go, "%s/go", tmp);
    /* The program prints its second epoch line only once its first one has
     * shown on the terminal: with its output held in a stdio buffer it would
     * wait in vain (and both lines would arrive together at exit). */
    run_opts o = {.timeout_s = 30, .term_rows = 24, .term_cols = 80, .ready_text = "epoch 1\n", .ready_touch = go};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--verbose", "0", "--log_dir", logdir, "--epochs", "2", "--epoch-pattern", "^epoch", "--",
                 CT_CHILD_PATH, "stdio", "epoch 1\n", "waitfor", go, "stdio", "epoch 2\n", "sleep", "0.1"));
    assert_int_equal(r.status, 0);
    assert_int_equal(access(go, F_OK), 0);
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 2);
    /* Epoch 1 ran from its line to the next one, printed only after the
     * first had been passed on: it has a length. */
    double d = json_num(jsonl_nth(&j, "epoch", 0), "duration_s");
    if (!(d > 0.0)) dump_on_failure(&r);
    assert_true(d > 0.0);
    free(j.text);
    result_free(&r);
}

/* A tqdm bar is written "\rEpoch 1:   0%|..." and ended only by its next
 * redraw, which can come a training step later: the epoch starts when the
 * bar first names it. The program draws its next bar only after the tool
 * has logged epoch 0 (ended by epoch 1's first bar). */
static void test_epoch_starts_at_first_bar(void **state) {
    const char *tmp = *state;
    char logdir[1024], go[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    snprintf(go, sizeof go, "%s/go", tmp);
    run_opts o = {.timeout_s = 40, .ready_jsonl = logdir, .ready_touch = go};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--log_dir", logdir, "--epochs", "2", "--epoch-preset", "lightning", "--", CT_CHILD_PATH, "out",
                 "\rEpoch 0:   0%|          | 0/2", "sleep", "0.1", "out", "\rEpoch 0: 100%|##########| 2/2", "out",
                 "\rEpoch 1:   0%|          | 0/2", "waitfor", go, "out", "\rEpoch 1: 100%|##########| 2/2\n"));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0); /* 95: the program waited in vain */
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 2);
    free(j.text);
    result_free(&r);
}

/* Epochs that start without the tracker printing anything leave a \r
 * progress bar alone on the terminal (no line break added). */
static void test_progress_bar_left_alone(void **state) {
    const char *tmp = *state;
    run_opts o = {.timeout_s = 20, .term_rows = 24, .term_cols = 80};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--no-logs", "--epochs", "3", "--epochs-before-pred", "0", "--epoch-preset", "lightning", "--",
                 CT_CHILD_PATH, "out", "\rEpoch 0: 10%|#", "sleep", "0.1", "out", "\rEpoch 0: 90%|#########", "out",
                 "\rEpoch 1: 10%|#", "sleep", "0.1", "out", "\rEpoch 1: 90%|#########", "out", "\rEpoch 2: 10%|#",
                 "sleep", "0.1", "out", "\rEpoch 2: 90%|#########\n"));
    assert_int_equal(r.status, 0);
    char *plain = malloc(r.out_len + 1);
    strip_status(r.out, r.out_len, plain);
    const char *want = "\rEpoch 0: 10%|#\rEpoch 0: 90%|#########\rEpoch 1: 10%|#\rEpoch 1: 90%|#########"
                       "\rEpoch 2: 10%|#\rEpoch 2: 90%|#########\n";
    if (!strstr(plain, want)) fprintf(stderr, "---- stripped:\n%s\n----\n", plain);
    assert_non_null(strstr(plain, want));
    free(plain);
    result_free(&r);
}

/* Recordings of real framework output (tests/fixtures/frameworks/README.md)
 * replayed by the child, 7 bytes per write: each preset finds the epochs the
 * framework ran, once each. */
static void test_framework_presets(void **state) {
    const char *tmp = *state;
    static const struct {
        const char *file, *preset, *epochs;
        int want;
    } cases[] = {
        {"keras3_fit_checkpoint.txt", "keras", "10", 10},     {"lightning_tqdm_cr.txt", "lightning", "2", 2},
        {"transformers_trainer.txt", "transformers", "3", 3}, {"ultralytics_yolo_train.txt", "ultralytics", "3", 3},
        {"keras3_fit_checkpoint.txt", "auto", "10", 10},      {"lightning_tqdm_cr.txt", "auto", "2", 2},
        {"transformers_trainer.txt", "auto", "3", 3},         {"ultralytics_yolo_train.txt", "auto", "3", 3},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char logdir[1024], fixture[1024];
        snprintf(logdir, sizeof logdir, "%s/logs%zu", tmp, c);
        snprintf(fixture, sizeof fixture, "%s/fixtures/frameworks/%s", ts_env("CT_TEST_SOURCE_DIR"), cases[c].file);
        run_result r;
        run_cli(tmp, &quick, &r,
                ARGS(SIM, "--log_dir", logdir, "--epochs", cases[c].epochs, "--epoch-preset", cases[c].preset, "--",
                     CT_CHILD_PATH, "cat", fixture, "7"));
        jsonl j;
        int n = jsonl_load(logdir, &j) ? jsonl_count(&j, "epoch") : -1;
        if (r.status != 0 || n != cases[c].want || contains(r.err, r.err_len, "WARNING")) {
            fprintf(stderr, "case %s with --epoch-preset %s: %d epochs, want %d\n", cases[c].file, cases[c].preset, n,
                    cases[c].want);
            dump_on_failure(&r);
        }
        assert_int_equal(r.status, 0);
        assert_int_equal(n, cases[c].want);
        assert_false(contains(r.err, r.err_len, "WARNING"));
        /* The replay is byte for byte (into a file). */
        size_t fl;
        char *f = read_all(fixture, &fl);
        assert_true(contains(r.out, r.out_len, "Actual consumption for"));
        char head[65];
        memcpy(head, f, fl < 64 ? fl : 64);
        head[fl < 64 ? fl : 64] = '\0';
        assert_true(contains(r.out, r.out_len, head));
        free(f);
        free(j.text);
        result_free(&r);
    }
}

/* Patterns: lines end at \r as well as \n; ANSI codes are not matched; a
 * group names the epoch (Keras 3 prints two lines per epoch). */
static void test_epoch_lines_cr_ansi_groups(void **state) {
    const char *tmp = *state;
    char fixture[1024];
    snprintf(fixture, sizeof fixture, "%s/fixtures/frameworks/keras3_fit_checkpoint.txt", ts_env("CT_TEST_SOURCE_DIR"));
    char lfix[1024];
    snprintf(lfix, sizeof lfix, "%s/fixtures/frameworks/lightning_tqdm_cr.txt", ts_env("CT_TEST_SOURCE_DIR"));
    static const struct {
        const char *pattern, *epochs, *what;
        int fixture, want, warns;
    } cases[] = {
        /* Keras 3 with the pattern the docs used to suggest: each epoch twice, told so. */
        {"^Epoch [0-9]+", "10", "keras, no group", 0, 10, 1},
        {"^Epoch ([0-9]+)", "10", "keras, group", 0, 10, 0},
        /* Lightning: "\rEpoch 1:" inside a line. */
        {"^Epoch ([0-9]+):", "2", "lightning, group", 1, 2, 0},
        /* ANSI colour around the epoch line. */
        {"^Epoch [0-9]+$", "2", "ansi", 2, 2, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char logdir[1024];
        snprintf(logdir, sizeof logdir, "%s/logs%zu", tmp, c);
        run_result r;
        if (cases[c].fixture == 2)
            run_cli(tmp, &quick, &r,
                    ARGS(SIM, "--log_dir", logdir, "--epochs", cases[c].epochs, "--epoch-pattern", cases[c].pattern,
                         "--", CT_CHILD_PATH, "out", "\\x1b[1mEpoch 1\\x1b[0m\\n", "out",
                         "\\x1b[1mEpoch 2\\x1b[0m\\r\\n"));
        else
            run_cli(tmp, &quick, &r,
                    ARGS(SIM, "--log_dir", logdir, "--epochs", cases[c].epochs, "--epoch-pattern", cases[c].pattern,
                         "--", CT_CHILD_PATH, "cat", cases[c].fixture ? lfix : fixture, "5"));
        jsonl j;
        int n = jsonl_load(logdir, &j) ? jsonl_count(&j, "epoch") : -1;
        int warned = contains(r.err, r.err_len, "more than --epochs");
        if (r.status != 0 || n != cases[c].want || warned != cases[c].warns) {
            fprintf(stderr, "case %s: %d epochs (want %d), warned %d\n", cases[c].what, n, cases[c].want, warned);
            dump_on_failure(&r);
        }
        assert_int_equal(r.status, 0);
        assert_int_equal(n, cases[c].want);
        assert_int_equal(warned, cases[c].warns);
        if (cases[c].warns) /* the output's epochs beyond --epochs are reported, with the whole run */
            assert_true(contains(r.err, r.err_len, "the whole run: "));
        if (n > 0) free(j.text);
        result_free(&r);
    }
}

/* More epochs in the output than --epochs, or none at all: a warning, and the
 * whole run is still measured and reported. */
static void test_epochs_beyond_and_none(void **state) {
    const char *tmp = *state;
    char logdir[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    run_result r;
    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--log_dir", logdir, "--epochs", "2", "--epoch-pattern", "^epoch", "--", CT_CHILD_PATH, "out",
                 "epoch\\n", "sleep", "0.2", "out", "epoch\\n", "sleep", "0.2", "out", "epoch\\n", "sleep", "0.2",
                 "out", "epoch\\n", "sleep", "0.2"));
    assert_int_equal(r.status, 0);
    assert_true(contains(r.err, r.err_len, "the output shows epoch 3, more than --epochs 2"));
    assert_true(contains(r.err, r.err_len, "the output showed 4 epochs, --epochs was 2"));
    const char *w = strstr(r.err, "the whole run: ");
    if (!w) dump_on_failure(&r);
    assert_non_null(w);
    /* It spans the command's life: at least the 0.8 s it slept, 50 W x 0.8 s
     * = 40 J = 11.1 mWh, and at 1000 g/kWh as many mg CO2eq. */
    const char *num = strchr(w + strlen("the whole run: "), ',');
    assert_non_null(num);
    char *unit = NULL;
    double mwh = strtod(num + 2, &unit);
    assert_memory_equal(unit, " mWh, ", 6);
    assert_true(mwh >= 40.0 / 3.6 * 0.999);
    double mg = strtod(unit + 6, &unit);
    assert_memory_equal(unit, " mg CO2eq.", 10);
    assert_true(fabs(mg - mwh) <= 0.001 * mwh);
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 2);
    free(j.text);
    result_free(&r);

    run_cli(tmp, &quick, &r,
            ARGS(SIM, "--epoch-pattern", "^Epoch", "--", CT_CHILD_PATH, "out", "epoch 1\\n", "sleep", "0.2"));
    assert_int_equal(r.status, 0);
    assert_true(contains(r.err, r.err_len, "no line of the command's output matched --epoch-pattern '^Epoch'"));
    assert_true(contains(r.err, r.err_len, "the whole run: "));
    result_free(&r);
}

/* --stop-and-confirm: while the question waits, the command is paused
 * (SIGSTOP to its process group), and goes on when the answer is yes. */
static void test_stop_and_confirm_pauses(void **state) {
    const char *tmp = *state;
    char pidf[1024], logdir[1024];
    snprintf(pidf, sizeof pidf, "%s/pid", tmp);
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    run_opts o = {.timeout_s = 20, .ready_text = "Continue training", .answer = "y\n", .pid_file = pidf};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--log_dir", logdir, "--stop-and-confirm", "--epochs", "3", "--epoch-pattern", "^epoch", "--",
                 CT_CHILD_PATH, "pid", pidf, "out", "epoch\\n", "sleep", "0.2", "out", "epoch\\n", "sleep", "0.2",
                 "out", "epoch\\n", "sleep", "0.2"));
    if (r.status != 0 || r.state_at_ready != 'T') dump_on_failure(&r);
    assert_int_equal(r.state_at_ready, 'T');
    assert_int_equal(r.status, 0);
    assert_true(contains(r.out, r.out_len, "Actual consumption for 3 epoch(s)"));
    result_free(&r);
}

/* The Electricity Maps key is not passed on to the command's environment. */
static void test_key_not_inherited(void **state) {
    const char *tmp = *state;
    char envf[1024], envf2[1024];
    snprintf(envf, sizeof envf, "%s/env", tmp);
    snprintf(envf2, sizeof envf2, "%s/env2", tmp);
    run_opts o = {.timeout_s = 20, .env = {"CT_ELECTRICITYMAPS_KEY=secret-key-123", "CT_SOMETHING_ELSE=kept"}};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--", CT_CHILD_PATH, "env", "CT_ELECTRICITYMAPS_KEY", envf, "env", "CT_SOMETHING_ELSE", envf2));
    assert_int_equal(r.status, 0);
    size_t l;
    char *e = read_all(envf, &l);
    assert_non_null(e);
    assert_string_equal(e, "(unset)");
    free(e);
    e = read_all(envf2, &l);
    assert_non_null(e);
    assert_string_equal(e, "kept");
    free(e);
    result_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_not_executable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_by_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_forwarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminal_ctrl_c_delivered_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passthrough_byte_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passthrough_unbuffered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_line_on_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_end_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_before_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_warn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_stop_whole_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_and_confirm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_order_pipe_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_order_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffered_program_on_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framework_presets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_lines_cr_ansi_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epochs_beyond_and_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_and_confirm_pauses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_not_inherited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_size_follows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_z_stops_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pty_always_into_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_starts_at_first_bar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_bar_left_alone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
