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
        {{"--epochs", "3", "true", NULL}, "needs --epoch-pattern or --epoch-end-pattern"},
        {{"--cloud", "gcp", "true", NULL}, "--cloud needs PROVIDER:REGION"},
        {{"--on-budget", "explode", "true", NULL}, "--on-budget must be warn or stop"},
        {{"--api_keys", "{}", "true", NULL}, "--api_keys needs a JSON object"},
        {{"--log_dir", NULL, NULL, NULL}, "option --log_dir needs a value"},
        {{"--verbose", "1", NULL, NULL}, "no command given"},
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
    assert_non_null(strstr(out, "needs sim_cpu_tdp") ? out : strstr(err, "needs sim_cpu_tdp"));
    free(out), free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_wrong_options),
        cmocka_unit_test(test_invalid_config_reaches_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
