/*
 * report.c - the report of one run, drawn with cairo (optional feature).
 *
 * PDF (A4): page 1 the summary table (devices and method, PUE, intensity and
 * its source, actual and predicted totals); page 2 four plots as a paper
 * figure: power over time per component, energy per epoch, CO2eq per epoch,
 * cumulative energy against the prediction. PNG and SVG: the four plots alone.
 */
#include "results_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>


static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return (dot && (!slash || dot > slash)) ? dot + 1 : "";
}

#if CT_HAVE_CAIRO

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#define FONT "DejaVu Sans"

/* Colours of a paper figure: blue CPU, orange GPU, grey prediction. */
static const double COL_COMP[CT_COMPONENT_COUNT][3] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}};
static const double COL_CO2[3] = {0.173, 0.627, 0.173};
static const double COL_PRED[3] = {0.45, 0.45, 0.45};

typedef struct box {
    double x, y, w, h;
} box;

typedef struct axis {
    double lo, hi, step;
    double scale; /* data value * scale = shown value */
} axis;

static void font(cairo_t *cr, double size, int bold) {
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* align: 0 left, 0.5 centre, 1 right; baseline at y. */
static void text_at(cairo_t *cr, double x, double y, double align, const char *s) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - align * te.x_advance, y);
    cairo_show_text(cr, s);
}

static double text_w(cairo_t *cr, const char *s) {
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

static axis make_axis(double lo, double hi, int target, int from_zero) {
    axis a;
    if (from_zero && lo > 0) lo = 0;
    if (!(hi > lo)) hi = lo + 1;
    a.step = nice_step(hi - lo, target);
    a.lo = floor(lo / a.step + 1e-9) * a.step;
    a.hi = ceil(hi / a.step - 1e-9) * a.step;
    if (!(a.hi > a.lo)) a.hi = a.lo + a.step;
    a.scale = 1;
    return a;
}

static void fmt_tick(char *buf, size_t len, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    snprintf(buf, len, "%.*f", dec, v);
}

/* Frame, ticks, grid, labels; returns the inner plotting box. */
static box draw_axes(cairo_t *cr, box outer, const axis *xa, const axis *ya, const char *title, const char *xlabel,
                     const char *ylabel) {
    font(cr, 8, 0);
    char buf[64];
    /* room for the y tick labels */
    double ytw = 0;
    for (double v = ya->lo; v <= ya->hi + ya->step * 0.5; v += ya->step) {
        fmt_tick(buf, sizeof buf, v, ya->step);
        double w = text_w(cr, buf);
        if (w > ytw) ytw = w;
    }
    box in = {outer.x + 18 + ytw + 6, outer.y + 18, 0, 0};
    in.w = outer.x + outer.w - 8 - in.x;
    in.h = outer.y + outer.h - 30 - in.y;

    /* title */
    font(cr, 9.5, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, in.x + in.w / 2, outer.y + 11, 0.5, title);

    /* grid + ticks */
    font(cr, 8, 0);
    cairo_set_line_width(cr, 0.4);
    for (double v = ya->lo; v <= ya->hi + ya->step * 0.5; v += ya->step) {
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
        text_at(cr, in.x - 5, y + 3, 1, buf);
    }
    for (double v = xa->lo; xa->step > 0 && v <= xa->hi + xa->step * 0.5; v += xa->step) {
        double x = in.x + (v - xa->lo) / (xa->hi - xa->lo) * in.w;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, in.y + in.h);
        cairo_line_to(cr, x, in.y + in.h + 3);
        cairo_stroke(cr);
        fmt_tick(buf, sizeof buf, v, xa->step);
        text_at(cr, x, in.y + in.h + 12, 0.5, buf);
    }
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, in.x, in.y, in.w, in.h);
    cairo_stroke(cr);

    /* axis labels */
    font(cr, 8.5, 0);
    text_at(cr, in.x + in.w / 2, outer.y + outer.h - 6, 0.5, xlabel);
    cairo_save(cr);
    cairo_translate(cr, outer.x + 9, in.y + in.h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, 0.5, ylabel);
    cairo_restore(cr);
    return in;
}

static double px(const box *in, const axis *a, double v) {
    return in->x + (v - a->lo) / (a->hi - a->lo) * in->w;
}
static double py(const box *in, const axis *a, double v) {
    return in->y + in->h - (v - a->lo) / (a->hi - a->lo) * in->h;
}

typedef struct legend_item {
    const char *label;
    const double *rgb;
    int kind; /* 0 line, 1 box, 2 dashed line, 3 cross */
} legend_item;

