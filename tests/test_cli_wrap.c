/*
 * test_cli_wrap.c - the CLI wrapper (cli/wrap.c) end to end, as a relay:
 * exit codes and signals, byte-exact and unbuffered passthrough, the
 * pseudo-terminal (Ctrl-C, Ctrl-Z, window size, output into a file), the
 * status line, and what the command's environment inherits. The epochs,
 * framework presets and budgets are in test_cli_wrap_epochs.c.
 *
 * The real `carbontracker` binary (env CT_CLI) runs tests/cli_progs/ct_child.c
 * (CT_CHILD_PATH), a command scripted by its arguments, through the harness
 * in tests/cli_progs/wrap_harness.c. Where an order matters the child waits
 * for the test (ct_child "waitfor") instead of sleeping.
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
        cmocka_unit_test_setup_teardown(test_output_order_pipe_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_order_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffered_program_on_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_not_inherited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_size_follows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_z_stops_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pty_always_into_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_bar_left_alone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
