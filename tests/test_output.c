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
    ct_epoch_info in = {.epoch = n, .start_unix_s = 1000 + 20 * n, .end_unix_s = 1012.5 + 20 * n,
                        .duration_s = 12.5, .energy_j = {100, 200}, .co2eq_g = 0.05};
    double dev_j[2] = {100, 200};
    ct__epoch_report e = {.info = &in, .energy_kwh = 0.000125, .power_w = {8, 16}, .intensity_g_per_kwh = 400,
                          .intensity_kind = CT_INTENSITY_STATIC, .intensity_source = "table, DK", .have = have,
                          .estimated = estimated, .devs = devs, .dev_energy_j = dev_j, .ndev = 2, .series = series};
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
    ct__run_header h = {.host = "node1", .pid = 42, .start_unix_s = 1000, .job_id = "", .launcher = "",
                        .rank = -1, .local_rank = -1, .world_size = -1, .measuring = 1, .epochs = 4,
                        .epochs_before_pred = 1, .monitor_epochs = 4, .pue = 1.5, .g_per_kwh = 400,
                        .kind = CT_INTENSITY_STATIC, .intensity_source = "table, DK", .want = want, .have = have,
                        .estimated = estimated, .reason = {"", ""}, .devs = devs, .ndev = 2};
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
                                                   "GPU 0. CPU with device(s) cpu:0."), 1);
    assert_int_equal(ts_count_lines_with(std_path, " - Host: node1, pid: 42, job: none, rank: -1"), 1);
    /* JSON Lines: header, epoch 1, gap [2,3], epoch 4; the values as given */
    char *text = ts_read(jsonl_path);
    assert_non_null(text);
    const char *want_lines[] = {"{\"event\":\"header\",", "{\"event\":\"epoch\",\"epoch\":1,",
                                "{\"event\":\"gap\",", "{\"event\":\"epoch\",\"epoch\":4,"};
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completed_run),
        cmocka_unit_test(test_interrupted_run),
        cmocka_unit_test(test_cpu_only_without_equivalents),
        cmocka_unit_test(test_verbose2_run_with_refined_predictions),
        cmocka_unit_test(test_checker_detects_corruption),
        cmocka_unit_test(test_reporter_from_values),
        cmocka_unit_test(test_planted_log_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