static void draw_legend(cairo_t *cr, const box *in, const legend_item *items, int n, int left) {
    font(cr, 7.5, 0);
    double w = 0;
    for (int i = 0; i < n; i++) {
        double tw = text_w(cr, items[i].label);
        if (tw > w) w = tw;
    }
    double bw = w + 28, bh = n * 11 + 6;
    double x = left ? in->x + 6 : in->x + in->w - bw - 6, y = in->y + 6;
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
        text_at(cr, x + 23, yy + 3, 0, items[i].label);
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
    font(cr, 8, 0);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    text_at(cr, in->x + in->w / 2, in->y + in->h / 2, 0.5, msg);
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
    int buckets = (int)(in.w * 2);
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        if (!d->has_component[c]) continue;
        cairo_set_source_rgb(cr, COL_COMP[c][0], COL_COMP[c][1], COL_COMP[c][2]);
        cairo_set_line_width(cr, 1.0);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        int started = 0, drawn = 0;
        int per = d->npoints > buckets * 2 ? d->npoints / buckets : 1;
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
            li[nl].label = c == CT_COMPONENT_CPU ? "CPU (+DRAM)" : "GPU";
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
    font(cr, 8, 0);
    char buf[32];
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.4);
    double first = step == 1 ? 1 : step;
    for (double v = first; v <= n + 1e-9; v += step) {
        double x = px(&in, &xa, v);
        cairo_move_to(cr, x, in.y + in.h);
        cairo_line_to(cr, x, in.y + in.h + 3);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.0f", v);
        text_at(cr, x, in.y + in.h + 12, 0.5, buf);
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
            li[nl].label = c == CT_COMPONENT_CPU ? "CPU (+DRAM)" : "GPU";
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
    box in = epoch_axes(cr, outer, n, &ya, "(c) CO2eq per epoch", div > 1 ? "CO2eq (kg, with PUE)" : "CO2eq (g, with PUE)");
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

/* Cumulative energy (kWh with PUE) per epoch against the linear prediction. */
static void plot_prediction(cairo_t *cr, box outer, const ct_run_detail *d) {
    double pue = isfinite(d->pue) && d->pue >= 1 ? d->pue : 1.0;
    int n = d->nepochs;
    int total = d->predicted.valid && d->predicted.epochs > n ? d->predicted.epochs : n;
    if (d->epochs_planned > total) total = d->epochs_planned;
    double cum = 0, maxe = 0;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) cum += ct__j_to_kwh(d->epochs[i].energy_j[c]) * pue;
    }
    maxe = cum;
    if (d->predicted.valid && d->predicted.energy_kwh > maxe) maxe = d->predicted.energy_kwh;
    if (d->actual.valid && d->actual.energy_kwh > maxe) maxe = d->actual.energy_kwh;
    double div = 1;
    const char *yl = "Cumulative energy (kWh, with PUE)";
    if (maxe < 0.01) div = 1e-3, yl = "Cumulative energy (Wh, with PUE)";
    axis xa = make_axis(0, total, 6, 1);
    if (xa.step < 1) xa.step = 1, xa.hi = ceil(xa.hi);
    axis ya = make_axis(0, maxe / div * 1.15, 5, 1);
    box in = draw_axes(cr, outer, &xa, &ya, "(d) Predicted against actual", "Epoch", yl);
    legend_item li[3];
    int nl = 0;
    cairo_save(cr);
    cairo_rectangle(cr, in.x, in.y, in.w, in.h);
    cairo_clip(cr);
    if (d->predicted.valid && d->predicted.epochs > 0) {
        double d2[] = {4, 3};
        cairo_set_dash(cr, d2, 2, 0);
        cairo_set_line_width(cr, 1.3);
        cairo_set_source_rgb(cr, COL_PRED[0], COL_PRED[1], COL_PRED[2]);
        cairo_move_to(cr, px(&in, &xa, 0), py(&in, &ya, 0));
        cairo_line_to(cr, px(&in, &xa, d->predicted.epochs), py(&in, &ya, d->predicted.energy_kwh / div));
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_arc(cr, px(&in, &xa, d->predicted.epochs), py(&in, &ya, d->predicted.energy_kwh / div), 2.5, 0,
                  2 * M_PI);
        cairo_fill(cr);
        li[nl++] = (legend_item){"predicted (linear)", COL_PRED, 2};
    }
    cairo_set_source_rgb(cr, COL_COMP[0][0], COL_COMP[0][1], COL_COMP[0][2]);
    cairo_set_line_width(cr, 1.5);
    cum = 0;
    cairo_move_to(cr, px(&in, &xa, 0), py(&in, &ya, 0));
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) cum += ct__j_to_kwh(d->epochs[i].energy_j[c]) * pue;
        cairo_line_to(cr, px(&in, &xa, i + 1), py(&in, &ya, cum / div));
    }
    cairo_stroke(cr);
    if (n <= 60) {
        cum = 0;
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < CT_COMPONENT_COUNT; c++) cum += ct__j_to_kwh(d->epochs[i].energy_j[c]) * pue;
            cairo_arc(cr, px(&in, &xa, i + 1), py(&in, &ya, cum / div), 1.8, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
    li[nl++] = (legend_item){"actual (measured)", COL_COMP[0], 0};
    if (d->actual.valid && d->actual.epochs > 0 && isfinite(d->actual.energy_kwh)) {
        /* the reported actual total: where the prediction is judged */
        static const double black[3] = {0, 0, 0};
        double x = px(&in, &xa, d->actual.epochs), y = py(&in, &ya, d->actual.energy_kwh / div);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 1.2);
        cairo_move_to(cr, x - 4, y - 4);
        cairo_line_to(cr, x + 4, y + 4);
        cairo_move_to(cr, x - 4, y + 4);
        cairo_line_to(cr, x + 4, y - 4);
        cairo_stroke(cr);
        li[nl++] = (legend_item){"actual total (reported)", black, 3};
    }
    cairo_restore(cr);
    draw_legend(cr, &in, li, nl, 1);
}

