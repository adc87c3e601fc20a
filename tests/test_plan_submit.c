/*
 * test_plan_submit.c - `carbontracker plan ... --submit -- sbatch job.sh`
 * (issue 13): the command gets --begin at the cleanest window found, printed
 * only (dry run) unless --execute; with --execute it runs and its exit status
 * is the tool's; no forecast means nothing is submitted. The forecast comes
 * from tests/mock_intensity_server.py on 127.0.0.1 (as test_intensity_live);
 * sbatch is a stand-in script that records its arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intensity_mock.h"
#include "test_support.h"

static im_server g_srv;

static int group_setup(void **state) {
    (void)state;
    im_clear_location_env();
    setenv("TZ", "UTC", 1);
    if (im_start(&g_srv) != 0) return -1;
    return im_case(&g_srv, "ok");
}

static int group_teardown(void **state) {
    (void)state;
    im_stop(&g_srv);
    return 0;
}

static void test_submit(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char sbatch[1024], args[1024];
    snprintf(sbatch, sizeof sbatch, "%s/sbatch", dir);
    snprintf(args, sizeof args, "%s/args", dir);
    ts_writef(dir, "sbatch", "#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s'\necho 'Submitted batch job 42'\nexit 0\n", args);
    chmod(sbatch, 0755);
    /* The mock's GB forecast is cleanest 10 half-hours from the current half-hour. */
    double before = (double)time(NULL);
    time_t best = (time_t)(floor(before / 1800) * 1800 + 10 * 1800);
    struct tm tm;
    gmtime_r(&best, &tm);
    char begin[64];
    strftime(begin, sizeof begin, "--begin=%Y-%m-%dT%H:%M:%S", &tm);
    char expect[1400];
    snprintf(expect, sizeof expect, "Submit: %s %s -N2 'my job.sh'\n(dry run: add --execute to submit)\n", sbatch,
             begin);

    const char *cli = ts_env("CT_CLI");
    char *out = NULL, *err = NULL;
    char *a1[] = {(char *)cli, "plan", "--duration", "6h",  "--country", "GB",
                  "--submit",  "--",   sbatch,       "-N2", "my job.sh", NULL};
    int rc = ts_run(a1, NULL, &out, &err);
    if (rc != 0) fail_msg("exit %d: %s", rc, err ? err : "");
    if (!strstr(out, expect)) fail_msg("expected [%s] in [%s]", expect, out);
    assert_true(access(args, F_OK) != 0); /* dry run: not run */
    free(out);
    free(err);

    char *a2[] = {(char *)cli, "plan", "--duration", "6h",  "--country", "GB", "--submit",
                  "--execute", "--",   sbatch,       "-N2", "my job.sh", NULL};
    assert_int_equal(ts_run(a2, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Submitted batch job 42"));
    char *got = ts_read(args);
    assert_non_null(got);
    char want[200];
    snprintf(want, sizeof want, "%s\n-N2\nmy job.sh\n", begin);
    assert_string_equal(got, want);
    free(got);
    free(out);
    free(err);
    unlink(args);

    /* The submitting command's failure is the tool's exit status. */
    ts_writef(dir, "sbatch", "#!/bin/sh\necho 'sbatch: error: invalid partition' >&2\nexit 1\n");
    assert_int_equal(ts_run(a2, NULL, &out, &err), 1);
    free(out);
    free(err);

    /* No forecast: nothing is submitted. */
    char *a3[] = {(char *)cli, "plan",      "--duration", "6h",   "--country", "GB", "--offline",
                  "--submit",  "--execute", "--",         sbatch, "job.sh",    NULL};
    assert_int_equal(ts_run(a3, NULL, &out, &err), 1);
    assert_true(access(args, F_OK) != 0);
    free(out);
    free(err);

    /* --submit without a command, a command without --submit: usage errors. */
    char *a4[] = {(char *)cli, "plan", "--duration", "6h", "--submit", NULL};
    assert_int_equal(ts_run(a4, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "--submit needs the command after --"));
    free(out);
    free(err);
    char *a5[] = {(char *)cli, "plan", "--duration", "6h", "--", sbatch, NULL};
    assert_int_equal(ts_run(a5, NULL, &out, &err), 2);
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_submit)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
