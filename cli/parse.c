/*
 * parse.c - `carbontracker parse PATH... [-r] [--format text|json|csv] [--latex]`
 * (also the original's `--parse DIR`): the total over every run in the
 * directories or files, as the original's sentence, JSON, CSV or LaTeX for a
 * paper. The library writes every format (ct_runs_format); this file only
 * reads options. Formats: docs/parse-formats.md. Public API only.
 *
 * Options are one table (parse_opts below): a new option is one row and one
 * case in apply_opt().
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parse_args {
    int format; /* CT_RUNS_* */
    int latex;
    unsigned flags; /* CT_PARSE_* */
    const char **paths;
    int npaths;
} parse_args;

enum { OPT_HELP, OPT_FORMAT, OPT_LATEX, OPT_RECURSIVE };

typedef struct parse_opt {
    const char *name;  /* long form */
    const char *alias; /* short form or NULL */
    int id;
    int takes_value;
    const char *help;
} parse_opt;

static const parse_opt parse_opts[] = {
    {"--help", "-h", OPT_HELP, 0, "this help"},
    {"--format", NULL, OPT_FORMAT, 1, "text (the sentence, default), json (totals, runs, warnings) or csv"},
    {"--latex", NULL, OPT_LATEX, 0, "a LaTeX paragraph and the BibTeX entry of the method's paper"},
    {"--recursive", "-r", OPT_RECURSIVE, 0, "also read the logs in subdirectories"},
};
#define NOPTS ((int)(sizeof parse_opts / sizeof parse_opts[0]))

static void parse_usage(FILE *f) {
    fputs("Usage: carbontracker parse PATH... [options]\n"
          "Totals the energy and CO2eq of every run logged in the directories or files (our JSON\n"
          "Lines and the original's text logs). Per run: the actual consumption when it finished\n"
          "or stopped early, else the prediction; each run says whether it was measured, partly\n"
          "estimated or estimated.\n",
          f);
    for (int i = 0; i < NOPTS; i++)
        fprintf(f, "  %s%s%s%s  %s\n", parse_opts[i].alias ? parse_opts[i].alias : "", parse_opts[i].alias ? ", " : "",
                parse_opts[i].name, parse_opts[i].takes_value ? " VALUE" : "", parse_opts[i].help);
    fputs("  --job JOBID  one job's totals with a row per node (DIR/JOBID/ of the SLURM plugin, or logs in\n"
          "               DIR whose job id is JOBID); names nodes without records (text, json, csv)\n",
          f);
}

/* 0 ok, 1 exit 0 (help), 2 usage error. */
static int apply_opt(parse_args *a, int id, const char *v) {
    switch (id) {
    case OPT_HELP: parse_usage(stdout); return 1;
    case OPT_FORMAT:
        if (strcmp(v, "text") == 0) a->format = CT_RUNS_TEXT;
        else if (strcmp(v, "json") == 0) a->format = CT_RUNS_JSON;
        else if (strcmp(v, "csv") == 0) a->format = CT_RUNS_CSV;
        else {
            fprintf(stderr, "carbontracker parse: --format must be text, json or csv, got %s\n", v);
            return 2;
        }
        return 0;
    case OPT_LATEX: a->latex = 1; return 0;
    case OPT_RECURSIVE: a->flags |= CT_PARSE_RECURSIVE; return 0;
    default: return 2;
    }
}

static int read_args(int argc, char **argv, parse_args *a) {
    int only_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_paths || arg[0] != '-' || !arg[1]) {
            a->paths[a->npaths++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_paths = 1;
            continue;
        }
        const parse_opt *o = NULL;
        const char *v = NULL;
        for (int k = 0; k < NOPTS && !o; k++) {
            size_t n = strlen(parse_opts[k].name);
            if (strcmp(arg, parse_opts[k].name) == 0 || (parse_opts[k].alias && strcmp(arg, parse_opts[k].alias) == 0))
                o = &parse_opts[k];
            else if (parse_opts[k].takes_value && strncmp(arg, parse_opts[k].name, n) == 0 && arg[n] == '=') {
                o = &parse_opts[k];
                v = arg + n + 1;
            }
        }
        if (!o) {
            fprintf(stderr, "carbontracker parse: unknown option %s\n", arg);
            parse_usage(stderr);
            return 2;
        }
        if (o->takes_value && !v) {
            if (i + 1 >= argc) {
                fprintf(stderr, "carbontracker parse: %s needs a value\n", o->name);
                return 2;
            }
            v = argv[++i];
        }
        int rc = apply_opt(a, o->id, v);
        if (rc) return rc;
    }
    return 0;
}

int ct_cli_parse(int argc, char **argv) {
    for (int i = 1; i < argc; i++) /* one job's totals per node: cli/job.c */
        if (strcmp(argv[i], "--job") == 0 || strncmp(argv[i], "--job=", 6) == 0) return ct_cli_parse_job(argc, argv);
    parse_args a = {CT_RUNS_TEXT, 0, 0, NULL, 0};
    a.paths = calloc((size_t)(argc > 0 ? argc : 1), sizeof *a.paths);
    if (!a.paths) {
        fprintf(stderr, "carbontracker: out of memory\n");
        return 1;
    }
    int rc = read_args(argc, argv, &a);
    if (rc) {
        free(a.paths);
        return rc == 1 ? 0 : 2;
    }
    if (a.npaths == 0) {
        fprintf(stderr, "carbontracker parse: no directory or file given\n");
        parse_usage(stderr);
        free(a.paths);
        return 2;
    }
    if (a.latex && a.format != CT_RUNS_TEXT) {
        fprintf(stderr, "carbontracker parse: --latex goes with the text format only\n");
        free(a.paths);
        return 2;
    }
    ct_runs *runs = NULL;
    rc = ct_parse_paths(a.paths, a.npaths, a.flags, &runs);
    free(a.paths);
    if (rc) {
        const char *m = ct_last_error_message();
        fprintf(stderr, "carbontracker parse: %s\n", m && m[0] ? m : ct_strerror(rc));
        return 1;
    }
    for (int i = 0; i < ct_runs_warning_count(runs); i++)
        fprintf(stderr, "carbontracker: warning: %s\n", ct_runs_warning(runs, i));
    int format = a.latex ? CT_RUNS_LATEX : a.format;
    int need = ct_runs_format(runs, format, NULL, 0);
    char *text = need >= 0 ? malloc((size_t)need + 1) : NULL;
    if (!text || ct_runs_format(runs, format, text, (size_t)need + 1) != need) {
        fprintf(stderr, "carbontracker parse: %s\n", ct_strerror(need < 0 ? need : CT_ENOMEM));
        free(text);
        ct_runs_free(runs);
        return 1;
    }
    fputs(text, stdout);
    if (format == CT_RUNS_TEXT) fputc('\n', stdout);
    free(text);
    int n = ct_runs_count(runs);
    ct_runs_free(runs);
    if (n == 0) {
        fprintf(stderr, "carbontracker parse: no runs found\n");
        return 1;
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