static void draw_plots(cairo_t *cr, double x, double y, double w, double h, const ct_run_detail *d) {
    double gw = w / 2, gh = h / 2;
    plot_power(cr, (box){x, y, gw, gh}, d);
    plot_energy_bars(cr, (box){x + gw, y, gw, gh}, d);
    plot_co2(cr, (box){x, y + gh, gw, gh}, d);
    plot_prediction(cr, (box){x + gw, y + gh, gw, gh}, d);
}

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
    font(t->cr, 9, 1);
    cairo_set_source_rgb(t->cr, 0, 0, 0);
    text_at(t->cr, t->x, t->y, 0, k);
    font(t->cr, 9, 0);
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
            if (text_w(t->cr, line) <= maxw) break;
            size_t k2 = take - 1;
            while (k2 > 0 && s[k2] != ' ' && s[k2] != '/' && s[k2] != ',') k2--;
            take = k2 > 0 ? k2 : take - 1;
        }
        if (take == 0) take = 1;
        memcpy(line, s, take);
        line[take] = '\0';
        text_at(t->cr, t->x + t->col, t->y, 0, line);
        s += take;
        while (*s == ' ') s++;
        if (*s) t->y += 12;
    }
    t->y += 15;
}

static void section(table *t, const char *title) {
    t->y += 6;
    font(t->cr, 11, 1);
    cairo_set_source_rgb(t->cr, 0, 0, 0);
    text_at(t->cr, t->x, t->y, 0, title);
    cairo_set_line_width(t->cr, 0.6);
    cairo_move_to(t->cr, t->x, t->y + 4);
    cairo_line_to(t->cr, t->x + t->w, t->y + 4);
    cairo_stroke(t->cr);
    t->y += 19;
}

static void fmt_total(char *buf, size_t len, const ct_run_total *tt) {
    char dur[32];
    ct_format_duration(tt->duration_s, 0, dur, sizeof dur);
    double g_per_km = ct__car_g_per_km(NULL);
    snprintf(buf, len, "%d epoch(s), %s, %.4g kWh, %.4g g CO2eq (%.4g km travelled by car)", tt->epochs, dur,
             tt->energy_kwh, isfinite(tt->co2eq_g) ? tt->co2eq_g : 0.0,
             g_per_km > 0 && isfinite(tt->co2eq_g) ? tt->co2eq_g / g_per_km : 0.0);
}

