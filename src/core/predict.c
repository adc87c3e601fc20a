/* The prediction of the whole training from the epochs measured so far.
 * Pure arithmetic, no I/O (tests/test_accounting.c). */
#include "core/core.h"

double ct__predict_total(double sum_measured, int measured, int total) {
    if (measured <= 0) return 0.0;
    return sum_measured / (double)measured * (double)total;
}
