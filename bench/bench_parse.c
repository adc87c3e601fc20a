/*
 * bench_parse - targets of issue 5, measured:
 *   - `parse` over 5,000 runs in under 2 s, memory bounded by the number of runs;
 *   - `report` under 1 s for a run of 1,000 epochs.
 *
 *   bench_parse [RUNS] [mixed|text|jsonl] [keep]
 *   (default 5000 mixed; writes its logs under $TMPDIR or /tmp; text: only
 *   text log pairs, jsonl: only complete JSON Lines runs)
 *
 * The runs are written in our JSON Lines schema and the original's text
 * format: 70 % complete JSON Lines runs (20 epochs, 64-point power series per
 * epoch), 10 % crashed JSON Lines runs (no final record: every line is read),
 * 20 % text log pairs. Times are wall-clock with a warm page cache.
 */
#include "carbontracker.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long rss_kb(void) { /* current resident set, from /proc/self/statm */
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long peak_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void write_epoch(FILE *f, int e, double t0, int points) {
    double st = t0 + (e - 1) * 30.0, en = st + 30.0;
    fprintf(f,
            "{\"event\":\"epoch\",\"epoch\":%d,\"start\":%.6f,\"end\":%.6f,\"duration_s\":30.0,"
            "\"energy_j\":{\"cpu\":1500.0,\"gpu\":9000.0},\"power_w\":{\"cpu\":50.0,\"gpu\":300.0},"
            "\"estimated\":{\"cpu\":false,\"gpu\":false},\"energy_kwh\":0.004608,\"co2eq_g\":0.5,"
            "\"intensity_g_per_kwh\":108.5,\"intensity_kind\":\"static\",\"intensity_source\":\"Denmark (DK), yearly "
            "average 2023\",\"devices\":[{\"component\":\"cpu\",\"name\":\"cpu:0\",\"uuid\":\"\",\"energy_j\":1500.0,"
            "\"method\":\"counter\",\"lost\":false}],\"power_series\":{\"t\":[",
            e, st, en);
    for (int i = 0; i < points; i++) fprintf(f, "%s%.3f", i ? "," : "", (e - 1) * 30.0 + 30.0 * i / points);
    fputs("],\"cpu\":[", f);
    for (int i = 0; i < points; i++) fprintf(f, "%s%.2f", i ? "," : "", 50.0 + 5 * sin(i * 0.3));
    fputs("],\"gpu\":[", f);
    for (int i = 0; i < points; i++) fprintf(f, "%s%.2f", i ? "," : "", 300.0 + 40 * sin(i * 0.1 + e));
    fputs("]}}\n", f);
}

static void write_jsonl(const char *path, int idx, int epochs, int points, int complete) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    double t0 = 1795000000.0 + idx * 1000.0;
    fprintf(
        f,
        "{\"event\":\"header\",\"schema\":1,\"version\":\"0.3.0\",\"host\":\"node%d\",\"pid\":%d,\"start\":%.6f,"
        "\"job_id\":\"\",\"rank\":-1,\"local_rank\":-1,\"world_size\":-1,\"launcher\":\"\",\"measuring\":true,"
        "\"epochs\":%d,\"epochs_before_pred\":1,\"monitor_epochs\":%d,\"pue\":1.58,\"intensity\":{\"g_per_kwh\":"
        "108.5,\"kind\":\"static\",\"source\":\"Denmark (DK)\"},\"components\":[],\"devices\":[{\"component\":"
        "\"cpu\",\"name\":\"cpu:0\",\"uuid\":\"\",\"source\":\"rapl\",\"method\":\"counter\",\"estimated\":false}]}\n",
        idx % 50, 1000 + idx, t0, epochs, epochs);
    for (int e = 1; e <= epochs; e++) {
        write_epoch(f, e, t0, points);
        if (e == 1)
            fprintf(
                f,
                "{\"event\":\"prediction\",\"after_epochs\":1,\"epochs\":%d,\"duration_s\":%.1f,\"energy_kwh\":%.6f,"
                "\"energy_j\":{\"cpu\":1500,\"gpu\":9000},\"co2eq_g\":%.6f,\"intensity_g_per_kwh\":108.5,"
                "\"intensity_kind\":\"static\",\"intensity_source\":\"Denmark (DK)\",\"estimated\":false}\n",
                epochs, 30.0 * epochs, 0.004608 * epochs, 0.5 * epochs);
    }
    if (complete)
        fprintf(
            f,
            "{\"event\":\"final\",\"end\":%.6f,\"reason\":\"completed\",\"early_stop\":false,\"actual\":{\"epochs\":%d,"
            "\"duration_s\":%.1f,\"energy_kwh\":%.6f,\"energy_j\":{\"cpu\":1,\"gpu\":1},\"co2eq_g\":%.6f,"
            "\"intensity_g_per_kwh\":108.5,\"intensity_kind\":\"static\",\"intensity_source\":\"Denmark (DK)\","
            "\"estimated\":false},\"predicted\":{\"epochs\":%d,\"duration_s\":%.1f,\"energy_kwh\":%.6f,\"energy_j\":"
            "{\"cpu\":1,\"gpu\":1},\"co2eq_g\":%.6f,\"intensity_g_per_kwh\":108.5,\"intensity_kind\":\"static\","
            "\"intensity_source\":\"Denmark (DK)\",\"estimated\":false}}\n",
            t0 + 30.0 * epochs, epochs, 30.0 * epochs, 0.004608 * epochs, 0.5 * epochs, epochs, 30.0 * epochs,
            0.004608 * epochs, 0.5 * epochs);
    fclose(f);
}

