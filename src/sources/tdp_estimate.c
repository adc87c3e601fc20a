/*
 * tdp_estimate.c - CPU energy ESTIMATED from the processor's TDP and the
 * measured CPU utilisation, for machines without readable RAPL counters.
 *
 *   power = TDP per package x packages x utilisation of the interval
 *   energy += power x interval
 *
 * TDP: looked up for the /proc/cpuinfo "model name" in the embedded table
 * data/cpu-tdp.csv (Intel ARK and AMD product pages, compiled by CodeCarbon).
 * Packages: distinct "physical id" values in /proc/cpuinfo (1 when absent).
 * Utilisation: from the aggregate "cpu" line of /proc/stat, differenced
 * between reads: busy = total - idle - iowait. Not a constant 50 %.
 * Root of /proc: env CT_PROC_ROOT (default /proc), so tests build fake trees.
 *
 * Every number from here is an estimate: devices say so (estimated = 1,
 * method "estimate", name "... (estimated)").
 */
#include "sources/source.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TDP_DEFAULT_ROOT "/proc"
/* Unknown model: 85 W per package, the default CodeCarbon uses when a CPU is
 * not in this same table (codecarbon/external/hardware.py, POWER_CONSTANT). */
#define TDP_DEFAULT_W 85.0
#define TDP_MAX_PACKAGES 64
#define TDP_CPUINFO_MAX (16u << 20)
#define TDP_READ_INTERVAL_S 1.0

/* snprintf for messages: truncation of a long path in a message is fine. */
__attribute__((format(printf, 3, 4))) static void fmt(char *buf, size_t len, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Model name normalisation and table lookup                           */
/* ------------------------------------------------------------------ */

/* Lower-cases, drops "(R)", "(TM)", "(C)", the "@ 2.20GHz" tail and the words
 * "cpu", "processor", "intel", "amd"; collapses spaces. Both the /proc name
 * and the table names go through this, so "Intel(R) Xeon(R) Gold 6130 CPU @
 * 2.10GHz" and "Intel Xeon Gold 6130" both become "xeon gold 6130". */
static void normalise_model(const char *in, char *out, size_t outlen) {
    char tmp[256];
    size_t k = 0;
    for (size_t i = 0; in[i] && k + 1 < sizeof tmp; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '@') break; /* frequency tail */
        if (c == '(') {
            const char *marks[] = {"(r)", "(tm)", "(c)"};
            int skipped = 0;
            for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
                size_t ml = strlen(marks[m]);
                if (strncasecmp(in + i, marks[m], ml) == 0) {
                    i += ml - 1;
                    tmp[k++] = ' ';
                    skipped = 1;
                    break;
                }
            }
            if (skipped) continue;
        }
        /* UTF-8 (R) U+00AE = C2 AE, (TM) U+2122 = E2 84 A2 */
        if (c == 0xC2 && (unsigned char)in[i + 1] == 0xAE) {
            i += 1;
            tmp[k++] = ' ';
            continue;
        }
        if (c == 0xE2 && (unsigned char)in[i + 1] == 0x84 && (unsigned char)in[i + 2] == 0xA2) {
            i += 2;
            tmp[k++] = ' ';
            continue;
        }
        tmp[k++] = (char)(isspace(c) ? ' ' : tolower(c));
    }
    tmp[k] = '\0';

    static const char *const drop[] = {"cpu", "processor", "intel", "amd"};
    size_t o = 0;
    if (outlen == 0) return;
    char *save = NULL;
    for (char *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        int skip = 0;
        for (size_t d = 0; d < sizeof drop / sizeof drop[0]; d++)
            if (strcmp(tok, drop[d]) == 0) skip = 1;
        if (skip) continue;
        size_t tl = strlen(tok);
        if (o + tl + (o ? 1 : 0) + 1 > outlen) break;
        if (o) out[o++] = ' ';
        memcpy(out + o, tok, tl);
        o += tl;
    }
    out[o] = '\0';
}

/* Is needle found in hay at word boundaries (space or string ends)? */
static int contains_words(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    if (nl == 0) return 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        int start_ok = p == hay || p[-1] == ' ';
        int end_ok = p[nl] == '\0' || p[nl] == ' ';
        if (start_ok && end_ok) return 1;
    }
    return 0;
}

