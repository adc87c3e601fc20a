/*
 * test_cluster.c - clusters and fleets without the engines (issue 13): the
 * exporter's metrics over real JSON Lines logs (the SLURM plugin's output of
 * tests/cluster/test_slurm.sh, kept in tests/fixtures/cluster), label
 * escaping, a log being written while read, a run that disappears, the live
 * per-device counter across a counter wrap, and `parse --job` per node with
 * the batch step counted once and missing nodes named. The real SLURM and
 * Prometheus runs are the scripts in tests/cluster.
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
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "carbontracker.h"
#include "fake_powercap.h"
#include "metrics.h"
#include "test_support.h"

static char *g_fix; /* tests/fixtures/cluster */

static int setup(void **state) {
    (void)state;
    const char *src = ts_env("CT_TEST_SOURCE_DIR");
    g_fix = malloc(strlen(src) + 64);
    sprintf(g_fix, "%s/fixtures/cluster", src);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(g_fix);
    return 0;
}

/* Copies fixture file rel (under g_fix) to dir/name. */
static void copy_fixture(const char *rel, const char *dir, const char *name) {
    char src[1024];
    snprintf(src, sizeof src, "%s/%s", g_fix, rel);
    char *text = ts_read(src);
    assert_non_null(text);
    assert_int_equal(ts_write(dir, name, text), 0);
    free(text);
}

/* The sample value of the first line of text starting with prefix; NAN when none. */
static double sample(const char *text, const char *prefix) {
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, n) == 0) {
            const char *sp = strchr(p, '}');
            sp = sp ? strchr(sp, ' ') : strchr(p, ' ');
            return sp ? strtod(sp + 1, NULL) : NAN;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NAN;
}

static void test_label_escaping(void **state) {
    (void)state;
    ct_sbuf b = {0};
    ct_sbuf_label(&b, "a\\b\"c\nd");
    assert_string_equal(b.s, "a\\\\b\\\"c\\nd");
    ct_sbuf_reset(&b);
    ct_sbuf_label(&b, "plain");
    assert_string_equal(b.s, "plain");
    ct_sbuf_free(&b);
}

static const char N1[] = "job1/n1.0_9081.714213_2026-11-29T084713Z_carbontracker.jsonl";
static const char N2[] = "job1/n2.0_9080.577800_2026-11-29T084713Z_carbontracker.jsonl";

/* Runs from the plugin's logs: per-component energy, job id and no `job` label. */
static void test_runs_metrics(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/1", dir);
    ts_mkdirs(dir, "1");
    copy_fixture(N1, sub, "n1.0_9081.714213_2026-11-29T084713Z_carbontracker.jsonl");
    copy_fixture(N2, sub, "n2.0_9080.577800_2026-11-29T084713Z_carbontracker.jsonl");
    const char *dirs[] = {dir};
    ct_metrics *m = ct_metrics_new(NULL, dirs, 1, "h");
    assert_non_null(m);
    ct_sbuf b = {0};
    assert_int_equal(ct_metrics_render(m, &b), 0);
    assert_int_equal(ct_metrics_run_count(m), 2);
    /* The plugin's truth: n1 5 J CPU (+ GPU 1 at 40 W), n2 7 J CPU. */
    assert_true(fabs(sample(b.s, "carbontracker_run_energy_joules_total{run_id=\"n1.0_9081.714213_2026-11-29T084713Z\","
                                 "job_id=\"1\",rank=\"-1\",host=\"vm\",component=\"cpu\"") -
                     5.0) < 1e-9);
    assert_true(fabs(sample(b.s, "carbontracker_run_energy_joules_total{run_id=\"n2.0_9080.577800_2026-11-29T084713Z\","
                                 "job_id=\"1\",rank=\"-1\",host=\"vm\",component=\"cpu\"") -
                     7.0) < 1e-9);
    double gpu = sample(b.s, "carbontracker_run_energy_joules_total{run_id=\"n1.0_9081.714213_2026-11-29T084713Z\","
                             "job_id=\"1\",rank=\"-1\",host=\"vm\",component=\"gpu\"");
    assert_true(gpu > 40.0 && gpu < 41.0);
    assert_null(strstr(b.s, ",job=\""));
    assert_null(strstr(b.s, "{job=\""));
    assert_non_null(strstr(b.s, "# TYPE carbontracker_run_energy_joules_total counter\n"));
    /* --max-age: a log last written two hours ago is left out */
    char old[1200];
    snprintf(old, sizeof old, "%s/n2.0_9080.577800_2026-11-29T084713Z_carbontracker.jsonl", sub);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 7200;
    tv[1] = tv[0];
    assert_int_equal(utimes(old, tv), 0);
    ct_metrics_set_max_age(m, 3600);
    assert_int_equal(ct_metrics_render(m, &b), 0);
    assert_int_equal(ct_metrics_run_count(m), 1);
    assert_null(strstr(b.s, "run_id=\"n2.0_"));
    ct_sbuf_free(&b);
    ct_metrics_free(m);
    ts_rmtree(dir);
    free(dir);
}

