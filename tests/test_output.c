/* Our text logs read by the original carbontracker's own parser expressions
 * (tests/original_parser_check.py, run with python3), checked against the
 * JSON Lines record of the same run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"
#include "core/core.h"
#include "intensity/intensity.h"
#include "output/format.h"
#include "output/reporter.h"
#include "sources/source.h"
#include "test_support.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run_verbose = 0;

static void run_and_check(int epochs, int run_epochs, int interpretable, int stop_early, int gpu) {
    char *dir = ts_mkdtemp();
    ct_config c;
    ct_config_init(&c);
    c.epochs = epochs;
    c.verbose = run_verbose;
    c.log_dir = dir;
    c.interpretable = interpretable;
    c.sim_cpu = "Simulated Xeon";
    c.sim_cpu_tdp = 120;
    if (gpu) {
        c.sim_gpu = "Simulated A100";
        c.sim_gpu_watts = 400;
    }
    c.country = "DK";
    c.update_interval = 0.05;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    for (int e = 0; e < run_epochs; e++) {
        assert_int_equal(ct_epoch_start(t), 0);
        usleep(80000 + 20000 * e);
        if (stop_early && e == run_epochs - 1) break; /* interrupted inside an epoch */
        assert_int_equal(ct_epoch_end(t), 0);
    }
    ct_stop(t);
    ct_tracker_free(t);
    char script[1024];
    snprintf(script, sizeof script, "%s/original_parser_check.py", ts_env("CT_TEST_SOURCE_DIR"));
    char *argv[] = {"python3", script, dir, NULL};
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, NULL, &out, &err);
    if (rc != 0) fprintf(stderr, "parser check failed (%d):\n%s%s\n", rc, out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "all checks passed"));
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
}

static void test_completed_run(void **state) {
    (void)state;
    run_and_check(3, 3, 1, 0, 1);
}
static void test_interrupted_run(void **state) {
    (void)state;
    run_and_check(5, 2, 1, 1, 1);
}
static void test_cpu_only_without_equivalents(void **state) {
    (void)state;
    run_and_check(2, 2, 0, 0, 0);
}

/* At verbose 2 the output log also holds the lines of the refined prediction
 * (issue 12: "Prediction for N epoch(s) after ...") and the block's interval
 * and intensity lines: the original's expressions still read it. */
static void test_verbose2_run_with_refined_predictions(void **state) {
    (void)state;
    run_verbose = 2;
    run_and_check(4, 4, 1, 0, 1);
    run_and_check(3, 3, 0, 0, 0);
    run_verbose = 0;
}

/* A checker that cannot fail would prove nothing: corrupt a log and see it fail. */
static void test_checker_detects_corruption(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ct_config c;
    ct_config_init(&c);
    c.epochs = 2;
    c.verbose = 0;
    c.log_dir = dir;
    c.sim_cpu = "cpu";
    c.sim_cpu_tdp = 100;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    for (int e = 0; e < 2; e++) {
        ct_epoch_start(t);
        usleep(50000);
        ct_epoch_end(t);
    }
    ct_tracker_free(t);
    char *out_log = ts_find_suffix(dir, "_carbontracker_output.log");
    char *text = ts_read(out_log);
    char *p = strstr(text, "Energy:\t");
    assert_non_null(p);
    p[8] = p[8] == '9' ? '1' : '9'; /* change the first digit of the energy */
    FILE *f = fopen(out_log, "w");
    fputs(text, f);
    fclose(f);
    char script[1024];
    snprintf(script, sizeof script, "%s/original_parser_check.py", ts_env("CT_TEST_SOURCE_DIR"));
    char *argv[] = {"python3", script, dir, NULL};
    char *out = NULL;
    assert_int_equal(ts_run(argv, NULL, &out, NULL), 1);
    assert_non_null(strstr(out, "FAIL: Predicted energy"));
    free(out);
    free(text);
    free(out_log);
    ts_rmtree(dir);
    free(dir);
}

/* The reporter writes what it is given: values in, the original's lines and
 * one JSON Lines record out, no tracker anywhere. */
