/* parse against faults and on paths (issue 10 items 3 and 4, issue 11 item 6):
 * FIFOs named like logs, escape codes in names, JSON Lines past the old
 * 512 MiB limit, gap records, estimates said as such, `parse FILE` and -r.
 * Each failed on the code before (see bench/RESULTS.md). Fixtures:
 * tests/fixtures/parse/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "results/results_internal.h"
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *fixture(const char *rel) {
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/fixtures/parse/%s", ts_env("CT_TEST_SOURCE_DIR"), rel);
    return p;
}

static ct_runs *parse_one(const char *dir) {
    ct_runs *r = NULL;
    const char *dirs[] = {dir};
    int rc = ct_parse_dirs(dirs, 1, &r);
    if (rc) fprintf(stderr, "ct_parse_dirs: %d %s\n", rc, ct_last_error_message());
    assert_int_equal(rc, 0);
    assert_non_null(r);
    return r;
}

static int warning_with(const ct_runs *r, const char *a, const char *b) {
    int n = 0;
    for (int i = 0; i < ct_runs_warning_count(r); i++) {
        const char *w = ct_runs_warning(r, i);
        if (strstr(w, a) && (!b || strstr(w, b))) n++;
    }
    return n;
}

static int cli(char **out, char **err, const char *a1, const char *a2, const char *a3, const char *a4) {
    char *argv[] = {(char *)ts_env("CT_CLI"), (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    return ts_run(argv, NULL, out, err);
}

/* A FIFO named like a log: skipped with a warning, never opened in a blocking way. */
static void test_fifo_named_like_a_log(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char p[4096];
    snprintf(p, sizeof p, "%s/fifo_1.x_2026-01-01T000000Z_carbontracker.jsonl", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    snprintf(p, sizeof p, "%s/fifo_2.x_2026-01-01T000000Z_carbontracker.log", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    snprintf(p, sizeof p, "%s/fifo_2.x_2026-01-01T000000Z_carbontracker_output.log", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    ct_runs *r = parse_one(dir); /* hung forever in open() before */
    assert_int_equal(ct_runs_count(r), 0);
    assert_int_equal(warning_with(r, "fifo_1", "not a regular file (a FIFO)"), 1);
    assert_int_equal(warning_with(r, "fifo_2", "not a regular file (a FIFO)"), 1);
    ct_runs_free(r);
    /* the report too */
    snprintf(p, sizeof p, "%s/fifo_1.x_2026-01-01T000000Z_carbontracker.jsonl", dir);
    ct_run_detail d;
    assert_int_equal(ct__run_detail_load(p, &d), CT_EIO);
    assert_non_null(strstr(ct_last_error_message(), "not a regular file"));
    ts_rmtree(dir);
    free(dir);
}

/* Escape codes in a file name never reach the terminal raw. */
static void test_escape_codes_in_names(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ts_write(dir, "\x1b]0;pwned\x07\x1b[2J_1.x_2026-01-01T000000Z_carbontracker.jsonl", "not json\n");
    /* a text pair whose output log cannot be read: the reader's detail quotes the path too */
    ts_write(dir, "\x1b[31mred_2.x_2026-01-01T000000Z_carbontracker.log", "x\n");
    char p[4096];
    snprintf(p, sizeof p, "%s/\x1b[31mred_2.x_2026-01-01T000000Z_carbontracker_output.log", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_warning_count(r), 2);
    for (int i = 0; i < 2; i++) {
        const char *w = ct_runs_warning(r, i);
        assert_null(strchr(w, '\x1b'));
        assert_null(strchr(w, '\x07'));
    }
    assert_int_equal(warning_with(r, "\\x1b]0;pwned\\x07\\x1b[2J_1.x", NULL), 1);
    assert_int_equal(warning_with(r, "\\x1b[31mred_2.x", "not a regular file"), 1);
    ct_runs_free(r);
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", dir, NULL, NULL), 1);
    assert_null(strchr(err, '\x1b'));
    assert_non_null(strstr(err, "\\x1b]0;pwned"));
    free(out);
    free(err);
    /* a run whose name has escape codes: CSV escapes them, JSON as \u001b */
    ts_write(dir, "\x1b[1mok_3.x_2026-01-01T000000Z_carbontracker.jsonl",
             "{\"event\":\"header\",\"pue\":1.5}\n{\"event\":\"final\",\"actual\":{\"epochs\":1,\"energy_kwh\":0.5,"
             "\"co2eq_g\":50}}\n");
    assert_int_equal(cli(&out, &err, "parse", dir, "--format", "csv"), 0);
    assert_null(strchr(out, '\x1b'));
    assert_non_null(strstr(out, "\\x1b[1mok_3.x"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", dir, "--format", "json"), 0);
    assert_null(strchr(out, '\x1b'));
    assert_non_null(strstr(out, "\\u001b[1mok_3.x"));
    free(out);
    free(err);
    ts_rmtree(dir);
    free(dir);
}

/* A JSON Lines log over the old 512 MiB limit (sparse: no disk used) is read as a stream. */
static void test_huge_jsonl_streamed(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char src[4096], p[4096];
    snprintf(src, sizeof src, "%s/fixtures/parse/mixed/22038.777376_2026-11-26T151211Z_carbontracker.jsonl",
             ts_env("CT_TEST_SOURCE_DIR"));
    char *text = ts_read(src);
    assert_non_null(text);
    char *final = strstr(text, "{\"event\":\"final\"");
    assert_non_null(final);
    snprintf(p, sizeof p, "%s/big_1.x_2026-11-26T151211Z_carbontracker.jsonl", dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(text, 1, (size_t)(final - text), f); /* header, epochs, prediction */
    assert_int_equal(fseeko(f, (off_t)600 * 1024 * 1024, SEEK_CUR), 0);
    fputs("\n", f);
    fputs(final, f);
    fclose(f);
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 1); /* skipped as "too big" before */
    ct_run_info ri;
    ct_runs_get(r, 0, &ri);
    assert_true(ri.energy_kwh == 0.00017702724225444362);
    assert_int_equal(ri.predicted, 0);
    ct_runs_free(r);
    free(text);
    ts_rmtree(dir);
    free(dir);
}

/* A gap record (written when the disk was full): parse says epochs are missing. */
static void test_gap_record(void **state) {
    (void)state;
    char *dir = fixture("gap");
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 1);
    assert_int_equal(warning_with(r, "22039.888888", "epochs are missing (1 epoch(s))"), 1);
    ct_runs_free(r);
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", dir, "--format", "json"), 0);
    assert_non_null(strstr(out, "\"epochs_missing\": true"));
    assert_non_null(strstr(err, "epochs are missing"));
    free(out);
    free(err);
    free(dir);
}

/* Estimated runs are never called measured: per run and in the sentence. */
static void test_estimates_are_said(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char src[4096];
    snprintf(src, sizeof src, "%s/fixtures/parse/mixed/22038.777376_2026-11-26T151211Z_carbontracker.jsonl",
             ts_env("CT_TEST_SOURCE_DIR"));
    char *text = ts_read(src); /* simulated CPU and GPU: every device estimated */
    ts_write(dir, "22038.777376_2026-11-26T151211Z_carbontracker.jsonl", text);
    free(text);
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", dir, NULL, NULL), 0);
    assert_null(strstr(out, "Measured by carbontracker"));
    assert_non_null(strstr(out, "Estimated (not measured) by carbontracker"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", dir, "--latex", NULL), 0);
    assert_null(strstr(out, "Measured by"));
    assert_non_null(strstr(out, "Estimated (not measured) by carbontracker~\\cite{anthony2020carbontracker}"));
    assert_non_null(strstr(out, "0 were measured, 0 partly estimated and 1 estimated"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", dir, "--format", "json"), 0);
    assert_non_null(strstr(out, "\"measurement\": \"estimated\""));
    free(out);
    free(err);
    /* with a measured run next to it: partly */
    char *py = fixture("python");
    char *argv[] = {(char *)ts_env("CT_CLI"), "parse", dir, py, NULL};
    assert_int_equal(ts_run(argv, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Partly measured and partly estimated by carbontracker"));
    free(out);
    free(err);
    free(py);
    ts_rmtree(dir);
    free(dir);
}

/* `parse FILE` reads the run of that file; -r reads subdirectories. */
static void test_parse_file_and_recursive(void **state) {
    (void)state;
    char *py = fixture("python");
    char f[4200];
    snprintf(f, sizeof f, "%s/4011.abcdef12_2026-11-20T101500Z_carbontracker_output.log", py);
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", f, NULL, NULL), 0); /* "cannot read directory" before */
    assert_non_null(strstr(out, "0.480 kWh"));
    free(out);
    free(err);
    /* a tree: python/ and ranks/ under one root, one level down and two */
    char *root = ts_mkdtemp();
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s/a' && mkdir -p '%s/b/c' && cp -r '%s/../ranks' '%s/b/c/'", py, root, root,
             py, root);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(cli(&out, &err, "parse", root, NULL, NULL), 1); /* no runs at the top */
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", "-r", root, NULL), 0);
    assert_non_null(strstr(out, "6.660 kWh")); /* 3.56 + 3.1 */
    free(out);
    free(err);
    const char *paths[] = {root};
    ct_runs *r = NULL;
    assert_int_equal(ct_parse_paths(paths, 1, CT_PARSE_RECURSIVE, &r), 0);
    assert_int_equal(ct_runs_count(r), 8);
    ct_runs_free(r);
    ts_rmtree(root);
    free(root);
    free(py);
}


int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_named_like_a_log), cmocka_unit_test(test_escape_codes_in_names),
        cmocka_unit_test(test_huge_jsonl_streamed),   cmocka_unit_test(test_gap_record),
        cmocka_unit_test(test_estimates_are_said),    cmocka_unit_test(test_parse_file_and_recursive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
