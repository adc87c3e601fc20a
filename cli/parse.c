/*
 * parse.c - `carbontracker parse DIR... [--format text|json|csv] [--latex]`
 * (also the original's `--parse DIR`): the total over every run in the
 * directories, as the original's sentence, JSON, CSV or LaTeX for a paper.
 * Formats: docs/parse-formats.md. Public API only.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void parse_usage(FILE *f) {
    fputs("Usage: carbontracker parse DIR... [--format text|json|csv] [--latex]\n"
          "Totals the energy and CO2eq of every run logged in the directories (our JSON Lines\n"
          "and the original's text logs). Per run: the actual consumption when it finished or\n"
          "stopped early, else the prediction.\n"
          "  --format text   the aggregate sentence (default)\n"
          "  --format json   totals and every run (docs/parse-formats.md)\n"
          "  --format csv    one line per run, with a header line\n"
          "  --latex         a LaTeX paragraph and the BibTeX entry of the method's paper\n"
          "  --job JOBID     one job's totals with a row per node (DIR/JOBID/ of the SLURM plugin, or\n"
          "                  logs in DIR whose job id is JOBID); names nodes without records\n",
          f);
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v)) {
        /* the shortest of %.15g / %.17g that reads back exactly */
        char b[40];
        snprintf(b, sizeof b, "%.15g", v);
        if (strtod(b, NULL) != v) snprintf(b, sizeof b, "%.17g", v);
        fputs(b, f);
    }
    else fputs("null", f);
}

