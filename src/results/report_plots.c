/*
 * report_plots.c - the four plots of a run as a paper figure (part of
 * libcarbontracker-report.so): (a) power over time per component, (b) energy
 * per epoch, (c) CO2eq per epoch, (d) cumulative energy against the
 * prediction. Axis ticks are counted, never stepped by adding floats, so no
 * value (1.6e308 W, NaN) can make a loop run forever.
 */
#include "report_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#if CT_HAVE_CAIRO

#define J_TO_KWH(j) ((j) / 3.6e6)

#define FONT "DejaVu Sans"

/* Colours of a paper figure: blue CPU, orange GPU, grey prediction. */
static const double COL_COMP[CT_COMPONENT_COUNT][3] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}};
static const double COL_CO2[3] = {0.173, 0.627, 0.173};
static const double COL_PRED[3] = {0.45, 0.45, 0.45};
/* the prediction as it was refined (issue 12), and its 90 % interval */
static const double COL_REFINED[3] = {0.580, 0.404, 0.741};
static const double COL_BAND[3] = {0.878, 0.831, 0.925};

typedef ct_rp_box box;

typedef struct axis {
    double lo, hi, step;
    double scale; /* data value * scale = shown value */
} axis;

void ct__rp_font(cairo_t *cr, double size, int bold) {
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* align: 0 left, 0.5 centre, 1 right; baseline at y. */
void ct__rp_text_at(cairo_t *cr, double x, double y, double align, const char *s) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - align * te.x_advance, y);
    cairo_show_text(cr, s);
}

double ct__rp_text_w(cairo_t *cr, const char *s) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

static double nice_step(double range, int target) {
    if (!(range > 0) || !isfinite(range)) return 1;
    double raw = range / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return nf * mag;
}

/* Finite and not beyond what a plot can show (a damaged log may hold 1e308 or NaN). */
static double clamp_value(double v) {
    if (!(v == v)) return 0;
    if (v > DBL_MAX / 16) return DBL_MAX / 16;
    if (v < -DBL_MAX / 16) return -DBL_MAX / 16;
    return v;
}

static axis make_axis(double lo, double hi, int target, int from_zero) {
    axis a;
    lo = clamp_value(lo);
    hi = clamp_value(hi);
    if (from_zero && lo > 0) lo = 0;
    if (!(hi > lo)) hi = lo + (fabs(lo) > 1 ? fabs(lo) * 1e-3 : 1);
    a.step = nice_step(hi - lo, target);
    a.lo = floor(lo / a.step + 1e-9) * a.step;
    a.hi = ceil(hi / a.step - 1e-9) * a.step;
    if (!(a.hi > a.lo)) a.hi = a.lo + a.step;
    a.scale = 1;
    return a;
}

/* Ticks of an axis: counted, at most 100. */
static int tick_count(const axis *a) {
    if (!(a->step > 0) || !isfinite(a->hi - a->lo)) return 0;
    double n = floor((a->hi - a->lo) / a->step + 0.5);
    return n > 100 ? 100 : n < 0 ? 0 : (int)n;
}

static void fmt_tick(char *buf, size_t len, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0;
    if (fabs(v) >= 1e7) { /* short labels for absurd values (a damaged log) */
        snprintf(buf, len, "%.3g", v);
        return;
    }
    /* step <= 0 or NaN (a flat or damaged series): no decimals to derive; the
     * bound comes before the conversion (-log10(0) is inf, not an int). */
    double d = step >= 1 ? 0.0 : step > 0 ? ceil(-log10(step) - 1e-9) : 6.0;
    int dec = d > 6 ? 6 : d < 0 ? 0 : (int)d;
    snprintf(buf, len, "%.*f", dec, v);
}

