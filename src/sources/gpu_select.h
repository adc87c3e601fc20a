/*
 * gpu_select.h - which GPUs a process sees: CUDA_VISIBLE_DEVICES as the CUDA
 * runtime reads it, mapped onto NVML's devices. Pure (no I/O), so it is
 * tested with tables. Internal to the library.
 */
#ifndef CT_GPU_SELECT_H
#define CT_GPU_SELECT_H

#include <stddef.h>

/* One physical GPU as NVML enumerates it (NVML index = position in the array). */
typedef struct ct_gpu_ident {
    const char *uuid;             /* "GPU-8f3e...", "" when unknown */
    const char *const *mig_uuids; /* MIG devices on it ("MIG-..."), may be NULL */
    int mig_count;
} ct_gpu_ident;

/*
 * Selects GPUs the way the CUDA runtime reads CUDA_VISIBLE_DEVICES:
 *  - cvd == NULL (unset): every GPU, in NVML order.
 *  - "" or only blanks: no GPU.
 *  - a comma-separated list of entries, each (blanks around it ignored)
 *      a decimal index into NVML's order ("0", "3"),
 *      a GPU UUID or a unique prefix of one ("GPU-8f3e", case-insensitive),
 *      a MIG device UUID ("MIG-<uuid>") or the old MIG form
 *      "MIG-GPU-<gpu uuid>/<gi>/<ci>": selects the physical GPU holding it.
 *    As in the CUDA runtime, the first entry that is malformed or matches no GPU
 *    (or matches more than one, for an ambiguous prefix) ends the list: it and
 *    the entries after it are ignored, and a warning says so.
 *    An entry naming a GPU already selected is skipped (a GPU counts once, also
 *    when two of its MIG slices are named).
 * Writes the selected NVML indices, in list order, to out[0..] (out must hold
 * ndev entries) and returns how many. warn gets "" or a warning for the user.
 * *mig_named is set to 1 when a MIG entry selected a GPU.
 */
int ct__gpu_select(const char *cvd, const ct_gpu_ident *devs, int ndev, int *out, int *mig_named, char *warn,
                   size_t warnlen);

#endif