static void csv_str(FILE *f, const char *s) {
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

static void utc(char *buf, size_t len, double unix_s) {
    if (!isfinite(unix_s)) {
        buf[0] = '\0';
        return;
    }
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *measurement(const ct_run_info *r) {
    return r->estimated == 1 ? "estimated" : r->estimated == 0 ? "measured" : "unknown";
}

static void print_json(const ct_runs *runs) {
    ct_runs_total t;
    ct_runs_totals(runs, &t);
    printf("{\"total\": {\"energy_kwh\": ");
    json_num(stdout, t.energy_kwh);
    printf(", \"co2eq_g\": ");
    json_num(stdout, t.co2eq_g);
    printf(", \"duration_s\": ");
    json_num(stdout, t.duration_s);
    printf(", \"runs\": %d, \"car_km\": ", t.runs);
    json_num(stdout, t.car_km);
    printf("},\n \"runs\": [");
    int n = ct_runs_count(runs);
    for (int i = 0; i < n; i++) {
        ct_run_info r;
        ct_runs_get(runs, i, &r);
        char when[32];
        utc(when, sizeof when, r.start_unix_s);
        printf("%s\n  {\"file\": ", i ? "," : "");
        json_str(stdout, r.file);
        printf(", \"format\": ");
        json_str(stdout, r.format);
        printf(", \"host\": ");
        json_str(stdout, r.host);
        printf(", \"job_id\": ");
        json_str(stdout, r.job_id);
        printf(", \"rank\": %d, \"start\": ", r.rank);
        json_num(stdout, r.start_unix_s);
        printf(", \"start_utc\": ");
        if (when[0]) json_str(stdout, when);
        else fputs("null", stdout);
        printf(", \"epochs\": %d, \"epochs_planned\": %d, \"duration_s\": ", r.epochs, r.epochs_planned);
        json_num(stdout, r.duration_s);
        printf(", \"energy_kwh\": ");
        json_num(stdout, r.energy_kwh);
        printf(", \"co2eq_g\": ");
        json_num(stdout, r.co2eq_g);
        printf(", \"intensity_source\": ");
        json_str(stdout, r.intensity_source);
        printf(", \"measurement\": \"%s\", \"consumption\": \"%s\", \"early_stop\": %s, \"complete\": %s, "
               "\"files\": %d}",
               measurement(&r), r.predicted ? "predicted" : "actual", r.early_stop ? "true" : "false",
               r.complete ? "true" : "false", r.files);
    }
    printf("%s],\n \"warnings\": [", n ? "\n " : "");
    int nw = ct_runs_warning_count(runs);
    for (int i = 0; i < nw; i++) {
        printf("%s\n  ", i ? "," : "");
        json_str(stdout, ct_runs_warning(runs, i));
    }
    printf("%s]}\n", nw ? "\n " : "");
}

static void print_csv(const ct_runs *runs) {
    puts("file,format,host,job_id,rank,start_utc,epochs,epochs_planned,duration_s,energy_kwh,co2eq_g,"
         "intensity_source,measurement,consumption,early_stop,complete,files");
    int n = ct_runs_count(runs);
    for (int i = 0; i < n; i++) {
        ct_run_info r;
        ct_runs_get(runs, i, &r);
        char when[32];
        utc(when, sizeof when, r.start_unix_s);
        csv_str(stdout, r.file);
        printf(",%s,", r.format);
        csv_str(stdout, r.host);
        putchar(',');
        csv_str(stdout, r.job_id);
        printf(",%d,%s,%d,%d,%.3f,%.12f,%.9f,", r.rank, when, r.epochs, r.epochs_planned, r.duration_s,
               r.energy_kwh, r.co2eq_g);
        csv_str(stdout, r.intensity_source);
        printf(",%s,%s,%d,%d,%d\n", measurement(&r), r.predicted ? "predicted" : "actual", r.early_stop,
               r.complete, r.files);
    }
}

static void print_latex(const ct_runs *runs) {
    ct_runs_total t;
    ct_runs_totals(runs, &t);
    printf("%% Paragraph for the paper (carbontracker %s)\n", ct_version());
    printf("The training of models in this work is estimated to use %.3f kWh of electricity contributing to "
           "%.3f kg of CO\\textsubscript{2}eq. This is equivalent to %.3f km travelled by car. Measured by "
           "carbontracker~\\cite{anthony2020carbontracker}.\n\n",
           t.energy_kwh, t.co2eq_g / 1000.0, t.car_km);
    puts("% BibTeX entry\n"
         "@misc{anthony2020carbontracker,\n"
         "  title = {Carbontracker: Tracking and Predicting the Carbon Footprint of Training Deep Learning Models},\n"
         "  author = {Anthony, Lasse F. Wolff and Kanding, Benjamin and Selvan, Raghavendra},\n"
         "  howpublished = {ICML Workshop on Challenges in Deploying and monitoring Machine Learning Systems},\n"
         "  month = jul,\n"
         "  note = {arXiv:2007.03051},\n"
         "  year = {2020}\n"
         "}");
}

int ct_cli_parse(int argc, char **argv) {
    for (int i = 1; i < argc; i++) /* one job's totals per node (issue 13): cli/job.c */
        if (strcmp(argv[i], "--job") == 0 || strncmp(argv[i], "--job=", 6) == 0) return ct_cli_parse_job(argc, argv);
    const char *format = "text";
    int latex = 0, ndirs = 0;
    const char **dirs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *dirs);
    if (!dirs) {
        fprintf(stderr, "carbontracker: out of memory\n");
        return 1;
    }
    int only_dirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_dirs && strcmp(a, "--") == 0) only_dirs = 1;
        else if (!only_dirs && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            parse_usage(stdout);
            free(dirs);
            return 0;
        } else if (!only_dirs && strncmp(a, "--format", 8) == 0) {
            const char *v = a[8] == '=' ? a + 9 : (a[8] == '\0' && i + 1 < argc) ? argv[++i] : NULL;
            if (a[8] != '=' && a[8] != '\0') goto unknown;
            if (!v || (strcmp(v, "text") && strcmp(v, "json") && strcmp(v, "csv"))) {
                fprintf(stderr, "carbontracker parse: --format must be text, json or csv%s%s\n", v ? ", got " : "",
                        v ? v : "");
                free(dirs);
                return 2;
            }
            format = v;
        } else if (!only_dirs && strcmp(a, "--latex") == 0) {
            latex = 1;
        } else if (!only_dirs && a[0] == '-' && a[1]) {
        unknown:
            fprintf(stderr, "carbontracker parse: unknown option %s\n", a);
            parse_usage(stderr);
            free(dirs);
            return 2;
        } else {
            dirs[ndirs++] = a;
        }
    }
    if (ndirs == 0) {
        fprintf(stderr, "carbontracker parse: no directory given\n");
        parse_usage(stderr);
        free(dirs);
        return 2;
    }
    if (latex && strcmp(format, "text") != 0) {
        fprintf(stderr, "carbontracker parse: --latex goes with the text format only\n");
        free(dirs);
        return 2;
    }
    ct_runs *runs = NULL;
    char err[512];
    int rc = ct_parse_dirs(dirs, ndirs, &runs, err, sizeof err);
    free(dirs);
    if (rc) {
        fprintf(stderr, "carbontracker parse: %s\n", err[0] ? err : ct_strerror(rc));
        return 1;
    }
    for (int i = 0; i < ct_runs_warning_count(runs); i++)
        fprintf(stderr, "carbontracker: warning: %s\n", ct_runs_warning(runs, i));
    if (strcmp(format, "json") == 0) print_json(runs);
    else if (strcmp(format, "csv") == 0) print_csv(runs);
    else if (latex) print_latex(runs);
    else {
        char sentence[1024];
        ct_runs_sentence(runs, sentence, sizeof sentence);
        puts(sentence);
    }
    int n = ct_runs_count(runs);
    ct_runs_free(runs);
    if (n == 0) {
        fprintf(stderr, "carbontracker parse: no runs found\n");
        return 1;
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
