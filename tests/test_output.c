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
#include "sources/source.h"
#include "test_support.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_and_check(int epochs, int run_epochs, int interpretable, int stop_early, int gpu) {
    char *dir = ts_mkdtemp();
    ct_config c;
    ct_config_init(&c);
    c.epochs = epochs;
    c.verbose = 0;
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completed_run),
        cmocka_unit_test(test_interrupted_run),
        cmocka_unit_test(test_cpu_only_without_equivalents),
        cmocka_unit_test(test_checker_detects_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
