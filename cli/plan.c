/* carbontracker plan: the start time with the lowest mean forecast carbon
 * intensity over a training's duration. Public API only (ct_plan). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void plan_usage(FILE *f) {
    fputs("Usage: carbontracker plan --duration D [--within D] [location options] [--json] [--offline]\n"
          "\n"
          "Finds the start time in the carbon-intensity forecast with the lowest mean intensity over D\n"
          "and prints it with the saving against starting now.\n"
          "  --duration D        how long the training runs: 90m, 6h, 2d or seconds (3600)\n"
          "  --within D          latest start, from now (default 48h)\n"
          "  --country CC        ISO 3166-1 alpha-2 country (GB and DK have free forecasts)\n"
          "  --zone Z            Electricity Maps zone (needs a key: CT_ELECTRICITYMAPS_KEY or a key file)\n"
          "  --postcode PC       UK outward postcode (regional forecast)\n"
          "  --lat X --lon Y     coordinates, degrees\n"
          "  --cloud P:R         cloud provider and region, e.g. gcp:europe-west1\n"
          "  --key-file PATH     file with the Electricity Maps key (mode 600)\n"
          "  --json              one JSON object: start, end, mean_gco2_per_kwh, now_gco2_per_kwh, savings_percent\n"
          "  --offline           no network (there is then no forecast)\n"
          "  --submit -- sbatch [ARGS...] job.sh   print the command with --begin=START (the best start,\n"
          "                      local time) inserted after its first word; a dry run\n"
          "  --execute           with --submit: run that command (no shell) and exit with its status\n"
          "Exit status: 0 found, 1 no forecast or the service failed, 2 bad options;\n"
          "with --execute, the submitting command's exit status.\n",
          f);
}

/* "90m", "6h", "2d", "30s", "3600" (s); fractional values allowed ("1.5h"). 0 or -1. */
static int parse_duration(const char *s, double *out) {
    char *end = NULL;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') return -1;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v)) return -1;
    double mult = 1;
    if (*end) {
        switch (*end) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        default: return -1;
        }
        if (end[1] != '\0') return -1;
    }
    v *= mult;
    if (!(v > 0) || v > 366.0 * 86400) return -1;
    *out = v;
    return 0;
}

static double degrees(const char *opt, const char *v, double lim, int *bad) {
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || fabs(d) > lim) {
        fprintf(stderr, "carbontracker plan: %s needs degrees within [-%.0f, %.0f] (got \"%s\")\n", opt, lim, lim, v);
        *bad = 1;
    }
    return d;
}

static void iso_utc(double t, char *buf, size_t len) {
    time_t tt = (time_t)floor(t);
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(buf, len, "?");
}

/* Prints argv as a shell command line (single quotes where needed). */
static void print_command(char *const *argv) {
    for (int i = 0; argv[i]; i++) {
        const char *a = argv[i];
        if (i) putchar(' ');
        if (*a && !strpbrk(a, " \t\n'\"\\$`;&|<>()*?[]{}~#!")) {
            fputs(a, stdout);
            continue;
        }
        putchar('\'');
        for (; *a; a++) {
            if (*a == '\'') fputs("'\\''", stdout);
            else putchar(*a);
        }
        putchar('\'');
    }
    putchar('\n');
}