static const ct_device_desc devs[2] = {
    {.component = CT_COMPONENT_CPU, .name = "cpu:0", .method = "counter", .source = "rapl"},
    {.component = CT_COMPONENT_GPU, .name = "GPU 0", .uuid = "GPU-1", .method = "counter", .source = "nvml"},
};
static const int have[2] = {1, 1}, want[2] = {1, 1}, estimated[2] = {0, 0};

static void report_epoch(ct__reporter *r, int n, ct__series *series) {
    ct_epoch_info in = {.epoch = n,
                        .start_unix_s = 1000 + 20 * n,
                        .end_unix_s = 1012.5 + 20 * n,
                        .duration_s = 12.5,
                        .energy_j = {100, 200},
                        .co2eq_g = 0.05};
    double dev_j[2] = {100, 200};
    ct__epoch_report e = {.info = &in,
                          .energy_kwh = 0.000125,
                          .power_w = {8, 16},
                          .intensity_g_per_kwh = 400,
                          .intensity_kind = CT_INTENSITY_STATIC,
                          .intensity_source = "table, DK",
                          .have = have,
                          .estimated = estimated,
                          .devs = devs,
                          .dev_energy_j = dev_j,
                          .ndev = 2,
                          .series = series};
    ct__report_epoch(r, &e);
}

static void test_reporter_from_values(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ct__reporter r;
    ct__reporter_init(&r);
    ct__reporter_configure(&r, 0, 3, 1, 100.0);
    char msg[600];
    assert_int_equal(ct__reporter_open_logs(&r, dir, "v", 1000, msg, sizeof msg), 0);
    ct__run_header h = {.host = "node1",
                        .pid = 42,
                        .start_unix_s = 1000,
                        .job_id = "",
                        .launcher = "",
                        .rank = -1,
                        .local_rank = -1,
                        .world_size = -1,
                        .measuring = 1,
                        .epochs = 4,
                        .epochs_before_pred = 1,
                        .monitor_epochs = 4,
                        .pue = 1.5,
                        .g_per_kwh = 400,
                        .kind = CT_INTENSITY_STATIC,
                        .intensity_source = "table, DK",
                        .want = want,
                        .have = have,
                        .estimated = estimated,
                        .reason = {"", ""},
                        .devs = devs,
                        .ndev = 2};
    ct__report_opening(&r, &h);
    ct__report_header(&r, &h);
    ct__series series;
    ct__series_reset(&series);
    double p[2] = {8, 16};
    ct__series_add(&series, 21.0, p);
    report_epoch(&r, 1, &series);

    /* the disk fills up: the JSON Lines descriptor now points at /dev/full */
    int real = dup(r.logs.jsonl), full = open("/dev/full", O_WRONLY);
    assert_true(real >= 0 && full >= 0);
    dup2(full, r.logs.jsonl);
    report_epoch(&r, 2, &series);
    ct__report_warning(&r, "a warning nobody can log");
    report_epoch(&r, 3, &series);
    dup2(real, r.logs.jsonl); /* space again */
    close(real);
    close(full);
    report_epoch(&r, 4, &series);
    char std_path[4200], jsonl_path[4200], err_path[4200];
    snprintf(std_path, sizeof std_path, "%s", ct__reporter_log_path(&r));
    snprintf(jsonl_path, sizeof jsonl_path, "%s", ct__reporter_jsonl_path(&r));
    snprintf(err_path, sizeof err_path, "%s", r.logs.err_path);
    ct__reporter_close(&r);

    /* the standard log in the original's format */
    assert_int_equal(ts_count_lines_with(std_path, " - Epoch 1:"), 1);
    assert_int_equal(ts_count_lines_with(std_path, " - Duration: 0:00:12.50"), 4);
    assert_int_equal(ts_count_lines_with(std_path, " - Average power usage (W) for gpu: [16.0000]"), 4);
    assert_int_equal(ts_count_lines_with(std_path, " - Average power usage (W) for cpu: [8.0000]"), 4);
    assert_int_equal(ts_count_lines_with(std_path, " - The following components were found: GPU with device(s) "
                                                   "GPU 0. CPU with device(s) cpu:0."),
                     1);
    assert_int_equal(ts_count_lines_with(std_path, " - Host: node1, pid: 42, job: none, rank: -1"), 1);
    /* JSON Lines: header, epoch 1, gap [2,3], epoch 4; the values as given */
    char *text = ts_read(jsonl_path);
    assert_non_null(text);
    const char *want_lines[] = {"{\"event\":\"header\",", "{\"event\":\"epoch\",\"epoch\":1,", "{\"event\":\"gap\",",
                                "{\"event\":\"epoch\",\"epoch\":4,"};
    char *line = text;
    for (int i = 0; i < 4; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_memory_equal(line, want_lines[i], strlen(want_lines[i]));
        if (i == 1 || i == 3) {
            assert_non_null(strstr(line, "\"energy_kwh\":0.000125,\"co2eq_g\":0.05,\"intensity_g_per_kwh\":400,"
                                         "\"intensity_kind\":\"static\",\"intensity_source\":\"table, DK\""));
            assert_non_null(strstr(line, "\"power_w\":{\"cpu\":8,\"gpu\":16}"));
            assert_non_null(strstr(line, "\"power_series\":{\"t\":[21.000],\"cpu\":[8.000],\"gpu\":[16.000]}}"));
        }
        if (i == 2) {
            assert_non_null(strstr(line, "\"records_missing\":3,\"epochs_missing\":[2,3],"
                                         "\"epochs_missing_complete\":true,\"reason\":\"No space left on device\"}"));
        }
        line = nl + 1;
    }
    assert_string_equal(line, ""); /* nothing after epoch 4 */
    /* told once (verbose 0: the error log) */
    assert_int_equal(ts_count_lines_with(err_path, "cannot write the JSON Lines log"), 1);
    free(text);
    ts_rmtree(dir);
    free(dir);
}

