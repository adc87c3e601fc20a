/*
 * job.c - `carbontracker parse --job JOBID DIR... [--format text|json|csv]`
 * (issue 13): one job's totals over every node and step, with a row per node
 * and the nodes whose records are missing.
 *
 * Read from each DIR:
 *  - the *_carbontracker.jsonl files in DIR/JOBID/, as the SLURM plugin writes them: one per
 *    node and step, named NODE.STEP_PID.RANDOM_TIME; the node is NODE. The
 *    plugin's NODE.STEP.nodes files name the nodes each step ran on.
 *  - the *_carbontracker.jsonl files in DIR whose header has job_id JOBID (trainings that
 *    log per node and rank themselves, e.g. torchrun under srun); the node is
 *    the header's host.
 * Per node, a step whose time lies within another step's on the same node
 * (an srun step inside the batch step: one that starts within it, since its
 * slurmstepd may finish a few ms after the batch step's) measured the same
 * node-level counters and is listed but not counted again; partly overlapping
 * steps are counted both, with a warning. Public API only (plus the JSON Lines reader of
 * metrics.c). Formats: docs/cluster.md.
 */
#include "cli.h"
#include "run_logs.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct item {
    ct_jsonl_run r;
    char node[128], step[64];
    int covered;   /* index+1 of the step that covers it; 0 = counted */
    int rank_file; /* a training's own per-rank log (not the plugin's per-step one) */
} item;

typedef struct job {
    item *it;
    int n, cap;
    char **expected; /* node names from the .nodes files */
    int nexp, capexp;
    char warn[16][400];
    int nwarn;
} job;

static void add_warning(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(job *j, const char *fmt, ...) {
    if (j->nwarn >= 16) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->warn[j->nwarn++], sizeof j->warn[0], fmt, ap);
    va_end(ap);
}

