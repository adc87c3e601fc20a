/* The report of one run (issue 5): a PDF readable by poppler (pdfinfo shows
 * the pages, pdftotext finds the labels), PNG and SVG plots, from our JSON
 * Lines and from the original's text logs; bad input and output. Built
 * without cairo, the report says so (CT_ENOTSUP). */
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

#ifndef CT_TEST_CAIRO
#define CT_TEST_CAIRO 0
#endif

static char *jsonl_run(const char *dir, int epochs) {
    ct_config c;
    ct_config_init(&c);
    c.epochs = epochs;
    c.verbose = 0;
    c.log_dir = dir;
    c.sim_cpu = "Simulated Xeon";
    c.sim_cpu_tdp = 120;
    c.sim_gpu = "Simulated A100";
    c.sim_gpu_watts = 400;
    c.carbon_intensity = 250;
    c.pue = 1.2;
    c.update_interval = 0.02;
    ct_tracker *t = NULL;
    assert_int_equal(ct_tracker_new(&c, &t), 0);
    for (int e = 0; e < epochs; e++) {
        assert_int_equal(ct_epoch_start(t), 0);
        usleep(100000);
        assert_int_equal(ct_epoch_end(t), 0);
    }
    ct_tracker_free(t);
    char *p = ts_find_suffix(dir, "_carbontracker.jsonl");
    assert_non_null(p);
    return p;
}

/* The text log's numbers, read back for the plots: per epoch, devices summed. */
static void test_text_log_detail(void **state) {
    (void)state;
    char in[4096];
    snprintf(in, sizeof in, "%s/fixtures/parse/python/4011.abcdef12_2026-11-20T101500Z_carbontracker.log",
             ts_env("CT_TEST_SOURCE_DIR"));
    ct_run_detail d;
    assert_int_equal(ct__run_detail_load(in, &d), 0);
    assert_int_equal(d.nepochs, 10);
    assert_int_equal(d.ndevices, 4);
    assert_true(fabs(d.epochs[0].duration_s - 59.0) < 1e-9);
    assert_true(fabs(d.epochs[0].power_w[CT_COMPONENT_GPU] - 91.3) < 1e-9);         /* [61.2 30.1] */
    assert_true(fabs(d.epochs[9].energy_j[CT_COMPONENT_CPU] - 51.0 * 59.0) < 1e-9); /* [46.2 4.8] */
    assert_true(fabs(d.epochs[9].end_s - 590.0) < 1e-9);
    assert_true(d.pue == 1.58);
    assert_int_equal(d.actual.valid, 1);
    assert_int_equal(d.actual.epochs, 10);
    assert_int_equal(d.predicted.epochs, 10);
    ct__run_detail_free(&d);
}


/* A long text log is read in linear time (the regex reader was quadratic:
 * 100k epochs took 107 s; 200k here would run past the test's timeout). */
static void test_long_text_log(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char p[4200];
    snprintf(p, sizeof p, "%s/long_1.x_2026-11-20T101500Z_carbontracker.log", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("2026-11-20 10:15:00 - carbontracker version 2.3.1\n"
          "2026-11-20 10:15:00 - The following components were found: GPU with device(s) Tesla T4. "
          "CPU with device(s) cpu:0.\n",
          f);
    const int n = 200000;
    for (int e = 1; e <= n; e++)
        fprintf(f,
                "2026-11-20 10:16:00 - Epoch %d:\n2026-11-20 10:16:00 - Duration: 0:00:01.00\n"
                "2026-11-20 10:16:00 - Average power usage (W) for gpu: [60.0]\n"
                "2026-11-20 10:16:00 - Average power usage (W) for cpu: 40.0\n",
                e);
    fclose(f);
    ct_run_detail d;
    assert_int_equal(ct__run_detail_load(p, &d), 0);
    assert_int_equal(d.nepochs, n);
    assert_true(d.epochs[n - 1].energy_j[CT_COMPONENT_GPU] == 60.0);
    assert_true(d.epochs[n - 1].energy_j[CT_COMPONENT_CPU] == 40.0);
    assert_true(d.epochs[n - 1].end_s == (double)n);
    ct__run_detail_free(&d);
    ts_rmtree(dir);
    free(dir);
}

#if CT_TEST_CAIRO

#include <cairo.h>
#include <sys/stat.h>

static char *run_tool(const char *tool, const char *a1, const char *a2) {
    char *argv[] = {(char *)tool, (char *)a1, (char *)a2, NULL};
    char *out = NULL, *err = NULL;
    int rc = ts_run(argv, NULL, &out, &err);
    if (rc != 0) fprintf(stderr, "%s failed (%d): %s\n", tool, rc, err);
    assert_int_equal(rc, 0);
    free(err);
    return out;
}

/* pdftotext breaks lines where it likes: compare with all whitespace squeezed. */
static char *squeeze(const char *s) {
    char *o = malloc(strlen(s) + 1), *q = o;
    int sp = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\f') {
            sp = 1;
            continue;
        }
        if (sp && q > o) *q++ = ' ';
        sp = 0;
        *q++ = *s;
    }
    *q = '\0';
    return o;
}

