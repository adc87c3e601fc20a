/*
 * rapl_zones.h - RAPL zone discovery shared by rapl.c and rapl_zones.c
 * (internal to sources/): the zone record, the sysfs helpers, the scan of
 * the powercap tree, multi-die mirrors, device names and the wrap guard.
 */
#ifndef CT_RAPL_ZONES_H
#define CT_RAPL_ZONES_H

#include "sources/cpu_host.h"

#define RAPL_DEFAULT_ROOT "/sys/class/powercap"
#define RAPL_MAX_ZONES 256
#define RAPL_PATH_LEN 1024
/* The exact command that makes energy_uj readable (CVE-2020-8694 made it 0400). */
#define RAPL_FIX_COMMAND                                         \
    "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj " \
    "/sys/class/powercap/intel-rapl:*/intel-rapl:*/energy_uj"
/* Wrap guard: a zone is read at least every range / (2 x this power), so
 * that even at this power the counter cannot pass its range between two
 * reads (a factor 2 of margin). 500 W is above any single package or DRAM
 * zone's sustained power today. */
#define RAPL_GUARD_POWER_W 500.0
#define RAPL_MAX_INTERVAL_S 60.0
#define RAPL_MIN_INTERVAL_S 0.05 /* never make the thread spin on a tiny range */
/* Seconds of nothing but malformed readings before a zone is given up
 * (shorter runs are skipped: the counter is cumulative, so the energy is
 * caught up at the next good reading). */
#define RAPL_BAD_READ_S 10.0

typedef enum { ZONE_OTHER = 0, ZONE_PACKAGE, ZONE_DRAM, ZONE_PSYS } ct_rapl_zone_kind;

typedef struct ct_rapl_zone {
    char id[64];              /* directory name, e.g. "intel-rapl:0:0" */
    char path[RAPL_PATH_LEN]; /* directory path */
    char name[64];            /* contents of `name`, e.g. "package-0" */
    ct_rapl_zone_kind kind;
    int pkg, die;       /* package and die numbers, -1 when unknown */
    int fd;             /* energy_uj, -1 when closed */
    uint64_t max_range; /* max_energy_range_uj, 0 = unknown */
    uint64_t last_uj;   /* last raw reading */
    uint64_t total_uj;  /* accumulated since open */
    int lost;
    double bad_since;   /* monotonic s of the first malformed reading in a row, -1 none */
    double last_t;      /* monotonic s of the last good reading */
    double max_power_w; /* highest plausible power: bounds what a wrap can be */
    char dev_name[64];  /* "cpu:0", "dram:1", "psys:0", ... */
} ct_rapl_zone;

typedef struct ct_rapl_candidate {
    char id[64];
    char path[RAPL_PATH_LEN];
} ct_rapl_candidate;

typedef struct ct_rapl_cand_list {
    ct_rapl_candidate *c;
    int n, cap;
} ct_rapl_cand_list;

/* Reads a small file, trailing whitespace trimmed: bytes kept or -errno. */
int ct__rapl_read_text(const char *path, char *buf, size_t len);
/* Parses a counter value; 0 or CT_EPARSE (empty, garbage, overflow). */
int ct__rapl_parse_uj(const char *text, uint64_t *out);
/* Reads a counter through its open fd. 0, CT_EPARSE (bad contents) or -errno. */
int ct__rapl_read_counter(int fd, uint64_t *out, char *raw, size_t rawlen);
/* Appends "; text" to a reason buffer (bounded). */
void ct__rapl_add_reason(char *buf, size_t len, const char *text);
/* "package-N" or "package-N-die-D": 1 when a package name (numbers -1 when unknown). */
int ct__rapl_parse_package_name(const char *name, int *pkg, int *die);
/* Collects the intel-rapl:* zone directories under root (flat and nested). */
int ct__rapl_scan_root(const char *root, ct_rapl_cand_list *l, char *why, size_t whylen);
/* Drops zones that mirror another zone's counter (multi-die AMD). */
void ct__rapl_drop_mirrors(ct_rapl_zone *z, int *n, const ct__source_ctx *ctx);
/* Sorts the zones into device order and names them ("cpu:0", "dram:1", ...). */
void ct__rapl_name_devices(ct_rapl_zone *z, int n);
/* Highest plausible power of a zone, W (twice its constraint max power, else the guard power). */
double ct__rapl_zone_max_power_w(const char *zone_path);
/* Longest time between reads that keeps every zone's wrap visible, s. */
double ct__rapl_max_interval(const ct_rapl_zone *z, int n);

#endif /* CT_RAPL_ZONES_H */