/* Frame, ticks, grid, labels; returns the inner plotting box. */
static box draw_axes(cairo_t *cr, box outer, const axis *xa, const axis *ya, const char *title, const char *xlabel,
                     const char *ylabel) {
    ct__rp_font(cr, 8, 0);
    char buf[64];
    /* room for the y tick labels */
    double ytw = 0;
    int ny = tick_count(ya), nx = tick_count(xa);
    for (int i = 0; i <= ny; i++) {
        double v = ya->lo + i * ya->step;
        fmt_tick(buf, sizeof buf, v, ya->step);
        double w = ct__rp_text_w(cr, buf);
        if (w > ytw) ytw = w;
    }
    box in = {outer.x + 18 + ytw + 6, outer.y + 18, 0, 0};
    in.w = outer.x + outer.w - 8 - in.x;
    in.h = outer.y + outer.h - 30 - in.y;
    if (in.w < 10) in.w = 10;
    if (in.h < 10) in.h = 10;

    /* title */
    ct__rp_font(cr, 9.5, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    ct__rp_text_at(cr, in.x + in.w / 2, outer.y + 11, 0.5, title);

    /* grid + ticks */
    ct__rp_font(cr, 8, 0);
    cairo_set_line_width(cr, 0.4);
    for (int i = 0; i <= ny; i++) {
        double v = ya->lo + i * ya->step;
        double y = in.y + in.h - (v - ya->lo) / (ya->hi - ya->lo) * in.h;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, in.x, y);
        cairo_line_to(cr, in.x + in.w, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, in.x - 3, y);
        cairo_line_to(cr, in.x, y);
        cairo_stroke(cr);
        fmt_tick(buf, sizeof buf, v, ya->step);
        ct__rp_text_at(cr, in.x - 5, y + 3, 1, buf);
    }
    for (int i = 0; i <= nx; i++) {
        double v = xa->lo + i * xa->step;
        double x = in.x + (v - xa->lo) / (xa->hi - xa->lo) * in.w;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, in.y + in.h);
        cairo_line_to(cr, x, in.y + in.h + 3);
        cairo_stroke(cr);
        fmt_tick(buf, sizeof buf, v, xa->step);
        ct__rp_text_at(cr, x, in.y + in.h + 12, 0.5, buf);
    }
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, in.x, in.y, in.w, in.h);
    cairo_stroke(cr);

    /* axis labels */
    ct__rp_font(cr, 8.5, 0);
    ct__rp_text_at(cr, in.x + in.w / 2, outer.y + outer.h - 6, 0.5, xlabel);
    cairo_save(cr);
    cairo_translate(cr, outer.x + 9, in.y + in.h / 2);
    cairo_rotate(cr, -M_PI / 2);
    ct__rp_text_at(cr, 0, 0, 0.5, ylabel);
    cairo_restore(cr);
    return in;
}

static double px(const box *in, const axis *a, double v) { return in->x + (v - a->lo) / (a->hi - a->lo) * in->w; }
static double py(const box *in, const axis *a, double v) {
    return in->y + in->h - (v - a->lo) / (a->hi - a->lo) * in->h;
}

typedef struct legend_item {
    const char *label;
    const double *rgb;
    int kind; /* 0 line, 1 box, 2 dashed line, 3 cross */
} legend_item;

/* left: 1 top left, 0 top right, 2 bottom right */
static void draw_legend(cairo_t *cr, const box *in, const legend_item *items, int n, int left) {
    ct__rp_font(cr, 7.5, 0);
    double w = 0;
    for (int i = 0; i < n; i++) {
        double tw = ct__rp_text_w(cr, items[i].label);
        if (tw > w) w = tw;
    }
    double bw = w + 28, bh = n * 11 + 6;
    double x = left == 1 ? in->x + 6 : in->x + in->w - bw - 6, y = left == 2 ? in->y + in->h - bh - 6 : in->y + 6;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_rectangle(cr, x, y, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 0.5);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        double yy = y + 9 + i * 11;
        cairo_set_source_rgb(cr, items[i].rgb[0], items[i].rgb[1], items[i].rgb[2]);
        if (items[i].kind == 1) {
            cairo_rectangle(cr, x + 5, yy - 4, 14, 7);
            cairo_fill(cr);
        } else if (items[i].kind == 3) {
            cairo_set_line_width(cr, 1.2);
            cairo_move_to(cr, x + 8, yy - 3.5);
            cairo_line_to(cr, x + 15, yy + 3.5);
            cairo_move_to(cr, x + 8, yy + 3.5);
            cairo_line_to(cr, x + 15, yy - 3.5);
            cairo_stroke(cr);
        } else {
            cairo_set_line_width(cr, 1.5);
            if (items[i].kind == 2) {
                double d[] = {3, 2};
                cairo_set_dash(cr, d, 2, 0);
            }
            cairo_move_to(cr, x + 5, yy);
            cairo_line_to(cr, x + 19, yy);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
        ct__rp_text_at(cr, x + 23, yy + 3, 0, items[i].label);
    }
}

/* Time unit for an axis spanning max_s. */
static void time_unit(double max_s, double *div, const char **label) {
    if (max_s > 3 * 3600) *div = 3600, *label = "Time since start (h)";
    else if (max_s > 600) *div = 60, *label = "Time since start (min)";
    else *div = 1, *label = "Time since start (s)";
}

