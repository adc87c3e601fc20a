/*
 * runs_format.c - a list of runs written out: the original's sentence, JSON,
 * CSV, or LaTeX for a paper (ct_runs_format; the CLI's `parse` prints these),
 * and one text log pair as JSON for bindings (ct_text_log_json). JSON goes
 * through base's writer; times through base's ISO-8601 formatter.
 *
 * Estimates are never presented as measurements: every run says measured,
 * partly estimated or estimated, and the sentence says which.
 */
#include "runs_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char URL[] = "https://github.com/lfwa/carbontracker";

/* Measurement over all runs: measured/unknown only -> MEASURED-like wording. */
static int overall(const ct_runs *runs) {
    int meas = 0, est = 0, partly = 0;
    for (int i = 0; i < runs->n; i++) {
        switch (runs->runs[i].measurement) {
        case CT__MEAS_ESTIMATED: est++; break;
        case CT__MEAS_PARTLY: partly++; break;
        default: meas++; break; /* measured, or not stated (the original's logs measure) */
        }
    }
    if (est == 0 && partly == 0) return CT__MEAS_MEASURED;
    if (meas == 0 && partly == 0) return CT__MEAS_ESTIMATED;
    return CT__MEAS_PARTLY;
}

/* A number for the paper sentence: the original's three decimals, or, below
 * 0.01, fixed notation with three significant digits (0.0000441, not 0.000). */
static void paper_number(FILE *f, double v) {
    if (!isfinite(v) || v == 0 || fabs(v) >= 0.01) {
        fprintf(f, "%.3f", v);
        return;
    }
    int decimals = 2 - (int)floor(log10(fabs(v)));
    if (decimals > 15) decimals = 15;
    fprintf(f, "%.*f", decimals, v);
}

static void sentence(FILE *f, const ct_runs *runs, int latex) {
    ct_runs_total t;
    ct_runs_totals(runs, &t);
    int m = overall(runs);
    const char *by = m == CT__MEAS_MEASURED    ? "Measured by carbontracker"
                     : m == CT__MEAS_ESTIMATED ? "Estimated (not measured) by carbontracker"
                                               : "Partly measured and partly estimated by carbontracker";
    fputs("The training of models in this work is estimated to use ", f);
    paper_number(f, t.energy_kwh);
    fputs(" kWh of electricity contributing to ", f);
    paper_number(f, t.co2eq_g / 1000.0);
    fprintf(f, " kg of %s. This is equivalent to ", latex ? "CO\\textsubscript{2}eq" : "CO2eq");
    paper_number(f, t.car_km);
    fprintf(f, " km travelled by car. %s", by);
    if (latex) fputs("~\\cite{anthony2020carbontracker}.", f);
    else fprintf(f, " (%s).", URL);
}

int ct_runs_sentence(const ct_runs *runs, char *buf, size_t len) {
    if (!runs || (!buf && len)) return CT_EINVAL;
    return ct_runs_format(runs, CT_RUNS_TEXT, buf, len);
}

static void utc(char *buf, size_t len, double unix_s) {
    if (!isfinite(unix_s)) buf[0] = '\0';
    else ct__format_iso8601(unix_s, buf, len);
}

static void write_json(FILE *f, const ct_runs *runs) {
    ct_runs_total t;
    ct_runs_totals(runs, &t);
    fputs("{\"total\": {\"energy_kwh\": ", f);
    ct__json_number(f, t.energy_kwh);
    fputs(", \"co2eq_g\": ", f);
    ct__json_number(f, t.co2eq_g);
    fputs(", \"duration_s\": ", f);
    ct__json_number(f, t.duration_s);
    fprintf(f, ", \"runs\": %d, \"car_km\": ", t.runs);
    ct__json_number(f, t.car_km);
    fputs(", \"measurement\": ", f);
    ct__json_string(f, ct__measurement_name(overall(runs)));
    fputs("},\n \"runs\": [", f);
    for (int i = 0; i < runs->n; i++) {
        const run_rec *r = &runs->runs[i];
        char when[40];
        utc(when, sizeof when, r->start);
        fprintf(f, "%s\n  {\"file\": ", i ? "," : "");
        ct__json_string(f, r->file);
        fputs(", \"format\": ", f);
        ct__json_string(f, r->format == 'j' ? "jsonl" : "text");
        fputs(", \"host\": ", f);
        ct__json_string(f, r->host);
        fputs(", \"job_id\": ", f);
        ct__json_string(f, r->job_id);
        fprintf(f, ", \"rank\": %d, \"start\": ", r->rank);
        ct__json_number(f, r->start);
        fputs(", \"start_utc\": ", f);
        if (when[0]) ct__json_string(f, when);
        else fputs("null", f);
        fprintf(f, ", \"epochs\": %d, \"epochs_planned\": %d, \"duration_s\": ", r->epochs, r->epochs_planned);
        ct__json_number(f, r->duration_s);
        fputs(", \"energy_kwh\": ", f);
        ct__json_number(f, r->energy_kwh);
        fputs(", \"co2eq_g\": ", f);
        ct__json_number(f, r->co2eq_g);
        fputs(", \"intensity_g_per_kwh\": ", f);
        ct__json_number(f, r->intensity);
        fputs(", \"intensity_source\": ", f);
        ct__json_string(f, r->source);
        fputs(", \"measurement\": ", f);
        ct__json_string(f, ct__measurement_name(r->measurement));
        fprintf(f,
                ", \"consumption\": \"%s\", \"early_stop\": %s, \"complete\": %s, \"files\": %d, "
                "\"epochs_missing\": %s}",
                r->predicted ? "predicted" : "actual", r->early_stop ? "true" : "false", r->complete ? "true" : "false",
                r->files, r->gaps ? "true" : "false");
    }
    fprintf(f, "%s],\n \"warnings\": [", runs->n ? "\n " : "");
    for (int i = 0; i < runs->nw; i++) {
        fprintf(f, "%s\n  ", i ? "," : "");
        ct__json_string(f, runs->warnings[i]);
    }
    fprintf(f, "%s]}\n", runs->nw ? "\n " : "");
}

