/*
 * report_page.c - the report of one run, drawn with cairo: the entry point of
 * libcarbontracker-report.so (loaded on first use by ct_report_render in
 * report.c; nothing else of the library is called from here).
 *
 * PDF (A4): page 1 the summary table (devices and method, measured or
 * estimated, PUE, the intensity the CO2eq used and the one at start, actual
 * and predicted totals, missing epochs); page 2 four plots as a paper figure.
 * PNG and SVG: the four plots alone. One panel alone (PDF or SVG) for a paper.
 */
#include "report_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if CT_HAVE_CAIRO

#include <cairo-pdf.h>
#include <cairo-svg.h>

/* ---- summary page ---------------------------------------------------- */

typedef struct table {
    cairo_t *cr;
    double x, y, w, col;
} table;

static void row(table *t, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void row(table *t, const char *k, const char *fmt, ...) {
    char v[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    ct__rp_font(t->cr, 9, 1);
    cairo_set_source_rgb(t->cr, 0, 0, 0);
    ct__rp_text_at(t->cr, t->x, t->y, 0, k);
    ct__rp_font(t->cr, 9, 0);
    /* wrap long values at the right edge */
    double maxw = t->w - t->col;
    const char *s = v;
    char line[512];
    while (*s) {
        size_t n = strlen(s);
        size_t take = n;
        while (take > 0) {
            memcpy(line, s, take);
            line[take] = '\0';
            if (ct__rp_text_w(t->cr, line) <= maxw) break;
            size_t k2 = take - 1;
            while (k2 > 0 && s[k2] != ' ' && s[k2] != '/' && s[k2] != ',') k2--;
            take = k2 > 0 ? k2 : take - 1;
        }
        if (take == 0) take = 1;
        memcpy(line, s, take);
        line[take] = '\0';
        ct__rp_text_at(t->cr, t->x + t->col, t->y, 0, line);
        s += take;
        while (*s == ' ') s++;
        if (*s) t->y += 12;
    }
    t->y += 15;
}

static void section(table *t, const char *title) {
    t->y += 6;
    ct__rp_font(t->cr, 11, 1);
    cairo_set_source_rgb(t->cr, 0, 0, 0);
    ct__rp_text_at(t->cr, t->x, t->y, 0, title);
    cairo_set_line_width(t->cr, 0.6);
    cairo_move_to(t->cr, t->x, t->y + 4);
    cairo_line_to(t->cr, t->x + t->w, t->y + 4);
    cairo_stroke(t->cr);
    t->y += 19;
}

static void fmt_total(char *buf, size_t len, const ct_run_total *tt, const char *dur, double g_per_km) {
    snprintf(buf, len, "%d epoch(s), %s, %.4g kWh, %.4g g CO2eq (%.4g km travelled by car)", tt->epochs, dur,
             tt->energy_kwh, isfinite(tt->co2eq_g) ? tt->co2eq_g : 0.0,
             g_per_km > 0 && isfinite(tt->co2eq_g) ? tt->co2eq_g / g_per_km : 0.0);
}

/* Display name of device i: two devices of one component with the same name
 * are told apart by their index among them and the end of their UUID. */
static void device_label(const ct_run_detail *d, int i, char *buf, size_t len) {
    const ct_run_device *dv = &d->devices[i];
    int same = 0, nth = 0;
    for (int k = 0; k < d->ndevices; k++) {
        if (strcmp(d->devices[k].component, dv->component) || strcmp(d->devices[k].name, dv->name)) continue;
        same++;
        if (k < i) nth++;
    }
    size_t ul = strlen(dv->uuid);
    if (same < 2) snprintf(buf, len, "%s", dv->name);
    else if (ul >= 8) snprintf(buf, len, "%s #%d (...%s)", dv->name, nth, dv->uuid + ul - 8);
    else snprintf(buf, len, "%s #%d", dv->name, nth);
}

static const char *measurement_words(int m) {
    switch (m) {
    case CT__MEAS_MEASURED: return "measured";
    case CT__MEAS_PARTLY: return "partly estimated";
    case CT__MEAS_ESTIMATED: return "estimated, not measured";
    default: return "not stated in this log";
    }
}

static void draw_summary(cairo_t *cr, double W, const ct_report_job *job) {
    const ct_run_detail *d = job->d;
    table t = {cr, 50, 60, W - 100, 150};
    ct__rp_font(cr, 16, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    ct__rp_text_at(cr, t.x, t.y, 0, "Carbon footprint of a training run");
    t.y += 16;
    ct__rp_font(cr, 9, 0);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    char gen[96];
    snprintf(gen, sizeof gen, "carbontracker %s report", job->version);
    ct__rp_text_at(cr, t.x, t.y, 0, gen);
    t.y += 10;

    section(&t, "Run");
    const char *slash = strrchr(d->path, '/');
    row(&t, "Log file", "%s", slash ? slash + 1 : d->path);
    row(&t, "Format", "%s", strcmp(d->format, "jsonl") == 0 ? "JSON Lines" : "text log (the original's format)");
    if (d->host[0]) row(&t, "Host", "%s", d->host);
    if (job->started[0]) row(&t, "Started", "%s", job->started);
    if (d->version[0]) row(&t, "Written by", "carbontracker %s", d->version);
    if (d->epochs_planned > 0)
        row(&t, "Epochs", "%d recorded of %d planned%s", d->nepochs, d->epochs_planned,
            d->early_stop ? " (training stopped early)" : "");
    else row(&t, "Epochs", "%d recorded%s", d->nepochs, d->early_stop ? " (training stopped early)" : "");
    if (d->gaps)
        row(&t, "Missing epochs", "%d gap(s) in the log: records were lost while the disk was full%s", d->gaps,
            d->gap_epochs ? "" : " (the plots lack those epochs)");
    row(&t, "Energy", "%s", measurement_words(d->measurement));

    section(&t, "Devices and how they were measured");
    if (d->ndevices == 0) row(&t, "Devices", "not recorded in this log");
    for (int i = 0; i < d->ndevices && i < 24; i++) {
        const ct_run_device *dv = &d->devices[i];
        char comp[16];
        snprintf(comp, sizeof comp, "%s", dv->component);
        for (char *c = comp; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
        char name[200];
        device_label(d, i, name, sizeof name);
        if (dv->source[0])
            row(&t, comp, "%s: %s via %s%s", name, dv->method, dv->source, dv->estimated == 1 ? " (estimate)" : "");
        else row(&t, comp, "%s%s%s", name, dv->method[0] ? ": " : "", dv->method);
    }
    if (d->ndevices > 24) row(&t, "", "... and %d more", d->ndevices - 24);

    section(&t, "Factors");
    if (isfinite(d->pue)) row(&t, "PUE", "%.2f (applied to kWh and CO2eq totals)", d->pue);
    else row(&t, "PUE", "not recorded");
    /* the energy-weighted intensity the CO2eq total used: kWh x this = CO2eq on this page */
    const ct_run_total *used = d->actual.valid ? &d->actual : d->predicted.valid ? &d->predicted : NULL;
    double used_i = used ? used->intensity_g_per_kwh : NAN;
    if (used && !isfinite(used_i) && used->energy_kwh > 0 && isfinite(used->co2eq_g))
        used_i = used->co2eq_g / used->energy_kwh;
    if (isfinite(used_i))
        row(&t, "Carbon intensity", "%.1f gCO2eq/kWh, energy-weighted over the run (the %s CO2eq uses it)", used_i,
            used == &d->actual ? "actual" : "predicted");
    else row(&t, "Carbon intensity", "not recorded");
    if (isfinite(d->intensity_g_per_kwh))
        row(&t, "Intensity at start", "%.1f gCO2eq/kWh%s%s%s", d->intensity_g_per_kwh, d->intensity_kind[0] ? " (" : "",
            d->intensity_kind, d->intensity_kind[0] ? ")" : "");
    const char *src = d->intensity_source[0]                             ? d->intensity_source
                      : d->actual.valid && d->actual.intensity_source[0] ? d->actual.intensity_source
                                                                         : "not recorded";
    row(&t, "Intensity source", "%s", src);
    row(&t, "Car equivalent", "%.1f g CO2eq per km", job->car_g_per_km);

    section(&t, "Totals");
    char buf[256];
    double pue = isfinite(d->pue) && d->pue >= 1 ? d->pue : 1.0;
    double comp_kwh[CT_COMPONENT_COUNT] = {0, 0}, all = 0;
    for (int i = 0; i < d->nepochs; i++)
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) comp_kwh[c] += d->epochs[i].energy_j[c] / 3.6e6 * pue;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) all += comp_kwh[c];
    if (d->actual.valid) {
        fmt_total(buf, sizeof buf, &d->actual, job->actual_duration, job->car_g_per_km);
        row(&t, "Actual", "%s; %s", buf,
            measurement_words(d->actual.measurement != CT__MEAS_UNKNOWN ? d->actual.measurement : d->measurement));
    } else {
        row(&t, "Actual", "no final record (the run crashed or is still running)");
    }
    if (d->predicted.valid) {
        fmt_total(buf, sizeof buf, &d->predicted, job->predicted_duration, job->car_g_per_km);
        row(&t, "Predicted", "%s", buf);
        if (d->actual.valid && d->actual.epochs == d->predicted.epochs && d->predicted.energy_kwh > 0)
            row(&t, "Prediction error", "%+.1f %% energy, %+.1f %% CO2eq, %+.1f %% duration",
                100 * (d->predicted.energy_kwh - d->actual.energy_kwh) / d->actual.energy_kwh,
                d->actual.co2eq_g > 0 ? 100 * (d->predicted.co2eq_g - d->actual.co2eq_g) / d->actual.co2eq_g : 0.0,
                d->actual.duration_s > 0 ? 100 * (d->predicted.duration_s - d->actual.duration_s) / d->actual.duration_s
                                         : 0.0);
    } else {
        row(&t, "Predicted", "no prediction recorded");
    }
    for (int c = 0; c < CT_COMPONENT_COUNT; c++)
        if (d->has_component[c]) {
            char k[32];
            snprintf(k, sizeof k, "%s energy", ct__rp_component_label(d, c));
            row(&t, k, "%.4g kWh (%.1f %% of the epochs' energy)", comp_kwh[c],
                all > 0 ? 100 * comp_kwh[c] / all : 0.0);
        }

    t.y += 10;
    ct__rp_font(cr, 8, 0);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    ct__rp_text_at(cr, t.x, t.y, 0,
                   "Energy in kWh and CO2eq include the PUE; per-component energy in the plots does not.");
    t.y += 11;
    ct__rp_text_at(cr, t.x, t.y, 0, "Method: Anthony, Kanding, Selvan (2020), arXiv:2007.03051. Plots on page 2.");
}

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int length) {
    ct_report_job *job = closure;
    return job->write(job->user, data, length) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

int ct__report_draw_v1(ct_report_job *job) __attribute__((visibility("default")));
int ct__report_draw_v1(ct_report_job *job) {
    if (!job || job->abi != CT__REPORT_ABI || job->job_size != sizeof *job ||
        job->detail_size != sizeof(ct_run_detail) || (job->jd && job->jd_size != sizeof(ct_job_detail))) {
        if (job && job->abi == CT__REPORT_ABI && job->job_size == sizeof *job)
            snprintf(job->err, sizeof job->err, "the report library does not match this libcarbontracker");
        return CT_ENOTSUP;
    }
    const ct_run_detail *d = job->d;
    const double A4W = 595.28, A4H = 841.89;
    const double FW = 720, FH = 540; /* the figure alone, pt */
    const double PW = 360, PH = 270; /* one panel, pt */
    int one = job->panel >= 0;
    double W = one ? PW : FW, H = one ? PH : FH;
    cairo_surface_t *s;
    if (job->kind == CT__OUT_PDF)
        s = cairo_pdf_surface_create_for_stream(write_cb, job, one ? PW : A4W, one ? PH : A4H);
    else if (job->kind == CT__OUT_SVG) s = cairo_svg_surface_create_for_stream(write_cb, job, W, H);
    else s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(W * 2), (int)(H * 2));
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        snprintf(job->err, sizeof job->err, "cannot create the drawing: %s",
                 cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return CT_EIO;
    }
    if (job->kind == CT__OUT_PDF) {
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, "carbontracker report");
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "carbontracker");
    }
    cairo_t *cr = cairo_create(s);
    if (job->kind == CT__OUT_PNG) cairo_scale(cr, 2, 2);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (one) {
        ct__rp_panel(cr, job->panel, (ct_rp_box){4, 4, PW - 8, PH - 8}, d);
    } else if (job->kind == CT__OUT_PDF) {
        if (job->jd) ct__rp_job_summary(cr, A4W, job);
        else draw_summary(cr, A4W, job);
        cairo_show_page(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        ct__rp_font(cr, 12, 1);
        cairo_set_source_rgb(cr, 0, 0, 0);
        ct__rp_text_at(cr, 50, 60, 0,
                       job->jd ? "Power, energy and CO2eq of the job (all nodes)"
                               : "Power, energy and CO2eq of the run");
        ct__rp_plots(cr, 40, 75, A4W - 80, 520, d);
        ct__rp_font(cr, 8.5, 0);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        ct__rp_text_at(cr, 50, 615, 0,
                       "Figure 1: (a) power per component over time; (b) energy per epoch without PUE;");
        ct__rp_text_at(cr, 50, 627, 0,
                       "(c) CO2eq per epoch with PUE; (d) cumulative energy with PUE against the prediction");
        ct__rp_text_at(cr, 50, 639, 0, "(and the predicted total as it was refined, with its 90 % interval).");
    } else {
        ct__rp_plots(cr, 6, 6, FW - 12, FH - 12, d);
    }
    if (job->kind == CT__OUT_PDF) cairo_show_page(cr);
    cairo_status_t cst = cairo_status(cr);
    cairo_destroy(cr);
    int rc = 0;
    if (cst != CAIRO_STATUS_SUCCESS) {
        snprintf(job->err, sizeof job->err, "drawing failed: %s", cairo_status_to_string(cst));
        rc = CT_EIO;
    }
    if (!rc && job->kind == CT__OUT_PNG) {
        cst = cairo_surface_write_to_png_stream(s, write_cb, job);
        if (cst != CAIRO_STATUS_SUCCESS) {
            snprintf(job->err, sizeof job->err, "cannot write: %s", cairo_status_to_string(cst));
            rc = CT_EIO;
        }
    }
    cairo_surface_finish(s);
    if (!rc && cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        snprintf(job->err, sizeof job->err, "cannot write: %s", cairo_status_to_string(cairo_surface_status(s)));
        rc = CT_EIO;
    }
    cairo_surface_destroy(s);
    return rc;
}

#endif /* CT_HAVE_CAIRO */
