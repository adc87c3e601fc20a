/* carbontracker - the command-line tool. Options and dispatch; uses only the
 * public API (include/carbontracker.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("Usage: carbontracker [options] [--] COMMAND [ARGS...]\n"
          "       carbontracker parse DIR... [--format text|json|csv] [--latex]   (also --parse DIR)\n"
          "       carbontracker report RUN -o report.pdf|.png|.svg                (also --report LOG --output FILE)\n"
          "       carbontracker plan --duration 6h [--within 48h] [location options] [--json]\n"
          "       carbontracker exporter [--listen 127.0.0.1:9464] [--textfile PATH] [--runs DIR]  (Prometheus)\n"
          "\n"
          "Runs COMMAND (no shell) as a training, measures the energy of CPU, DRAM and GPUs while it runs,\n"
          "and prints its energy and carbon footprint. Exits with COMMAND's exit code (128+N if killed by signal N).\n"
          "\n"
          "Measurement:\n"
          "  --components all|cpu|gpu|cpu,gpu   components to measure (default all)\n"
          "  --update-interval S                seconds between background measurements (default 1)\n"
          "  --devices-by-pid                   only GPUs running this command's processes\n"
          "  --rapl-zones auto|psys             RAPL zones: packages+dram (default) or the platform zone\n"
          "  --all-ranks                        measure on every rank, not only local rank 0\n"
          "  --sim-cpu NAME --sim-cpu-tdp W [--sim-cpu-util U]     simulated CPU (power = W x U)\n"
          "  --sim-gpu NAME --sim-gpu-watts W [--sim-gpu-util U]   simulated GPU\n"
          "Epochs and prediction:\n"
          "  --epochs N                         epochs of the training (default 1: the whole command)\n"
          "  --epochs-before-pred N             epochs before the prediction (default 1; -1 all, 0 none)\n"
          "  --monitor-epochs N                 epochs monitored (default -1: all)\n"
          "  --epoch-pattern REGEX              an output line matching REGEX (POSIX ERE) starts an epoch\n"
          "  --epoch-end-pattern REGEX          an output line matching REGEX ends an epoch\n"
          "Carbon:\n"
          "  --country CC                       ISO 3166-1 alpha-2 country (default: env CT_COUNTRY, else world average)\n"
          "  --carbon-intensity G               fixed carbon intensity, gCO2eq/kWh\n"
          "  --pue X                            power usage effectiveness (default 1.58)\n"
          "  --zone Z --postcode PC --lat X --lon Y --cloud PROVIDER:REGION   location for live intensity\n"
          "  --offline                          no network at all\n"
          "  --electricitymaps-key-file F       file holding the Electricity Maps key (not readable by others)\n"
          "  --api_keys JSON                    e.g. '{\"electricitymaps\": \"KEY\"}' (the original's option; the key is\n"
          "                                     then visible in the process list: prefer CT_ELECTRICITYMAPS_KEY or a key file)\n"
          "Budgets:\n"
          "  --max-energy-kwh X --max-co2-g X   budgets checked against the prediction and the actual\n"
          "  --on-budget warn|stop              warn (default) or stop the command (SIGTERM, SIGKILL after --grace S)\n"
          "Output:\n"
          "  --log_dir DIR                      write the log files (text logs + JSON Lines) into DIR\n"
          "  --log_file_prefix P                prefix of the log file names\n"
          "  --verbose 0|1|2                    (default 1)\n"
          "  --decimal-precision N              digits after the point (default 12)\n"
          "  --no-interpretable                 do not print km-by-car equivalents\n"
          "  --ignore-errors                    internal errors stop monitoring, never the command\n"
          "  -h, --help                         this help\n"
          "  --version                          version and compiled-in features\n",
          f);
}

/* Parses a number; exits with a message on garbage. */
static double num_arg(const char *opt, const char *v) {
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (!v[0] || *end || errno == ERANGE || !isfinite(d)) {
        fprintf(stderr, "carbontracker: %s needs a number, got \"%s\"\n", opt, v);
        exit(2);
    }
    return d;
}

static int int_arg(const char *opt, const char *v) {
    double d = num_arg(opt, v);
    if (d != floor(d) || d < -2147483647.0 || d > 2147483647.0) {
        fprintf(stderr, "carbontracker: %s needs an integer, got \"%s\"\n", opt, v);
        exit(2);
    }
    return (int)d;
}