/* Energy unit for values up to max_j: J, Wh or kWh. */
static void energy_unit(double max_j, double *div, const char **unit) {
    if (max_j >= 3.6e6) *div = 3.6e6, *unit = "kWh";
    else if (max_j >= 3600) *div = 3600, *unit = "Wh";
    else *div = 1, *unit = "J";
}

static void empty_note(cairo_t *cr, const box *in, const char *msg) {
    ct__rp_font(cr, 8, 0);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    ct__rp_text_at(cr, in->x + in->w / 2, in->y + in->h / 2, 0.5, msg);
}

static void plot_power(cairo_t *cr, box outer, const ct_run_detail *d) {
    double tmax = 0, pmax = 0;
    for (int i = 0; i < d->npoints; i++) {
        if (d->points[i].t_s > tmax) tmax = d->points[i].t_s;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++)
            if (isfinite(d->points[i].p_w[c]) && d->points[i].p_w[c] > pmax) pmax = d->points[i].p_w[c];
    }
    if (d->nepochs && d->epochs[d->nepochs - 1].end_s > tmax) tmax = d->epochs[d->nepochs - 1].end_s;
    double div;
    const char *xl;
    time_unit(tmax, &div, &xl);
    axis xa = make_axis(0, tmax / div, 6, 1), ya = make_axis(0, pmax * 1.15, 5, 1);
    box in = draw_axes(cr, outer, &xa, &ya, "(a) Power over time", xl, "Power (W)");
    if (d->npoints == 0) {
        empty_note(cr, &in, "no power samples recorded");
        return;
    }
    legend_item li[CT_COMPONENT_COUNT];
    int nl = 0;
    cairo_save(cr);
    cairo_rectangle(cr, in.x, in.y, in.w, in.h);
    cairo_clip(cr);
    /* Decimate to about two points per device pixel column (min and max). */
    int buckets = in.w > 1 ? (int)(in.w * 2) : 2;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!d->has_component[c]) continue;
        cairo_set_source_rgb(cr, COL_COMP[c][0], COL_COMP[c][1], COL_COMP[c][2]);
        cairo_set_line_width(cr, 1.0);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        int started = 0, drawn = 0;
        int per = d->npoints > buckets * 2 ? d->npoints / buckets : 1; /* >= 2 */
        for (int i = 0; i < d->npoints; i += per) {
            double lo = INFINITY, hi = -INFINITY, t = d->points[i].t_s;
            for (int k = i; k < i + per && k < d->npoints; k++) {
                double v = d->points[k].p_w[c];
                if (!isfinite(v)) continue;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            if (!isfinite(lo)) {
                started = 0; /* a gap */
                continue;
            }
            double x = px(&in, &xa, t / div);
            if (!started) cairo_move_to(cr, x, py(&in, &ya, lo));
            else cairo_line_to(cr, x, py(&in, &ya, lo));
            if (hi != lo) cairo_line_to(cr, x, py(&in, &ya, hi));
            started = 1;
            drawn = 1;
        }
        cairo_stroke(cr);
        if (drawn) {
            li[nl].label = ct__rp_component_label(d, c);
            li[nl].rgb = COL_COMP[c];
            li[nl].kind = 0;
            nl++;
        }
    }
    cairo_restore(cr);
    if (nl) draw_legend(cr, &in, li, nl, 0);
}

/* Draws integer epoch ticks on an axis box whose bars sit at 1..n. */
static box epoch_axes(cairo_t *cr, box outer, int n, const axis *ya, const char *title, const char *ylabel) {
    /* An x axis over [0.5, n+0.5] with integer ticks. */
    double step = nice_step(n, 6);
    if (step < 1) step = 1;
    axis xa = {0.5, n + 0.5, step, 1};
    /* The frame without x ticks (step 0); the integer ticks are added here. */
    box in = draw_axes(cr, outer, &(axis){0.5, n + 0.5, 0, 1}, ya, title, "Epoch", ylabel);
    ct__rp_font(cr, 8, 0);
    char buf[32];
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.4);
    double first = step == 1 ? 1 : step;
    for (int i = 0; i < 1000 && first + i * step <= n + 1e-9; i++) {
        double v = first + i * step;
        double x = px(&in, &xa, v);
        cairo_move_to(cr, x, in.y + in.h);
        cairo_line_to(cr, x, in.y + in.h + 3);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.0f", v);
        ct__rp_text_at(cr, x, in.y + in.h + 12, 0.5, buf);
    }
    return in;
}

