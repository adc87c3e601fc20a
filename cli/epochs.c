/*
 * epochs.c - epoch boundaries from the command's output.
 *
 * The output is cut into lines at \n and at \r (tqdm, Lightning and Keras
 * redraw their bars with \r), ANSI escape codes are left out, and each line
 * is matched against the start and end rules: the user's --epoch-pattern /
 * --epoch-end-pattern, or a framework preset (--epoch-preset).
 *
 * A rule's first parenthesised group, when it has one, names the epoch: a
 * new epoch starts only when the name changes, so a bar redrawn fifty times
 * ("Epoch 2:  40%|...", "Epoch 2:  42%|...") or Keras's two lines per epoch
 * ("Epoch 3/10", "Epoch 3: val_loss improved ...") count once. The
 * transformers preset reads the float "'epoch': 1.25" of the Trainer's log
 * lines instead: its integer part is the number of epochs completed.
 *
 * Epochs beyond --epochs are counted and reported (the tracker's results
 * cover the first --epochs of them; the whole run is measured alongside), as
 * is output in which no line matched at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "wrap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct preset {
    const char *name;
    const char *start; /* start rule (group: the epoch's number) */
    const char *end;   /* end rule */
    int end_is_count;  /* the end rule's group counts completed epochs */
    const char *looks_like;
} preset;

/* Each from recordings of the framework's real output: tests/fixtures/frameworks/. */
static const preset presets[] = {
    /* "Epoch 3/10" starts epoch 3; "Epoch 3: val_loss improved ..." (ModelCheckpoint) is the same one. */
    {"keras", "^Epoch ([0-9]+)/[0-9]+", NULL, 0, "Epoch 3/10"},
    /* tqdm bar "Epoch 2:  40%|####      | 20/50 [...]", redrawn with \r; RichProgressBar "Epoch 2/9 ━━━". */
    {"lightning", "^Epoch ([0-9]+)[:/]", NULL, 0, "Epoch 2: 100%|...| 50/50"},
    /* Trainer log dicts "{'loss': 0.51, 'grad_norm': ..., 'epoch': 1.25}": epochs completed. */
    {"transformers", NULL, "'epoch': ([0-9]+)(\\.[0-9]+)?[,}]", 1, "{'loss': 0.51, ..., 'epoch': 1.0}"},
    /* YOLO "      3/100      6.73G      1.081 ... 640: 100%|...|", a tqdm bar. */
    {"ultralytics", "^ *([0-9]+)/[0-9]+ +[0-9.]+[GM] +[0-9]", NULL, 0, "  3/100  6.73G  1.081 ..."},
};
#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))
#define PRESET_AUTO (-2)

enum { LINE_ENDS_EPOCH = 1, LINE_STARTS_EPOCH = 2 };

const char *epochs_preset_names(void) { return "keras, lightning, transformers, ultralytics, auto"; }

static int compile_rule(wrap_rule *r, const char *pattern, const char *flag) {
    int rc = regcomp(&r->re, pattern, REG_EXTENDED);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &r->re, msg, sizeof msg);
        fprintf(stderr,
                "carbontracker: invalid %s '%s': %s (a POSIX extended regular expression is "
                "expected); the command was not started\n",
                flag, pattern, msg);
        return -1;
    }
    r->set = 1;
    r->has_group = r->re.re_nsub > 0;
    return 0;
}

static void free_rule(wrap_rule *r) {
    if (r->set) regfree(&r->re);
    r->set = 0;
}

static int use_preset(wrap *wr, int k) {
    wrap_epochs *e = &wr->ep;
    free_rule(&e->start);
    free_rule(&e->end);
    e->preset = k;
    e->end_is_count = presets[k].end_is_count;
    if (presets[k].start && compile_rule(&e->start, presets[k].start, "preset") != 0) return -1;
    if (presets[k].end && compile_rule(&e->end, presets[k].end, "preset") != 0) return -1;
    return 0;
}