static void draw_summary(cairo_t *cr, double W, const ct_run_detail *d) {
    table t = {cr, 50, 60, W - 100, 150};
    font(cr, 16, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, t.x, t.y, 0, "Carbon footprint of a training run");
    t.y += 16;
    font(cr, 9, 0);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    char gen[96];
    snprintf(gen, sizeof gen, "carbontracker %s report", ct_version());
    text_at(cr, t.x, t.y, 0, gen);
    t.y += 10;

    section(&t, "Run");
    const char *slash = strrchr(d->path, '/');
    row(&t, "Log file", "%s", slash ? slash + 1 : d->path);
    row(&t, "Format", "%s", strcmp(d->format, "jsonl") == 0 ? "JSON Lines" : "text log (the original's format)");
    if (d->host[0]) row(&t, "Host", "%s", d->host);
    if (isfinite(d->start_unix_s)) {
        time_t ts = (time_t)d->start_unix_s;
        struct tm tm;
        char when[64];
        gmtime_r(&ts, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        row(&t, "Started", "%s", when);
    }
    if (d->version[0]) row(&t, "Written by", "carbontracker %s", d->version);
    if (d->epochs_planned > 0)
        row(&t, "Epochs", "%d recorded of %d planned%s", d->nepochs, d->epochs_planned,
            d->early_stop ? " (training stopped early)" : "");
    else row(&t, "Epochs", "%d recorded%s", d->nepochs, d->early_stop ? " (training stopped early)" : "");

    section(&t, "Devices and how they were measured");
    if (d->ndevices == 0) row(&t, "Devices", "not recorded in this log");
    for (int i = 0; i < d->ndevices && i < 24; i++) {
        const ct_run_device *dv = &d->devices[i];
        char comp[16];
        snprintf(comp, sizeof comp, "%s", dv->component);
        for (char *c = comp; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
        if (dv->source[0])
            row(&t, comp, "%s: %s via %s%s", dv->name, dv->method, dv->source,
                dv->estimated == 1 ? " (estimate)" : "");
        else row(&t, comp, "%s%s%s", dv->name, dv->method[0] ? ": " : "", dv->method);
    }
    if (d->ndevices > 24) row(&t, "", "... and %d more", d->ndevices - 24);

    section(&t, "Factors");
    if (isfinite(d->pue)) row(&t, "PUE", "%.2f (applied to kWh and CO2eq totals)", d->pue);
    else row(&t, "PUE", "not recorded");
    if (isfinite(d->intensity_g_per_kwh))
        row(&t, "Carbon intensity", "%.1f gCO2eq/kWh%s%s%s", d->intensity_g_per_kwh, d->intensity_kind[0] ? " (" : "",
            d->intensity_kind, d->intensity_kind[0] ? ")" : "");
    else row(&t, "Carbon intensity", "not recorded");
    const char *src = d->intensity_source[0]                               ? d->intensity_source
                      : d->actual.valid && d->actual.intensity_source[0] ? d->actual.intensity_source
                                                                           : "not recorded";
    row(&t, "Intensity source", "%s", src);
    double gk = ct__car_g_per_km(NULL);
    row(&t, "Car equivalent", "%.1f g CO2eq per km", gk);

    section(&t, "Totals");
    char buf[256];
    double pue = isfinite(d->pue) && d->pue >= 1 ? d->pue : 1.0;
    double comp_kwh[CT_COMPONENT_COUNT] = {0, 0}, all = 0;
    for (int i = 0; i < d->nepochs; i++)
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) comp_kwh[c] += ct__j_to_kwh(d->epochs[i].energy_j[c]) * pue;
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) all += comp_kwh[c];
    if (d->actual.valid) {
        fmt_total(buf, sizeof buf, &d->actual);
        row(&t, "Actual", "%s", buf);
    } else {
        row(&t, "Actual", "no final record (the run crashed or is still running)");
    }
    if (d->predicted.valid) {
        fmt_total(buf, sizeof buf, &d->predicted);
        row(&t, "Predicted", "%s", buf);
        if (d->actual.valid && d->actual.epochs == d->predicted.epochs && d->predicted.energy_kwh > 0)
            row(&t, "Prediction error", "%+.1f %% energy, %+.1f %% CO2eq, %+.1f %% duration",
                100 * (d->predicted.energy_kwh - d->actual.energy_kwh) / d->actual.energy_kwh,
                d->actual.co2eq_g > 0 ? 100 * (d->predicted.co2eq_g - d->actual.co2eq_g) / d->actual.co2eq_g : 0.0,
                d->actual.duration_s > 0
                    ? 100 * (d->predicted.duration_s - d->actual.duration_s) / d->actual.duration_s
                    : 0.0);
    } else {
        row(&t, "Predicted", "no prediction recorded");
    }
    for (int c = 0; c < CT_COMPONENT_COUNT; c++)
        if (d->has_component[c])
            row(&t, c == CT_COMPONENT_CPU ? "CPU (+DRAM) energy" : "GPU energy", "%.4g kWh (%.1f %% of the epochs' energy)",
                comp_kwh[c], all > 0 ? 100 * comp_kwh[c] / all : 0.0);

    t.y += 10;
    font(cr, 8, 0);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    text_at(cr, t.x, t.y, 0, "Energy in kWh and CO2eq include the PUE; per-component energy in the plots does not.");
    t.y += 11;
    text_at(cr, t.x, t.y, 0, "Method: Anthony, Kanding, Selvan (2020), arXiv:2007.03051. Plots on page 2.");
}