static void plot_energy_bars(cairo_t *cr, box outer, const ct_run_detail *d) {
    double maxj = 0;
    for (int i = 0; i < d->nepochs; i++) {
        double s = 0;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) s += d->epochs[i].energy_j[c];
        if (s > maxj) maxj = s;
    }
    double div;
    const char *unit;
    energy_unit(maxj, &div, &unit);
    char yl[64];
    snprintf(yl, sizeof yl, "Energy (%s, without PUE)", unit);
    int n = d->nepochs;
    axis ya = make_axis(0, maxj / div * 1.2, 5, 1);
    box in = epoch_axes(cr, outer, n, &ya, "(b) Energy per epoch", yl);
    axis bx = {0.5, n + 0.5, 1, 1};
    double slot = in.w / n;
    double bw = slot < 3 ? slot * 1.02 : slot * 0.8; /* dense bars touch: solid colour, no moire */
    legend_item li[CT_COMPONENT_COUNT];
    int nl = 0;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++)
        if (d->has_component[c]) {
            li[nl].label = ct__rp_component_label(d, c);
            li[nl].rgb = COL_COMP[c];
            li[nl].kind = 1;
            nl++;
        }
    for (int i = 0; i < n; i++) {
        double base = 0;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            double v = d->epochs[i].energy_j[c] / div;
            if (!(v > 0)) continue;
            cairo_set_source_rgb(cr, COL_COMP[c][0], COL_COMP[c][1], COL_COMP[c][2]);
            cairo_rectangle(cr, px(&in, &bx, i + 1) - bw / 2, py(&in, &ya, base + v), bw,
                            py(&in, &ya, base) - py(&in, &ya, base + v));
            cairo_fill(cr);
            base += v;
        }
    }
    if (nl) draw_legend(cr, &in, li, nl, 0);
}

static void plot_co2(cairo_t *cr, box outer, const ct_run_detail *d) {
    double maxg = 0;
    int any = 0;
    for (int i = 0; i < d->nepochs; i++)
        if (isfinite(d->epochs[i].co2eq_g)) {
            any = 1;
            if (d->epochs[i].co2eq_g > maxg) maxg = d->epochs[i].co2eq_g;
        }
    int n = d->nepochs;
    double div = maxg >= 1000 ? 1000 : 1;
    axis ya = make_axis(0, maxg / div * 1.2, 5, 1);
    box in = epoch_axes(cr, outer, n, &ya, "(c) CO2eq per epoch",
                        div > 1 ? "CO2eq (kg, with PUE)" : "CO2eq (g, with PUE)");
    if (!any) {
        empty_note(cr, &in, "no CO2eq per epoch in this log");
        return;
    }
    axis bx = {0.5, n + 0.5, 1, 1};
    double slot = in.w / n;
    double bw = slot < 3 ? slot * 1.02 : slot * 0.8; /* dense bars touch: solid colour, no moire */
    cairo_set_source_rgb(cr, COL_CO2[0], COL_CO2[1], COL_CO2[2]);
    for (int i = 0; i < n; i++) {
        double v = d->epochs[i].co2eq_g / div;
        if (!(v > 0)) continue;
        cairo_rectangle(cr, px(&in, &bx, i + 1) - bw / 2, py(&in, &ya, v), bw, py(&in, &ya, 0) - py(&in, &ya, v));
    }
    cairo_fill(cr);
    legend_item li = {d->format[0] == 't' ? "CO2eq (run's mean intensity)" : "CO2eq", COL_CO2, 1};
    draw_legend(cr, &in, &li, 1, 0);
}

/* How the prediction evolved (issue 12): the predicted total of each
 * prediction record at the epoch it was made (after_epochs + progress), its
 * 90 % interval as a band (a bar where a record stands alone). Clipped by the
 * caller. Returns the legend items added to li (0..2). */
