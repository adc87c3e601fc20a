/*
 * test_cli_wrap_epochs.c - the CLI wrapper (cli/wrap.c) end to end: epochs
 * from the command's output (--epoch-pattern, --epoch-end-pattern, the
 * framework presets, progress bars, CR/ANSI lines), the refusal before the
 * start, budgets (warn, stop, whole run) and stop-and-confirm. The relay,
 * the pseudo-terminal and the status line are in test_cli_wrap.c.
 *
 * The real `carbontracker` binary (env CT_CLI) runs tests/cli_progs/ct_child.c
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

/* A line still being written that ends inside the epoch's number ("Epoch 1"
 * of "Epoch 10/10") is not taken for epoch 1: it waits for the rest. The
 * command holds the partial line until this test has seen it pass. */
static void test_partial_line_number(void **state) {
    const char *tmp = *state;
    char logdir[1024], go[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmp);
    snprintf(go, sizeof go, "%s/go", tmp);
    run_opts o = {.timeout_s = 40, .stdout_pipe = 1, .ready_text = "Epoch 1", .ready_touch = go};
    run_result r;
    run_cli(tmp, &o, &r,
            ARGS(SIM, "--log_dir", logdir, "--epochs", "10", "--epoch-pattern", "^Epoch ([0-9]+)", "--", CT_CHILD_PATH,
                 "out", "Epoch 9/10\\n", "out", "Epoch 1", "waitfor", go, "out", "0/10\\n"));
    if (r.status != 0) dump_on_failure(&r);
    assert_int_equal(r.status, 0);
    jsonl j;
    assert_true(jsonl_load(logdir, &j));
    assert_int_equal(jsonl_count(&j, "epoch"), 2); /* epochs 9 and 10 of the output; 3 when "1" counted */
    free(j.text);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_epoch_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_line_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_end_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_before_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_warn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_stop_whole_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_and_confirm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framework_presets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_lines_cr_ansi_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epochs_beyond_and_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_and_confirm_pauses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epoch_starts_at_first_bar, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
