/* The tool's options: help, version, and every wrong option refused with a
 * message and exit status 2 before anything runs. */
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

static int run_cli(const char *a1, const char *a2, const char *a3, const char *a4, char **out, char **err) {
    char *argv[] = {(char *)ts_env("CT_CLI"), (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    return ts_run(argv, NULL, out, err);
}

static void test_help_and_version(void **state) {
    (void)state;
    char *out, *err;
    assert_int_equal(run_cli("--help", NULL, NULL, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Usage: carbontracker [options] [--] COMMAND [ARGS...]"));
    assert_non_null(strstr(out, "--log_dir DIR"));
    assert_non_null(strstr(out, "default ./logs"));
    assert_non_null(strstr(out, "--stop-and-confirm"));
    assert_non_null(strstr(out, "--epoch-preset"));
    free(out), free(err);
    assert_int_equal(run_cli("--version", NULL, NULL, NULL, &out, &err), 0);
    char want[64];
    snprintf(want, sizeof want, "carbontracker %s\nfeatures: ", CT_VERSION);
    assert_memory_equal(out, want, strlen(want));
    const char *f = ct_features();
    assert_non_null(strstr(out, f && *f ? f : "(none: core only)"));
    free(out), free(err);
}

static void test_wrong_options(void **state) {
    (void)state;
    static const struct {
        const char *a[4];
        const char *needle;
    } cases[] = {
        {{"--frobnicate", "x", "true", NULL}, "unknown option --frobnicate"},
        {{"--pue", "abc", "true", NULL}, "--pue needs a number, got \"abc\""},
        {{"--epochs", "2.5", "true", NULL}, "--epochs needs an integer"},
        {{"--epochs", "3", "true", NULL}, "--epochs 3 needs --epoch-preset, --epoch-pattern or --epoch-end-pattern"},
        /* Messages name the flag as typed and suggest the nearest option. */
        {{"--logdir", "x", "true", NULL}, "unknown option --logdir; did you mean --log_dir?"},
        {{"--epoch_preset", "tf", "true", NULL}, "--epoch-preset must be one of keras, lightning, transformers"},
        {{"--carbon-intensity", "-5", "true", NULL}, "--carbon-intensity must be a carbon intensity >= 0"},
        {{"--monitor-epochs", "0", "true", NULL}, "--monitor-epochs must be -1 (all) or positive (got 0)"},
        {{"--monitor_epochs", "0", "true", NULL}, "--monitor_epochs must be -1 (all) or positive (got 0)"},
        {{"--sim_cpu_util=1.5", "--sim-cpu=X", "--sim-cpu-tdp=5", "true"},
         "--sim_cpu_util must be between 0 and 1 (got 1.5)"},
        {{"--output", "x.pdf", "true", NULL}, "--output goes with --report LOG"},
        {{"--max_co2_g", "-1", "true", NULL}, "--max_co2_g must be >= 0 (0 = no budget), got -1"},
        {{"--cloud", "gcp", "true", NULL}, "--cloud needs PROVIDER:REGION"},
        {{"--on-budget", "explode", "true", NULL}, "--on-budget must be warn or stop"},
        {{"--api_keys", "{}", "true", NULL}, "--api_keys needs a JSON object"},
        {{"--log_dir", NULL, NULL, NULL}, "option --log_dir needs a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, *err = NULL;
        int rc = run_cli(cases[i].a[0], cases[i].a[1], cases[i].a[2], cases[i].a[3], &out, &err);
        if (rc != 2 || !strstr(err, cases[i].needle)) {
            fprintf(stderr, "case %zu: rc=%d stderr=%s\n", i, rc, err);
            fail();
        }
        free(out), free(err);
    }
}

static void test_invalid_config_reaches_user(void **state) {
    (void)state;
    /* Options that parse but are invalid for the library: its message is shown. */
    char *out, *err;
    int rc = run_cli("--sim-cpu", "X", "true", NULL, &out, &err);
    assert_int_not_equal(rc, 0);
    /* ... in the user's words: the flags, not the library's field names. */
    assert_non_null(strstr(err, "--sim-cpu \"X\" needs --sim-cpu-tdp"));
    assert_null(strstr(err, "sim_cpu_tdp"));
    free(out), free(err);
}

/* Runs the tool in dir (cd) with args; returns its status. */
static int run_in(const char *dir, const char *const *args, char **out, char **err) {
    char script[1200];
    snprintf(script, sizeof script, "cd '%s' && exec \"$0\" \"$@\"", dir);
    char *argv[32] = {"/bin/sh", "-c", script, (char *)ts_env("CT_CLI")};
    int n = 4;
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return ts_run(argv, NULL, out, err);
}

#define SIMCPU "--sim-cpu", "X", "--sim-cpu-tdp", "100", "--components", "cpu", "--carbon-intensity", "100"

/* As the original: `carbontracker COMMAND` writes its logs into ./logs and
 * says where; a one-epoch run prints the actual consumption, not a
 * prediction that repeats it; no command measures an empty run; --parse may
 * follow other options; --api_keys takes a Python dict as well as JSON. */
static void test_original_command_line(void **state) {
    (void)state;
    char *tmp = ts_mkdtemp();
    char *out, *err;
    int rc = run_in(tmp, (const char *const[]){SIMCPU, "true", NULL}, &out, &err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "Actual consumption"));
    assert_null(strstr(out, "Predicted consumption"));
    assert_non_null(strstr(err, "Logs: ./logs/"));
    char logs[1200];
    snprintf(logs, sizeof logs, "%s/logs", tmp);
    char *std = ts_find_suffix(logs, "_carbontracker.log");
    assert_non_null(std);
    free(std), free(out), free(err);

    /* No command: an empty run, measured and reported. */
    rc = run_in(tmp, (const char *const[]){SIMCPU, "--no-logs", NULL}, &out, &err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "Actual consumption"));
    free(out), free(err);

    /* --parse after another option (argparse allows it). */
    rc = run_in(tmp, (const char *const[]){"--verbose", "1", "--parse", "./logs", NULL}, &out, &err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "The training of models in this work is estimated to use"));
    free(out), free(err);

    /* --api_keys as the original reads it (ast.literal_eval): single quotes. */
    rc = run_in(tmp,
                (const char *const[]){SIMCPU, "--no-logs", "--offline", "--api_keys", "{'electricitymaps': 'KEY'}",
                                      "true", NULL},
                &out, &err);
    assert_int_equal(rc, 0);
    free(out), free(err);
    ts_rmtree(tmp);
    free(tmp);
}

/* In-process, the status line is off unless asked for: it would write into
 * the training's own output (a tqdm bar ending in "]01 kWh"). */
static void test_library_status_line_off_by_default(void **state) {
    (void)state;
    ct_config c;
    ct_config_init(&c);
    assert_int_equal(c.status_line, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_wrong_options),
        cmocka_unit_test(test_invalid_config_reaches_user),
        cmocka_unit_test(test_original_command_line),
        cmocka_unit_test(test_library_status_line_off_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