__attribute__((noinline)) /* gcc 12 -O2 -Wdangling-pointer false positive once inlined */
static void
expect_text(const char *text, const char *needle) {
    if (!strstr(text, needle)) fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, text);
    assert_non_null(strstr(text, needle));
}

static void test_pdf_from_jsonl(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 4);
    char out[4200];
    snprintf(out, sizeof out, "%s/report.pdf", dir);
    assert_int_equal(ct_report_render(in, out), 0);
    char *info = run_tool("pdfinfo", out, NULL);
    expect_text(info, "Pages:           2");
    expect_text(info, "carbontracker report");
    free(info);
    char *raw = run_tool("pdftotext", out, "-");
    char *txt = squeeze(raw);
    /* summary page */
    expect_text(txt, "Carbon footprint of a training run");
    expect_text(txt, "Devices and how they were measured");
    expect_text(txt, "Simulated Xeon: simulated");
    expect_text(txt, "Simulated A100: simulated");
    expect_text(txt, "PUE 1.20");
    /* the intensity the CO2eq total used, and the one at start */
    expect_text(txt, "Carbon intensity 250.0 gCO2eq/kWh, energy-weighted over the run (the actual CO2eq uses it)");
    expect_text(txt, "Intensity at start 250.0 gCO2eq/kWh (fixed)");
    /* simulated devices: an estimate, never "measured" */
    expect_text(txt, "Energy estimated, not measured");
    expect_text(txt, "actual (estimated)");
    assert_null(strstr(txt, "actual (measured)"));
    expect_text(txt, "Actual 4 epoch(s)");
    expect_text(txt, "Predicted 4 epoch(s)");
    /* plots page: titles, axis labels with units, legends */
    expect_text(txt, "(a) Power over time");
    expect_text(txt, "Power (W)");
    expect_text(txt, "Time since start (s)");
    expect_text(txt, "(b) Energy per epoch");
    expect_text(txt, "Energy (J, without PUE)");
    expect_text(txt, "(c) CO2eq per epoch");
    expect_text(txt, "CO2eq (g, with PUE)");
    expect_text(txt, "(d) Predicted against actual");
    expect_text(txt, "Epoch");
    expect_text(txt, "GPU");
    /* no DRAM zone was measured (a simulated CPU): plain "CPU" */
    assert_null(strstr(txt, "CPU (+DRAM)"));
    expect_text(txt, "CPU energy");
    expect_text(txt, "predicted (linear)");
    free(txt);
    free(raw);
    free(in);
    ts_rmtree(dir);
    free(dir);
}

static void test_png_and_svg(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 3);
    char png[4200], svg[4200];
    snprintf(png, sizeof png, "%s/plots.PNG", dir); /* extensions in any case */
    snprintf(svg, sizeof svg, "%s/plots.svg", dir);
    assert_int_equal(ct_report_render(in, png), 0);
    assert_int_equal(ct_report_render(in, svg), 0);
    FILE *f = fopen(png, "rb");
    assert_non_null(f);
    unsigned char h[24];
    assert_int_equal(fread(h, 1, 24, f), 24);
    fclose(f);
    assert_memory_equal(h, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(h + 12, "IHDR", 4);
    unsigned w = (unsigned)h[16] << 24 | (unsigned)h[17] << 16 | (unsigned)h[18] << 8 | h[19];
    unsigned hh = (unsigned)h[20] << 24 | (unsigned)h[21] << 16 | (unsigned)h[22] << 8 | h[23];
    assert_int_equal(w, 1440);
    assert_int_equal(hh, 1080);
    char *s = ts_read(svg);
    assert_non_null(s);
    assert_non_null(strstr(s, "<svg"));
    assert_non_null(strstr(s, "</svg>"));
    free(s);
    free(in);
    ts_rmtree(dir);
    free(dir);
}