/* Cheap pre-filter (the table has ~4,900 names; normalising each costs
 * ~1.4 ms in all): a table name's last word survives normalisation as its
 * last token unless it is one of the dropped words or marks, so when it is
 * absent from the wanted name the table name cannot match. */
static int last_token_may_match(const char *name, const char *want) {
    const char *end = name + strlen(name);
    while (end > name && isspace((unsigned char)end[-1])) end--;
    const char *start = end;
    while (start > name && !isspace((unsigned char)start[-1])) start--;
    size_t len = (size_t)(end - start);
    char tok[64];
    if (len == 0 || len >= sizeof tok) return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c == '(' || c == '@' || c >= 0x80) return 1; /* marks: leave to the full comparison */
        tok[i] = (char)tolower(c);
    }
    tok[len] = '\0';
    static const char *const dropped[] = {"cpu", "processor", "intel", "amd"};
    for (size_t d = 0; d < sizeof dropped / sizeof dropped[0]; d++)
        if (strcmp(tok, dropped[d]) == 0) return 1;
    return strstr(want, tok) != NULL;
}

/* Next CSV record of the embedded table: name (quotes handled) and TDP.
 * Returns the position after the record, or NULL at the end. */
static const char *csv_next(const char *p, char *name, size_t namelen, double *tdp, int *ok) {
    *ok = 0;
    if (!p || !*p) return NULL;
    size_t k = 0;
    if (*p == '"') {
        p++;
        while (*p) {
            if (*p == '"') {
                if (p[1] == '"') {
                    if (k + 1 < namelen) name[k++] = '"';
                    p += 2;
                    continue;
                }
                p++;
                break;
            }
            if (k + 1 < namelen) name[k++] = *p;
            p++;
        }
    } else {
        while (*p && *p != ',' && *p != '\n' && *p != '\r') {
            if (k + 1 < namelen) name[k++] = *p;
            p++;
        }
    }
    name[k] = '\0';
    if (*p == ',') {
        p++;
        char *end;
        double v = strtod(p, &end);
        if (end != p && v > 0 && v < 10000) {
            *tdp = v;
            *ok = 1;
        }
        p = end;
    }
    while (*p && *p != '\n') p++;
    if (*p == '\n') p++;
    return p;
}

int ct__cpu_tdp_lookup(const char *model, double *tdp_w, char *matched, size_t mlen) {
    if (!model || !tdp_w) return CT_EINVAL;
    char want[256];
    normalise_model(model, want, sizeof want);
    if (want[0] == '\0') return CT_ENODATA;

    /* 1. exact (normalised, case-insensitive) name; 2. the longest table
     * name contained in the model at word boundaries ("AMD EPYC 7763" in
     * "AMD EPYC 7763 64-Core Processor"). */
    const char *p = ct__data_cpu_tdp_csv;
    char name[256], norm[256];
    double tdp = 0, best_tdp = 0;
    size_t best_len = 0;
    char best_name[256] = "";
    int ok;
    /* skip the header line */
    while (*p && *p != '\n') p++;
    if (*p) p++;
    while ((p = csv_next(p, name, sizeof name, &tdp, &ok)) != NULL) {
        if (!ok || !last_token_may_match(name, want)) continue;
        normalise_model(name, norm, sizeof norm);
        if (norm[0] == '\0') continue;
        if (strcmp(norm, want) == 0) {
            *tdp_w = tdp;
            if (matched && mlen) ct__strlcpy(matched, name, mlen);
            return 0;
        }
        size_t nl = strlen(norm);
        if (nl > best_len && contains_words(want, norm)) {
            best_len = nl;
            best_tdp = tdp;
            ct__strlcpy(best_name, name, sizeof best_name);
        }
    }
    if (best_len == 0) return CT_ENODATA;
    *tdp_w = best_tdp;
    if (matched && mlen) ct__strlcpy(matched, best_name, mlen);
    return 0;
}