/* A file planted under the name a run will use (here: the output log of the
 * first name the library picks for this pid and start time) must not cost
 * the logs: the whole set moves to another name, and the planted file is
 * left as it was. */
static void test_planted_log_name(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ct__logfiles a, b;
    char msg[600] = "";
    assert_int_equal(ct__logfiles_open_seeded(&a, dir, "p", 1700000000.25, 12345u, msg, sizeof msg), 0);
    char std_a[4200], out_a[4200];
    snprintf(std_a, sizeof std_a, "%s", a.std_path);
    snprintf(out_a, sizeof out_a, "%s", a.out_path);
    ct__logfiles_close(&a);
    /* keep only the output log, with someone else's text: the planted file */
    FILE *f = fopen(out_a, "w");
    fputs("planted\n", f);
    fclose(f);
    unlink(std_a);
    unlink(a.jsonl_path);
    int rc = ct__logfiles_open_seeded(&b, dir, "p", 1700000000.25, 12345u, msg, sizeof msg);
    assert_int_equal(rc, 0);
    assert_int_equal(b.enabled, 1);
    assert_string_not_equal(b.out_path, out_a);
    ct__log_out(&b, "ours");
    ct__logfiles_close(&b);
    char *planted = ts_read(out_a);
    assert_string_equal(planted, "planted\n");
    free(planted);
    ts_rmtree(dir);
    free(dir);
}

/* ---- issue 11 item 2: console output to a callback, the original's wording ---- */

static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;
static char cb_text[16384];
static int cb_calls, cb_bad;
static ct_tracker *cb_tracker;

static void collect(void *user, int level, const char *text) {
    (void)user;
    /* Never called with the tracker's lock held: a getter from here would
     * deadlock (the test would time out) if it were. */
    ct_tracker *t = __atomic_load_n(&cb_tracker, __ATOMIC_ACQUIRE);
    if (t) {
        ct_status st;
        ct_get_status(t, &st);
    }
    pthread_mutex_lock(&cb_mu);
    cb_calls++;
    size_t n = strlen(text);
    if (strncmp(text, "CarbonTracker: ", 15) == 0 || (n > 0 && text[n - 1] == '\n') || level < 1 || level > 2) cb_bad++;
    size_t used = strlen(cb_text);
    snprintf(cb_text + used, sizeof cb_text - used, "[%d]%s|", level, text);
    pthread_mutex_unlock(&cb_mu);
}