static void test_pdf_from_python_text_log(void **state) {
    (void)state;
    char in[4096], out[4200];
    snprintf(in, sizeof in, "%s/fixtures/parse/python/4011.abcdef12_2026-11-20T101500Z_carbontracker.log",
             ts_env("CT_TEST_SOURCE_DIR"));
    char *dir = ts_mkdtemp();
    snprintf(out, sizeof out, "%s/r.pdf", dir);
    assert_int_equal(ct_report_render(in, out), 0);
    char *info = run_tool("pdfinfo", out, NULL);
    expect_text(info, "Pages:           2");
    free(info);
    char *raw = run_tool("pdftotext", out, "-");
    char *txt = squeeze(raw);
    expect_text(txt, "text log (the original's format)");
    /* two identical GPUs told apart */
    expect_text(txt, "GPU Tesla T4 #0");
    expect_text(txt, "GPU Tesla T4 #1");
    /* a dram zone among the CPU devices */
    expect_text(txt, "CPU (+DRAM) energy");
    /* the intensity the text log records is the one shown */
    expect_text(txt, "Carbon intensity 81.2 gCO2eq/kWh, energy-weighted over the run (the actual CO2eq uses it)");
    expect_text(txt, "CPU dram:0");
    expect_text(txt, "PUE 1.58");
    expect_text(txt, "81.2 gCO2eq/kWh");
    expect_text(txt, "detected location: Copenhagen, Capital Region, DK");
    expect_text(txt, "Actual 10 epoch(s), 0:09:50, 0.48 kWh, 38.5 g CO2eq");
    expect_text(txt, "Predicted 10 epoch(s), 0:10:00, 0.5 kWh, 40 g CO2eq");
    expect_text(txt, "(a) Power over time");
    free(txt);
    free(raw);
    ts_rmtree(dir);
    free(dir);
}

static void test_bad_input_and_output(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char in[4200], out[4200];
    snprintf(out, sizeof out, "%s/r.pdf", dir);
    /* missing input */
    snprintf(in, sizeof in, "%s/nothing.jsonl", dir);
    assert_int_equal(ct_report_render(in, out), CT_EIO);
    assert_non_null(strstr(ct_last_error_message(), "nothing.jsonl"));
    /* garbage */
    ts_write(dir, "g_carbontracker.jsonl", "\x01\x02garbage\n{not json\n");
    snprintf(in, sizeof in, "%s/g_carbontracker.jsonl", dir);
    assert_int_equal(ct_report_render(in, out), CT_EPARSE);
    /* a header, no epochs */
    ts_write(dir, "h_carbontracker.jsonl", "{\"event\":\"header\",\"pue\":1.58}\n");
    snprintf(in, sizeof in, "%s/h_carbontracker.jsonl", dir);
    assert_int_equal(ct_report_render(in, out), CT_EPARSE);
    assert_non_null(strstr(ct_last_error_message(), "no epochs"));
    /* a text log without epochs */
    ts_write(dir, "t_carbontracker.log", "2026-01-01 00:00:00 - carbontracker version 2.3.1\n");
    snprintf(in, sizeof in, "%s/t_carbontracker.log", dir);
    assert_int_equal(ct_report_render(in, out), CT_EPARSE);
    assert_int_equal(access(out, F_OK), -1); /* nothing written on failure */
    /* a good run, bad outputs */
    char *gdir = ts_mkdtemp();
    char *good = jsonl_run(gdir, 1);
    snprintf(out, sizeof out, "%s/r.docx", dir);
    assert_int_equal(ct_report_render(good, out), CT_EINVAL);
    assert_non_null(strstr(ct_last_error_message(), ".pdf, .png or .svg"));
    snprintf(out, sizeof out, "%s/no/such/dir/r.pdf", dir);
    assert_int_equal(ct_report_render(good, out), CT_EIO);
    snprintf(out, sizeof out, "%s/no/such/dir/r.png", dir);
    assert_int_equal(ct_report_render(good, out), CT_EIO);
    assert_int_equal(ct_report_render(NULL, out), CT_EINVAL);
    free(good);
    ts_rmtree(gdir);
    free(gdir);
    ts_rmtree(dir);
    free(dir);
}