/* ------------------------------------------------------------------ */
/* /proc parsing                                                        */
/* ------------------------------------------------------------------ */

typedef struct cpu_times {
    uint64_t total, busy;
} cpu_times;

/* Parses the aggregate "cpu " line (the first line of /proc/stat):
 * user nice system idle [iowait irq softirq steal [guest guest_nice]].
 * total = user..steal (guest time is already inside user and nice);
 * busy = total - idle - iowait. 0 or CT_EPARSE with a reason. */
static int parse_stat(const char *text, cpu_times *out, char *why, size_t whylen) {
    if (strncmp(text, "cpu ", 4) != 0) {
        fmt(why, whylen, "does not start with the aggregate \"cpu\" line");
        return CT_EPARSE;
    }
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t)(nl - text) : strlen(text);
    char line[512];
    if (len >= sizeof line) {
        fmt(why, whylen, "the \"cpu\" line is too long");
        return CT_EPARSE;
    }
    memcpy(line, text, len);
    line[len] = '\0';
    uint64_t v[10] = {0};
    int n = 0;
    char *save = NULL;
    strtok_r(line, " \t", &save); /* "cpu" */
    for (char *tok = strtok_r(NULL, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (n >= 10) break;
        if (ct__parse_u64(tok, &v[n]) != 0) {
            fmt(why, whylen, "field %d of the \"cpu\" line is not a number: \"%.40s\"", n + 1, tok);
            return CT_EPARSE;
        }
        n++;
    }
    if (n < 4) {
        fmt(why, whylen, "the \"cpu\" line has %d fields, at least 4 are needed", n);
        return CT_EPARSE;
    }
    uint64_t total = 0;
    for (int i = 0; i < n && i < 8; i++) {
        if (UINT64_MAX - total < v[i]) {
            fmt(why, whylen, "the \"cpu\" line overflows");
            return CT_EPARSE;
        }
        total += v[i];
    }
    uint64_t idle = v[3] + (n > 4 ? v[4] : 0);
    if (idle > total) idle = total;
    out->total = total;
    out->busy = total - idle;
    return 0;
}

/* First "model name" and the number of distinct "physical id" values. */
static void parse_cpuinfo(const char *text, char *model, size_t mlen, int *packages) {
    int ids[TDP_MAX_PACKAGES];
    int nids = 0;
    model[0] = '\0';
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (colon) {
            size_t klen = (size_t)(colon - line);
            while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t')) klen--;
            const char *val = colon + 1;
            while (val < line + len && (*val == ' ' || *val == '\t')) val++;
            size_t vlen = (size_t)(line + len - val);
            while (vlen > 0 && isspace((unsigned char)val[vlen - 1])) vlen--;
            if (klen == 10 && strncmp(line, "model name", 10) == 0 && model[0] == '\0' && vlen > 0) {
                size_t c = vlen < mlen - 1 ? vlen : mlen - 1;
                memcpy(model, val, c);
                model[c] = '\0';
            } else if (klen == 11 && strncmp(line, "physical id", 11) == 0 && vlen > 0 && vlen < 12) {
                char num[16];
                memcpy(num, val, vlen);
                num[vlen] = '\0';
                uint64_t id;
                if (ct__parse_u64(num, &id) == 0 && id < 1000000) {
                    int seen = 0;
                    for (int i = 0; i < nids; i++)
                        if (ids[i] == (int)id) seen = 1;
                    if (!seen && nids < TDP_MAX_PACKAGES) ids[nids++] = (int)id;
                }
            }
        }
        line = end ? end + 1 : NULL;
    }
    *packages = nids > 0 ? nids : 1;
}

/* ------------------------------------------------------------------ */
/* ops                                                                  */
/* ------------------------------------------------------------------ */

typedef struct tdp_state {
    int stat_fd;
    char stat_path[1024];
    double power_full_w;   /* TDP x packages: the power at 100 % utilisation */
    double tdp_w;
    int packages;
    int known_model;
    char dev_name[64];
    /* Integration anchor: the last read at which the tick counters moved. */
    double anchor_t;
    cpu_times anchor_ticks;
    double anchor_energy_j;
    double last_util;      /* utilisation of the last measured interval */
    double last_out_j;     /* last value returned (cumulative, never decreases) */
    int lost;
    void (*notice)(void *user, int level, const char *msg);
    void *notice_user;
} tdp_state;