int epochs_init(wrap *wr, const ct_wrap_opts *w) {
    wrap_epochs *e = &wr->ep;
    memset(e, 0, sizeof *e);
    e->preset = -1;
    e->epochs_flag = w->epochs_flag ? w->epochs_flag : "--epochs";
    if (w->epoch_preset) {
        if (strcmp(w->epoch_preset, "auto") == 0) {
            e->preset = PRESET_AUTO;
            e->pattern_text = "--epoch-preset auto";
            return 0;
        }
        for (int k = 0; k < N_PRESETS; k++)
            if (strcmp(w->epoch_preset, presets[k].name) == 0) {
                e->pattern_text = presets[k].name;
                return use_preset(wr, k);
            }
        fprintf(stderr, "carbontracker: --epoch-preset must be one of %s, got \"%s\"\n", epochs_preset_names(),
                w->epoch_preset);
        return -1;
    }
    if (w->epoch_pattern) {
        if (compile_rule(&e->start, w->epoch_pattern, "--epoch-pattern") != 0) return -1;
        e->pattern_text = w->epoch_pattern;
    }
    if (w->epoch_end_pattern) {
        if (compile_rule(&e->end, w->epoch_end_pattern, "--epoch-end-pattern") != 0) {
            free_rule(&e->start);
            return -1;
        }
        if (!e->pattern_text) e->pattern_text = w->epoch_end_pattern;
    }
    return 0;
}

void epochs_free(wrap *wr) {
    free_rule(&wr->ep.start);
    free_rule(&wr->ep.end);
}

/*
 * ANSI escape codes are not part of the text matched: CSI (ESC [ ... final
 * byte), OSC (ESC ] ... BEL or ESC \) and two-byte ESC x sequences.
 * s->esc: 0 text, 1 after ESC, 2 in CSI, 3 in OSC, 4 ESC within OSC.
 */
void epochs_feed_byte_state(wrap_stream *s, unsigned char c, int *visible) {
    *visible = 0;
    switch (s->esc) {
    case 0:
        if (c == 0x1b) s->esc = 1;
        else *visible = 1;
        return;
    case 1: s->esc = c == '[' ? 2 : c == ']' ? 3 : 0; return;
    case 2:
        if (c >= 0x40 && c <= 0x7e) s->esc = 0;
        return;
    case 3:
        if (c == 0x07) s->esc = 0;
        else if (c == 0x1b) s->esc = 4;
        return;
    default: s->esc = c == '\\' ? 0 : 3; return;
    }
}

/* The group's text (or "" without a group), for a rule that matched. */
static void group_text(const wrap_rule *r, const char *line, const regmatch_t *m, char *out, size_t len) {
    out[0] = '\0';
    if (!r->has_group || m[1].rm_so < 0) return;
    size_t n = (size_t)(m[1].rm_eo - m[1].rm_so);
    if (n >= len) n = len - 1;
    memcpy(out, line + m[1].rm_so, n);
    out[n] = '\0';
    /* "00003" and "3" are the same epoch. */
    char *end;
    long v = strtol(out, &end, 10);
    if (out[0] && !*end) snprintf(out, len, "%ld", v);
}

/* A line still being written (partial) may end inside the epoch's number:
 * "Epoch 1" of "Epoch 10/10". Its group is trusted only when something
 * follows it, else the line waits for more bytes. */
static int group_complete(const wrap_rule *r, const char *line, const regmatch_t *m, int partial) {
    if (!partial || !r->has_group || m[1].rm_so < 0) return 1;
    return line[m[1].rm_eo] != '\0';
}

static int try_rules(wrap *wr, const char *line, int partial) {
    wrap_epochs *e = &wr->ep;
    regmatch_t m[2];
    char id[64];
    int r = 0;
    if (e->end.set && regexec(&e->end.re, line, 2, m, 0) == 0 && group_complete(&e->end, line, m, partial)) {
        if (e->end_is_count) {
            group_text(&e->end, line, m, id, sizeof id);
            long done = strtol(id, NULL, 10);
            if (done > e->seen) {
                e->seen = (int)done;
                r |= LINE_ENDS_EPOCH;
            }
        } else {
            r |= LINE_ENDS_EPOCH;
        }
    }
    if (e->start.set && regexec(&e->start.re, line, 2, m, 0) == 0 && group_complete(&e->start, line, m, partial)) {
        group_text(&e->start, line, m, id, sizeof id);
        if (!e->start.has_group || strcmp(id, e->current_id) != 0) {
            snprintf(e->current_id, sizeof e->current_id, "%s", id);
            e->seen++;
            r |= LINE_STARTS_EPOCH;
        }
    }
    if ((r & LINE_ENDS_EPOCH) && !e->start.set && !e->end_is_count) e->seen++;
    return r;
}

