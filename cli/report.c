/*
 * report.c - `carbontracker report RUN -o report.pdf|.png|.svg` (also the
 * original's `--report LOG --output FILE`): the PDF report of one run, or its
 * plots alone as PNG/SVG. Public API only.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void report_usage(FILE *f) {
    fputs("Usage: carbontracker report RUN -o FILE\n"
          "RUN is a _carbontracker.jsonl file or a standard text log (_carbontracker.log).\n"
          "FILE ending in .pdf: summary table and plots; .png or .svg: the plots alone.\n"
          "  -o, --output FILE   where to write (required)\n",
          f);
}

int ct_cli_report(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
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
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "carbontracker report: unknown option %s\n", a);
            report_usage(stderr);
            return 2;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "carbontracker report: one run at a time (got %s and %s)\n", in, a);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "carbontracker report: %s\n", !in ? "no run given" : "no output file given (-o FILE)");
        report_usage(stderr);
        return 2;
    }
    char err[512];
    int rc = ct_report_render(in, out, err, sizeof err);
    if (rc) {
        fprintf(stderr, "carbontracker report: %s\n", err[0] ? err : ct_strerror(rc));
        return rc == CT_EINVAL ? 2 : 1;
    }
    fprintf(stderr, "carbontracker: report written to %s\n", out);
    return 0;
}