/* A log being written: a line without its newline is not read until it is complete;
 * a file that disappears drops its run; a file replaced by a shorter one is read anew. */
static void test_runs_written_while_read(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char path[1024];
    snprintf(path, sizeof path, "%s/r_carbontracker.jsonl", dir);
    char src[1024];
    snprintf(src, sizeof src, "%s/%s", g_fix, N2);
    char *text = ts_read(src);
    assert_non_null(text);
    /* header + half of the epoch line */
    char *epoch = strstr(text, "\n{\"event\":\"epoch\"");
    assert_non_null(epoch);
    size_t cut = (size_t)(epoch - text) + 1 + 40;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(text, 1, cut, f);
    fflush(f);
    const char *dirs[] = {dir};
    ct_metrics *m = ct_metrics_new(NULL, dirs, 1, "h");
    ct_sbuf b = {0};
    assert_int_equal(ct_metrics_render(m, &b), 0);
    assert_int_equal(ct_metrics_run_count(m), 1);
    assert_null(strstr(b.s, "carbontracker_run_energy_joules_total{")); /* no epoch yet */
    /* the rest arrives */
    fputs(text + cut, f);
    fclose(f);
    assert_int_equal(ct_metrics_render(m, &b), 0);
    assert_true(fabs(sample(b.s, "carbontracker_run_energy_joules_total{run_id=\"r\"") - 7.0) < 1e-9);
    /* replaced by a shorter file (same name, log rotated): read from the start, not summed twice */
    unlink(path);
    f = fopen(path, "w");
    fwrite(text, 1, (size_t)(epoch - text) + 1, f);
    fclose(f);
    assert_int_equal(ct_metrics_render(m, &b), 0);
    assert_null(strstr(b.s, "carbontracker_run_energy_joules_total{"));
    /* gone */
    unlink(path);
    assert_int_equal(ct_metrics_render(m, &b), 0);
    assert_int_equal(ct_metrics_run_count(m), 0);
    assert_null(strstr(b.s, "run_id=\"r\""));
    free(text);
    ct_sbuf_free(&b);
    ct_metrics_free(m);
    ts_rmtree(dir);
    free(dir);
}

/* The node counter through the public API: energy since the tracker started, monotonic across a
 * counter wrap (max_energy_range_uj known). */
static void test_device_counter_wrap(void **state) {
    (void)state;
    fake_tree t;
    assert_int_equal(fake_tree_init(&t, "cluster"), 0);
    const uint64_t range = 1000000000ull; /* 1000 J */
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", range - 2000000, range), 0);
    setenv("CT_POWERCAP_ROOT", t.root, 1);
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.verbose = 0;
    cfg.components = "cpu";
    cfg.update_interval = 0.05;
    ct_tracker *tr = NULL;
    assert_int_equal(ct_tracker_new(&cfg, &tr), 0);
    assert_int_equal(ct_device_count(tr), 1);
    double e = -1;
    assert_int_equal(ct_get_device_energy(tr, 0, &e), 0);
    assert_true(e == 0.0);
    assert_int_equal(ct_get_device_energy(tr, 1, &e), CT_ENODATA);
    assert_int_equal(ct_get_device_energy(NULL, 0, &e), CT_EINVAL);
    /* +2 J to the top of the range, then wrap to 3 J: 5 J in all */
    assert_int_equal(fake_powercap_set(&t, "intel-rapl:0", range - 1), 0);
    ct_epoch_start(tr); /* reads every counter now */
    assert_int_equal(fake_powercap_set(&t, "intel-rapl:0", 3000000 - 1), 0);
    ct_epoch_end(tr); /* reads again, deterministically (no waiting for the thread) */
    assert_int_equal(ct_get_device_energy(tr, 0, &e), 0);
    /* 5 J within 2 uJ: counted as a wrap (+1 uJ at the top) or, the reads being milliseconds apart,
     * as a counter reset (the new value alone) - see rapl.c */
    assert_true(fabs(e - 5.0) < 3e-6);
    double g = 0;
    char src[160];
    assert_int_equal(ct_get_intensity_now(tr, &g, NULL, src, sizeof src), 0);
    assert_true(g > 0);
    ct_tracker_free(tr);
    unsetenv("CT_POWERCAP_ROOT");
    fake_tree_destroy(&t);
}