static void write_text(const char *dir, int idx, int epochs) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%d.t%04d_2026-11-20T101500Z_carbontracker.log", dir, 100000 + idx, idx);
    FILE *f = fopen(p, "w");
    fputs("2026-11-20 10:15:00 - carbontracker version 2.3.1\n"
          "2026-11-20 10:15:00 - The following components were found: GPU with device(s) Tesla T4. CPU with "
          "device(s) cpu:0.\n",
          f);
    for (int e = 1; e <= epochs; e++)
        fprintf(f,
                "2026-11-20 10:16:00 - Epoch %d:\n2026-11-20 10:16:00 - Duration: 0:00:30.00\n"
                "2026-11-20 10:16:00 - Average power usage (W) for gpu: [300.0]\n"
                "2026-11-20 10:16:00 - Average power usage (W) for cpu: [50.0]\n",
                e);
    fclose(f);
    snprintf(p, sizeof p, "%s/%d.t%04d_2026-11-20T101500Z_carbontracker_output.log", dir, 100000 + idx, idx);
    f = fopen(p, "w");
    fprintf(f,
            "2026-11-20 10:16:00 - CarbonTracker: \nPredicted consumption for %d epoch(s):\n\tTime:\t0:10:00\n"
            "\tEnergy:\t%.6f kWh\n\tCO2eq:\t%.6f g\n\tThis is equivalent to:\n\t0.1 km travelled by car\n"
            "2026-11-20 10:26:00 - CarbonTracker: \nActual consumption for %d epoch(s):\n\tTime:\t0:10:00\n"
            "\tEnergy:\t%.6f kWh\n\tCO2eq:\t%.6f g\n\tThis is equivalent to:\n\t0.1 km travelled by car\n"
            "2026-11-20 10:26:00 - CarbonTracker: Finished monitoring.\n",
            epochs, 0.004608 * epochs, 0.5 * epochs, epochs, 0.004608 * epochs, 0.5 * epochs);
    fclose(f);
}

static int mix = 0; /* 0 mixed, 1 text pairs only, 2 complete JSON Lines only */

static void make_runs(const char *dir, int runs) {
    for (int i = 0; i < runs; i++) {
        char p[4096];
        int kind = mix == 1 ? 8 : mix == 2 ? 0 : i % 10; /* 0-6 complete JSONL, 7 crashed JSONL, 8-9 text */
        if (kind <= 7) {
            snprintf(p, sizeof p, "%s/%d.j%05d_2026-11-20T101500Z_carbontracker.jsonl", dir, 100000 + i, i);
            write_jsonl(p, i, 20, 64, kind != 7);
        } else {
            write_text(dir, i, 20);
        }
    }
}

