/*
 * budget.c - --max-energy-kwh and --max-co2-g against the prediction and the
 * consumption so far: one warning per budget, the first time it is exceeded
 * (by the prediction or by what was used), and with --on-budget stop the
 * command is stopped. The tracker is not given the budgets, so that the user
 * reads one warning, not the library's and the tool's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "wrap_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const budget_name[N_BUDGETS] = {"energy", "CO2eq"};
static const char *const budget_flag[N_BUDGETS] = {"--max-energy-kwh", "--max-co2-g"};

static void fmt_budget(int b, double v, char *buf, size_t len) {
    if (b == 0) fmt_energy(v, buf, len);
    else fmt_co2(v, buf, len);
}

/* Warns once per budget; returns 1 if value exceeds limit. */
static int compare(wrap *wr, int b, int predicted, double value, double limit, int epochs) {
    if (!(limit > 0) || !(value > limit)) return 0;
    if (wr->budget_warned[b]) return 1;
    wr->budget_warned[b] = 1;
    char what[96], v[48], l[48], by[48];
    if (predicted) snprintf(what, sizeof what, "the predicted %s for %d epoch(s)", budget_name[b], epochs);
    else snprintf(what, sizeof what, "the %s used so far", budget_name[b]);
    fmt_budget(b, value, v, sizeof v);
    fmt_budget(b, limit, l, sizeof l);
    fmt_budget(b, value - limit, by, sizeof by);
    wrap_say(wr,
             "CarbonTracker: WARNING - budget exceeded: %s, %s, exceeds the %s budget of %s (%s %g) by %s "
             "(+%.1f %%)%s",
             what, v, budget_name[b], l, budget_flag[b], limit, by, 100.0 * (value - limit) / limit,
             wr->opts->on_budget_stop || wr->child_done ? "." : "; the command goes on (--on-budget warn).");
    return 1;
}

void budget_check(wrap *wr, int lib_said_budget) {
    (void)lib_said_budget;
    if (!wr->t) return;
    const double lim[N_BUDGETS] = {wr->cfg->max_energy_kwh, wr->cfg->max_co2_g};
    if (!(lim[0] > 0) && !(lim[1] > 0)) return;
    int exceeded[N_BUDGETS] = {0, 0};
    ct_result r;
    if (ct_get_predicted(wr->t, &r) == 0) {
        exceeded[0] |= compare(wr, 0, 1, r.energy_kwh, lim[0], r.epochs);
        exceeded[1] |= compare(wr, 1, 1, r.co2eq_g, lim[1], r.epochs);
    }
    double used[N_BUDGETS] = {0, 0};
    if (ct_get_actual(wr->t, &r) == 0) {
        used[0] = r.energy_kwh;
        used[1] = r.co2eq_g;
    }
    ct_status s;
    if (ct_get_status(wr->t, &s) == 0) { /* includes the epoch in progress */
        if (s.energy_kwh > used[0]) used[0] = s.energy_kwh;
        if (s.co2eq_g > used[1]) used[1] = s.co2eq_g;
    }
    exceeded[0] |= compare(wr, 0, 0, used[0], lim[0], 0);
    exceeded[1] |= compare(wr, 1, 0, used[1], lim[1], 0);
    if ((exceeded[0] || exceeded[1]) && wr->opts->on_budget_stop) {
        char why[64];
        snprintf(why, sizeof why, "the %s budget is exceeded", budget_name[exceeded[0] ? 0 : 1]);
        spawn_stop_child(wr, why);
    }
}