static int valid_job_id(const char *s) {
    if (!*s || strlen(s) > 63 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static void add_expected(job *j, const char *name) {
    for (int i = 0; i < j->nexp; i++)
        if (strcmp(j->expected[i], name) == 0) return;
    if (j->nexp == j->capexp) {
        int cap = j->capexp ? j->capexp * 2 : 16;
        char **e = realloc(j->expected, (size_t)cap * sizeof *e);
        if (!e) return;
        j->expected = e;
        j->capexp = cap;
    }
    char *d = strdup(name);
    if (d) j->expected[j->nexp++] = d;
}

/* Expands a SLURM host list ("n[1-3,7],gpu01") into add_expected. One bracket group per name. */
static void expand_hostlist(job *j, const char *list) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    char *p = buf;
    while (*p) {
        char *start = p;
        int depth = 0;
        while (*p && (depth || *p != ',')) {
            if (*p == '[') depth++;
            else if (*p == ']') depth--;
            p++;
        }
        if (*p) *p++ = '\0';
        char *lb = strchr(start, '[');
        char *rb = lb ? strchr(lb, ']') : NULL;
        if (!lb || !rb) {
            if (*start) add_expected(j, start);
            continue;
        }
        *lb = '\0';
        *rb = '\0';
        const char *suffix = rb + 1;
        char *save = NULL;
        for (char *r = strtok_r(lb + 1, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
            char *dash = strchr(r, '-');
            int width = (int)(dash ? (size_t)(dash - r) : strlen(r));
            long a = strtol(r, NULL, 10), b = dash ? strtol(dash + 1, NULL, 10) : a;
            if (b < a || b - a > 100000) continue;
            for (long k = a; k <= b; k++) {
                char name[256];
                snprintf(name, sizeof name, "%s%0*ld%s", start, width, k, suffix);
                add_expected(j, name);
            }
        }
    }
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* "NODE.STEP_PID.RANDOM_TIME": node and step from the plugin's file name; 0 when it is not one. */
static int plugin_name(const char *run_id, char *node, size_t nlen, char *step, size_t slen) {
    const char *us = strchr(run_id, '_');
    if (!us) return 0;
    char head[256];
    snprintf(head, sizeof head, "%.*s", (int)(us - run_id), run_id);
    char *dot = strrchr(head, '.');
    if (!dot || dot == head || !dot[1]) return 0;
    /* a plain run's head is PID.RANDOM: all digits */
    int digits = 1;
    for (const char *q = head; *q; q++)
        if (*q != '.' && (*q < '0' || *q > '9')) digits = 0;
    if (digits) return 0;
    *dot = '\0';
    snprintf(node, nlen, "%s", head);
    snprintf(step, slen, "%s", dot + 1);
    return 1;
}

static int add_item(job *j, const char *path, const char *job_id, int plugin_dir) {
    item it;
    memset(&it, 0, sizeof it);
    int rc = ct_jsonl_run_read(path, &it.r);
    if (rc != 0) {
        add_warning(j, "%s: %s", path,
                    rc == CT_EPARSE ? "no header line (empty or damaged); skipped" : "unreadable; skipped");
        return 0;
    }
    if (!plugin_dir && strcmp(it.r.job_id, job_id) != 0) return 0;
    ct_attribution_read(&it.r); /* the plugin's share of the node, when there */
    if (!(plugin_dir && plugin_name(it.r.run_id, it.node, sizeof it.node, it.step, sizeof it.step))) {
        it.rank_file = 1;
        snprintf(it.node, sizeof it.node, "%s", it.r.host[0] ? it.r.host : "unknown");
        if (it.r.rank >= 0) snprintf(it.step, sizeof it.step, "rank%d", it.r.rank);
        else snprintf(it.step, sizeof it.step, "%s", it.r.run_id);
    }
    if (!it.r.finished)
        add_warning(j, "%s: no final record (the step is still running or was killed); counted as far as written",
                    path);
    if (j->n == j->cap) {
        int cap = j->cap ? j->cap * 2 : 16;
        item *ni = realloc(j->it, (size_t)cap * sizeof *ni);
        if (!ni) return -1;
        j->it = ni;
        j->cap = cap;
    }
    j->it[j->n++] = it;
    return 0;
}

static int read_dir(job *j, const char *dir, const char *job_id, int plugin_dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (ends_with(e->d_name, "_carbontracker.jsonl")) {
            if (add_item(j, path, job_id, plugin_dir) != 0) break;
        } else if (plugin_dir && ends_with(e->d_name, ".nodes")) {
            FILE *f = fopen(path, "re");
            char line[4096];
            if (f && fgets(line, sizeof line, f)) {
                line[strcspn(line, "\r\n")] = '\0';
                expand_hostlist(j, line);
            }
            if (f) fclose(f);
        }
    }
    closedir(d);
    return 0;
}

static int by_node_time(const void *a, const void *b) {
    const item *x = a, *y = b;
    int c = strcmp(x->node, y->node);
    if (c) return c;
    double xs = isnan(x->r.start_unix_s) ? 0 : x->r.start_unix_s, ys = isnan(y->r.start_unix_s) ? 0 : y->r.start_unix_s;
    if (xs != ys) return xs < ys ? -1 : 1;
    return strcmp(x->step, y->step);
}

static double item_end(const item *it) { return isnan(it->r.end_unix_s) ? it->r.start_unix_s : it->r.end_unix_s; }

/* Marks steps inside another step of the same node; warns about partial overlaps. */
static void resolve_overlaps(job *j) {
    for (int a = 0; a < j->n; a++) {
        item *x = &j->it[a];
        for (int b = 0; b < j->n && !x->covered; b++) {
            item *y = &j->it[b];
            if (a == b || strcmp(x->node, y->node) != 0 || y->covered) continue;
            double xs = x->r.start_unix_s, xe = item_end(x), ys = y->r.start_unix_s, ye = item_end(y);
            if (isnan(xs) || isnan(ys)) continue;
            int inside = ys <= xs && xe <= ye;
            /* The batch step covers the steps its script starts on its node: they start within it; they may
             * end a few ms after it (their slurmstepd finishes after srun has returned to the script). */
            if (!x->rank_file && !y->rank_file && strcmp(y->step, "batch") == 0 && strcmp(x->step, "batch") != 0 &&
                ys <= xs && xs <= ye)
                inside = 1;
            int same = ys == xs && xe == ye;
            int partly = xs < ye && ys < xe && !inside && !(xs <= ys && ye <= xe);
            double xj = x->r.energy_j[0] + x->r.energy_j[1], yj = y->r.energy_j[0] + y->r.energy_j[1];
            if (inside && (!same || b < a)) x->covered = b + 1;
            else if (partly && x->rank_file && y->rank_file && (xj < yj || (xj == yj && b < a))) {
                /* two ranks that both measured this node (all_ranks): the node once, the larger */
                x->covered = b + 1;
                add_warning(j, "node %s: %s and %s both measured the node at the same time; counted once (%s)", x->node,
                            x->step, y->step, y->step);
            } else if (partly && b > a && !(x->rank_file && y->rank_file))
                add_warning(
                    j, "node %s: steps %s and %s overlap in time; node-level energy of the overlap is counted in both",
                    x->node, x->step, y->step);
        }
    }
}

typedef struct node_sum {
    char node[128];
    double j[CT_COMPONENT_COUNT], kwh, co2, duration_s;
    int estimated, steps, counted, incomplete;
    double cpu_j_attributed; /* the job's CPU-time share of the node's CPU energy */
    int attributed;          /* every counted step had an attribution record */
} node_sum;

static double run_kwh(const ct_jsonl_run *r) {
    double pue = isfinite(r->pue) && r->pue >= 1 ? r->pue : 1.0;
    return (r->energy_j[0] + r->energy_j[1]) * pue / 3.6e6;
}

static void json_s(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

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
           s->cpu_j_attributed, s->j[1], s->cpu_j_attributed + s->j[1]);
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
    if (!job_id || !valid_job_id(job_id)) {
        fprintf(stderr, "carbontracker parse --job: the job id must be 1-63 of A-Z a-z 0-9 _ - . (got \"%s\")\n",
                job_id ? job_id : "");
        free(dirs);
        return 2;
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
    job j;
    memset(&j, 0, sizeof j);
    int rc = 0;
    for (int i = 0; i < ndirs; i++) {
        char sub[2048];
        snprintf(sub, sizeof sub, "%s/%s", dirs[i], job_id);
        struct stat st;
        int have_sub = stat(sub, &st) == 0 && S_ISDIR(st.st_mode);
        if (have_sub && read_dir(&j, sub, job_id, 1) != 0) {
            fprintf(stderr, "carbontracker parse --job: cannot read %s\n", sub);
            rc = 1;
        }
        if (read_dir(&j, dirs[i], job_id, 0) != 0) {
            fprintf(stderr, "carbontracker parse --job: cannot read %s\n", dirs[i]);
            rc = 1;
        }
    }
    free(dirs);
    if (j.n > 1) qsort(j.it, (size_t)j.n, sizeof *j.it, by_node_time);
    resolve_overlaps(&j);

    node_sum *ns = calloc((size_t)(j.n ? j.n : 1), sizeof *ns);
    int nn = 0;
    node_sum tot;
    memset(&tot, 0, sizeof tot);
    for (int i = 0; ns && i < j.n; i++) {
        item *it = &j.it[i];
        if (nn == 0 || strcmp(ns[nn - 1].node, it->node) != 0) {
            snprintf(ns[nn].node, sizeof ns[0].node, "%s", it->node);
            ns[nn++].attributed = 1;
        }
        node_sum *s = &ns[nn - 1];
        s->steps++;
        if (!it->r.finished) s->incomplete = 1;
        if (it->covered) continue;
        s->counted++;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
            s->j[c] += it->r.energy_j[c];
            if (it->r.estimated[c]) s->estimated = 1;
        }
        s->kwh += run_kwh(&it->r);
        if (it->r.attributed) s->cpu_j_attributed += it->r.cpu_j_attributed;
        else s->attributed = 0;
        s->co2 += it->r.co2eq_g;
        if (it->r.duration_s > s->duration_s) s->duration_s = it->r.duration_s;
    }
    tot.attributed = nn > 0;
    for (int i = 0; i < nn; i++) {
        tot.cpu_j_attributed += ns[i].cpu_j_attributed;
        tot.attributed &= ns[i].attributed;
        for (int c = 0; c < CT_COMPONENT_COUNT; c++) tot.j[c] += ns[i].j[c];
        tot.kwh += ns[i].kwh;
        tot.co2 += ns[i].co2;
        if (ns[i].duration_s > tot.duration_s) tot.duration_s = ns[i].duration_s;
        tot.estimated |= ns[i].estimated;
    }
    /* Nodes named by the steps' node lists without any record. */
    const char *missing[256];
    int nmiss = 0;
    for (int e = 0; e < j.nexp && nmiss < 256; e++) {
        int found = 0;
        for (int i = 0; i < nn && !found; i++) found = strcmp(ns[i].node, j.expected[e]) == 0;
        if (!found) missing[nmiss++] = j.expected[e];
    }
    for (int w = 0; w < j.nwarn; w++) fprintf(stderr, "carbontracker: warning: %s\n", j.warn[w]);

    if (strcmp(format, "json") == 0) {
        printf("{\"job_id\": ");
        json_s(job_id);
        printf(", \"total\": {\"energy_j\": %.9g, \"cpu_j\": %.9g, \"gpu_j\": %.9g, \"energy_kwh\": %.12g, "
               "\"co2eq_g\": %.9g, \"duration_s\": %.6g, \"nodes\": %d, \"measurement\": \"%s\"",
               tot.j[0] + tot.j[1], tot.j[0], tot.j[1], tot.kwh, tot.co2, tot.duration_s, nn,
               tot.estimated ? "estimated" : "measured");
        print_attributed(&tot);
        printf("},\n \"nodes\": [");
        for (int i = 0; i < nn; i++) {
            node_sum *s = &ns[i];
            printf("%s\n  {\"node\": ", i ? "," : "");
            json_s(s->node);
            printf(", \"energy_j\": %.9g, \"cpu_j\": %.9g, \"gpu_j\": %.9g, \"energy_kwh\": %.12g, \"co2eq_g\": %.9g, "
                   "\"duration_s\": %.6g, \"measurement\": \"%s\", \"complete\": %s",
                   s->j[0] + s->j[1], s->j[0], s->j[1], s->kwh, s->co2, s->duration_s,
                   s->estimated ? "estimated" : "measured", s->incomplete ? "false" : "true");
            print_attributed(s);
            printf(", \"steps\": [");
            int first = 1;
            for (int k = 0; k < j.n; k++) {
                item *it = &j.it[k];
                if (strcmp(it->node, s->node) != 0) continue;
                printf("%s{\"step\": ", first ? "" : ", ");
                first = 0;
                json_s(it->step);
                printf(", \"energy_j\": %.9g, \"counted\": %s, \"complete\": %s, \"file\": ",
                       it->r.energy_j[0] + it->r.energy_j[1], it->covered ? "false" : "true",
                       it->r.finished ? "true" : "false");
                json_s(it->r.path);
                if (it->covered) {
                    printf(", \"within_step\": ");
                    json_s(j.it[it->covered - 1].step);
                }
                putchar('}');
            }
            printf("]}");
        }
        printf("%s],\n \"missing_nodes\": [", nn ? "\n " : "");
        for (int m = 0; m < nmiss; m++) {
            if (m) printf(", ");
            json_s(missing[m]);
        }
        printf("],\n \"warnings\": [");
        for (int w = 0; w < j.nwarn; w++) {
            if (w) printf(", ");
            json_s(j.warn[w]);
        }
        printf("]}\n");
    } else if (strcmp(format, "csv") == 0) {
        puts("job_id,node,energy_j,cpu_j,gpu_j,energy_kwh,co2eq_g,duration_s,measurement,steps,steps_counted,complete");
        for (int i = 0; i < nn; i++) {
            node_sum *s = &ns[i];
            csv_s(job_id);
            putchar(',');
            csv_s(s->node);
            printf(",%.9g,%.9g,%.9g,%.12g,%.9g,%.6g,%s,%d,%d,%d\n", s->j[0] + s->j[1], s->j[0], s->j[1], s->kwh, s->co2,
                   s->duration_s, s->estimated ? "estimated" : "measured", s->steps, s->counted, !s->incomplete);
        }
        for (int m = 0; m < nmiss; m++) {
            csv_s(job_id);
            putchar(',');
            csv_s(missing[m]);
            puts(",,,,,,,missing,0,0,0");
        }
        csv_s(job_id);
        printf(",TOTAL,%.9g,%.9g,%.9g,%.12g,%.9g,%.6g,%s,%d,,\n", tot.j[0] + tot.j[1], tot.j[0], tot.j[1], tot.kwh,
               tot.co2, tot.duration_s, tot.estimated ? "estimated" : "measured", j.n);
    } else {
        printf("Job %s: %.6f kWh (with PUE), %.3f g CO2eq, %.1f J measured on %d node(s)%s\n", job_id, tot.kwh, tot.co2,
               tot.j[0] + tot.j[1], nn, tot.estimated ? " (partly estimated)" : "");
        printf("%-24s %14s %14s %14s %12s %6s %s\n", "node", "cpu_J", "gpu_J", "kWh", "gCO2eq", "steps", "");
        for (int i = 0; i < nn; i++) {
            node_sum *s = &ns[i];
            char steps[32];
            snprintf(steps, sizeof steps, "%d/%d", s->counted, s->steps);
            printf("%-24s %14.3f %14.3f %14.9f %12.4f %6s %s%s\n", s->node, s->j[0], s->j[1], s->kwh, s->co2, steps,
                   s->estimated ? "estimated" : "measured", s->incomplete ? ", incomplete" : "");
        }
        for (int m = 0; m < nmiss; m++)
            printf("%-24s %14s %14s %14s %12s %6s missing: no records\n", missing[m], "-", "-", "-", "-", "-");
        if (nmiss) printf("Missing nodes (in the job's node lists, no records): %d\n", nmiss);
        if (tot.attributed)
            printf("Attributed to the job (its CPU-time share of each node's CPU energy, its own GPUs in full): "
                   "cpu %.3f J, gpu %.3f J\n",
                   tot.cpu_j_attributed, tot.j[1]);
    }
    if (j.n == 0) {
        fprintf(stderr, "carbontracker parse --job: no records of job %s found\n", job_id);
        rc = 1;
    }
    free(ns);
    for (int e = 0; e < j.nexp; e++) free(j.expected[e]);
    free(j.expected);
    free(j.it);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
