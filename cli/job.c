/*
 * job.c - `carbontracker parse --job JOBID DIR... [--format text|json|csv]`
 * (issue 13): one job's totals over every node and step, with a row per node
 * and the nodes whose records are missing.
 *
 * The logs are found and combined by the library (ct_job_read_dirs, the one
 * place of the rules: DIR/JOBID/ as the SLURM plugin writes it and the logs
 * in DIR whose header names the job; a step within the batch step, or two
 * ranks that measured the same node, count once; nodes of the .nodes lists
 * without records are missing). This file prints them, and adds the plugin's
 * attribution records beside the logs (run_logs.c). Public API only.
 * Formats: docs/cluster.md.
 */
#include "cli.h"
#include "run_logs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct node_sum {
    ct_job_node_info n;
    double cpu_j_attributed; /* the job's CPU-time share of the node's CPU energy */
    int attributed;          /* every counted step had an attribution record */
} node_sum;

static int estimated(const ct_job_node_info *n) { return n->measurement == 1 || n->measurement == 2; }

static void csv_s(const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* The attributed view (SLURM plugin's attribution records): the job's CPU-time share of the node-level
 * CPU energy, its own GPUs in full. Printed only when every counted step has one. */
static void print_attributed(const node_sum *s) {
    if (!s->attributed) return;
    printf(", \"attributed\": {\"method\": \"cpu-time-share\", \"cpu_j\": %.9g, \"gpu_j\": %.9g, \"energy_j\": %.9g}",
           s->cpu_j_attributed, s->n.energy_j[1], s->cpu_j_attributed + s->n.energy_j[1]);
}

int ct_cli_parse_job(int argc, char **argv) {
    const char *job_id = NULL, *format = "text";
    const char **dirs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *dirs);
    int ndirs = 0;
    if (!dirs) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--job") == 0 && i + 1 < argc) job_id = argv[++i];
        else if (strncmp(a, "--job=", 6) == 0) job_id = a + 6;
        else if (strcmp(a, "--format") == 0 && i + 1 < argc) format = argv[++i];
        else if (strncmp(a, "--format=", 9) == 0) format = a + 9;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "carbontracker parse --job: unknown option %s\n", a);
            free(dirs);
            return 2;
        } else dirs[ndirs++] = a;
    }
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "csv")) {
        fprintf(stderr, "carbontracker parse --job: --format must be text, json or csv, got %s\n", format);
        free(dirs);
        return 2;
    }
    if (ndirs == 0) {
        fprintf(stderr, "carbontracker parse --job: no directory given\n");
        free(dirs);
        return 2;
    }
    ct_job *job = NULL;
    int rc = ct_job_read_dirs(dirs, ndirs, job_id ? job_id : "", &job);
    free(dirs);
    if (rc != 0 && rc != CT_ENODATA) { /* a bad job id is refused before any path is built from it */
        fprintf(stderr, "carbontracker parse --job: %s\n", ct_last_error_message());
        return rc == CT_EINVAL ? 2 : 1;
    }
    char nodata[600] = ""; /* no records: the empty tables, then the reason */
    if (rc == CT_ENODATA) snprintf(nodata, sizeof nodata, "%s", ct_last_error_message());
    int nmiss = job ? ct_job_missing_count(job) : 0, nn = job ? ct_job_node_count(job) - nmiss : 0;
    int nsteps = job ? ct_job_step_count(job) : 0;
    node_sum *ns = calloc((size_t)(nn > 0 ? nn : 1), sizeof *ns);
    ct_job_step_info *st = calloc((size_t)(nsteps > 0 ? nsteps : 1), sizeof *st);
    if (!ns || !st) {
        fprintf(stderr, "carbontracker parse --job: out of memory\n");
        free(ns);
        free(st);
        ct_job_free(job);
        return 1;
    }
    node_sum tot;
    memset(&tot, 0, sizeof tot);
    if (job) ct_job_totals(job, &tot.n);
    for (int k = 0; k < nsteps; k++) ct_job_step_get(job, k, &st[k]);
    tot.attributed = nn > 0;
    for (int i = 0; i < nn; i++) {
        node_sum *s = &ns[i];
        ct_job_node_get(job, i, &s->n);
        s->attributed = 1;
        for (int k = 0; k < nsteps; k++) { /* the plugin's share of the node, when every counted step has one */
            if (!st[k].counted || strcmp(st[k].node, s->n.node) != 0) continue;
            ct_jsonl_run r;
            ct_jsonl_run_start(&r, st[k].file);
            if (ct_attribution_read(&r) == 0) s->cpu_j_attributed += r.cpu_j_attributed;
            else s->attributed = 0;
        }
        tot.cpu_j_attributed += s->cpu_j_attributed;
        tot.attributed &= s->attributed;
    }
    int nwarn = job ? ct_job_warning_count(job) : 0;
    for (int w = 0; w < nwarn; w++) fprintf(stderr, "carbontracker: warning: %s\n", ct_job_warning(job, w));

    const double *tj = tot.n.energy_j;
    if (strcmp(format, "json") == 0) {
        printf("{\"job_id\": ");
        ct_cli_json_string(stdout, job_id);
        printf(", \"total\": {\"energy_j\": %.9g, \"cpu_j\": %.9g, \"gpu_j\": %.9g, \"energy_kwh\": %.12g, "
               "\"co2eq_g\": %.9g, \"duration_s\": %.6g, \"nodes\": %d, \"measurement\": \"%s\"",
               tj[0] + tj[1], tj[0], tj[1], tot.n.energy_kwh, tot.n.co2eq_g, tot.n.duration_s, nn,
               estimated(&tot.n) ? "estimated" : "measured");
        print_attributed(&tot);
        printf("},\n \"nodes\": [");
        for (int i = 0; i < nn; i++) {
            const node_sum *s = &ns[i];
            const double *j = s->n.energy_j;
            printf("%s\n  {\"node\": ", i ? "," : "");
            ct_cli_json_string(stdout, s->n.node);
            printf(", \"energy_j\": %.9g, \"cpu_j\": %.9g, \"gpu_j\": %.9g, \"energy_kwh\": %.12g, \"co2eq_g\": %.9g, "
                   "\"duration_s\": %.6g, \"measurement\": \"%s\", \"complete\": %s",
                   j[0] + j[1], j[0], j[1], s->n.energy_kwh, s->n.co2eq_g, s->n.duration_s,
                   estimated(&s->n) ? "estimated" : "measured", s->n.complete ? "true" : "false");
            print_attributed(s);
            printf(", \"steps\": [");
            int first = 1;
            for (int k = 0; k < nsteps; k++) {
                const ct_job_step_info *it = &st[k];
                if (strcmp(it->node, s->n.node) != 0) continue;
                printf("%s{\"step\": ", first ? "" : ", ");
                first = 0;
                ct_cli_json_string(stdout, it->step);
                printf(", \"energy_j\": %.9g, \"counted\": %s, \"complete\": %s, \"file\": ",
                       it->energy_j[0] + it->energy_j[1], it->counted ? "true" : "false",
                       it->complete ? "true" : "false");
                ct_cli_json_string(stdout, it->file);
                if (!it->counted) {
                    printf(", \"within_step\": ");
                    ct_cli_json_string(stdout, it->within);
                }
                putchar('}');
            }
            printf("]}");
        }
        printf("%s],\n \"missing_nodes\": [", nn ? "\n " : "");
        for (int m = 0; m < nmiss; m++) {
            if (m) printf(", ");
            ct_cli_json_string(stdout, ct_job_missing(job, m));
        }
        printf("],\n \"warnings\": [");
        for (int w = 0; w < nwarn; w++) {
            if (w) printf(", ");
            ct_cli_json_string(stdout, ct_job_warning(job, w));
        }
        printf("]}\n");
    } else if (strcmp(format, "csv") == 0) {
        puts("job_id,node,energy_j,cpu_j,gpu_j,energy_kwh,co2eq_g,duration_s,measurement,steps,steps_counted,complete");
        for (int i = 0; i < nn; i++) {
            const ct_job_node_info *n = &ns[i].n;
            csv_s(job_id);
            putchar(',');
            csv_s(n->node);
            printf(",%.9g,%.9g,%.9g,%.12g,%.9g,%.6g,%s,%d,%d,%d\n", n->energy_j[0] + n->energy_j[1], n->energy_j[0],
                   n->energy_j[1], n->energy_kwh, n->co2eq_g, n->duration_s, estimated(n) ? "estimated" : "measured",
                   n->nsteps, n->counted, n->complete);
        }
        for (int m = 0; m < nmiss; m++) {
            csv_s(job_id);
            putchar(',');
            csv_s(ct_job_missing(job, m));
            puts(",,,,,,,missing,0,0,0");
        }
        csv_s(job_id);
        printf(",TOTAL,%.9g,%.9g,%.9g,%.12g,%.9g,%.6g,%s,%d,,\n", tj[0] + tj[1], tj[0], tj[1], tot.n.energy_kwh,
               tot.n.co2eq_g, tot.n.duration_s, estimated(&tot.n) ? "estimated" : "measured", nsteps);
    } else {
        printf("Job %s: %.6f kWh (with PUE), %.3f g CO2eq, %.1f J measured on %d node(s)%s\n", job_id, tot.n.energy_kwh,
               tot.n.co2eq_g, tj[0] + tj[1], nn, estimated(&tot.n) ? " (partly estimated)" : "");
        printf("%-24s %14s %14s %14s %12s %6s %s\n", "node", "cpu_J", "gpu_J", "kWh", "gCO2eq", "steps", "");
        for (int i = 0; i < nn; i++) {
            const ct_job_node_info *n = &ns[i].n;
            char steps[32];
            snprintf(steps, sizeof steps, "%d/%d", n->counted, n->nsteps);
            printf("%-24s %14.3f %14.3f %14.9f %12.4f %6s %s%s\n", n->node, n->energy_j[0], n->energy_j[1],
                   n->energy_kwh, n->co2eq_g, steps, estimated(n) ? "estimated" : "measured",
                   n->complete ? "" : ", incomplete");
        }
        for (int m = 0; m < nmiss; m++)
            printf("%-24s %14s %14s %14s %12s %6s missing: no records\n", ct_job_missing(job, m), "-", "-", "-", "-",
                   "-");
        if (nmiss) printf("Missing nodes (in the job's node lists, no records): %d\n", nmiss);
        if (tot.attributed)
            printf("Attributed to the job (its CPU-time share of each node's CPU energy, its own GPUs in full): "
                   "cpu %.3f J, gpu %.3f J\n",
                   tot.cpu_j_attributed, tj[1]);
    }
    free(ns);
    free(st);
    ct_job_free(job);
    rc = 0;
    if (nodata[0]) {
        fprintf(stderr, "carbontracker parse --job: %s\n", nodata);
        rc = 1;
    }
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
