/* counters.c - live per-device counters and the current carbon intensity
 * for exporters: ct_get_device_energy, ct_get_intensity_now. Getters of the
 * tracker, so they live in the core beside it. */
#include "core/tracker_impl.h"

#include <string.h>

int ct_get_device_energy(const ct_tracker *t, int index, double *energy_j) {
    if (!t || !energy_j) return ct__fail(CT_EINVAL, "ct_get_device_energy: no tracker or no output");
    if (index < 0 || index >= t->ndev)
        return ct__fail(CT_ENODATA, "no device at index %d (%d measured)", index, t->ndev);
    pthread_mutex_lock(t->lock);
    /* The sources count from 0 at their opening (ct_tracker_new), wraps absorbed. */
    *energy_j = t->cum_j[index];
    pthread_mutex_unlock(t->lock);
    return 0;
}

int ct_get_intensity_now(const ct_tracker *t, double *g_per_kwh, ct_intensity_kind *kind, char *source,
                         size_t source_len) {
    if (!t || !g_per_kwh) return ct__fail(CT_EINVAL, "ct_get_intensity_now: no tracker or no output");
    ct__intensity_value iv;
    pthread_mutex_lock(t->lock);
    ct__intensity_now(t->intensity, t->t0_unix + (ct__monotonic_s() - t->t0_mono), &iv);
    pthread_mutex_unlock(t->lock);
    *g_per_kwh = iv.g_per_kwh;
    if (kind) *kind = iv.kind;
    if (source && source_len) ct__strlcpy(source, iv.source, source_len);
    return 0;
}