/* --submit: the command with --begin=START after its first word; runs it when execute. */
static int submit(char **cmd, int ncmd, double start_unix_s, int execute) {
    char begin[64];
    time_t t = (time_t)start_unix_s;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(begin, sizeof begin, "--begin=%Y-%m-%dT%H:%M:%S", &tm);
    char **argv = calloc((size_t)ncmd + 2, sizeof *argv);
    if (!argv) return 1;
    argv[0] = cmd[0];
    argv[1] = begin;
    for (int i = 1; i < ncmd; i++) argv[i + 1] = cmd[i];
    const char *base = strrchr(cmd[0], '/');
    base = base ? base + 1 : cmd[0];
    if (strcmp(base, "sbatch") && strcmp(base, "salloc") && strcmp(base, "srun"))
        fprintf(stderr,
                "carbontracker plan: warning: --begin is SLURM's option (sbatch, salloc, srun); \"%s\" may not "
                "take it\n",
                base);
    printf("Submit: ");
    print_command(argv);
    if (!execute) {
        printf("(dry run: add --execute to submit)\n");
        free(argv);
        return 0;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "carbontracker plan: fork: %s\n", strerror(errno));
        free(argv);
        return 1;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "carbontracker plan: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    free(argv);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int ct_cli_plan(int argc, char **argv) {
    ct_config cfg;
    ct_config_init(&cfg);
    double duration = -1, within = 48 * 3600.0;
    int json = 0, bad = 0, do_submit = 0, execute = 0, ncmd = 0;
    char **cmd = NULL;
    char provider[64] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { /* the submitting command (--submit) */
            cmd = argv + i + 1;
            ncmd = argc - i - 1;
            break;
        }
        if (strcmp(a, "--submit") == 0) {
            do_submit = 1;
            continue;
        }
        if (strcmp(a, "--execute") == 0) {
            execute = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            plan_usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1, takes = 0;
        } else if (strcmp(a, "--offline") == 0) {
            cfg.offline = 1, takes = 0;
        } else if (!v && (strcmp(a, "--duration") == 0 || strcmp(a, "--within") == 0 || strcmp(a, "--country") == 0 ||
                          strcmp(a, "--zone") == 0 || strcmp(a, "--postcode") == 0 || strcmp(a, "--lat") == 0 ||
                          strcmp(a, "--lon") == 0 || strcmp(a, "--cloud") == 0 || strcmp(a, "--key-file") == 0)) {
            fprintf(stderr, "carbontracker plan: %s needs a value\n", a);
            return 2;
        } else if (strcmp(a, "--duration") == 0) {
            if (parse_duration(v, &duration)) {
                fprintf(stderr,
                        "carbontracker plan: --duration needs a duration such as 90m, 6h, 2d or 3600 (got \"%s\")\n",
                        v);
                return 2;
            }
        } else if (strcmp(a, "--within") == 0) {
            if (parse_duration(v, &within)) {
                fprintf(stderr, "carbontracker plan: --within needs a duration such as 12h or 2d (got \"%s\")\n", v);
                return 2;
            }
        } else if (strcmp(a, "--country") == 0) {
            cfg.country = v;
        } else if (strcmp(a, "--zone") == 0) {
            cfg.zone = v;
        } else if (strcmp(a, "--postcode") == 0) {
            cfg.postcode = v;
        } else if (strcmp(a, "--lat") == 0) {
            cfg.latitude = degrees(a, v, 90, &bad);
        } else if (strcmp(a, "--lon") == 0) {
            cfg.longitude = degrees(a, v, 180, &bad);
        } else if (strcmp(a, "--key-file") == 0) {
            cfg.electricitymaps_key_file = v;
        } else if (strcmp(a, "--cloud") == 0) {
            const char *colon = strchr(v, ':');
            if (!colon || colon == v || !colon[1] || (size_t)(colon - v) >= sizeof provider) {
                fprintf(stderr,
                        "carbontracker plan: --cloud needs PROVIDER:REGION, e.g. gcp:europe-west1 (got \"%s\")\n", v);
                return 2;
            }
            memcpy(provider, v, (size_t)(colon - v));
            provider[colon - v] = '\0';
            cfg.cloud_provider = provider;
            cfg.cloud_region = colon + 1;
        } else {
            fprintf(stderr, "carbontracker plan: unknown option \"%s\" (see carbontracker plan --help)\n", a);
            return 2;
        }
        i += takes;
    }
    if (bad) return 2;
    if ((do_submit || execute) && ncmd == 0) {
        fprintf(stderr, "carbontracker plan: --submit needs the command after --, e.g. --submit -- sbatch job.sh\n");
        return 2;
    }
    if (ncmd > 0 && !do_submit) {
        fprintf(stderr, "carbontracker plan: a command after -- needs --submit\n");
        return 2;
    }
    if (duration < 0) {
        fprintf(stderr, "carbontracker plan: --duration is required, e.g. --duration 6h\n");
        return 2;
    }

    ct_plan_result r;
    int rc = ct_plan(&cfg, duration, within, &r);
    if (rc) {
        const char *msg = ct_last_error_message();
        fprintf(stderr, "carbontracker plan: %s\n", msg[0] ? msg : ct_strerror(rc));
        return rc == CT_EINVAL ? 2 : 1;
    }
    char start[32], end[32];
    iso_utc(r.start_unix_s, start, sizeof start);
    iso_utc(r.end_unix_s, end, sizeof end);
    if (json) {
        printf("{\"start\":\"%s\",\"end\":\"%s\",\"duration_s\":%.0f,\"mean_gco2_per_kwh\":%.3f,"
               "\"now_gco2_per_kwh\":%.3f,\"savings_percent\":%.3f,\"source\":",
               start, end, duration, r.mean_g_per_kwh, r.now_g_per_kwh, r.savings_percent);
        ct_cli_json_string(stdout, r.source);
        printf("}\n");
        return do_submit ? submit(cmd, ncmd, r.start_unix_s, execute) : 0;
    }
    double wait_s = r.start_unix_s - (double)time(NULL);
    char dur[32], wait[32];
    ct_format_duration(duration, 0, dur, sizeof dur);
    ct_format_duration(wait_s > 0 ? wait_s : 0, 0, wait, sizeof wait);
    printf("Best start:   %s (in %s), ends %s\n", start, wait, end);
    printf("Mean carbon intensity over %s: %.1f gCO2eq/kWh (starting now: %.1f gCO2eq/kWh)\n", dur, r.mean_g_per_kwh,
           r.now_g_per_kwh);
    if (r.savings_percent > 0.05) printf("Saving against starting now: %.1f%%\n", r.savings_percent);
    else printf("Starting now is as good as any time in the forecast.\n");
    printf("Source: %s\n", r.source);
    return do_submit ? submit(cmd, ncmd, r.start_unix_s, execute) : 0;
}