static int read_stat(tdp_state *s, cpu_times *out, char *why, size_t whylen) {
    char buf[1024];
    ssize_t r;
    do {
        r = pread(s->stat_fd, buf, sizeof buf - 1, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        fmt(why, whylen, "cannot read %s: %s", s->stat_path, strerror(errno));
        return CT_EIO;
    }
    buf[r] = '\0';
    if (r == 0) {
        fmt(why, whylen, "%s is empty", s->stat_path);
        return CT_EPARSE;
    }
    if (!memchr(buf, '\n', (size_t)r) && (size_t)r == sizeof buf - 1) {
        fmt(why, whylen, "%s: the first line is too long", s->stat_path);
        return CT_EPARSE;
    }
    char detail[256];
    if (parse_stat(buf, out, detail, sizeof detail) != 0) {
        fmt(why, whylen, "%s is malformed: %s", s->stat_path, detail);
        return CT_EPARSE;
    }
    return 0;
}

static int tdp_open(const ct__source_ctx *ctx, void **state, char *why, size_t whylen) {
    *state = NULL;
    if (why && whylen) why[0] = '\0';
    const char *root = ct__getenv("CT_PROC_ROOT");
    if (!root) root = TDP_DEFAULT_ROOT;

    tdp_state *s = calloc(1, sizeof *s);
    if (!s) {
        fmt(why, whylen, "TDP estimate: out of memory");
        return CT_ENOMEM;
    }
    s->stat_fd = -1;
    fmt(s->stat_path, sizeof s->stat_path, "%s/stat", root);
    s->stat_fd = open(s->stat_path, O_RDONLY | O_CLOEXEC);
    if (s->stat_fd < 0) {
        fmt(why, whylen, "TDP estimate: cannot open %s (%s), so CPU utilisation is unknown", s->stat_path,
                 strerror(errno));
        free(s);
        return CT_ENOSOURCE;
    }
    char detail[CT__MSG_LEN];
    int rc = read_stat(s, &s->anchor_ticks, detail, sizeof detail);
    if (rc) {
        fmt(why, whylen, "TDP estimate: %s", detail);
        close(s->stat_fd);
        free(s);
        return rc;
    }

    char path[1100];
    fmt(path, sizeof path, "%s/cpuinfo", root);
    char *info = NULL;
    size_t infolen = 0;
    char model[256] = "";
    int packages = 1;
    int info_rc = ct__read_file(path, TDP_CPUINFO_MAX, &info, &infolen);
    if (info_rc == 0 && info) parse_cpuinfo(info, model, sizeof model, &packages);
    free(info);

    char matched[256] = "";
    double tdp = 0;
    if (model[0] && ct__cpu_tdp_lookup(model, &tdp, matched, sizeof matched) == 0) {
        s->known_model = 1;
        s->tdp_w = tdp;
    } else {
        s->tdp_w = TDP_DEFAULT_W;
    }
    s->packages = packages;
    s->power_full_w = s->tdp_w * packages;
    /* No '.' or ',' in the name: the original's log parser splits device lists there. */
    if (packages == 1)
        fmt(s->dev_name, sizeof s->dev_name, "cpu:0 (estimated)");
    else
        fmt(s->dev_name, sizeof s->dev_name, "cpu:0-%d (estimated)", packages - 1);
    s->anchor_t = ct__monotonic_s();
    s->last_util = 0;
    if (ctx) {
        s->notice = ctx->notice;
        s->notice_user = ctx->user;
    }
    if (s->notice) {
        char msg[2 * CT__MSG_LEN];
        if (s->known_model)
            fmt(msg, sizeof msg,
                     "CPU energy is estimated, not measured: TDP %g W (\"%s\" in the CodeCarbon CPU table, "
                     "for \"%.250s\") x %d package(s) x CPU utilisation from %.500s",
                     s->tdp_w, matched, model, packages, s->stat_path);
        else
            fmt(msg, sizeof msg,
                     "CPU energy is estimated, not measured: CPU model \"%.250s\" is not in the TDP table, so the "
                     "default of %g W per package (CodeCarbon's default) x %d package(s) x CPU utilisation "
                     "from %.500s is used",
                     model[0] ? model : (info_rc ? "unknown (no readable cpuinfo)" : "unknown"), s->tdp_w,
                     packages, s->stat_path);
        s->notice(s->notice_user, s->known_model ? 0 : 1, msg);
    }
    *state = s;
    return 0;
}

static int tdp_device_count(void *state) { return state ? 1 : 0; }

static void tdp_describe(void *state, int index, ct_device_desc *out) {
    const tdp_state *s = state;
    if (!s || !out || index != 0) return;
    memset(out, 0, sizeof *out);
    out->component = CT_COMPONENT_CPU;
    ct__strlcpy(out->name, s->dev_name, sizeof out->name);
    ct__strlcpy(out->method, "estimate", sizeof out->method);
    ct__strlcpy(out->source, "tdp", sizeof out->source);
    out->estimated = 1;
    out->lost = s->lost;
}

/*
 * Integration. Tick counters move in 10 ms steps per CPU; when they have
 * moved since the anchor (always, in practice, for reads >= 10 ms apart),
 * the interval [anchor, now] is committed with its own utilisation and the
 * anchor moves to now. When they have not moved, the value returned is
 * provisional (last utilisation x time since the anchor) and nothing is
 * committed, so the next interval with ticks gets its true utilisation over
 * its whole length. Returned values never decrease.
 */
static int tdp_read(void *state, double now_s, double *energy_j) {
    tdp_state *s = state;
    if (!s) return CT_EINVAL;
    if (s->lost) {
        energy_j[0] = s->last_out_j;
        return CT_EIO;
    }
    cpu_times cur;
    char why[CT__MSG_LEN];
    int rc = read_stat(s, &cur, why, sizeof why);
    if (rc) {
        s->lost = 1;
        if (s->notice) {
            char msg[CT__MSG_LEN + 128];
            fmt(msg, sizeof msg, "TDP estimate stopped: %s; the CPU energy so far (%.6f J) is kept", why,
                     s->last_out_j);
            s->notice(s->notice_user, 1, msg);
        }
        energy_j[0] = s->last_out_j;
        return CT_EIO;
    }
    double dt = now_s - s->anchor_t;
    if (dt < 0) dt = 0;
    double e;
    if (cur.total > s->anchor_ticks.total && cur.busy >= s->anchor_ticks.busy) {
        double util = (double)(cur.busy - s->anchor_ticks.busy) / (double)(cur.total - s->anchor_ticks.total);
        if (util > 1) util = 1;
        e = s->anchor_energy_j + s->power_full_w * util * dt;
        s->anchor_energy_j = e;
        s->anchor_t = now_s > s->anchor_t ? now_s : s->anchor_t;
        s->anchor_ticks = cur;
        s->last_util = util;
    } else {
        if (cur.total < s->anchor_ticks.total || cur.busy < s->anchor_ticks.busy) {
            /* counters went backwards (not a real kernel): restart from here */
            s->anchor_ticks = cur;
            s->anchor_t = now_s > s->anchor_t ? now_s : s->anchor_t;
            s->anchor_energy_j = s->last_out_j;
            e = s->last_out_j;
        } else {
            e = s->anchor_energy_j + s->power_full_w * s->last_util * dt;
        }
    }
    if (e < s->last_out_j) e = s->last_out_j;
    s->last_out_j = e;
    energy_j[0] = e;
    return 0;
}

static double tdp_max_read_interval(void *state) {
    (void)state;
    return TDP_READ_INTERVAL_S;
}

static void tdp_close(void *state) {
    tdp_state *s = state;
    if (!s) return;
    if (s->stat_fd >= 0) close(s->stat_fd);
    free(s);
}

const ct__source_ops ct__source_tdp = {
    "tdp", CT_COMPONENT_CPU, tdp_open, tdp_device_count, tdp_describe, tdp_read, tdp_max_read_interval,
    tdp_close,
};