static void test_cli_report(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 2);
    char out[4200];
    snprintf(out, sizeof out, "%s/cli.pdf", dir);
    char *argv[] = {(char *)ts_env("CT_CLI"), "report", in, "-o", out, NULL};
    char *o = NULL, *e = NULL;
    assert_int_equal(ts_run(argv, NULL, &o, &e), 0);
    assert_int_equal(access(out, R_OK), 0);
    free(o);
    free(e);
    /* the original's spelling */
    snprintf(out, sizeof out, "%s/cli2.svg", dir);
    char *argv2[] = {(char *)ts_env("CT_CLI"), "--report", in, "--output", out, NULL};
    assert_int_equal(ts_run(argv2, NULL, &o, &e), 0);
    assert_int_equal(access(out, R_OK), 0);
    free(o);
    free(e);
    char *argv3[] = {(char *)ts_env("CT_CLI"), "report", in, NULL};
    assert_int_equal(ts_run(argv3, NULL, &o, &e), 2);
    assert_non_null(strstr(e, "-o FILE"));
    free(o);
    free(e);
    /* the drawing library cannot be loaded: said, not a crash */
    char *env_bad[] = {"CT_REPORT_LIBRARY=/nonexistent/libcarbontracker-report.so", NULL};
    assert_int_equal(ts_run(argv, env_bad, &o, &e), 1);
    assert_non_null(strstr(e, "the report library (libcarbontracker-report.so) cannot be loaded"));
    free(o);
    free(e);
    char *argv4[] = {(char *)ts_env("CT_CLI"), "report", "/nonexistent.jsonl", "-o", out, NULL};
    assert_int_equal(ts_run(argv4, NULL, &o, &e), 1);
    assert_non_null(strstr(e, "/nonexistent.jsonl"));
    free(o);
    free(e);
    free(in);
    ts_rmtree(dir);
    free(dir);
}


/* A damaged log with a power near DBL_MAX: rendered, never an endless loop. */
static void test_huge_power_value(void **state) {
    (void)state;
    char src[4096];
    snprintf(src, sizeof src, "%s/fixtures/parse/mixed/22038.777376_2026-11-26T151211Z_carbontracker.jsonl",
             ts_env("CT_TEST_SOURCE_DIR"));
    char *text = ts_read(src);
    assert_non_null(text);
    /* every power sample of the GPU becomes 1.6e308 W */
    size_t n = strlen(text);
    char *mod = malloc(n * 3 + 1), *o = mod;
    for (const char *q = text; *q;) {
        const char *g = strstr(q, "\"gpu\":[");
        if (!g) {
            strcpy(o, q);
            o += strlen(q);
            break;
        }
        memcpy(o, q, (size_t)(g - q) + 7);
        o += (g - q) + 7;
        q = g + 7;
        int first = 1;
        while (*q && *q != ']') {
            while (*q && *q != ',' && *q != ']') q++;
            o += sprintf(o, "%s1.6e308", first ? "" : ",");
            first = 0;
            if (*q == ',') q++;
        }
    }
    *o = '\0';
    char *dir = ts_mkdtemp();
    ts_write(dir, "huge_carbontracker.jsonl", mod);
    char in[4200], out[4200];
    snprintf(in, sizeof in, "%s/huge_carbontracker.jsonl", dir);
    snprintf(out, sizeof out, "%s/r.pdf", dir);
    assert_int_equal(ct_report_render(in, out), 0); /* looped forever before */
    snprintf(out, sizeof out, "%s/r.png", dir);
    assert_int_equal(ct_report_render(in, out), 0);
    free(mod);
    free(text);
    ts_rmtree(dir);
    free(dir);
}