static void csv_str(FILE *f, const char *s) {
    char clean[1200];
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) { /* escape codes in a name never reach a terminal raw */
            s = ct__printable(s, clean, sizeof clean);
            break;
        }
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_csv(FILE *f, const ct_runs *runs) {
    fputs("file,format,host,job_id,rank,start_utc,epochs,epochs_planned,duration_s,energy_kwh,co2eq_g,"
          "intensity_source,measurement,consumption,early_stop,complete,files,intensity_g_per_kwh,epochs_missing\n",
          f);
    for (int i = 0; i < runs->n; i++) {
        const run_rec *r = &runs->runs[i];
        char when[40];
        utc(when, sizeof when, r->start);
        csv_str(f, r->file);
        fprintf(f, ",%s,", r->format == 'j' ? "jsonl" : "text");
        csv_str(f, r->host);
        fputc(',', f);
        csv_str(f, r->job_id);
        fprintf(f, ",%d,%s,%d,%d,%.3f,%.12f,%.9f,", r->rank, when, r->epochs, r->epochs_planned, r->duration_s,
                r->energy_kwh, r->co2eq_g);
        csv_str(f, r->source);
        fprintf(f, ",%s,%s,%d,%d,%d,", ct__measurement_name(r->measurement), r->predicted ? "predicted" : "actual",
                r->early_stop, r->complete, r->files);
        if (isfinite(r->intensity)) fprintf(f, "%.4f", r->intensity);
        fprintf(f, ",%d\n", r->gaps ? 1 : 0);
    }
}

static void write_latex(FILE *f, const ct_runs *runs) {
    fprintf(f, "%% Paragraph for the paper (carbontracker %s)\n", ct_version());
    sentence(f, runs, 1);
    int est = 0, partly = 0;
    for (int i = 0; i < runs->n; i++) {
        est += runs->runs[i].measurement == CT__MEAS_ESTIMATED;
        partly += runs->runs[i].measurement == CT__MEAS_PARTLY;
    }
    if (est || partly)
        fprintf(f,
                " Of the %d runs, %d were measured, %d partly estimated and %d estimated from the hardware's "
                "rated power and utilisation.",
                runs->n, runs->n - est - partly, partly, est);
    fputs("\n\n", f);
    fputs("% BibTeX entry\n"
          "@misc{anthony2020carbontracker,\n"
          "  title = {Carbontracker: Tracking and Predicting the Carbon Footprint of Training Deep Learning Models},\n"
          "  author = {Anthony, Lasse F. Wolff and Kanding, Benjamin and Selvan, Raghavendra},\n"
          "  howpublished = {ICML Workshop on Challenges in Deploying and monitoring Machine Learning Systems},\n"
          "  month = jul,\n"
          "  note = {arXiv:2007.03051},\n"
          "  year = {2020}\n"
          "}\n",
          f);
}

/* Runs a writer into buf like snprintf: the length it needed. */
static int to_buffer(char *buf, size_t len, void (*fn)(FILE *, const void *), const void *arg) {
    char *mem = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&mem, &n);
    if (!f) return ct__fail(CT_ENOMEM, "out of memory");
    fn(f, arg);
    if (fclose(f) != 0 || !mem) {
        free(mem);
        return ct__fail(CT_ENOMEM, "out of memory");
    }
    if (len) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(buf, mem, k);
        buf[k] = '\0';
    }
    free(mem);
    return n > (size_t)0x7fffffff ? ct__fail(CT_ENOMEM, "output too long") : (int)n;
}

typedef struct fmt_arg {
    const ct_runs *runs;
    int format;
} fmt_arg;

static void write_any(FILE *f, const void *p) {
    const fmt_arg *a = p;
    switch (a->format) {
    case CT_RUNS_JSON: write_json(f, a->runs); break;
    case CT_RUNS_CSV: write_csv(f, a->runs); break;
    case CT_RUNS_LATEX: write_latex(f, a->runs); break;
    default: sentence(f, a->runs, 0); break;
    }
}

int ct_runs_format(const ct_runs *runs, int format, char *buf, size_t len) {
    if (!runs || (!buf && len)) return ct__fail(CT_EINVAL, "no runs or no buffer");
    if (format < CT_RUNS_TEXT || format > CT_RUNS_LATEX) return ct__fail(CT_EINVAL, "unknown format %d", format);
    fmt_arg a = {runs, format};
    return to_buffer(buf, len, write_any, &a);
}

typedef struct tl_arg {
    const ct_text_log *tl;
} tl_arg;

static void write_tl(FILE *f, const void *p) { ct__text_log_write_json(f, ((const tl_arg *)p)->tl); }

int ct_text_log_json(const char *std_text, const char *out_text, char *buf, size_t len) {
    if (!buf && len) return ct__fail(CT_EINVAL, "no buffer");
    ct_text_log tl;
    if (ct__text_log_read(std_text, std_text ? strlen(std_text) : 0, out_text, out_text ? strlen(out_text) : 0,
                          CT__TL_DETAIL, &tl))
        return ct__fail(CT_ENOMEM, "out of memory");
    tl_arg a = {&tl};
    int n = to_buffer(buf, len, write_tl, &a);
    ct__text_log_free(&tl);
    return n;
}