/* Whether a line still being written may be matched already: only when a
 * match cannot count twice, i.e. the rules name their epochs (a group) or
 * count them. A tqdm bar is written as "\rEpoch 3:   0%|...", and its end
 * (the next redraw's \r) can come a whole training step later. */
int epochs_partial_ok(const wrap *wr) {
    const wrap_epochs *e = &wr->ep;
    if (e->preset == PRESET_AUTO) return 1; /* every preset's rules are of that kind */
    if (e->end.set && !e->end_is_count) return 0;
    return (!e->start.set || e->start.has_group) && (e->start.set || e->end.set);
}

static int match_line(wrap *wr, wrap_stream *s, int partial);

/* Matches the line collected in s (\r or \n excluded). */
int epochs_match_line(wrap *wr, wrap_stream *s) { return match_line(wr, s, 0); }

/* The same for a line still being written (see group_complete). */
int epochs_match_partial(wrap *wr, wrap_stream *s) { return match_line(wr, s, 1); }

static int match_line(wrap *wr, wrap_stream *s, int partial) {
    s->line[s->len] = '\0';
    if (s->len == 0) return 0;
    wrap_epochs *e = &wr->ep;
    if (e->preset == PRESET_AUTO) {
        /* The first preset that recognises a line is the framework. */
        for (int k = 0; k < N_PRESETS; k++) {
            regex_t re;
            const char *p = presets[k].start ? presets[k].start : presets[k].end;
            if (regcomp(&re, p, REG_EXTENDED | REG_NOSUB) != 0) continue;
            int hit = regexec(&re, s->line, 0, NULL, 0) == 0;
            regfree(&re);
            if (hit) {
                if (use_preset(wr, k) != 0) return 0;
                wrap_say(wr, "CarbonTracker: epochs are read from %s output (--epoch-preset auto).", presets[k].name);
                if (!e->start.set) epoch_start(wr); /* an end rule: the epoch in progress started (at the latest) now */
                break;
            }
        }
        if (e->preset == PRESET_AUTO) return 0;
    }
    return try_rules(wr, s->line, partial);
}

/* ------------------------------------------------------------------ */
/* Epochs on the tracker.                                              */
/* ------------------------------------------------------------------ */

static void report_error(wrap *wr, const char *what, int rc) {
    if (wr->error_reported || wr->cfg->ignore_errors) return;
    wr->error_reported = 1;
    wrap_say(wr, "carbontracker: %s failed: %s (%s); the command keeps running, tracking has stopped.", what,
             ct_strerror(rc), ct_tracker_message(wr->t));
}

void epoch_start(wrap *wr) {
    if (!wr->t || !wr->tracking || wr->in_epoch || wr->stopping) return;
    wrap_before_print(wr, 0); /* the tracker says nothing when an epoch starts */
    int rc = ct_epoch_start(wr->t);
    wrap_after_print(wr);
    if (rc == 0) {
        wr->in_epoch = 1;
        wr->epochs_started++;
    } else {
        wr->tracking = 0;
        if (rc != CT_ESTOPPED) report_error(wr, "ct_epoch_start", rc);
    }
}

/* Whether ending the next epoch makes the prediction (and so the question of
 * --stop-and-confirm). */
static int prediction_due(const wrap *wr) {
    const ct_config *c = wr->cfg;
    int monitor = c->monitor_epochs == -1 || c->monitor_epochs > c->epochs ? c->epochs : c->monitor_epochs;
    int before = c->epochs_before_pred == -1 ? c->epochs : c->epochs_before_pred;
    if (before > monitor) before = monitor;
    return before > 0 && wr->epochs_ended + 1 == before;
}

/* Whether ending the next epoch ends monitoring (the actual is printed). */
static int last_monitored(const wrap *wr) {
    const ct_config *c = wr->cfg;
    int monitor = c->monitor_epochs == -1 || c->monitor_epochs > c->epochs ? c->epochs : c->monitor_epochs;
    return wr->epochs_ended + 1 >= monitor;
}

