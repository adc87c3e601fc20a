/*
 * report.c - `carbontracker report RUN -o report.pdf|.png|.svg [--panels]`
 * (also the original's `--report LOG --output FILE`): the PDF report of one
 * run, its plots alone as PNG/SVG, or one file per panel for a paper.
 * Public API only.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void report_usage(FILE *f) {
    fputs("Usage: carbontracker report RUN -o FILE\n"
          "       carbontracker report --job JOBID DIR -o FILE\n"
          "RUN is a _carbontracker.jsonl file or a standard text log (_carbontracker.log).\n"
          "FILE ending in .pdf: summary table and plots; .png or .svg: the plots alone.\n"
          "  -o, --output FILE   where to write (required; written to a temporary file, then renamed)\n"
          "  --panels            the figure for a paper: one panel per file (.pdf or .svg);\n"
          "                      -o fig.pdf writes fig-power.pdf, fig-energy.pdf, fig-co2eq.pdf, fig-prediction.pdf\n"
          "  --job JOBID         one multi-node job: the logs of JOBID in DIR (DIR/JOBID/ as the SLURM plugin\n"
          "                      writes them, and DIR's logs whose header names the job) as one report with a\n"
          "                      row per node and the nodes without records flagged (docs/cluster.md)\n",
          f);
}

/* A name for the terminal: control bytes as \xNN (escape codes in a file name are never printed raw). */
static void put_name(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\') fputs("\\\\", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\x%02x", *p);
        else fputc(*p, f);
    }
}

int ct_cli_report(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *job = NULL;
    int panels = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            report_usage(stdout);
            return 0;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "carbontracker report: %s needs a file name\n", a);
                return 2;
            }
            out = argv[++i];
        } else if (strncmp(a, "--output=", 9) == 0) {
            out = a + 9;
        } else if (strcmp(a, "--job") == 0 && i + 1 < argc) {
            job = argv[++i];
        } else if (strncmp(a, "--job=", 6) == 0) {
            job = a + 6;
        } else if (strcmp(a, "--panels") == 0) {
            panels = 1;
        } else if (a[0] == '-' && a[1]) {
            fputs("carbontracker report: unknown option ", stderr);
            put_name(stderr, a);
            fputc('\n', stderr);
            report_usage(stderr);
            return 2;
        } else if (!in) {
            in = a;
        } else {
            fputs("carbontracker report: one run at a time (got ", stderr);
            put_name(stderr, in);
            fputs(" and ", stderr);
            put_name(stderr, a);
            fputs(")\n", stderr);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "carbontracker report: %s\n", !in ? "no run given" : "no output file given (-o FILE)");
        report_usage(stderr);
        return 2;
    }
    if (job && panels) {
        fputs("carbontracker report: --panels is for one run, not with --job\n", stderr);
        return 2;
    }
    int rc = job      ? ct_report_render_job(in, job, out)
             : panels ? ct_report_render_panels(in, out)
                      : ct_report_render(in, out);
    if (rc) {
        const char *m = ct_last_error_message();
        fprintf(stderr, "carbontracker report: %s\n", m && m[0] ? m : ct_strerror(rc));
        return rc == CT_EINVAL ? 2 : 1;
    }
    fputs(panels ? "carbontracker: figure panels written next to " : "carbontracker: report written to ", stderr);
    put_name(stderr, out);
    fputc('\n', stderr);
    return 0;
}