/* `parse --job` over the plugin's logs of an sbatch job: the batch step covers step 0 on n1. */
static void test_parse_job(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/2", dir);
    ts_mkdirs(dir, "2");
    static const char *const files[] = {"n1.0.nodes",
                                        "n1.0_9648.346706_2026-11-29T084714Z_carbontracker.jsonl",
                                        "n1.batch.nodes",
                                        "n1.batch_9628.613995_2026-11-29T084714Z_carbontracker.jsonl",
                                        "n2.0.nodes",
                                        "n2.0_9650.636323_2026-11-29T084714Z_carbontracker.jsonl",
                                        "n1.0_9648.346706_2026-11-29T084714Z_attribution.json",
                                        "n1.batch_9628.613995_2026-11-29T084714Z_attribution.json",
                                        "n2.0_9650.636323_2026-11-29T084714Z_attribution.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "job2/%s", files[i]);
        copy_fixture(rel, sub, files[i]);
    }
    char *out = NULL, *err = NULL;
    char *argv1[] = {(char *)ts_env("CT_CLI"), "parse", "--job", "2", dir, "--format", "csv", NULL};
    assert_int_equal(ts_run(argv1, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\n2,n1,2,2,0,")); /* 2 J once, not 4 */
    assert_non_null(strstr(out, "\n2,n2,3,3,0,"));
    assert_non_null(strstr(out, "\n2,TOTAL,5,5,0,"));
    free(out);
    free(err);
    /* the attributed view: the counted steps' (batch on n1, 0 on n2) CPU-time shares, never instead of the
     * measured numbers */
    char *argv0[] = {(char *)ts_env("CT_CLI"), "parse", "--job", "2", dir, "--format", "json", NULL};
    assert_int_equal(ts_run(argv0, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\"measurement\": \"measured\", \"attributed\": {\"method\": \"cpu-time-share\", "
                                "\"cpu_j\": 0.179646726, \"gpu_j\": 0,"));
    assert_non_null(strstr(out, "\"total\": {\"energy_j\": 5, \"cpu_j\": 5,"));
    free(out);
    free(err);
    /* n2's log lost: named as missing (n2.0.nodes says the step ran on n[1-2]) */
    char p[1200];
    snprintf(p, sizeof p, "%s/n2.0_9650.636323_2026-11-29T084714Z_carbontracker.jsonl", sub);
    unlink(p);
    snprintf(p, sizeof p, "%s/n2.0.nodes", sub);
    unlink(p);
    char *argv2[] = {(char *)ts_env("CT_CLI"), "parse", "--job", "2", dir, "--format", "json", NULL};
    assert_int_equal(ts_run(argv2, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\"missing_nodes\": [\"n2\"]"));
    free(out);
    free(err);
    /* odd job ids are refused before a path is built from them */
    char *argv3[] = {(char *)ts_env("CT_CLI"), "parse", "--job", "1/../../etc", dir, NULL};
    assert_int_equal(ts_run(argv3, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "job id must be"));
    free(out);
    free(err);
    /* no records at all: exit 1 with the reason */
    char *argv4[] = {(char *)ts_env("CT_CLI"), "parse", "--job", "77", dir, NULL};
    assert_int_equal(ts_run(argv4, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "no records of job 77"));
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
}

/* The textfile: written whole under its final name, nothing left beside it; a directory
 * that cannot be written is a clear error. */
static void test_exporter_textfile(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char path[1024];
    snprintf(path, sizeof path, "%s/node.prom", dir);
    char *out = NULL, *err = NULL;
    char *argv1[] = {(char *)ts_env("CT_CLI"),
                     "exporter",
                     "--once",
                     "--components",
                     "none",
                     "--runs",
                     g_fix,
                     "--textfile",
                     path,
                     NULL};
    assert_int_equal(ts_run(argv1, NULL, &out, &err), 0);
    char *text = ts_read(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "carbontracker_runs{host="));
    assert_non_null(strstr(text, "job_id=\"2\""));
    assert_null(ts_find_suffix(dir, ".tmp"));
    free(text);
    free(out);
    free(err);
    char *argv2[] = {(char *)ts_env("CT_CLI"), "exporter", "--once", "--components", "none", "--textfile",
                     "/proc/ct-no/node.prom",  NULL};
    assert_int_equal(ts_run(argv2, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "cannot write /proc/ct-no/node.prom"));
    free(out);
    free(err);
    char *argv3[] = {(char *)ts_env("CT_CLI"), "exporter", "--listen", "127.0.0.1:notaport", NULL};
    assert_int_equal(ts_run(argv3, NULL, &out, &err), 2);
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
}

/* The batch step's slurmstepd may finish before an srun step's on the same node (seen in the SLURM test):
 * the step started within the batch step, so it is still covered by it, not counted twice. */
static void test_parse_job_late_step(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/2", dir);
    ts_mkdirs(dir, "2");
    static const char *const files[] = {"n1.0.nodes",     "n1.0_9648.346706_2026-11-29T084714Z_carbontracker.jsonl",
                                        "n1.batch.nodes", "n1.batch_9628.613995_2026-11-29T084714Z_carbontracker.jsonl",
                                        "n2.0.nodes",     "n2.0_9650.636323_2026-11-29T084714Z_carbontracker.jsonl"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "job2-late-step/%s", files[i]);
        copy_fixture(rel, sub, files[i]);
    }
    char *out = NULL, *err = NULL;
    char *argv1[] = {(char *)ts_env("CT_CLI"), "parse", "--job", "2", dir, "--format", "csv", NULL};
    assert_int_equal(ts_run(argv1, NULL, &out, &err), 0);
    if (!strstr(out, "\n2,n1,2,2,0,")) fail_msg("n1 not 2 J once: %s", out);
    assert_non_null(strstr(out, "\n2,TOTAL,5,5,0,"));
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
}