/* A symlink planted at the output path is replaced, never followed. */
static void test_output_symlink_not_followed(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 1);
    char victim[4200], out[4200];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    ts_write(dir, "victim.txt", "precious\n");
    snprintf(out, sizeof out, "%s/report.pdf", dir);
    assert_int_equal(symlink(victim, out), 0);
    assert_int_equal(ct_report_render(in, out), 0);
    char *v = ts_read(victim);
    assert_string_equal(v, "precious\n"); /* overwritten with the PDF before */
    free(v);
    struct stat st;
    assert_int_equal(lstat(out, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    char *pdf = ts_read(out);
    assert_memory_equal(pdf, "%PDF", 4);
    free(pdf);
    /* no temporary file left behind */
    char *left = ts_find_suffix(dir, ".tmp");
    assert_null(left);
    free(in);
    ts_rmtree(dir);
    free(dir);
}

/* The figure for a paper: one panel per file. */
static void test_panels(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 2);
    char out[4200], p[4200];
    snprintf(out, sizeof out, "%s/fig.pdf", dir);
    assert_int_equal(ct_report_render_panels(in, out), 0);
    static const char *const names[] = {"power", "energy", "co2eq", "prediction"};
    static const char *const titles[] = {"(a) Power over time", "(b) Energy per epoch", "(c) CO2eq per epoch",
                                         "(d) Predicted against actual"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/fig-%s.pdf", dir, names[i]);
        char *info = run_tool("pdfinfo", p, NULL);
        expect_text(info, "Pages:           1");
        free(info);
        char *raw = run_tool("pdftotext", p, "-");
        char *txt = squeeze(raw);
        expect_text(txt, titles[i]);
        for (int k = 0; k < 4; k++)
            if (k != i) assert_null(strstr(txt, titles[k]));
        free(txt);
        free(raw);
    }
    snprintf(out, sizeof out, "%s/fig.svg", dir);
    assert_int_equal(ct_report_render_panels(in, out), 0);
    snprintf(p, sizeof p, "%s/fig-prediction.svg", dir);
    char *svg = ts_read(p);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    free(svg);
    snprintf(out, sizeof out, "%s/fig.png", dir);
    assert_int_equal(ct_report_render_panels(in, out), CT_EINVAL);
    /* the CLI */
    snprintf(out, sizeof out, "%s/cli.pdf", dir);
    char *argv[] = {(char *)ts_env("CT_CLI"), "report", in, "--panels", "-o", out, NULL};
    char *o = NULL, *e = NULL;
    assert_int_equal(ts_run(argv, NULL, &o, &e), 0);
    snprintf(p, sizeof p, "%s/cli-co2eq.pdf", dir);
    assert_int_equal(access(p, R_OK), 0);
    free(o);
    free(e);
    free(in);
    ts_rmtree(dir);
    free(dir);
}

/* Markers at the last epoch sit on the right edge of plot (d): drawn whole,
 * not clipped. The PNG (2 px per pt) has them right of the frame's edge. */
static void test_last_epoch_markers_not_clipped(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 4);
    char png[4200];
    snprintf(png, sizeof png, "%s/plots.png", dir);
    assert_int_equal(ct_report_render(in, png), 0);
    cairo_surface_t *s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    /* plot (d): outer box x 360..714 pt, y 270..534 pt; its frame's right edge at 706 pt,
     * top 288 pt, bottom 504 pt. The strip 707.5..709.5 pt beside the frame holds
     * nothing but the markers of the last epoch. */
    int dark = 0;
    for (int y = 2 * 288 + 2; y < 2 * 504 - 2; y++)
        for (int x = 1415; x <= 1419; x++) {
            uint32_t v = *(const uint32_t *)(px + (size_t)y * (size_t)stride + (size_t)x * 4);
            if ((v & 0xff) < 128 || ((v >> 8) & 0xff) < 128 || ((v >> 16) & 0xff) < 128) dark++;
        }
    cairo_surface_destroy(s);
    assert_true(dark > 0); /* 0 before: cut at the frame */
    free(in);
    ts_rmtree(dir);
    free(dir);
}

