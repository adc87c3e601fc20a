/*
 * gpu_select.c - CUDA_VISIBLE_DEVICES, read as the CUDA runtime reads it, and
 * mapped onto NVML's device list. See gpu_select.h for the rules.
 *
 * Why integers are NVML indices: NVML numbers GPUs in PCI bus order, the CUDA
 * runtime by default "fastest first". They agree on nodes with one GPU model
 * (ties are broken by PCI bus id) and always with CUDA_DEVICE_ORDER=PCI_BUS_ID;
 * the NVML source warns about the other case.
 */
#include "gpu_select.h"

#include "sources/source.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Case-insensitive "does s start with prefix". */
static int has_prefix_ci(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix)) return 0;
    return 1;
}

/* Index of the GPU whose uuid starts with entry (unique), -1 none, -2 ambiguous. */
static int match_gpu_uuid(const char *entry, const ct_gpu_ident *devs, int ndev) {
    int found = -1;
    for (int i = 0; i < ndev; i++) {
        if (!devs[i].uuid || !devs[i].uuid[0] || !has_prefix_ci(devs[i].uuid, entry)) continue;
        if (strlen(entry) == strlen(devs[i].uuid)) return i; /* an exact match wins */
        if (found >= 0) return -2;
        found = i;
    }
    return found;
}

/* Index of the GPU holding the MIG device named by entry, -1 none, -2 ambiguous. */
static int match_mig(const char *entry, const ct_gpu_ident *devs, int ndev) {
    /* Old form "MIG-GPU-<gpu uuid>/<gi>/<ci>": the parent is in the name. */
    if (has_prefix_ci(entry, "MIG-GPU-")) {
        char gpu[128];
        const char *slash = strchr(entry, '/');
        size_t n = slash ? (size_t)(slash - entry) - 4 : strlen(entry) - 4;
        if (!slash || n == 0 || n >= sizeof gpu) return -1;
        memcpy(gpu, entry + 4, n);
        gpu[n] = '\0';
        for (int i = 0; i < ndev; i++)
            if (devs[i].uuid && strlen(devs[i].uuid) == n && has_prefix_ci(devs[i].uuid, gpu)) return i;
        return -1;
    }
    int found = -1;
    for (int i = 0; i < ndev; i++) {
        for (int m = 0; m < devs[i].mig_count; m++) {
            const char *u = devs[i].mig_uuids ? devs[i].mig_uuids[m] : NULL;
            if (!u || !has_prefix_ci(u, entry)) continue;
            if (strlen(u) == strlen(entry)) return i;
            if (found >= 0) return -2;
            found = i;
        }
    }
    return found;
}

/* Parses a plain decimal index; -1 when it is not one. */
static int parse_index(const char *s) {
    if (!*s) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p)) return -1;
        v = v * 10 + (*p - '0');
        if (v > 1000000) return -1;
    }
    return (int)v;
}

int ct__gpu_select(const char *cvd, const ct_gpu_ident *devs, int ndev, int *out, int *mig_named, char *warn,
                   size_t warnlen) {
    int n = 0;
    if (warn && warnlen) warn[0] = '\0';
    if (mig_named) *mig_named = 0;
    if (!cvd) {
        for (int i = 0; i < ndev; i++) out[n++] = i;
        return n;
    }
    const char *p = cvd;
    while (*p) {
        /* Cut the next entry, blanks trimmed. */
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        char entry[160];
        size_t len = (size_t)(b - a);
        int last = (*end == '\0');
        if (len >= sizeof entry) len = sizeof entry - 1;
        memcpy(entry, a, len);
        entry[len] = '\0';
        if (last && len == 0 && n == 0 && p == cvd) return 0; /* "" or blanks: no GPU, no warning */

        int idx;
        const char *why;
        if (has_prefix_ci(entry, "MIG-")) {
            idx = match_mig(entry, devs, ndev);
            why = idx == -2 ? "is an ambiguous MIG id prefix" : "matches no MIG device";
            if (idx >= 0 && mig_named) *mig_named = 1;
        } else if (has_prefix_ci(entry, "GPU-")) {
            idx = match_gpu_uuid(entry, devs, ndev);
            why = idx == -2 ? "is a prefix of more than one GPU UUID" : "matches no GPU UUID";
        } else {
            idx = parse_index(entry);
            if (idx >= ndev) idx = -1;
            why = parse_index(entry) < 0 ? "is not a GPU index, GPU UUID or MIG id" : "is not a GPU index here";
        }
        if (idx < 0) {
            if (warn && warnlen)
                snprintf(warn, warnlen,
                         "CUDA_VISIBLE_DEVICES entry \"%s\" %s (%d GPU%s found by NVML); as in the CUDA runtime, "
                         "it and the entries after it are ignored",
                         entry, why, ndev, ndev == 1 ? "" : "s");
            return n;
        }
        int dup = 0;
        for (int k = 0; k < n; k++) dup |= out[k] == idx;
        if (!dup) out[n++] = idx;
        if (last) break;
        p = end + 1;
    }
    return n;
}