/* A training's own logs, one per rank (torchrun/srun ranks with all_ranks): two ranks that measured the
 * same node at the same time count once, whichever way their times overlap. Real logs from the CLI
 * wrapper on a fake powercap tree. */
static void test_parse_job_ranks(void **state) {
    (void)state;
    fake_tree t;
    assert_int_equal(fake_tree_init(&t, "ranks"), 0);
    assert_int_equal(fake_powercap_add_zone(&t, "intel-rapl:0", "package-0", 1000000, 262143328850ull), 0);
    char *dir = ts_mkdtemp();
    /* Rank 0 starts, then rank 1 adds 3 J to the counter (one in-place write, as the kernel does); rank 0
     * ends, then rank 1: their times overlap partly and both measured the same 3 J. Files order the
     * steps; no timing involved. */
    char script[4096];
    snprintf(script, sizeof script,
             "cd '%s' && export CT_POWERCAP_ROOT='%s' SLURM_JOB_ID=tr77 CT_OFFLINE=1\n"
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

    char *out = NULL, *err = NULL;
    char *argv1[] = {(char *)ts_env("CT_CLI"), "parse", "--job", "tr77", logs, "--format", "json", NULL};
    assert_int_equal(ts_run(argv1, NULL, &out, &err), 0);
    /* one node, two logs, one counted */
    char host[256];
    gethostname(host, sizeof host);
    char want[400];
    snprintf(want, sizeof want, "\"nodes\": [\n  {\"node\": \"%s\"", host);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "\"counted\": true"));
    assert_non_null(strstr(out, "\"counted\": false"));
    if (!strstr(out, "\"total\": {\"energy_j\": 3, \"cpu_j\": 3,")) fail_msg("not 3 J once: %s", out); /* not 6 */
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
    fake_tree_destroy(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_runs_metrics),
        cmocka_unit_test(test_runs_written_while_read),
        cmocka_unit_test(test_device_counter_wrap),
        cmocka_unit_test(test_parse_job),
        cmocka_unit_test(test_parse_job_ranks),
        cmocka_unit_test(test_parse_job_late_step),
        cmocka_unit_test(test_exporter_textfile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