static void callback_run(int verbose, int epochs_before_pred, const char *log_dir, double max_energy_kwh) {
    memset(cb_text, 0, sizeof cb_text);
    cb_calls = cb_bad = 0;
    ct_config c;
    ct_config_init(&c);
    c.epochs = 3;
    c.epochs_before_pred = epochs_before_pred;
    c.verbose = verbose;
    c.log_dir = log_dir;
    c.sim_cpu = "Simulated Xeon";
    c.sim_cpu_tdp = 120;
    c.country = "DK";
    c.update_interval = 0.02;
    c.max_energy_kwh = max_energy_kwh;
    c.output_fn = collect;
    /* stdout must stay untouched: point it at a file for the run */
    fflush(stdout);
    char *dir = ts_mkdtemp();
    char path[4200];
    snprintf(path, sizeof path, "%s/stdout", dir);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    ct_tracker *t = NULL;
    int rc = ct_tracker_new(&c, &t);
    if (rc == 0) {
        __atomic_store_n(&cb_tracker, t, __ATOMIC_RELEASE);
        for (int e = 0; e < 3; e++) {
            ct_epoch_start(t);
            usleep(60000);
            ct_epoch_end(t);
        }
        ct_stop(t);
        __atomic_store_n(&cb_tracker, NULL, __ATOMIC_RELEASE);
        ct_tracker_free(t);
    }
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    assert_int_equal(rc, 0);
    char *printed = ts_read(path);
    assert_string_equal(printed, "");
    free(printed);
    ts_rmtree(dir);
    free(dir);
    assert_int_equal(cb_bad, 0);
}

static void test_console_callback(void **state) {
    (void)state;
    /* a log_dir that cannot be created (under a regular file): the warning goes to the callback too */
    char *dir = ts_mkdtemp();
    assert_int_equal(ts_write(dir, "file", "x"), 0);
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/file/logs", dir);
    callback_run(1, 1, bad, 1e-12);
    assert_non_null(strstr(cb_text, "[1]WARNING - cannot create log_dir"));
    assert_non_null(strstr(cb_text, "[1]The following components were found: CPU with device(s) Simulated Xeon.|"));
    assert_non_null(strstr(cb_text, "[1]\nPredicted consumption for 3 epoch(s):\n\tTime:\t0:00:00\n\tEnergy:\t"));
    assert_non_null(strstr(cb_text, "[1]\nActual consumption for 3 epoch(s):\n"));
    assert_non_null(strstr(cb_text, "[1]WARNING - actual energy")); /* the budget warning, reported under the lock */
    assert_non_null(strstr(cb_text, "[1]Finished monitoring.|"));
    assert_null(strstr(cb_text, "[2]")); /* verbose 1: no level-2 text */
    /* in order: components, prediction, actual, finished */
    assert_true(strstr(cb_text, "components were found") < strstr(cb_text, "Predicted consumption"));
    assert_true(strstr(cb_text, "Predicted consumption") < strstr(cb_text, "Actual consumption"));
    assert_true(strstr(cb_text, "Actual consumption") < strstr(cb_text, "Finished monitoring."));
    /* verbose 2: the details too; verbose 0: nothing at all */
    callback_run(2, 1, NULL, 0);
    assert_non_null(strstr(cb_text, "[2]Carbon intensity at start: "));
    callback_run(0, 1, NULL, 0);
    assert_int_equal(cb_calls, 0);
    ts_rmtree(dir);
    free(dir);
}

/* "Actual consumption:" without a prediction (epochs_before_pred = 0) on the
 * console, as the original; the output log keeps "for N epoch(s)", which the
 * original's parser needs to count the run (test_original_parser_totals). */