/* Plot (d) shows how the prediction evolved (issue 12): one point per
 * prediction record, its 90 % interval as a band. run_detail reads the
 * records; the PNG has the band's colour inside plot (d) (none before), the
 * panel's PDF the legend. */
static void test_prediction_history_band(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 6);
    ct_run_detail d;
    assert_int_equal(ct__run_detail_load(in, &d), 0);
    assert_int_equal(d.npreds, 6); /* after epochs 1 (the block's) .. 6 */
    for (int i = 0; i < d.npreds; i++) {
        assert_true(d.preds[i].at_epochs == i + 1);
        assert_true(d.preds[i].energy_kwh_low <= d.preds[i].energy_kwh);
        assert_true(d.preds[i].energy_kwh <= d.preds[i].energy_kwh_high);
    }
    assert_true(d.preds[0].energy_kwh_low < d.preds[0].energy_kwh_high);
    ct__run_detail_free(&d);
    char png[4200];
    snprintf(png, sizeof png, "%s/plots.png", dir);
    assert_int_equal(ct_report_render(in, png), 0);
    cairo_surface_t *s = cairo_image_surface_create_from_png(png);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    /* plot (d): outer box x 360..714 pt, y 270..534 pt (2 px per pt); the band
     * is (224, 212, 236), the rest of the figure has no such colour */
    int band = 0, elsewhere = 0;
    for (int y = 0; y < cairo_image_surface_get_height(s); y++)
        for (int x = 0; x < cairo_image_surface_get_width(s); x++) {
            uint32_t v = *(const uint32_t *)(px + (size_t)y * (size_t)stride + (size_t)x * 4);
            int r = (int)(v >> 16 & 0xff), g = (int)(v >> 8 & 0xff), b = (int)(v & 0xff);
            if (abs(r - 224) > 1 || abs(g - 212) > 1 || abs(b - 236) > 1) continue;
            if (x >= 720 && x < 1428 && y >= 540 && y < 1068) band++;
            else elsewhere++;
        }
    cairo_surface_destroy(s);
    assert_true(band > 1000);
    assert_int_equal(elsewhere, 0);
    char out[4200], p[4200];
    snprintf(out, sizeof out, "%s/fig.pdf", dir);
    assert_int_equal(ct_report_render_panels(in, out), 0);
    snprintf(p, sizeof p, "%s/fig-prediction.pdf", dir);
    char *raw = run_tool("pdftotext", p, "-");
    char *txt = squeeze(raw);
    expect_text(txt, "predicted total, as refined");
    expect_text(txt, "its 90 % interval");
    free(txt);
    free(raw);
    free(in);
    ts_rmtree(dir);
    free(dir);
}

/* Two identical GPUs in a JSON Lines header: told apart by index and UUID end. */
static void test_identical_gpus_told_apart(void **state) {
    (void)state;
    char src[4096];
    snprintf(src, sizeof src, "%s/fixtures/parse/mixed/22038.777376_2026-11-26T151211Z_carbontracker.jsonl",
             ts_env("CT_TEST_SOURCE_DIR"));
    char *text = ts_read(src);
    assert_non_null(text);
    const char *old_dev = "{\"component\":\"gpu\",\"name\":\"Sim GPU\",\"uuid\":\"\",\"source\":\"sim\","
                          "\"method\":\"simulated\",\"estimated\":true}";
    char *at = strstr(text, old_dev);
    assert_non_null(at);
    size_t n = strlen(text);
    char *mod = malloc(n + 1024);
    memcpy(mod, text, (size_t)(at - text));
    int k = sprintf(mod + (at - text),
                    "{\"component\":\"gpu\",\"name\":\"NVIDIA A100-SXM4-40GB\",\"uuid\":"
                    "\"GPU-5a3f9c2e-0d1b-4c6e-9f7a-1b2c3d4e5f60\",\"source\":\"nvml\",\"method\":\"counter\","
                    "\"estimated\":false},{\"component\":\"gpu\",\"name\":\"NVIDIA A100-SXM4-40GB\",\"uuid\":"
                    "\"GPU-77e0d4b1-2c3a-4f5e-8d9c-0a1b2c3d4e99\",\"source\":\"nvml\",\"method\":\"counter\","
                    "\"estimated\":false}");
    strcpy(mod + (at - text) + k, at + strlen(old_dev));
    char *dir = ts_mkdtemp();
    ts_write(dir, "two_carbontracker.jsonl", mod);
    char in[4200], out[4200];
    snprintf(in, sizeof in, "%s/two_carbontracker.jsonl", dir);
    snprintf(out, sizeof out, "%s/r.pdf", dir);
    assert_int_equal(ct_report_render(in, out), 0);
    char *raw = run_tool("pdftotext", out, "-");
    char *txt = squeeze(raw);
    expect_text(txt, "GPU NVIDIA A100-SXM4-40GB #0 (...3d4e5f60)");
    expect_text(txt, "GPU NVIDIA A100-SXM4-40GB #1 (...2c3d4e99)");
    /* one estimated device (the simulated CPU), two measured: partly estimated */
    expect_text(txt, "Energy partly estimated");
    free(txt);
    free(raw);
    free(mod);
    free(text);
    ts_rmtree(dir);
    free(dir);
}

