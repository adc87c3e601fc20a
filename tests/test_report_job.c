/* The report of one multi-node job (issue 13 item 3): the SLURM plugin's
 * real logs of a two-node run (tests/fixtures/cluster) combined into one
 * report. The combined numbers equal `carbontracker parse --job JOBID DIR
 * --format json`'s (total and per node, a step within the batch step counted
 * once); a node named by the node lists without records is flagged; the PDF
 * (pdftotext) names every node. Built without cairo, rendering says
 * CT_ENOTSUP (and ctest lists the drawing part as skipped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_powercap.h"
#include "results/results_internal.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CT_TEST_CAIRO
#define CT_TEST_CAIRO 0
#endif

/* A temporary DIR with DIR/<job_id>/ holding every file of fixture directory fixture (job1, job2, ...). */
static char *job_dir(const char *fixture, const char *job_id) {
    char *dir = ts_mkdtemp();
    assert_non_null(dir);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && cp '%s/fixtures/cluster/%s'/* '%s/%s/'", dir, job_id,
             ts_env("CT_TEST_SOURCE_DIR"), fixture, dir, job_id);
    char *sh[] = {"sh", "-c", cmd, NULL};
    char *o = NULL, *e = NULL;
    assert_int_equal(ts_run(sh, NULL, &o, &e), 0);
    free(o);
    free(e);
    return dir;
}

static void remove_file(const char *dir, const char *job_id, const char *name) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s/%s", dir, job_id, name);
    assert_int_equal(unlink(p), 0);
}

static void near(double got, double want, const char *what) {
    if (!(fabs(got - want) <= 1e-8 * fmax(1.0, fabs(want))))
        fail_msg("%s: report side %.12g, parse --job %.12g", what, got, want);
}

/* The job as ct__job_detail_load combines it against `parse --job --format json`. */
static void compare_with_parse(const char *dir, const char *job_id, int nodes_found, int missing) {
    char *out = NULL, *err = NULL;
    char *argv[] = {(char *)ts_env("CT_CLI"), "parse", "--job", (char *)job_id, (char *)dir, "--format", "json", NULL};
    assert_int_equal(ts_run(argv, NULL, &out, &err), 0);
    ct_json_doc *doc = ct__json_doc_new();
    char perr[200];
    const ct_json *root = ct__json_parse(doc, out, strlen(out), perr, sizeof perr);
    if (!root) fail_msg("parse --job json: %s: %s", perr, out);
    const ct_json *tot = ct__json_get(root, "total");

    ct_job_detail jd;
    assert_int_equal(ct__job_detail_load(dir, job_id, &jd), 0);
    assert_int_equal(jd.nnodes - jd.nmissing, nodes_found);
    assert_int_equal(jd.nmissing, missing);
    assert_int_equal((int)ct__json_num(ct__json_get(tot, "nodes"), -1), nodes_found);
    near(jd.energy_j[0] + jd.energy_j[1], ct__json_num(ct__json_get(tot, "energy_j"), NAN), "total energy_j");
    near(jd.energy_j[CT_COMPONENT_CPU], ct__json_num(ct__json_get(tot, "cpu_j"), NAN), "total cpu_j");
    near(jd.energy_j[CT_COMPONENT_GPU], ct__json_num(ct__json_get(tot, "gpu_j"), NAN), "total gpu_j");
    near(jd.energy_kwh, ct__json_num(ct__json_get(tot, "energy_kwh"), NAN), "total energy_kwh");
    near(jd.co2eq_g, ct__json_num(ct__json_get(tot, "co2eq_g"), NAN), "total co2eq_g");
    assert_true(fabs(jd.duration_s - ct__json_num(ct__json_get(tot, "duration_s"), NAN)) < 1e-5);
    assert_string_equal(jd.measurement == CT__MEAS_MEASURED ? "measured" : "estimated",
                        ct__json_str(ct__json_get(tot, "measurement"), ""));
    /* the combined run the plots draw has the same totals */
    near(jd.run.actual.energy_kwh, jd.energy_kwh, "plotted run's energy");
    const ct_json *nodes = ct__json_get(root, "nodes");
    assert_int_equal(nodes->count, nodes_found);
    int i = 0;
    for (const ct_json *n = nodes->child; n; n = n->next, i++) {
        const ct_job_node *nd = &jd.nodes[i];
        assert_string_equal(nd->node, ct__json_str(ct__json_get(n, "node"), ""));
        assert_int_equal(nd->missing, 0);
        near(nd->energy_j[CT_COMPONENT_CPU], ct__json_num(ct__json_get(n, "cpu_j"), NAN), nd->node);
        near(nd->energy_j[CT_COMPONENT_GPU], ct__json_num(ct__json_get(n, "gpu_j"), NAN), nd->node);
        near(nd->co2eq_g, ct__json_num(ct__json_get(n, "co2eq_g"), NAN), nd->node);
        near(nd->energy_kwh, ct__json_num(ct__json_get(n, "energy_kwh"), NAN), nd->node);
        assert_int_equal(nd->nsteps, ct__json_get(n, "steps")->count);
    }
    const ct_json *miss = ct__json_get(root, "missing_nodes");
    assert_int_equal(miss->count, missing);
    i = nodes_found;
    for (const ct_json *m = miss->child; m; m = m->next, i++) {
        assert_int_equal(jd.nodes[i].missing, 1);
        assert_string_equal(jd.nodes[i].node, ct__json_str(m, ""));
    }
    ct__job_detail_free(&jd);
    ct__json_doc_free(doc);
    free(out);
    free(err);
}

/* srun over two nodes (job 1), sbatch with a step inside the batch step (job 2, and the real run where
 * the step ended 30 ms after the batch step): the same numbers as parse --job, n1's step 0 once. */
static void test_same_totals_as_parse(void **state) {
    (void)state;
    static const char *const fixtures[] = {"job1", "job2", "job2-late-step"};
    for (int f = 0; f < 3; f++) {
        char *dir = job_dir(fixtures[f], "7");
        compare_with_parse(dir, "7", 2, 0);
        ts_rmtree(dir);
        free(dir);
    }
    /* per-rank logs in DIR itself (tests/fixtures/parse/ranks): jobs 777 (two nodes, a second rank on
     * each that left the node to rank 0), 888 (two ranks on one node); logs of other jobs left out */
    char ranks[4200];
    snprintf(ranks, sizeof ranks, "%s/fixtures/parse/ranks", ts_env("CT_TEST_SOURCE_DIR"));
    compare_with_parse(ranks, "777", 2, 0);
    compare_with_parse(ranks, "888", 1, 0);
    char *dir = job_dir("job2", "2");
    ct_job_detail jd;
    assert_int_equal(ct__job_detail_load(dir, "2", &jd), 0);
    assert_string_equal(jd.nodes[0].node, "n1");
    assert_int_equal(jd.nodes[0].nsteps, 2);
    assert_int_equal(jd.nodes[0].counted, 1); /* step 0 ran within the batch step: 2 J, not 4 */
    assert_true(fabs(jd.nodes[0].energy_j[CT_COMPONENT_CPU] - 2.0) < 1e-9);
    assert_non_null(strstr(jd.nodes[0].steps, "(within batch)"));
    assert_true(fabs(jd.energy_j[CT_COMPONENT_CPU] - 5.0) < 1e-9);
    ct__job_detail_free(&jd);
    /* n2's log lost: flagged missing (n2.0.nodes says the step ran on n[1-2]), never summed */
    remove_file(dir, "2", "n2.0_9650.636323_2026-11-29T084714Z_carbontracker.jsonl");
    compare_with_parse(dir, "2", 1, 1);
    ts_rmtree(dir);
    free(dir);
}

/* A training's own logs, one per rank, in DIR (not DIR/JOBID/): two ranks that measured the same node at
 * the same time count once, as parse --job counts them. Real logs from the CLI wrapper (--all-ranks) on a
 * fake powercap tree: rank 1 adds 3 J while both run (as test_cluster's test_parse_job_ranks). */
static void test_ranks_counted_once(void **state) {
    (void)state;
    fake_tree t;
    assert_int_equal(fake_tree_init(&t, "jobranks"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", 1000000, 262143328850ull), 0);
    char *dir = ts_mkdtemp();
    char script[4096];
    snprintf(script, sizeof script,
             "cd '%s' && export CT_POWERCAP_ROOT='%s' SLURM_JOB_ID=tr78 CT_OFFLINE=1\n"
             "RANK=0 LOCAL_RANK=0 '%s' --log_dir logs --all-ranks --components cpu --verbose 0 -- "
             "sh -c 'touch a_started; while [ ! -f b_added ]; do sleep 0.02; done' & apid=$!\n"
             "while [ ! -f a_started ]; do sleep 0.02; done\n"
             "RANK=1 LOCAL_RANK=1 '%s' --log_dir logs --all-ranks --components cpu --verbose 0 -- "
             "sh -c \"printf '%%-24s\\\\n' 4000000 | dd of='%s/intel-rapl:0/energy_uj' conv=notrunc status=none; "
             "touch b_added; while [ ! -f a_exited ]; do sleep 0.02; done\" & bpid=$!\n"
             "wait $apid; touch a_exited; wait $bpid\n",
             dir, t.root, ts_env("CT_CLI"), ts_env("CT_CLI"), t.root);
    char *sh[] = {"sh", "-c", script, NULL};
    char *so = NULL, *se = NULL;
    int rc = ts_run(sh, NULL, &so, &se);
    if (rc != 0) fail_msg("ranks script: %d: %s %s", rc, so ? so : "", se ? se : "");
    free(so);
    free(se);
    char logs[1100];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    compare_with_parse(logs, "tr78", 1, 0);
    ct_job_detail jd;
    assert_int_equal(ct__job_detail_load(logs, "tr78", &jd), 0);
    assert_int_equal(jd.nodes[0].nsteps, 2);
    assert_int_equal(jd.nodes[0].counted, 1);
    assert_true(fabs(jd.energy_j[CT_COMPONENT_CPU] - 3.0) < 1e-9); /* not 6 */
    ct__job_detail_free(&jd);
    ts_rmtree(dir);
    free(dir);
    fake_tree_destroy(&t);
}

static void test_bad_job(void **state) {
    (void)state;
    char *dir = job_dir("job1", "1");
    ct_job_detail jd;
    assert_int_equal(ct__job_detail_load(dir, "../1", &jd), CT_EINVAL);
    assert_int_equal(ct__job_detail_load(dir, "99", &jd), CT_ENODATA);
    assert_non_null(strstr(ct_last_error_message(), "no records of job 99"));
    char out[4200];
    snprintf(out, sizeof out, "%s/job.pdf", dir);
    assert_int_equal(ct_report_render_job(dir, "a/b", out), CT_EINVAL);
    assert_int_equal(ct_report_render_job(dir, NULL, out), CT_EINVAL);
    assert_int_equal(access(out, F_OK), -1);
    ts_rmtree(dir);
    free(dir);
}

#if CT_TEST_CAIRO

/* pdftotext breaks lines where it likes: all whitespace squeezed to one space. */
static char *pdf_text(const char *pdf) {
    char *argv[] = {"pdftotext", "-layout", (char *)pdf, "-", NULL}; /* rows stay rows */
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, NULL, &out, &err);
    if (rc != 0) fail_msg("pdftotext: %d: %s", rc, err ? err : "");
    free(err);
    char *q = out;
    int sp = 0;
    for (const char *s = out; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\f') {
            sp = 1;
            continue;
        }
        if (sp && q > out) *q++ = ' ';
        sp = 0;
        *q++ = *s;
    }
    *q = '\0';
    return out;
}

static void expect_text(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("missing \"%s\" in:\n%s", needle, text);
}

/* `carbontracker report --job 2 DIR -o job.pdf`: the job's totals, both nodes, n1's step 0 within the
 * batch step; then with n2's log removed, n2 flagged missing. */
static void test_job_pdf(void **state) {
    (void)state;
    char *dir = job_dir("job2", "2");
    char out[4200];
    snprintf(out, sizeof out, "%s/job.pdf", dir);
    char *o = NULL, *e = NULL;
    char *argv[] = {(char *)ts_env("CT_CLI"), "report", "--job", "2", dir, "-o", out, NULL};
    int rc = ts_run(argv, NULL, &o, &e);
    if (rc != 0) fail_msg("report --job: %d: %s", rc, e ? e : "");
    free(o);
    free(e);
    char *txt = pdf_text(out);
    expect_text(txt, "Carbon footprint of job 2");
    expect_text(txt, "2 node(s), 3 log(s) combined");
    expect_text(txt, "5.0 J without PUE"); /* 2 J on n1 (once) + 3 J on n2 */
    expect_text(txt, "Energy is measured");
    expect_text(txt, "n1 batch, 0 (within batch) 2.0");
    expect_text(txt, "n2 0 3.0");
    expect_text(txt, "Power, energy and CO2eq of the job (all nodes)");
    assert_null(strstr(txt, "MISSING"));
    free(txt);

    remove_file(dir, "2", "n2.0_9650.636323_2026-11-29T084714Z_carbontracker.jsonl");
    assert_int_equal(ct_report_render_job(dir, "2", out), 0);
    txt = pdf_text(out);
    expect_text(txt, "1 node(s), 2 log(s) combined");
    expect_text(txt, "2.0 J without PUE");
    expect_text(txt, "MISSING NODES 1 node(s) named by the job's node lists have no records");
    expect_text(txt, "n2 - - - - - MISSING: no records");
    free(txt);

    /* the plots alone over the combined run */
    snprintf(out, sizeof out, "%s/job.svg", dir);
    assert_int_equal(ct_report_render_job(dir, "2", out), 0);
    assert_int_equal(access(out, F_OK), 0);
    ts_rmtree(dir);
    free(dir);
}

#else

static void test_without_cairo(void **state) {
    (void)state;
    char *dir = job_dir("job2", "2");
    char out[4200];
    snprintf(out, sizeof out, "%s/job.pdf", dir);
    assert_int_equal(ct_report_render_job(dir, "2", out), CT_ENOTSUP);
    assert_non_null(strstr(ct_last_error_message(), "without cairo"));
    assert_int_equal(access(out, F_OK), -1);
    ts_rmtree(dir);
    free(dir);
}

#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_totals_as_parse),
        cmocka_unit_test(test_ranks_counted_once),
        cmocka_unit_test(test_bad_job),
#if CT_TEST_CAIRO
        cmocka_unit_test(test_job_pdf),
#else
        cmocka_unit_test(test_without_cairo),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