static int check_surface(cairo_surface_t *s, const char *path, char *err, size_t errlen) {
    cairo_status_t st = cairo_surface_status(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        ct__msgf(err, errlen, "%s: cannot write: %s", path, cairo_status_to_string(st));
        return CT_EIO;
    }
    return 0;
}

int ct_report_render(const char *path_in, const char *path_out, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!path_in || !path_out) {
        ct__msgf(err, errlen, "input and output paths are required");
        return CT_EINVAL;
    }
    const char *ext = extension(path_out);
    int kind = strcasecmp(ext, "pdf") == 0 ? 0 : strcasecmp(ext, "png") == 0 ? 1 : strcasecmp(ext, "svg") == 0 ? 2 : -1;
    if (kind < 0) {
        ct__msgf(err, errlen, "%s: unknown output type \"%s\" (use .pdf, .png or .svg)", path_out, ext);
        return CT_EINVAL;
    }
    ct_run_detail d;
    int rc = ct__run_detail_load(path_in, &d, err, errlen);
    if (rc) return rc;
    cairo_surface_t *s = NULL;
    const double A4W = 595.28, A4H = 841.89;
    const double FW = 720, FH = 540; /* the figure alone, pt */
    if (kind == 0) s = cairo_pdf_surface_create(path_out, A4W, A4H);
    else if (kind == 2) s = cairo_svg_surface_create(path_out, FW, FH);
    else s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(FW * 2), (int)(FH * 2));
    rc = check_surface(s, path_out, err, errlen);
    if (rc) {
        cairo_surface_destroy(s);
        ct__run_detail_free(&d);
        return rc;
    }
    if (kind == 0) {
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, "carbontracker report");
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "carbontracker");
    }
    cairo_t *cr = cairo_create(s);
    if (kind == 1) cairo_scale(cr, 2, 2);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (kind == 0) {
        draw_summary(cr, A4W, &d);
        cairo_show_page(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        font(cr, 12, 1);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, 50, 60, 0, "Power, energy and CO2eq of the run");
        draw_plots(cr, 40, 75, A4W - 80, 520, &d);
        font(cr, 8.5, 0);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        char cap[256];
        snprintf(cap, sizeof cap, "Figure 1: (a) power per component over time; (b) energy per epoch without PUE;");
        text_at(cr, 50, 615, 0, cap);
        snprintf(cap, sizeof cap, "(c) CO2eq per epoch with PUE; (d) cumulative energy with PUE against the prediction.");
        text_at(cr, 50, 627, 0, cap);
        cairo_show_page(cr);
    } else {
        draw_plots(cr, 6, 6, FW - 12, FH - 12, &d);
    }
    cairo_status_t cst = cairo_status(cr);
    cairo_destroy(cr);
    if (cst != CAIRO_STATUS_SUCCESS) {
        ct__msgf(err, errlen, "drawing failed: %s", cairo_status_to_string(cst));
        rc = CT_EIO;
    }
    if (!rc && kind == 1) {
        cst = cairo_surface_write_to_png(s, path_out);
        if (cst != CAIRO_STATUS_SUCCESS) {
            ct__msgf(err, errlen, "%s: cannot write: %s", path_out, cairo_status_to_string(cst));
            rc = CT_EIO;
        }
    }
    cairo_surface_finish(s);
    if (!rc) rc = check_surface(s, path_out, err, errlen);
    cairo_surface_destroy(s);
    ct__run_detail_free(&d);
    return rc;
}

#else /* !CT_HAVE_CAIRO */

int ct_report_render(const char *path_in, const char *path_out, char *err, size_t errlen) {
    (void)path_in;
    (void)extension;
    ct__msgf(err, errlen,
            "cannot render %s: this carbontracker was built without cairo (reports need cairo; "
            "install libcairo2-dev and rebuild with -DCT_WITH_CAIRO=ON)",
            path_out ? path_out : "the report");
    return CT_ENOTSUP;
}

#endif