/* A report from our own text log shows the intensity that log records; a gap
 * record in a JSON Lines log is reported as missing epochs. */
static void test_text_log_intensity_and_gap(void **state) {
    (void)state;
    char in[4096], out[4200];
    snprintf(in, sizeof in, "%s/fixtures/parse/mixed/22038.777376_2026-11-26T151211Z_carbontracker.log",
             ts_env("CT_TEST_SOURCE_DIR"));
    char *dir = ts_mkdtemp();
    snprintf(out, sizeof out, "%s/r.pdf", dir);
    assert_int_equal(ct_report_render(in, out), 0);
    char *raw = run_tool("pdftotext", out, "-");
    char *txt = squeeze(raw);
    expect_text(txt, "Carbon intensity 151.7 gCO2eq/kWh, energy-weighted over the run (the actual CO2eq uses it)");
    expect_text(txt, "Intensity at start 151.7 gCO2eq/kWh");
    expect_text(txt, "static: Denmark (DK)");
    expect_text(txt, "Energy estimated, not measured");
    free(txt);
    free(raw);
    snprintf(in, sizeof in, "%s/fixtures/parse/gap/22039.888888_2026-11-26T151211Z_carbontracker.jsonl",
             ts_env("CT_TEST_SOURCE_DIR"));
    assert_int_equal(ct_report_render(in, out), 0);
    raw = run_tool("pdftotext", out, "-");
    txt = squeeze(raw);
    expect_text(txt, "Missing epochs 1 gap(s) in the log: records were lost while the disk was full");
    expect_text(txt, "Epochs 3 recorded of 4 planned");
    free(txt);
    free(raw);
    ts_rmtree(dir);
    free(dir);
}

#else /* built without cairo */

static void test_without_cairo(void **state) {
    (void)state;
    char *dir = ts_mkdtemp();
    char *in = jsonl_run(dir, 1);
    char out[4200];
    snprintf(out, sizeof out, "%s/r.pdf", dir);
    assert_int_equal(ct_report_render(in, out), CT_ENOTSUP);
    assert_non_null(strstr(ct_last_error_message(), "without cairo"));
    assert_int_equal(access(out, F_OK), -1);
    free(in);
    ts_rmtree(dir);
    free(dir);
}

#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_log_detail),
        cmocka_unit_test(test_long_text_log),
#if CT_TEST_CAIRO
        cmocka_unit_test(test_huge_power_value),
        cmocka_unit_test(test_output_symlink_not_followed),
        cmocka_unit_test(test_panels),
        cmocka_unit_test(test_last_epoch_markers_not_clipped),
        cmocka_unit_test(test_text_log_intensity_and_gap),
        cmocka_unit_test(test_identical_gpus_told_apart),
        cmocka_unit_test(test_pdf_from_jsonl),
        cmocka_unit_test(test_png_and_svg),
        cmocka_unit_test(test_prediction_history_band),
        cmocka_unit_test(test_pdf_from_python_text_log),
        cmocka_unit_test(test_bad_input_and_output),
        cmocka_unit_test(test_cli_report),
#else
        cmocka_unit_test(test_without_cairo),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
