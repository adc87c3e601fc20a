/*
 * report_internal.h - between the library's ct_report_render (report.c:
 * reads the run, picks the output, writes through a temporary file) and the
 * drawing code in libcarbontracker-report.so (report_page.c,
 * report_plots.c), which is loaded with dlopen on first use so that a
 * tracked program never loads cairo. The drawing side gets plain values and
 * a write callback; it calls nothing of the main library. Never installed.
 */
#ifndef CT_RESULTS_REPORT_INTERNAL_H
#define CT_RESULTS_REPORT_INTERNAL_H

#include "results_internal.h"

#define CT__REPORT_ABI 1
#define CT__REPORT_ENTRY "ct__report_draw_v1"

enum { CT__OUT_PDF = 0, CT__OUT_PNG = 1, CT__OUT_SVG = 2 };
enum { CT__PANEL_ALL = -1, CT__PANEL_POWER = 0, CT__PANEL_ENERGY, CT__PANEL_CO2, CT__PANEL_PREDICTION, CT__PANELS };

typedef struct ct_report_job {
    int abi;                      /* CT__REPORT_ABI */
    size_t job_size, detail_size; /* sizeof both sides saw: a stale report library is refused */
    const ct_run_detail *d;
    int kind;            /* CT__OUT_* */
    int panel;           /* CT__PANEL_ALL: the report (PDF) or the four plots (PNG/SVG); else one panel */
    const char *version; /* ct_version() */
    double car_g_per_km;
    char actual_duration[32], predicted_duration[32]; /* formatted by the library */
    char started[40];                                 /* ISO 8601 UTC (base's formatter), "" unknown */
    /* where the bytes go: 0 or -1 */
    int (*write)(void *user, const unsigned char *data, unsigned int len);
    void *user;
    char err[256]; /* the detail of a failure */
    /* a multi-node job (ct_report_render_job): d is &jd->run; NULL for one run */
    const ct_job_detail *jd;
    size_t jd_size; /* sizeof(ct_job_detail) */
} ct_report_job;

typedef int (*ct_report_draw_fn)(ct_report_job *job);

#ifdef CT_REPORT_DRAWING /* only inside libcarbontracker-report.so */
#include <cairo.h>

/* report_plots.c */
void ct__rp_font(cairo_t *cr, double size, int bold);
void ct__rp_text_at(cairo_t *cr, double x, double y, double align, const char *s);
double ct__rp_text_w(cairo_t *cr, const char *s);
typedef struct ct_rp_box {
    double x, y, w, h;
} ct_rp_box;
void ct__rp_panel(cairo_t *cr, int panel, ct_rp_box outer, const ct_run_detail *d);
void ct__rp_plots(cairo_t *cr, double x, double y, double w, double h, const ct_run_detail *d);
const char *ct__rp_component_label(const ct_run_detail *d, int c);
/* report_job_page.c: page 1 of a job's report (totals, a row per node, missing nodes) */
void ct__rp_job_summary(cairo_t *cr, double W, const ct_report_job *job);
#endif

#endif /* CT_RESULTS_REPORT_INTERNAL_H */
