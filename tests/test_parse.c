/* Aggregation over many runs (issue 5): the JSON reader, the original's text
 * logs (written as the Python tool writes them and as we write them), our JSON
 * Lines, mixed and damaged directories, ranks of one job, and the CLI's
 * text/JSON/CSV/LaTeX outputs. Fixtures: tests/fixtures/parse/README.md. */
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

static int find_run(const ct_runs *r, const char *file_part, ct_run_info *out) {
    for (int i = 0; i < ct_runs_count(r); i++) {
        ct_runs_get(r, i, out);
        if (strstr(out->file, file_part)) return i;
    }
    return -1;
}

static int warning_with(const ct_runs *r, const char *a, const char *b) {
    int n = 0;
    for (int i = 0; i < ct_runs_warning_count(r); i++) {
        const char *w = ct_runs_warning(r, i);
        if (strstr(w, a) && (!b || strstr(w, b))) n++;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* JSON reader                                                          */
/* ------------------------------------------------------------------ */

static void test_json_reader_values(void **state) {
    (void)state;
    ct_json_doc *doc = ct__json_doc_new();
    const char *s = " {\"a\": 1.5e3, \"b\": [true, false, null, -0.25], \"s\": \"x\\\"y\\\\z\\n\\u00e9\\ud83d\\ude00\","
                    " \"o\": {\"k\": \"v\"}, \"a\": 7} ";
    char err[128];
    const ct_json *j = ct__json_parse(doc, s, strlen(s), err, sizeof err);
    assert_non_null(j);
    assert_int_equal(j->type, CT_JSON_OBJECT);
    assert_int_equal(j->count, 5);
    /* the last duplicate wins */
    assert_true(ct__json_num(ct__json_get(j, "a"), -1) == 7.0);
    const ct_json *b = ct__json_get(j, "b");
    assert_int_equal(b->count, 4);
    assert_int_equal(b->child->type, CT_JSON_TRUE);
    assert_int_equal(b->child->next->type, CT_JSON_FALSE);
    assert_int_equal(b->child->next->next->type, CT_JSON_NULL);
    assert_true(b->child->next->next->next->num == -0.25);
    assert_string_equal(ct__json_str(ct__json_get(j, "s"), ""), "x\"y\\z\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(ct__json_str(ct__json_get(ct__json_get(j, "o"), "k"), ""), "v");
    /* accessors with wrong types fall back */
    assert_int_equal(ct__json_int(ct__json_get(j, "s"), 42), 42);
    assert_int_equal(ct__json_bool(ct__json_get(j, "missing"), -1), -1);
    assert_null(ct__json_get(b, "x"));
    /* the doc is reused: a second parse works and a big one grows the arena */
    size_t big = 200000;
    char *arr = malloc(big * 2 + 3);
    arr[0] = '[';
    size_t k = 1;
    for (size_t i = 0; i < big; i++) {
        arr[k++] = '1';
        arr[k++] = i + 1 < big ? ',' : ']';
    }
    j = ct__json_parse(doc, arr, k, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(j->count, (int)big);
    free(arr);
    ct__json_doc_free(doc);
}

static void test_json_reader_rejects(void **state) {
    (void)state;
    ct_json_doc *doc = ct__json_doc_new();
    const char *bad[] = {"",          "{",           "{\"a\":1,}",
                         "[1 2]",     "{\"a\" 1}",   "\"abc",
                         "tru",       "01",          "1.",
                         "-",         "{\"a\":1} x", "\"\\x\"",
                         "\"\\u12\"", "\"a\tb\"",    "{\"event\":\"epoch\",\"epoch\":3,\"sta",
                         "[1e]",      "nan"};
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        const ct_json *j = ct__json_parse(doc, bad[i], strlen(bad[i]), err, sizeof err);
        if (j) fprintf(stderr, "accepted: %s\n", bad[i]);
        assert_null(j);
        assert_true(strlen(err) > 0);
    }
    /* nesting bomb: bounded depth, no stack overflow */
    char deep[10001];
    memset(deep, '[', 10000);
    deep[10000] = '\0';
    assert_null(ct__json_parse(doc, deep, 10000, err, sizeof err));
    assert_non_null(strstr(err, "deep"));

    /* every truncation of a record is rejected; every single-byte change is
     * either rejected or read, never a crash (run under ASan in CI) */
    const char *rec = "{\"event\":\"epoch\",\"epoch\":3,\"start\":1.5e9,\"energy_j\":{\"cpu\":12.5,\"gpu\":-0.0},"
                      "\"ok\":true,\"no\":null,\"s\":\"a\\u00e9\\n\",\"l\":[1,[2,{}],[]]}";
    size_t n = strlen(rec);
    assert_non_null(ct__json_parse(doc, rec, n, err, sizeof err));
    for (size_t i = 0; i < n; i++) assert_null(ct__json_parse(doc, rec, i, err, sizeof err));
    char *m = malloc(n);
    static const char subst[] = "\"\\{}[],:0e-.tfnu \x01\xff";
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof subst - 1; k++) {
            memcpy(m, rec, n);
            m[i] = subst[k];
            (void)ct__json_parse(doc, m, n, err, sizeof err);
        }
    free(m);
    ct__json_doc_free(doc);
}

static void test_parse_hms(void **state) {
    (void)state;
    assert_true(ct__parse_hms("0:00:10") == 10.0);
    assert_true(fabs(ct__parse_hms("2:52:22") - 10342.0) < 1e-9);
    assert_true(fabs(ct__parse_hms("0:02:21.90") - 141.9) < 1e-9);
    assert_true(ct__parse_hms("abc") < 0);
    assert_true(ct__parse_hms("1:2:3") < 0);
}

/* ------------------------------------------------------------------ */
/* The Python tool's logs                                               */
/* ------------------------------------------------------------------ */

static void test_python_tool_logs(void **state) {
    (void)state;
    char *dir = fixture("python");
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 4);
    assert_int_equal(ct_runs_warning_count(r), 0); /* the lone _err.log is not a run */
    ct_run_info ri;
    /* A: finished 10 of 10: the actual (the original's parser reads its epoch count as 1 and takes 0.5) */
    assert_true(find_run(r, "4011.abcdef12", &ri) >= 0);
    assert_int_equal(ri.predicted, 0);
    assert_int_equal(ri.epochs, 10);
    assert_true(fabs(ri.energy_kwh - 0.48) < 1e-12);
    assert_true(fabs(ri.co2eq_g - 38.5) < 1e-12);
    assert_true(fabs(ri.duration_s - 590) < 1e-9);
    assert_string_equal(ri.format, "text");
    assert_int_equal(ri.files, 2);
    assert_string_equal(ri.intensity_source, "detected location: Copenhagen, Capital Region, DK");
    assert_true(ri.start_unix_s == 1795169700.0); /* 2026-11-20T10:15:00Z from the file name */
    /* B: interrupted after 3 of 20: the actual */
    assert_true(find_run(r, "train_4022", &ri) >= 0);
    assert_int_equal(ri.predicted, 0);
    assert_int_equal(ri.early_stop, 1);
    assert_int_equal(ri.epochs, 3);
    assert_int_equal(ri.epochs_planned, 20);
    assert_true(fabs(ri.energy_kwh - 0.18) < 1e-12);
    /* C: crashed after the prediction */
    assert_true(find_run(r, "4033.deadbeef", &ri) >= 0);
    assert_int_equal(ri.predicted, 1);
    assert_int_equal(ri.complete, 0);
    assert_true(fabs(ri.energy_kwh - 2.0) < 1e-12);
    /* D: monitored 5 of 10 and not interrupted: the prediction for all 10 */
    assert_true(find_run(r, "4044.cafebabe", &ri) >= 0);
    assert_int_equal(ri.predicted, 1);
    assert_int_equal(ri.epochs, 10);
    assert_true(fabs(ri.energy_kwh - 0.9) < 1e-12);

    ct_runs_total t;
    assert_int_equal(ct_runs_totals(r, &t), 0);
    assert_int_equal(t.runs, 4);
    assert_true(fabs(t.energy_kwh - 3.56) < 1e-9);
    assert_true(fabs(t.co2eq_g - 272.9) < 1e-9);
    assert_true(fabs(t.duration_s - (590 + 180 + 3000 + 600)) < 1e-9);
    double gkm = (1000.0 / ct_car_km(1000.0));
    assert_true(gkm > 50 && gkm < 250);
    assert_true(fabs(t.car_km - 272.9 / gkm) < 1e-9);

    char sentence[512], expect[512];
    snprintf(expect, sizeof expect,
             "The training of models in this work is estimated to use 3.560 kWh of electricity contributing to "
             "0.273 kg of CO2eq. This is equivalent to %.3f km travelled by car. Measured by carbontracker "
             "(https://github.com/lfwa/carbontracker).",
             272.9 / gkm);
    int n = ct_runs_sentence(r, sentence, sizeof sentence);
    assert_int_equal(n, (int)strlen(expect));
    assert_string_equal(sentence, expect);
    /* truncation like snprintf */
    char small[16];
    assert_int_equal(ct_runs_sentence(r, small, sizeof small), n);
    assert_int_equal(strlen(small), 15);
    ct_runs_free(r);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* Mixed and damaged                                                    */
/* ------------------------------------------------------------------ */

static void test_mixed_and_damaged(void **state) {
    (void)state;
    char *dir = fixture("mixed");
    ct_runs *r = parse_one(dir);
    /* counted: the engine's run (JSONL + its text copy, once), the truncated
     * JSONL (its prediction), the crashed JSONL (its epochs) */
    assert_int_equal(ct_runs_count(r), 3);
    ct_run_info ri;
    assert_true(find_run(r, "22038.777376", &ri) >= 0);
    assert_string_equal(ri.format, "jsonl");
    assert_int_equal(ri.files, 3);
    assert_string_equal(ri.host, "vm");
    assert_int_equal(ri.estimated, 1);
    assert_int_equal(ri.predicted, 0);
    assert_true(ri.energy_kwh == 0.00017702724225444362);
    assert_true(find_run(r, "trunc_2", &ri) >= 0);
    assert_int_equal(ri.predicted, 1);
    assert_true(fabs(ri.energy_kwh - 0.01) < 1e-15);
    assert_true(fabs(ri.co2eq_g - 1.0) < 1e-15);
    assert_true(find_run(r, "crash_3", &ri) >= 0);
    assert_int_equal(ri.predicted, 0);
    assert_int_equal(ri.epochs, 2);
    /* 2 x (3600 + 7200) J = 0.006 kWh, x PUE 1.5 from its header */
    assert_true(fabs(ri.energy_kwh - 0.009) < 1e-15);
    assert_true(fabs(ri.co2eq_g - 1.0) < 1e-15);
    assert_true(fabs(ri.duration_s - 20.0) < 1e-12);

    /* one warning per damaged file, none for README.txt or the _err.log */
    assert_int_equal(ct_runs_warning_count(r), 7);
    assert_int_equal(warning_with(r, "junk_1", "not a carbontracker JSON Lines"), 1);
    assert_int_equal(warning_with(r, "trunc_2", "truncated"), 1);
    assert_int_equal(warning_with(r, "crash_3", "no final record"), 1);
    assert_int_equal(warning_with(r, "empty_4", "empty"), 1);
    assert_int_equal(warning_with(r, "lonely_5", "unpaired"), 1);
    assert_int_equal(warning_with(r, "lonely_6", "unpaired"), 1);
    assert_int_equal(warning_with(r, "cut_7", "no \"Actual\""), 1);
    assert_int_equal(warning_with(r, "README", NULL), 0);

    ct_runs_total t;
    ct_runs_totals(r, &t);
    assert_true(fabs(t.energy_kwh - (0.00017702724225444362 + 0.01 + 0.009)) < 1e-15);
    assert_true(fabs(t.co2eq_g - (0.02684623439605905 + 2.0)) < 1e-12);
    ct_runs_free(r);
    free(dir);
}

static void test_ranks_of_one_job(void **state) {
    (void)state;
    char *dir = fixture("ranks");
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 4);
    ct_run_info ri;
    /* job 777: two nodes, local rank 0 of each measured, ranks 1 and 3 did not */
    assert_true(find_run(r, "1001.r0", &ri) >= 0);
    assert_string_equal(ri.job_id, "777");
    assert_string_equal(ri.host, "node-a,node-b");
    assert_int_equal(ri.files, 4);
    assert_true(fabs(ri.energy_kwh - 2.2) < 1e-12);
    assert_true(fabs(ri.co2eq_g - 170.0) < 1e-12);
    assert_int_equal(find_run(r, "1002.r1", &ri), -1);
    assert_int_equal(find_run(r, "2001.r2", &ri), -1);
    /* job 888: two ranks measured the same node (all_ranks): once, the larger */
    assert_true(find_run(r, "3002.a1", &ri) >= 0);
    assert_true(fabs(ri.energy_kwh - 0.6) < 1e-12);
    assert_int_equal(find_run(r, "3001.a0", &ri), -1);
    assert_int_equal(warning_with(r, "job 888", "counted once"), 1);
    /* job 999: two runs one after the other in one job: both count */
    assert_true(find_run(r, "4001.s1", &ri) >= 0);
    assert_true(find_run(r, "4002.s2", &ri) >= 0);
    /* a rank that measured nothing and has no partner: warned, not counted */
    assert_int_equal(find_run(r, "5001.x1", &ri), -1);
    assert_int_equal(warning_with(r, "5001.x1", "measured nothing"), 1);
    assert_int_equal(ct_runs_warning_count(r), 2);
    ct_runs_total t;
    ct_runs_totals(r, &t);
    assert_true(fabs(t.energy_kwh - 3.1) < 1e-12);
    assert_true(fabs(t.co2eq_g - 245.0) < 1e-12);
    ct_runs_free(r);
    free(dir);
}

static void test_several_dirs_and_errors(void **state) {
    (void)state;
    char *a = fixture("python"), *b = fixture("ranks");
    char a2[4200];
    snprintf(a2, sizeof a2, "%s/.", a); /* the same directory under another name */
    const char *dirs[] = {a, b, a2};
    ct_runs *r = NULL;
    assert_int_equal(ct_parse_dirs(dirs, 3, &r), 0);
    assert_int_equal(ct_runs_count(r), 8);
    assert_int_equal(warning_with(r, "given twice", NULL), 1);
    ct_runs_total t;
    ct_runs_totals(r, &t);
    assert_true(fabs(t.energy_kwh - (3.56 + 3.1)) < 1e-9);
    ct_run_info ri;
    assert_int_equal(ct_runs_get(r, 8, &ri), CT_EINVAL);
    assert_int_equal(ct_runs_get(r, -1, &ri), CT_EINVAL);
    assert_null(ct_runs_warning(r, 99));
    ct_runs_free(r);

    const char *missing[] = {"/nonexistent/ct-parse-dir"};
    r = (ct_runs *)1;
    assert_int_equal(ct_parse_dirs(missing, 1, &r), CT_EIO);
    assert_null(r);
    assert_non_null(strstr(ct_last_error_message(), "/nonexistent/ct-parse-dir"));
    assert_int_equal(ct_parse_dirs(NULL, 1, &r), CT_EINVAL);
    assert_int_equal(ct_parse_dirs(dirs, 0, &r), CT_EINVAL);
    assert_int_equal(ct_parse_dirs(dirs, 1, NULL), CT_EINVAL);
    assert_int_equal(ct_runs_count(NULL), 0);
    assert_int_equal(ct_runs_totals(NULL, &t), CT_EINVAL);
    ct_runs_free(NULL);

    /* an empty directory: no runs, no failure */
    char *empty = ts_mkdtemp();
    const char *e[] = {empty};
    assert_int_equal(ct_parse_dirs(e, 1, &r), 0);
    assert_int_equal(ct_runs_count(r), 0);
    ct_runs_free(r);
    ts_rmtree(empty);
    free(empty);
    free(a);
    free(b);
}

/* Garbage of every kind in one directory: warnings, never a crash. */
static void test_garbage_files(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    unsigned char bin[512];
    for (size_t i = 0; i < sizeof bin; i++) bin[i] = (unsigned char)(i * 131 + 7);
    FILE *f;
    char p[4096];
    snprintf(p, sizeof p, "%s/bin_1.x_2026-01-01T000000Z_carbontracker.jsonl", dir);
    f = fopen(p, "wb");
    fwrite(bin, 1, sizeof bin, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/bin_1.x_2026-01-01T000000Z_carbontracker.log", dir);
    f = fopen(p, "wb");
    fwrite(bin, 1, sizeof bin, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/bin_1.x_2026-01-01T000000Z_carbontracker_output.log", dir);
    f = fopen(p, "wb");
    fwrite(bin, 1, sizeof bin, f);
    fclose(f);
    /* a header only */
    ts_write(dir, "hdr_2.y_2026-01-01T000000Z_carbontracker.jsonl", "{\"event\":\"header\",\"pue\":1.58}\n");
    /* a final with garbage numbers */
    ts_write(dir, "fin_3.z_2026-01-01T000000Z_carbontracker.jsonl",
             "{\"event\":\"header\"}\n{\"event\":\"final\",\"actual\":{\"energy_kwh\":\"lots\"},\"predicted\":7}\n");
    /* a directory named like a log */
    ts_mkdirs(dir, "dir_4.w_2026-01-01T000000Z_carbontracker.jsonl");
    /* an output block with a non-number energy */
    ts_write(dir, "nan_5.v_2026-01-01T000000Z_carbontracker.log", "x\n");
    ts_write(dir, "nan_5.v_2026-01-01T000000Z_carbontracker_output.log",
             "2026 - \nActual consumption for 1 epoch(s):\n\tTime:\t0:00:01\n\tEnergy:\tlots kWh\n\tCO2eq:\t1 g\n");
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 0);
    /* the damaged JSONL, then its damaged text copy: one warning each */
    assert_int_equal(warning_with(r, "bin_1.x_2026-01-01T000000Z_carbontracker.jsonl", NULL), 1);
    assert_int_equal(warning_with(r, "bin_1.x_2026-01-01T000000Z_carbontracker_output.log", NULL), 1);
    assert_int_equal(warning_with(r, "hdr_2", "no epoch"), 1);
    assert_int_equal(warning_with(r, "fin_3", NULL), 1);
    assert_int_equal(warning_with(r, "dir_4", "not a regular file"), 1);
    assert_int_equal(warning_with(r, "nan_5", NULL), 1);
    ct_runs_free(r);
    ts_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* Runs written by our engine                                           */
/* ------------------------------------------------------------------ */

static void engine_run(const char *dir, int epochs, int run_epochs) {
    ct_config c;
    ct_config_init(&c);
    c.epochs = epochs;
    c.verbose = 0;
    c.log_dir = dir;
    c.sim_cpu = "Simulated Xeon";
    c.sim_cpu_tdp = 120;
    c.sim_gpu = "Simulated A100";
    c.sim_gpu_watts = 400;
    c.carbon_intensity = 200;
    c.update_interval = 0.05;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    for (int e = 0; e < run_epochs; e++) {
        assert_int_equal(ct_epoch_start(t), 0);
        usleep(60000);
        assert_int_equal(ct_epoch_end(t), 0);
    }
    ct_stop(t);
    ct_tracker_free(t);
}

/* Small totals keep three significant digits in the sentence (was "0.000 kWh ... 0.000 kg"). */
static void test_sentence_small_numbers(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    ts_write(dir, "small_1.a_2026-01-01T000000Z_carbontracker.jsonl",
             "{\"event\":\"header\",\"schema\":1,\"pue\":1.58,\"epochs\":1}\n"
             "{\"event\":\"final\",\"reason\":\"completed\",\"early_stop\":false,"
             "\"actual\":{\"epochs\":1,\"duration_s\":13.2,\"energy_kwh\":4.41e-05,\"co2eq_g\":0.0211,"
             "\"estimated\":{\"cpu\":false}}}\n");
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 1);
    char s[512];
    assert_true(ct_runs_sentence(r, s, sizeof s) > 0);
    assert_non_null(strstr(s, "estimated to use 0.0000441 kWh of electricity contributing to 0.0000211 kg of CO2eq"));
    assert_null(strstr(s, " 0.000 "));
    ct_runs_free(r);
    ts_rmtree(dir);
    free(dir);
}

static void test_engine_logs_jsonl_and_text(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    /* finished: 3 of 3; interrupted: 2 of 6 */
    engine_run(dir, 3, 3);
    sleep(1); /* distinct file names (seconds) */
    engine_run(dir, 6, 2);
    ct_runs *r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 2);
    assert_int_equal(ct_runs_warning_count(r), 0);
    ct_run_info j[2];
    ct_runs_get(r, 0, &j[0]);
    ct_runs_get(r, 1, &j[1]);
    assert_string_equal(j[0].format, "jsonl");
    assert_int_equal(j[0].files, 3);
    assert_int_equal(j[0].predicted, 0);
    assert_int_equal(j[0].epochs, 3);
    assert_int_equal(j[1].predicted, 0);
    assert_int_equal(j[1].early_stop, 1);
    assert_int_equal(j[1].epochs, 2);
    assert_int_equal(j[1].epochs_planned, 6);
    assert_true(j[0].energy_kwh > 0 && j[1].energy_kwh > 0);
    /* CO2eq = energy x 200 g/kWh (energy already with PUE) */
    assert_true(fabs(j[0].co2eq_g - j[0].energy_kwh * 200) < 1e-9 * j[0].co2eq_g + 1e-12);
    ct_runs_free(r);

    /* The same runs from the text logs alone: same numbers to the 12 printed decimals. */
    char *jl;
    while ((jl = ts_find_suffix(dir, "_carbontracker.jsonl")) != NULL) {
        unlink(jl);
        free(jl);
    }
    r = parse_one(dir);
    assert_int_equal(ct_runs_count(r), 2);
    for (int i = 0; i < 2; i++) {
        ct_run_info t;
        ct_runs_get(r, i, &t);
        assert_string_equal(t.format, "text");
        assert_int_equal(t.predicted, j[i].predicted);
        assert_int_equal(t.epochs, j[i].epochs);
        assert_int_equal(t.early_stop, j[i].early_stop);
        assert_true(fabs(t.energy_kwh - j[i].energy_kwh) <= 5e-13);
        assert_true(fabs(t.co2eq_g - j[i].co2eq_g) <= 5e-13);
    }
    ct_runs_free(r);
    ts_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* The CLI                                                              */
/* ------------------------------------------------------------------ */

static int cli(char **out, char **err, const char *a1, const char *a2, const char *a3, const char *a4) {
    char *argv[] = {(char *)ts_env("CT_CLI"), (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    return ts_run(argv, NULL, out, err);
}

static void test_cli_text_and_latex(void **state) {
    (void)state;
    char *dir = fixture("python");
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", dir, NULL, NULL), 0);
    assert_non_null(strstr(out, "The training of models in this work is estimated to use 3.560 kWh of electricity "
                                "contributing to 0.273 kg of CO2eq."));
    assert_string_equal(err, "");
    free(out);
    free(err);
    /* the original's spelling */
    assert_int_equal(cli(&out, &err, "--parse", dir, NULL, NULL), 0);
    assert_non_null(strstr(out, "3.560 kWh"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", dir, "--latex", NULL), 0);
    assert_non_null(strstr(out, "3.560 kWh of electricity contributing to 0.273 kg of CO\\textsubscript{2}eq"));
    assert_non_null(strstr(out, "\\cite{anthony2020carbontracker}"));
    assert_non_null(strstr(out, "@misc{anthony2020carbontracker,"));
    assert_non_null(strstr(out, "Anthony, Lasse F. Wolff and Kanding, Benjamin and Selvan, Raghavendra"));
    assert_non_null(strstr(out, "Carbontracker: Tracking and Predicting the Carbon Footprint of Training Deep "
                                "Learning Models"));
    assert_non_null(strstr(out, "ICML Workshop on Challenges in Deploying and monitoring Machine Learning Systems"));
    assert_non_null(strstr(out, "arXiv:2007.03051"));
    assert_non_null(strstr(out, "year = {2020}"));
    free(out);
    free(err);
    free(dir);
}

static void test_cli_json_schema(void **state) {
    (void)state;
    char *d1 = fixture("python"), *d2 = fixture("mixed");
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", d1, d2, "--format=json"), 0);
    /* warnings on stderr, one line each, and also in the JSON */
    int lines = 0;
    for (char *p = err; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 7);
    assert_non_null(strstr(err, "carbontracker: warning: "));
    ct_json_doc *doc = ct__json_doc_new();
    char perr[128];
    const ct_json *j = ct__json_parse(doc, out, strlen(out), perr, sizeof perr);
    if (!j) fprintf(stderr, "%s\n%s\n", perr, out);
    assert_non_null(j);
    const ct_json *tot = ct__json_get(j, "total");
    assert_int_equal(ct__json_int(ct__json_get(tot, "runs"), -1), 7);
    assert_true(fabs(ct__json_num(ct__json_get(tot, "energy_kwh"), 0) - (3.56 + 0.01917702724225444)) < 1e-12);
    assert_true(fabs(ct__json_num(ct__json_get(tot, "co2eq_g"), 0) - (272.9 + 2.02684623439605905)) < 1e-9);
    assert_non_null(ct__json_get(tot, "duration_s"));
    const ct_json *runs = ct__json_get(j, "runs");
    assert_int_equal(runs->type, CT_JSON_ARRAY);
    assert_int_equal(runs->count, 7);
    static const char *keys[] = {"file",
                                 "format",
                                 "host",
                                 "job_id",
                                 "rank",
                                 "start",
                                 "start_utc",
                                 "epochs",
                                 "epochs_planned",
                                 "duration_s",
                                 "energy_kwh",
                                 "co2eq_g",
                                 "intensity_source",
                                 "measurement",
                                 "consumption",
                                 "early_stop",
                                 "complete",
                                 "files"};
    double sum = 0;
    for (const ct_json *r = runs->child; r; r = r->next) {
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            if (!ct__json_get(r, keys[k])) fprintf(stderr, "missing %s\n", keys[k]);
            assert_non_null(ct__json_get(r, keys[k]));
        }
        const char *c = ct__json_str(ct__json_get(r, "consumption"), "");
        assert_true(strcmp(c, "actual") == 0 || strcmp(c, "predicted") == 0);
        const char *m = ct__json_str(ct__json_get(r, "measurement"), "");
        assert_true(strcmp(m, "measured") == 0 || strcmp(m, "partly estimated") == 0 || strcmp(m, "estimated") == 0 ||
                    strcmp(m, "not stated") == 0);
        sum += ct__json_num(ct__json_get(r, "energy_kwh"), 0);
    }
    assert_true(fabs(sum - ct__json_num(ct__json_get(tot, "energy_kwh"), 0)) < 1e-12);
    assert_int_equal(ct__json_get(j, "warnings")->count, 7);
    ct__json_doc_free(doc);
    free(out);
    free(err);
    free(d1);
    free(d2);
}

/* Splits one CSV record (RFC 4180) and counts its fields. */
static int csv_fields(const char *line, char fields[][160], int max) {
    int n = 0;
    const char *p = line;
    for (;;) {
        char buf[512];
        size_t k = 0;
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"') p++;
                if (k < sizeof buf - 1) buf[k++] = *p;
                p++;
            }
            if (*p == '"') p++;
        } else {
            while (*p && *p != ',' && *p != '\n')
                if (k < sizeof buf - 1) buf[k++] = *p++;
        }
        buf[k] = '\0';
        if (n < max) snprintf(fields[n], 160, "%s", buf);
        n++;
        if (*p != ',') break;
        p++;
    }
    return n;
}

static void test_cli_csv(void **state) {
    (void)state;
    char *dir = fixture("python");
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", "--format", "csv", dir), 0);
    const char *header = "file,format,host,job_id,rank,start_utc,epochs,epochs_planned,duration_s,energy_kwh,co2eq_g,"
                         "intensity_source,measurement,consumption,early_stop,complete,files,intensity_g_per_kwh,"
                         "epochs_missing\n";
    assert_memory_equal(out, header, strlen(header));
    int rows = 0;
    double sum = 0;
    for (char *line = out + strlen(header); *line;) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char f[20][160];
        assert_int_equal(csv_fields(line, f, 20), 19);
        sum += strtod(f[9], NULL);
        if (strstr(f[0], "4011.abcdef12")) {
            assert_string_equal(f[1], "text");
            assert_string_equal(f[5], "2026-11-20T10:15:00Z");
            assert_string_equal(f[11], "detected location: Copenhagen, Capital Region, DK"); /* quoted: has commas */
            assert_string_equal(f[13], "actual");
        }
        rows++;
        line = nl + 1;
    }
    assert_int_equal(rows, 4);
    assert_true(fabs(sum - 3.56) < 1e-9);
    free(out);
    free(err);
    free(dir);
}

static void test_cli_bad_usage(void **state) {
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(cli(&out, &err, "parse", NULL, NULL, NULL), 2);
    assert_non_null(strstr(err, "no directory"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", "--format", "xml", "."), 2);
    assert_non_null(strstr(err, "text, json or csv"));
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", "--bogus", ".", NULL), 2);
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", "--latex", "--format", "csv"), 2);
    free(out);
    free(err);
    assert_int_equal(cli(&out, &err, "parse", "/nonexistent/ct-dir", NULL, NULL), 1);
    assert_non_null(strstr(err, "/nonexistent/ct-dir"));
    free(out);
    free(err);
    /* a directory without runs: the sentence with zeros, and exit 1 */
    char *empty = ts_mkdtemp();
    assert_int_equal(cli(&out, &err, "parse", empty, NULL, NULL), 1);
    assert_non_null(strstr(out, "0.000 kWh"));
    assert_non_null(strstr(err, "no runs found"));
    free(out);
    free(err);
    ts_rmtree(empty);
    free(empty);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_reader_values),
        cmocka_unit_test(test_json_reader_rejects),
        cmocka_unit_test(test_parse_hms),
        cmocka_unit_test(test_python_tool_logs),
        cmocka_unit_test(test_mixed_and_damaged),
        cmocka_unit_test(test_ranks_of_one_job),
        cmocka_unit_test(test_several_dirs_and_errors),
        cmocka_unit_test(test_garbage_files),
        cmocka_unit_test(test_engine_logs_jsonl_and_text),
        cmocka_unit_test(test_sentence_small_numbers),
        cmocka_unit_test(test_cli_text_and_latex),
        cmocka_unit_test(test_cli_json_schema),
        cmocka_unit_test(test_cli_csv),
        cmocka_unit_test(test_cli_bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