static int plot_refined(cairo_t *cr, const box *in, const axis *xa, const axis *ya, double div, const ct_run_detail *d,
                        legend_item *li) {
    if (d->npreds < 1) return 0;
    int nband = 0, n = 0;
    cairo_set_source_rgb(cr, COL_BAND[0], COL_BAND[1], COL_BAND[2]);
    for (int i = 0; i < d->npreds; i++) { /* the upper edge forward, the lower edge back */
        const ct_run_pred *q = &d->preds[i];
        if (!isfinite(q->energy_kwh_low) || !isfinite(q->energy_kwh_high)) continue;
        double x = px(in, xa, q->at_epochs), y = py(in, ya, clamp_value(q->energy_kwh_high / div));
        nband++ ? cairo_line_to(cr, x, y) : cairo_move_to(cr, x, y);
    }
    for (int i = d->npreds - 1; i >= 0 && nband > 1; i--) {
        const ct_run_pred *q = &d->preds[i];
        if (!isfinite(q->energy_kwh_low) || !isfinite(q->energy_kwh_high)) continue;
        cairo_line_to(cr, px(in, xa, q->at_epochs), py(in, ya, clamp_value(q->energy_kwh_low / div)));
    }
    if (nband > 1) {
        cairo_close_path(cr);
        cairo_fill(cr);
    } else {
        cairo_new_path(cr);
    }
    cairo_set_line_width(cr, 2.5); /* each record's interval as a bar: a lone record shows too */
    for (int i = 0; i < d->npreds; i++) {
        const ct_run_pred *q = &d->preds[i];
        if (!isfinite(q->energy_kwh_low) || !isfinite(q->energy_kwh_high)) continue;
        double x = px(in, xa, q->at_epochs);
        cairo_move_to(cr, x, py(in, ya, clamp_value(q->energy_kwh_low / div)));
        cairo_line_to(cr, x, py(in, ya, clamp_value(q->energy_kwh_high / div)));
    }
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, COL_REFINED[0], COL_REFINED[1], COL_REFINED[2]);
    cairo_set_line_width(cr, 1.2);
    for (int i = 0; i < d->npreds; i++) {
        const ct_run_pred *q = &d->preds[i];
        double x = px(in, xa, q->at_epochs), y = py(in, ya, clamp_value(q->energy_kwh / div));
        n++ ? cairo_line_to(cr, x, y) : cairo_move_to(cr, x, y);
    }
    cairo_stroke(cr);
    for (int i = 0; i < d->npreds && d->npreds <= 120; i++) {
        const ct_run_pred *q = &d->preds[i];
        cairo_arc(cr, px(in, xa, q->at_epochs), py(in, ya, clamp_value(q->energy_kwh / div)), 1.6, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    li[0] = (legend_item){"predicted total, as refined", COL_REFINED, 0};
    if (nband == 0) return 1;
    li[1] = (legend_item){"its 90 % interval", COL_BAND, 1};
    return 2;
}

/* Cumulative energy (kWh with PUE) per epoch against the linear prediction. */
static void plot_prediction(cairo_t *cr, box outer, const ct_run_detail *d) {
    double pue = isfinite(d->pue) && d->pue >= 1 ? d->pue : 1.0;
    int n = d->nepochs;
    int total = d->predicted.valid && d->predicted.epochs > n ? d->predicted.epochs : n;
    if (d->epochs_planned > total) total = d->epochs_planned;
    double cum = 0, maxe = 0;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) cum += J_TO_KWH(d->epochs[i].energy_j[c]) * pue;
    }
    maxe = cum;
    if (d->predicted.valid && d->predicted.energy_kwh > maxe) maxe = d->predicted.energy_kwh;
    if (d->actual.valid && d->actual.energy_kwh > maxe) maxe = d->actual.energy_kwh;
    for (int i = 0; i < d->npreds; i++) {
        const ct_run_pred *q = &d->preds[i];
        double hi = isfinite(q->energy_kwh_high) ? q->energy_kwh_high : q->energy_kwh;
        if (isfinite(hi) && hi > maxe && hi < 4 * (maxe > 0 ? maxe : hi)) maxe = hi; /* a wild early one is clipped */
        if (q->at_epochs > total) total = (int)ceil(q->at_epochs);
    }
    double div = 1;
    const char *yl = "Cumulative energy (kWh, with PUE)";
    if (maxe < 0.01) div = 1e-3, yl = "Cumulative energy (Wh, with PUE)";
    axis xa = make_axis(0, total, 6, 1);
    if (xa.step < 1) xa.step = 1, xa.hi = ceil(xa.hi);
    axis ya = make_axis(0, maxe / div * 1.15, 5, 1);
    box in = draw_axes(cr, outer, &xa, &ya, "(d) Predicted against actual", "Epoch", yl);
    legend_item li[5];
    int nl = 0;
    int pred = d->predicted.valid && d->predicted.epochs > 0;
    /* lines clipped to the frame; markers drawn after, unclipped (a marker at
     * the last epoch sits on the right edge) */
    cairo_save(cr);
    cairo_rectangle(cr, in.x, in.y, in.w, in.h);
    cairo_clip(cr);
    if (pred) {
        double d2[] = {4, 3};
        cairo_set_dash(cr, d2, 2, 0);
        cairo_set_line_width(cr, 1.3);
        cairo_set_source_rgb(cr, COL_PRED[0], COL_PRED[1], COL_PRED[2]);
        cairo_move_to(cr, px(&in, &xa, 0), py(&in, &ya, 0));
        cairo_line_to(cr, px(&in, &xa, d->predicted.epochs), py(&in, &ya, clamp_value(d->predicted.energy_kwh / div)));
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        li[nl++] = (legend_item){"predicted (linear)", COL_PRED, 2};
    }
    nl += plot_refined(cr, &in, &xa, &ya, div, d, li + nl);
    cairo_set_source_rgb(cr, COL_COMP[0][0], COL_COMP[0][1], COL_COMP[0][2]);
    cairo_set_line_width(cr, 1.5);
    cum = 0;
    cairo_move_to(cr, px(&in, &xa, 0), py(&in, &ya, 0));
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) cum += J_TO_KWH(d->epochs[i].energy_j[c]) * pue;
        cairo_line_to(cr, px(&in, &xa, i + 1), py(&in, &ya, clamp_value(cum / div)));
    }
    cairo_stroke(cr);
    cairo_restore(cr);
    if (pred) {
        cairo_set_source_rgb(cr, COL_PRED[0], COL_PRED[1], COL_PRED[2]);
        cairo_arc(cr, px(&in, &xa, d->predicted.epochs), py(&in, &ya, clamp_value(d->predicted.energy_kwh / div)), 2.5,
                  0, 2 * M_PI);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, COL_COMP[0][0], COL_COMP[0][1], COL_COMP[0][2]);
    if (n <= 60) {
        cum = 0;
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < CT_COMPONENT_COUNT; c++) cum += J_TO_KWH(d->epochs[i].energy_j[c]) * pue;
            cairo_arc(cr, px(&in, &xa, i + 1), py(&in, &ya, clamp_value(cum / div)), 1.8, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
    /* estimates are never called measurements */
    const char *what = d->measurement == CT__MEAS_MEASURED    ? "actual (measured)"
                       : d->measurement == CT__MEAS_PARTLY    ? "actual (partly estimated)"
                       : d->measurement == CT__MEAS_ESTIMATED ? "actual (estimated)"
                                                              : "actual";
    li[nl++] = (legend_item){what, COL_COMP[0], 0};
    if (d->actual.valid && d->actual.epochs > 0 && isfinite(d->actual.energy_kwh)) {
        /* the reported actual total: where the prediction is judged */
        static const double black[3] = {0, 0, 0};
        double x = px(&in, &xa, d->actual.epochs), y = py(&in, &ya, clamp_value(d->actual.energy_kwh / div));
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 1.2);
        cairo_move_to(cr, x - 4, y - 4);
        cairo_line_to(cr, x + 4, y + 4);
        cairo_move_to(cr, x - 4, y + 4);
        cairo_line_to(cr, x + 4, y - 4);
        cairo_stroke(cr);
        li[nl++] = (legend_item){"actual total (reported)", black, 3};
    }
    /* the refined predictions run along the top: the legend goes below the cumulative line */
    draw_legend(cr, &in, li, nl, d->npreds > 0 ? 2 : 1);
}

const char *ct__rp_component_label(const ct_run_detail *d, int c) {
    if (c == CT_COMPONENT_GPU) return "GPU";
    return d->dram ? "CPU (+DRAM)" : "CPU";
}

void ct__rp_panel(cairo_t *cr, int panel, box outer, const ct_run_detail *d) {
    switch (panel) {
    case CT__PANEL_POWER: plot_power(cr, outer, d); break;
    case CT__PANEL_ENERGY: plot_energy_bars(cr, outer, d); break;
    case CT__PANEL_CO2: plot_co2(cr, outer, d); break;
    default: plot_prediction(cr, outer, d); break;
    }
}

void ct__rp_plots(cairo_t *cr, double x, double y, double w, double h, const ct_run_detail *d) {
    double gw = w / 2, gh = h / 2;
    plot_power(cr, (box){x, y, gw, gh}, d);
    plot_energy_bars(cr, (box){x + gw, y, gw, gh}, d);
    plot_co2(cr, (box){x, y + gh, gw, gh}, d);
    plot_prediction(cr, (box){x + gw, y + gh, gw, gh}, d);
}


#endif /* CT_HAVE_CAIRO */