static void test_actual_wording_without_prediction(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    callback_run(1, 0, dir, 0);
    assert_non_null(strstr(cb_text, "[1]\nActual consumption:\n\tTime:\t"));
    assert_null(strstr(cb_text, "epoch(s)"));
    char *out_log = ts_find_suffix(dir, "_carbontracker_output.log");
    char *text = ts_read(out_log);
    assert_non_null(strstr(text, " - CarbonTracker: \nActual consumption for 3 epoch(s):\n\tTime:\t"));
    assert_null(strstr(text, "Actual consumption:"));
    free(text);
    free(out_log);
    ts_rmtree(dir);
    free(dir);
}

/* Time: rounded as the original's round(): nearest second, half to even */
static void test_time_rounding(void **state) {
    (void)state;
    static const struct {
        double s;
        const char *want;
    } cases[] = {{7.907, "0:00:08"}, {7.4, "0:00:07"},  {2.5, "0:00:02"},     {3.5, "0:00:04"},
                 {0.5, "0:00:00"},   {59.5, "0:01:00"}, {10342.9, "2:52:23"}, {3599.5, "1:00:00"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[512], expect[128];
        ct__format_consumption(buf, sizeof buf, "Actual consumption:", cases[i].s, 1, 1, 0, -1);
        snprintf(expect, sizeof expect, "\nActual consumption:\n\tTime:\t%s\n", cases[i].want);
        if (strncmp(buf, expect, strlen(expect)) != 0) fprintf(stderr, "%g s: %s\n", cases[i].s, buf);
        assert_memory_equal(buf, expect, strlen(expect));
    }
}

/* The original's parser totals our logs as we do: a completed, an
 * early-stopped, a one-epoch run without prediction, a run monitored for
 * fewer epochs than it has, and a prediction-only run (its process ended
 * without stopping the tracker) in one directory. */
static void one_run(const char *dir, int epochs, int run_epochs, int stop, int monitor) {
    ct_config c;
    ct_config_init(&c);
    c.epochs = epochs;
    c.monitor_epochs = monitor;
    if (epochs == 1) c.epochs_before_pred = 0; /* as the CLI wraps one command */
    c.verbose = 0;
    c.log_dir = dir;
    c.sim_cpu = "Simulated Xeon";
    c.sim_cpu_tdp = 120;
    c.country = "DK";
    c.update_interval = 0.02;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    for (int e = 0; e < run_epochs; e++) {
        ct_epoch_start(t);
        usleep(40000 + 20000 * e);
        ct_epoch_end(t);
    }
    if (!stop) _exit(0); /* a killed run: the prediction is all its logs have */
    ct_stop(t);
    ct_tracker_free(t);
}

static void test_original_parser_totals(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    one_run(dir, 3, 3, 1, -1); /* completed */
    one_run(dir, 6, 2, 1, -1); /* stopped early */
    one_run(dir, 1, 1, 1, -1); /* one epoch, no prediction */
    one_run(dir, 5, 2, 1, 2);  /* monitored 2 of 5 epochs: the prediction counts */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) one_run(dir, 5, 2, 0, -1); /* prediction only */
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char script[1024];
    snprintf(script, sizeof script, "%s/original_parser_check.py", ts_env("CT_TEST_SOURCE_DIR"));
    char *argv[] = {"python3", script, "--totals", dir, (char *)ts_env("CT_CLI"), NULL};
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, NULL, &out, &err);
    if (rc != 0) fprintf(stderr, "totals check failed (%d):\n%s%s\n", rc, out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "over 5 runs"));
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completed_run),
        cmocka_unit_test(test_interrupted_run),
        cmocka_unit_test(test_cpu_only_without_equivalents),
        cmocka_unit_test(test_verbose2_run_with_refined_predictions),
        cmocka_unit_test(test_checker_detects_corruption),
        cmocka_unit_test(test_reporter_from_values),
        cmocka_unit_test(test_planted_log_name),
        cmocka_unit_test(test_console_callback),
        cmocka_unit_test(test_actual_wording_without_prediction),
        cmocka_unit_test(test_time_rounding),
        cmocka_unit_test(test_original_parser_totals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