void epoch_end(wrap *wr) {
    if (!wr->t || !wr->tracking || !wr->in_epoch) return;
    /* The question waits for the user: the command waits with it, so that
     * what the log records is what ran. */
    int ask = wr->cfg->stop_and_confirm && prediction_due(wr);
    if (ask) spawn_pause(wr);
    /* The tracker prints at the prediction and when monitoring ends (budgets
     * are the tool's): only then is its text given a line of its own. */
    wrap_before_print(wr, wr->cfg->verbose >= 1 && (prediction_due(wr) || last_monitored(wr)));
    int rc = ct_epoch_end(wr->t);
    wrap_after_print(wr);
    wr->in_epoch = 0;
    if (rc == 0 || rc == CT_EBUDGET || rc == CT_EDECLINED) wr->epochs_ended++;
    if (rc == CT_EDECLINED) {
        spawn_stop_child(wr, "continuing was declined after the prediction");
    } else if (rc == CT_ESTOPPED) {
        wr->tracking = 0;
    } else if (rc != 0 && rc != CT_EBUDGET) {
        wr->tracking = 0;
        report_error(wr, "ct_epoch_end", rc);
    }
    if (ask && rc != CT_EDECLINED) spawn_resume(wr);
    budget_check(wr, rc == CT_EBUDGET);
}

static void warn_beyond(wrap *wr) {
    wrap_epochs *e = &wr->ep;
    if (e->warned_beyond || e->seen <= wr->cfg->epochs) return;
    e->warned_beyond = 1;
    wrap_say(wr,
             "CarbonTracker: WARNING - the output shows epoch %d, more than %s %d: the prediction and the actual "
             "consumption cover the first %d epoch(s); the whole run is measured as well and reported at the end.",
             e->seen, e->epochs_flag, wr->cfg->epochs, wr->cfg->epochs);
}

void epochs_apply(wrap *wr, int m) {
    if (m & LINE_ENDS_EPOCH) {
        epoch_end(wr);
        /* With only an end rule the next epoch starts right away, unless
         * all planned epochs are done (then the rest is not an epoch). */
        if (!wr->ep.start.set && wr->epochs_ended < wr->cfg->epochs) epoch_start(wr);
    }
    if (m & LINE_STARTS_EPOCH) {
        epoch_end(wr);
        epoch_start(wr);
    }
    if (m) warn_beyond(wr);
}

/* At the end: epochs the tracker did not see are reported, never dropped. */
void epochs_report(wrap *wr) {
    wrap_epochs *e = &wr->ep;
    if (!wr->piped || !wr->t) return;
    int none = e->seen == 0;
    if (none) {
        if (e->preset == PRESET_AUTO)
            wrap_say(wr,
                     "CarbonTracker: WARNING - no line of the command's output looked like the epochs of %s, so no "
                     "epoch was measured; the whole run is reported below.",
                     epochs_preset_names());
        else if (e->start.set && !e->end.set && e->preset < 0)
            wrap_say(wr,
                     "CarbonTracker: WARNING - no line of the command's output matched --epoch-pattern '%s', so no "
                     "epoch was measured (the pattern is a POSIX extended regular expression matched against each "
                     "line of stdout and stderr, split at \\n and \\r, without ANSI codes); the whole run is "
                     "reported below.",
                     e->pattern_text);
        else
            wrap_say(wr,
                     "CarbonTracker: WARNING - no line of the command's output matched %s%s%s, so no epoch ended "
                     "there; the whole run is reported below.",
                     e->preset >= 0 ? "the epochs of " : "'", e->pattern_text, e->preset >= 0 ? "" : "'");
    } else if (e->seen > wr->cfg->epochs) {
        wrap_say(wr,
                 "CarbonTracker: WARNING - the output showed %d epochs, %s was %d: epochs %d to %d are not in the "
                 "actual consumption above; the whole run is reported below (pass %s %d next time).",
                 e->seen, e->epochs_flag, wr->cfg->epochs, wr->cfg->epochs + 1, e->seen, e->epochs_flag, e->seen);
    } else {
        return;
    }
    ct_result r, tr;
    if (!wr->meter || ct_get_actual(wr->meter, &r) != 0) return;
    /* The carbon intensity the tracker used (live, where it has a key),
     * else the meter's own (offline) one. */
    double co2 = r.co2eq_g;
    if (ct_get_actual(wr->t, &tr) == 0 && tr.energy_kwh > 0 && tr.intensity_g_per_kwh > 0)
        co2 = r.energy_kwh * tr.intensity_g_per_kwh;
    char dur[48], en[48], co[48];
    ct_format_duration(r.duration_s, 0, dur, sizeof dur);
    fmt_energy(r.energy_kwh, en, sizeof en);
    fmt_co2(co2, co, sizeof co);
    wrap_say(wr, "CarbonTracker: the whole run: %s, %s, %s CO2eq.", dur, en, co);
}