/* Extracts "electricitymaps" from a JSON object string without echoing it. */
static char *api_key_from_json(const char *json) {
    const char *k = strstr(json, "\"electricitymaps\"");
    if (!k) return NULL;
    k = strchr(k + 17, ':');
    if (!k) return NULL;
    k = strchr(k, '"');
    if (!k) return NULL;
    const char *e = strchr(k + 1, '"');
    if (!e) return NULL;
    size_t n = (size_t)(e - k - 1);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, k + 1, n);
    s[n] = '\0';
    return s;
}

static int main_wrap(int argc, char **argv) {
    ct_config cfg;
    ct_config_init(&cfg);
    cfg.epochs = 1;
    cfg.status_line = 0; /* the wrapper draws its own, around the command's output */
    ct_wrap_opts w = {NULL, NULL, 0, 10.0};
    char *api_key = NULL, *cloud = NULL;
    int rc = 2; /* wrong usage unless we get to run the command */
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-') break; /* the command starts here, like the original */
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (strcmp(a, "--version") == 0) {
            const char *f = ct_features();
            printf("carbontracker %s\nfeatures: %s\n", ct_version(), f && *f ? f : "(none: core only)");
            rc = 0;
            goto out;
        }
        /* Flags without a value. */
        if (strcmp(a, "--devices-by-pid") == 0) { cfg.devices_by_pid = 1; continue; }
        if (strcmp(a, "--all-ranks") == 0) { cfg.all_ranks = 1; continue; }
        if (strcmp(a, "--offline") == 0) { cfg.offline = 1; continue; }
        if (strcmp(a, "--no-interpretable") == 0) { cfg.interpretable = 0; continue; }
        if (strcmp(a, "--ignore-errors") == 0) { cfg.ignore_errors = 1; continue; }
        if (strcmp(a, "--stop-and-confirm") == 0) { cfg.stop_and_confirm = 1; continue; }
        /* Options with a value: "--opt VALUE" or "--opt=VALUE"; '_' and '-' alike. */
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name) nlen = sizeof name - 1;
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        for (char *p = name + 2; *p; p++)
            if (*p == '_') *p = '-';
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else {
            fprintf(stderr, "carbontracker: option %s needs a value (see --help)\n", a);
            goto out;
        }
        if (strcmp(name, "--log-dir") == 0) cfg.log_dir = val;
        else if (strcmp(name, "--log-file-prefix") == 0) cfg.log_file_prefix = val;
        else if (strcmp(name, "--components") == 0) cfg.components = val;
        else if (strcmp(name, "--update-interval") == 0) cfg.update_interval = num_arg(a, val);
        else if (strcmp(name, "--rapl-zones") == 0) cfg.rapl_zones = val;
        else if (strcmp(name, "--sim-cpu") == 0) cfg.sim_cpu = val;
        else if (strcmp(name, "--sim-cpu-tdp") == 0) cfg.sim_cpu_tdp = num_arg(a, val);
        else if (strcmp(name, "--sim-cpu-util") == 0) cfg.sim_cpu_util = num_arg(a, val);
        else if (strcmp(name, "--sim-gpu") == 0) cfg.sim_gpu = val;
        else if (strcmp(name, "--sim-gpu-watts") == 0) cfg.sim_gpu_watts = num_arg(a, val);
        else if (strcmp(name, "--sim-gpu-util") == 0) cfg.sim_gpu_util = num_arg(a, val);
        else if (strcmp(name, "--epochs") == 0) cfg.epochs = int_arg(a, val);
        else if (strcmp(name, "--epochs-before-pred") == 0) cfg.epochs_before_pred = int_arg(a, val);
        else if (strcmp(name, "--monitor-epochs") == 0) cfg.monitor_epochs = int_arg(a, val);
        else if (strcmp(name, "--epoch-pattern") == 0) w.epoch_pattern = val;
        else if (strcmp(name, "--epoch-end-pattern") == 0) w.epoch_end_pattern = val;
        else if (strcmp(name, "--country") == 0) cfg.country = val;
        else if (strcmp(name, "--carbon-intensity") == 0) cfg.carbon_intensity = num_arg(a, val);
        else if (strcmp(name, "--pue") == 0) cfg.pue = num_arg(a, val);
        else if (strcmp(name, "--zone") == 0) cfg.zone = val;
        else if (strcmp(name, "--postcode") == 0) cfg.postcode = val;
        else if (strcmp(name, "--lat") == 0) cfg.latitude = num_arg(a, val);
        else if (strcmp(name, "--lon") == 0) cfg.longitude = num_arg(a, val);
        else if (strcmp(name, "--cloud") == 0) {
            free(cloud);
            cloud = strdup(val);
            char *colon = cloud ? strchr(cloud, ':') : NULL;
            if (!colon) {
                fprintf(stderr, "carbontracker: --cloud needs PROVIDER:REGION, e.g. gcp:europe-west1\n");
                goto out;
            }
            *colon = '\0';
            cfg.cloud_provider = cloud;
            cfg.cloud_region = colon + 1;
        } else if (strcmp(name, "--api-keys") == 0) {
            free(api_key);
            api_key = api_key_from_json(val);
            if (!api_key) {
                fprintf(stderr, "carbontracker: --api_keys needs a JSON object like '{\"electricitymaps\": \"KEY\"}'\n");
                goto out;
            }
            cfg.electricitymaps_key = api_key;
            /* Blank our copy in the argument vector so /proc/PID/cmdline stops showing it. */
            memset((char *)val, 'x', strlen(val));
            fprintf(stderr, "carbontracker: warning: --api_keys puts the key in the process list, visible to other users; "
                            "use CT_ELECTRICITYMAPS_KEY or --electricitymaps-key-file instead\n");
        } else if (strcmp(name, "--electricitymaps-key-file") == 0) {
            cfg.electricitymaps_key_file = val;
        } else if (strcmp(name, "--max-energy-kwh") == 0) cfg.max_energy_kwh = num_arg(a, val);
        else if (strcmp(name, "--max-co2-g") == 0) cfg.max_co2_g = num_arg(a, val);
        else if (strcmp(name, "--on-budget") == 0) {
            if (strcmp(val, "warn") == 0) w.on_budget_stop = 0;
            else if (strcmp(val, "stop") == 0) w.on_budget_stop = 1;
            else {
                fprintf(stderr, "carbontracker: --on-budget must be warn or stop, got \"%s\"\n", val);
                goto out;
            }
        } else if (strcmp(name, "--grace") == 0) w.grace_s = num_arg(a, val);
        else if (strcmp(name, "--verbose") == 0) cfg.verbose = int_arg(a, val);
        else if (strcmp(name, "--decimal-precision") == 0) cfg.decimal_precision = int_arg(a, val);
        else if (strcmp(name, "--parse") == 0 || strcmp(name, "--report") == 0) {
            fprintf(stderr, "carbontracker: %s must come first (carbontracker %s ...)\n", name, name);
            goto out;
        } else {
            fprintf(stderr, "carbontracker: unknown option %s (see --help)\n", a);
            goto out;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "carbontracker: no command given\n\n");
        usage(stderr);
        goto out;
    }
    if (cfg.epochs > 1 && !w.epoch_pattern && !w.epoch_end_pattern) {
        fprintf(stderr, "carbontracker: --epochs %d needs --epoch-pattern or --epoch-end-pattern to find the epochs\n",
                cfg.epochs);
        goto out;
    }
    rc = ct_cli_wrap(&cfg, &w, argv + i);
out:
    if (api_key) {
        memset(api_key, 0, strlen(api_key));
        free(api_key);
    }
    free(cloud);
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 2) {
        const char *sub = argv[1];
        if (strcmp(sub, "plan") == 0) return ct_cli_plan(argc - 1, argv + 1);
        if (strcmp(sub, "parse") == 0 || strcmp(sub, "--parse") == 0) return ct_cli_parse(argc - 1, argv + 1);
        if (strcmp(sub, "report") == 0 || strcmp(sub, "--report") == 0) return ct_cli_report(argc - 1, argv + 1);
        if (strcmp(sub, "exporter") == 0) return ct_cli_exporter(argc - 1, argv + 1);
    }
    return main_wrap(argc, argv);
}
