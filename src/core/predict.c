/* The prediction of the whole training from the epochs measured so far.
 * Pure arithmetic, no I/O (tests/test_accounting.c). The tracker calls
 * ct__prediction_compute once, after epochs_before_pred epochs; a better
 * predictor replaces its body and keeps its signature. */
#include "core/core.h"

#include <string.h>

double ct__predict_total(double sum_measured, int measured, int total) {
    if (measured <= 0) return 0.0;
    return sum_measured / (double)measured * (double)total;
}

void ct__prediction_compute(const ct__epoch_rec *epochs, int nepochs, const ct_result *actual, int total_epochs,
                            double pue, ct_result *out) {
    (void)epochs; /* the linear model needs only the totals */
    memset(out, 0, sizeof *out);
    out->epochs = total_epochs;
    out->duration_s = ct__predict_total(actual->duration_s, nepochs, total_epochs);
    for (int c = 0; c < CT_COMPONENT_COUNT; c++) {
        out->energy_j[c] = ct__predict_total(actual->energy_j[c], nepochs, total_epochs);
        out->has_component[c] = actual->has_component[c];
        out->estimated[c] = actual->estimated[c];
    }
    out->energy_kwh = ct__energy_kwh(out->energy_j, pue);
}

void ct__prediction_add_co2(ct_result *p, const ct_result *actual, double g_per_kwh, ct_intensity_kind kind,
                            const char *source) {
    double remaining_kwh = p->energy_kwh - actual->energy_kwh;
    p->co2eq_g = actual->co2eq_g + (remaining_kwh > 0 ? remaining_kwh * g_per_kwh : 0);
    p->intensity_g_per_kwh = p->energy_kwh > 0 ? p->co2eq_g / p->energy_kwh : g_per_kwh;
    p->intensity_kind = kind;
    ct__strlcpy(p->intensity_source, source ? source : "", sizeof p->intensity_source);
}
