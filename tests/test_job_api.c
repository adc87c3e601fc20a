/* The public ct_job_* API (carbontracker.h): one multi-node job's logs
 * combined by the library, the one place of the rules `carbontracker parse
 * --job` prints. Real logs of the SLURM plugin (tests/fixtures/cluster/job2:
 * an sbatch job on n1 and n2, an srun step inside the batch step). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "carbontracker.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DIR/JOB_ID/ as the plugin leaves it: a copy of fixtures/cluster/FIXTURE. */
static char *job_dir(const char *fixture, const char *job_id) {
    char *dir = ts_mkdtemp(), cmd[8192], *o = NULL, *e = NULL;
    assert_non_null(dir);
    snprintf(cmd, sizeof cmd, "cp -R '%s/fixtures/cluster/%s' '%s/%s'", ts_env("CT_TEST_SOURCE_DIR"), fixture, dir,
             job_id);
    char *argv[] = {"sh", "-c", cmd, NULL};
    int rc = ts_run(argv, NULL, &o, &e);
    if (rc != 0) fail_msg("%s: %d %s", cmd, rc, e ? e : "");
    free(o);
    free(e);
    return dir;
}

static void near(double got, double want) {
    if (!(fabs(got - want) <= 1e-6 * fmax(1.0, fabs(want)))) fail_msg("got %.12g, want %.12g", got, want);
}

/* The batch step covers step 0 on n1: n1 counts 2 J once, n2 3 J; every record listed. */
static void test_read_job(void **state) {
    (void)state;
    char *dir = job_dir("job2", "2");
    ct_job *job = NULL;
    assert_int_equal(ct_job_read(dir, "2", &job), 0);
    assert_non_null(job);
    assert_int_equal(ct_job_node_count(job), 2);
    assert_int_equal(ct_job_missing_count(job), 0);
    assert_null(ct_job_missing(job, 0));
    ct_job_node_info n;
    assert_int_equal(ct_job_node_get(job, 0, &n), 0);
    assert_string_equal(n.node, "n1");
    assert_int_equal(n.nsteps, 2);
    assert_int_equal(n.counted, 1);
    assert_string_equal(n.steps, "batch, 0 (within batch)");
    near(n.energy_j[CT_COMPONENT_CPU], 2.0);
    assert_int_equal(n.missing, 0);
    assert_int_equal(n.nodes, 1);
    assert_int_equal(ct_job_node_get(job, 1, &n), 0);
    assert_string_equal(n.node, "n2");
    near(n.energy_j[CT_COMPONENT_CPU], 3.0);
    assert_int_equal(ct_job_node_get(job, 2, &n), CT_EINVAL);
    ct_job_node_info t;
    assert_int_equal(ct_job_totals(job, &t), 0);
    near(t.energy_j[CT_COMPONENT_CPU], 5.0);
    near(t.energy_j[CT_COMPONENT_GPU], 0.0);
    assert_int_equal(t.nsteps, 3);
    assert_int_equal(t.counted, 2);
    assert_int_equal(t.nodes, 2);
    assert_int_equal(t.missing, 0);
    assert_int_equal(t.measurement, 0);
    assert_true(t.energy_kwh > 0 && t.co2eq_g >= 0);
    assert_int_equal(ct_job_step_count(job), 3);
    int within = 0;
    for (int k = 0; k < 3; k++) {
        ct_job_step_info s;
        assert_int_equal(ct_job_step_get(job, k, &s), 0);
        assert_non_null(strstr(s.file, "_carbontracker.jsonl"));
        if (strcmp(s.node, "n1") == 0 && strcmp(s.step, "0") == 0) {
            assert_int_equal(s.counted, 0);
            assert_string_equal(s.within, "batch");
            within = 1;
        } else {
            assert_int_equal(s.counted, 1);
            assert_string_equal(s.within, "");
        }
    }
    assert_int_equal(within, 1);
    ct_job_step_info s;
    assert_int_equal(ct_job_step_get(job, 3, &s), CT_EINVAL);
    assert_null(ct_job_warning(job, ct_job_warning_count(job)));
    ct_job_free(job);

    /* n2's log lost: n2.0.nodes still names n[1-2], so n2 is missing */
    char p[4400];
    snprintf(p, sizeof p, "%s/2/n2.0_9650.636323_2026-11-29T084714Z_carbontracker.jsonl", dir);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(ct_job_read(dir, "2", &job), 0);
    assert_int_equal(ct_job_node_count(job), 2);
    assert_int_equal(ct_job_missing_count(job), 1);
    assert_string_equal(ct_job_missing(job, 0), "n2");
    assert_int_equal(ct_job_node_get(job, 1, &n), 0);
    assert_int_equal(n.missing, 1);
    assert_int_equal(n.nodes, 0);
    assert_int_equal(ct_job_totals(job, &t), 0);
    assert_int_equal(t.missing, 1);
    assert_int_equal(t.nodes, 1);
    ct_job_free(job);
    ts_rmtree(dir);
    free(dir);
}

/* Errors: a bad job id before any path is built, no records, NULL arguments; the structs in ct_sizeof. */
static void test_errors(void **state) {
    (void)state;
    char *dir = job_dir("job2", "2");
    ct_job *job = (ct_job *)1;
    assert_int_equal(ct_job_read(dir, "../etc", &job), CT_EINVAL);
    assert_null(job);
    assert_non_null(strstr(ct_last_error_message(), "job id must be"));
    assert_int_equal(ct_job_read(dir, "77", &job), CT_ENODATA);
    assert_non_null(strstr(ct_last_error_message(), "no records of job 77"));
    assert_int_equal(ct_job_read(NULL, "2", &job), CT_EINVAL);
    assert_int_equal(ct_job_read(dir, "2", NULL), CT_EINVAL);
    assert_int_equal(ct_job_read_dirs(NULL, 0, "2", &job), CT_EINVAL);
    assert_int_equal(ct_job_node_count(NULL), CT_EINVAL);
    assert_int_equal(ct_job_totals(NULL, NULL), CT_EINVAL);
    assert_null(ct_job_missing(NULL, 0));
    assert_null(ct_job_warning(NULL, 0));
    ct_job_free(NULL);
    assert_int_equal(ct_sizeof("ct_job_node_info"), sizeof(ct_job_node_info));
    assert_int_equal(ct_sizeof("ct_job_step_info"), sizeof(ct_job_step_info));
    assert_int_equal(offsetof(ct_job_node_info, ct_reserved) + sizeof(double[8]), sizeof(ct_job_node_info));
    assert_int_equal(offsetof(ct_job_step_info, ct_reserved) + sizeof(double[8]), sizeof(ct_job_step_info));
    ts_rmtree(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_job),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