static void rmtree(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Heap bytes in use (glibc): what a result keeps, whatever the allocator left resident. */
static long heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

static long kept_bytes;

static double bench_parse_once(const char *dir, int *runs_out, long *rss_growth_kb) {
    const char *dirs[] = {dir};
    ct_runs *r = NULL;
    long before = rss_kb();
    long heap0 = heap_in_use();
    double t0 = now_s();
    int rc = ct_parse_dirs(dirs, 1, &r);
    double dt = now_s() - t0;
    if (rc) {
        fprintf(stderr, "parse failed: %s\n", ct_last_error_message());
        exit(1);
    }
    *rss_growth_kb = rss_kb() - before; /* resident growth (includes freed heap not returned) */
    kept_bytes = heap_in_use() - heap0; /* heap the result holds */
    *runs_out = ct_runs_count(r);
    ct_runs_free(r);
    return dt;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5000;
    const char *mixname = argc > 2 && strcmp(argv[2], "keep") != 0 ? argv[2] : "mixed";
    mix = strcmp(mixname, "text") == 0 ? 1 : strcmp(mixname, "jsonl") == 0 ? 2 : 0;
    int keep = argc > 2 && strcmp(argv[argc - 1], "keep") == 0;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/ct_bench_parse.XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("bench_parse: %s (%d runs, %s)\n", ct_version(), runs, mixname);

    /* parse: memory for growing numbers of runs, time for the largest */
    int sizes[] = {runs / 5, runs / 2, runs};
    for (int s = 0; s < 3; s++) {
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/n%d", dir, sizes[s]);
        mkdir(sub, 0700);
        double g0 = now_s();
        make_runs(sub, sizes[s]);
        sync(); /* the logs on disk before timing: no writeback during the parse */
        double gen = now_s() - g0;
        int n = 0;
        long grow = 0, kept = 0;
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            long g = 0;
            double dt = bench_parse_once(sub, &n, &g);
            if (rep == 0) grow = g, kept = kept_bytes; /* later repetitions reuse the freed heap */
            if (dt < best) best = dt;
        }
        char cmd[4400];
        snprintf(cmd, sizeof cmd, "du -sm '%s' | cut -f1", sub);
        FILE *p = popen(cmd, "r");
        int mb = 0;
        if (p) {
            if (fscanf(p, "%d", &mb) != 1) mb = 0;
            pclose(p);
        }
        printf("parse  %5d files-groups -> %5d runs, %4d MB of logs: best of 3 %.3f s (%.1f us/run), "
               "result kept %ld B/run (heap), RSS growth %ld kB (%.2f kB/run), peak RSS so far %ld kB  "
               "[generation %.1f s]\n",
               sizes[s], n, mb, best, best / n * 1e6, n ? kept / n : 0, grow, (double)grow / (n ? n : 1), peak_kb(),
               gen);
        rmtree(sub);
    }

    /* report: one run of 1,000 epochs with 128-point power series */
    char run[4200];
    snprintf(run, sizeof run, "%s/big_carbontracker.jsonl", dir);
    write_jsonl(run, 1, 1000, 128, 1);
    struct stat st;
    stat(run, &st);
    const char *ext[] = {"pdf", "png", "svg"};
    for (int i = 0; i < 3; i++) {
        char out[4300];
        snprintf(out, sizeof out, "%s/big.%s", dir, ext[i]);
        double best = 1e9;
        int rc = 0;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now_s();
            rc = ct_report_render(run, out);
            double dt = now_s() - t0;
            if (dt < best) best = dt;
        }
        if (rc) {
            printf("report %s: %s\n", ext[i], ct_last_error_message());
            continue;
        }
        struct stat so;
        stat(out, &so);
        printf("report 1000 epochs x 128 points (%.1f MB JSONL) -> %s: best of 3 %.3f s, %lld kB\n", st.st_size / 1e6,
               ext[i], best, (long long)so.st_size / 1024);
    }
    printf("peak RSS %ld kB\n", peak_kb());
    if (keep) printf("kept %s\n", dir);
    else rmtree(dir);
    return 0;
}
