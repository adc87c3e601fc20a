/*
 * report_job_page.c - page 1 of the report of a multi-node job (issue 13),
 * inside libcarbontracker-report.so: the job's totals, a row per node
 * (steps or ranks, energy per component, CO2eq, measured or estimated) and
 * the nodes without records flagged. The values come combined from
 * job_detail.c (ct_report_render_job); page 2, the plots, is report_page.c's.
 */
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if CT_HAVE_CAIRO

static const char *meas_word(int m) {
    switch (m) {
    case CT__MEAS_MEASURED: return "measured";
    case CT__MEAS_PARTLY: return "partly estimated";
    case CT__MEAS_ESTIMATED: return "estimated";
    default: return "not stated";
    }
}

static void kv_red(cairo_t *cr, double x, double *y, const char *k, const char *v, int red) {
    ct__rp_font(cr, 9, 1);
    cairo_set_source_rgb(cr, red ? 0.7 : 0, 0, 0);
    ct__rp_text_at(cr, x, *y, 0, k);
    ct__rp_font(cr, 9, 0);
    ct__rp_text_at(cr, x + 130, *y, 0, v);
    *y += 14;
}

static void kv(cairo_t *cr, double x, double *y, const char *k, const char *v) { kv_red(cr, x, y, k, v, 0); }

static void heading(cairo_t *cr, double x, double *y, double w, const char *title) {
    *y += 6;
    ct__rp_font(cr, 11, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    ct__rp_text_at(cr, x, *y, 0, title);
    cairo_set_line_width(cr, 0.6);
    cairo_move_to(cr, x, *y + 4);
    cairo_line_to(cr, x + w, *y + 4);
    cairo_stroke(cr);
    *y += 18;
}

/* One table row: cells at the columns' x (right-aligned numbers from column 2 to 5). */
static void table_row(cairo_t *cr, double x, double y, const double *col, const char *const *cells, int bold) {
    ct__rp_font(cr, 8, bold);
    for (int i = 0; i < 7; i++) ct__rp_text_at(cr, x + col[i], y, i >= 2 && i <= 5 ? 1 : 0, cells[i]);
}

void ct__rp_job_summary(cairo_t *cr, double W, const ct_report_job *job) {
    const ct_job_detail *jd = job->jd;
    const ct_run_detail *d = job->d;
    double x = 50, y = 60, w = W - 100;
    char buf[512];
    ct__rp_font(cr, 16, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    snprintf(buf, sizeof buf, "Carbon footprint of job %s", jd->job_id);
    ct__rp_text_at(cr, x, y, 0, buf);
    y += 16;
    ct__rp_font(cr, 9, 0);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    snprintf(buf, sizeof buf, "carbontracker %s report: %d node(s), %d log(s) combined", job->version,
             jd->nnodes - jd->nmissing, jd->nfiles);
    ct__rp_text_at(cr, x, y, 0, buf);
    y += 10;

    heading(cr, x, &y, w, "Job totals (every node, each node counted once)");
    snprintf(buf, sizeof buf, "%.6g kWh (with PUE), %.1f J without PUE", jd->energy_kwh,
             jd->energy_j[0] + jd->energy_j[1]);
    kv(cr, x, &y, "Energy", buf);
    for (int c = 0; c < CT_COMPONENT_COUNT; c++)
        if (d->has_component[c]) {
            char k[32];
            snprintf(k, sizeof k, "%s energy", ct__rp_component_label(d, c));
            snprintf(buf, sizeof buf, "%.1f J", jd->energy_j[c]);
            kv(cr, x, &y, k, buf);
        }
    snprintf(buf, sizeof buf, "%.6g g CO2eq (%.4g km travelled by car)", jd->co2eq_g,
             job->car_g_per_km > 0 ? jd->co2eq_g / job->car_g_per_km : 0.0);
    kv(cr, x, &y, "CO2eq", buf);
    snprintf(buf, sizeof buf, "%s (%.4g s, the longest node)", job->actual_duration, jd->duration_s);
    kv(cr, x, &y, "Duration", buf);
    kv(cr, x, &y, "Energy is", meas_word(jd->measurement));
    if (job->started[0]) kv(cr, x, &y, "Started", job->started);
    if (isfinite(d->pue)) {
        snprintf(buf, sizeof buf, "%.2f", d->pue);
        kv(cr, x, &y, "PUE", buf);
    }
    if (d->intensity_source[0]) kv(cr, x, &y, "Intensity source", d->intensity_source);
    if (jd->nmissing) {
        snprintf(buf, sizeof buf, "%d node(s) named by the job's node lists have no records: totals lack them",
                 jd->nmissing);
        kv_red(cr, x, &y, "MISSING NODES", buf, 1);
    }

    heading(cr, x, &y, w, "Per node");
    static const double col[7] = {0, 70, 270, 320, 370, 420, 430};
    char head3[32], head4[32];
    snprintf(head3, sizeof head3, "%s J", ct__rp_component_label(d, CT_COMPONENT_CPU));
    snprintf(head4, sizeof head4, "%s J", ct__rp_component_label(d, CT_COMPONENT_GPU));
    const char *hc[7] = {"Node", "Steps / ranks", head3, head4, "kWh", "g CO2eq", "Energy"};
    table_row(cr, x, y, col, hc, 1);
    y += 13;
    for (int i = 0; i < jd->nnodes && y < 780; i++) {
        const ct_job_node *n = &jd->nodes[i];
        char c2[40], c3[40], c4[40], c5[40], c6[80], steps[64];
        if (n->missing) {
            const char *cells[7] = {n->node, "-", "-", "-", "-", "-", "MISSING: no records"};
            cairo_set_source_rgb(cr, 0.7, 0, 0);
            table_row(cr, x, y, col, cells, 1);
            cairo_set_source_rgb(cr, 0, 0, 0);
            y += 12;
            continue;
        }
        snprintf(steps, sizeof steps, "%.60s", n->steps);
        snprintf(c2, sizeof c2, "%.1f", n->energy_j[CT_COMPONENT_CPU]);
        snprintf(c3, sizeof c3, "%.1f", n->energy_j[CT_COMPONENT_GPU]);
        snprintf(c4, sizeof c4, "%.4g", n->energy_kwh);
        snprintf(c5, sizeof c5, "%.4g", n->co2eq_g);
        snprintf(c6, sizeof c6, "%s%s", meas_word(n->measurement), n->complete ? "" : ", incomplete");
        const char *cells[7] = {n->node, steps, c2, c3, c4, c5, c6};
        cairo_set_source_rgb(cr, 0, 0, 0);
        table_row(cr, x, y, col, cells, 0);
        y += 12;
    }
    y += 6;
    ct__rp_font(cr, 8, 0);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    ct__rp_text_at(cr, x, y, 0,
                   "A step within another step of the same node, or a second rank on the same node, measured");
    y += 11;
    ct__rp_text_at(cr, x, y, 0, "the same counters: it is listed \"(within ...)\" and not counted again.");
    y += 11;
    for (int i = 0; i < jd->nnotes && y < 800; i++, y += 11) {
        snprintf(buf, sizeof buf, "Note: %.200s", jd->notes[i]);
        ct__rp_text_at(cr, x, y, 0, buf);
    }
}

#endif /* CT_HAVE_CAIRO */
