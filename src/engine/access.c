/*
 * access.c — the access decision: is this SIM, in this device, in this
 * place, on this radio, allowed a data session?  (Issue "Access plane I".)
 *
 * The rules run in a fixed order — unknown SIM, inactive SIM, APN
 * credential, IMEI lock (with TAC allow-list), location lock, radio type,
 * roaming, attach storm — and every violation becomes a finding with its
 * evidence.  The group's response rules (engine/policy.c) then say which
 * findings reject and which only alert; the first rejecting finding is the
 * reason given to the NAS.  All findings of a request are recorded, not
 * only the first, so an operator sees the whole picture.
 *
 * Runs on the RADIUS workers: no allocation, no I/O (findings go to the
 * journal queue), no secrets in evidence.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/ident.h"
#include "core/jsonw.h"
#include "engine/engine.h"
#include "radius/crypto.h"

struct ctx {
    struct engine *e;
    const struct access_nas *nas;
    const struct access_request *rq;
    const struct policy *pol;
    const struct sim_view *sim;     /* NULL for an unknown SIM */
    struct access_decision *d;
    const char *imsi;
};

static void uli_json(struct jsonw *w, const struct gpp_uli *u)
{
    char plmn[8];
    gpp_plmn_format(&u->plmn, plmn);
    jsonw_str(w, "plmn", plmn);
    switch (u->type) {
    case GPP_ULI_CGI: jsonw_str(w, "uli_type", "CGI"); break;
    case GPP_ULI_SAI: jsonw_str(w, "uli_type", "SAI"); break;
    case GPP_ULI_RAI: jsonw_str(w, "uli_type", "RAI"); break;
    case GPP_ULI_TAI: jsonw_str(w, "uli_type", "TAI"); break;
    case GPP_ULI_ECGI: jsonw_str(w, "uli_type", "ECGI"); break;
    default: jsonw_str(w, "uli_type", "TAI+ECGI"); break;
    }
    jsonw_int(w, "area", gpp_uli_area(u));
    jsonw_int(w, "cell", gpp_uli_cell(u));
}

/*
 * Record a finding: decide its actions from the policy, count it, queue it
 * for the store and the event log.  `extra` adds kind-specific evidence.
 */
static void finding(struct ctx *c, int kind, void (*extra)(struct jsonw *, const void *),
                    const void *arg)
{
    char evidence[JOURNAL_EVIDENCE_MAX];
    struct jsonw w;

    jsonw_init(&w, evidence, sizeof evidence);
    jsonw_open(&w);
    jsonw_str(&w, "imsi", c->imsi);
    jsonw_str(&w, "nas", c->nas->name);
    const struct gpp_info *g = &c->rq->gpp;
    if (g->has & GPP_HAS_IMEISV)
        jsonw_str(&w, "imeisv", g->imeisv);
    if (g->has & GPP_HAS_RAT)
        jsonw_str(&w, "rat", gpp_rat_name(g->rat));
    if (g->has & GPP_HAS_ULI)
        uli_json(&w, &g->uli);
    else if (g->has & GPP_HAS_SGSN_MCC_MNC) {
        char plmn[8];
        gpp_plmn_format(&g->sgsn_plmn, plmn);
        jsonw_str(&w, "plmn", plmn);
    }
    if (extra)
        extra(&w, arg);
    jsonw_close(&w);
    jsonw_finish(&w);

    struct engine_finding f = {
        .kind = kind, .severity = (int)finding_kind_severity(kind), .pol = c->pol,
        .sim = c->sim, .tenant_id = c->sim ? c->sim->tenant_id : c->nas->tenant_id,
        .subject = c->sim ? c->sim->iccid : c->imsi, .evidence = evidence,
        .now_ms = c->rq->now_ms, .t0_ns = c->rq->t0_ns,
    };
    unsigned acts = engine_raise(c->e, &f);

    struct access_decision *d = c->d;
    if (d->nfindings < ACCESS_MAX_FINDINGS)
        d->findings[d->nfindings++] = (uint8_t)kind;
    if ((acts & ACT_REJECT) && d->accept) {
        d->accept = 0;
        d->reason = kind;
    }
}

static void ev_state(struct jsonw *w, const void *arg)
{
    jsonw_str(w, "state", sim_state_name(*(const int *)arg));
}

struct imei_pair {
    uint64_t bound, seen;
    const char *other_iccid;
};

static void fmt_imei(uint64_t v, char out[15])
{
    snprintf(out, 15, "%014llu", (unsigned long long)v);
}

static void ev_imei(struct jsonw *w, const void *arg)
{
    const struct imei_pair *p = arg;
    char a[15], b[15];
    fmt_imei(p->bound, a);
    fmt_imei(p->seen, b);
    jsonw_str(w, "bound_imei", a);
    jsonw_str(w, "seen_imei", b);
    if (p->other_iccid)
        jsonw_str(w, "bound_to_iccid", p->other_iccid);
}

static void ev_tac(struct jsonw *w, const void *arg)
{
    char tac[9];
    snprintf(tac, sizeof tac, "%08u", *(const uint32_t *)arg);
    jsonw_str(w, "tac", tac);
}

static void ev_text(struct jsonw *w, const void *arg)
{
    jsonw_str(w, "reason", arg);
}

static void ev_sv(struct jsonw *w, const void *arg)
{
    const int *sv = arg;
    jsonw_int(w, "previous_sv", sv[0]);
    jsonw_int(w, "sv", sv[1]);
}

static void ev_storm(struct jsonw *w, const void *arg)
{
    const uint32_t *v = arg;
    jsonw_int(w, "requests", v[0]);
    jsonw_int(w, "window_seconds", v[1]);
    jsonw_int(w, "max_requests", v[2]);
}

static void ev_home(struct jsonw *w, const void *arg)
{
    char plmn[8];
    gpp_plmn_format(arg, plmn);
    jsonw_str(w, "home_plmn", plmn);
}

static void queue_simple(struct engine *e, int type, const struct sim_view *s,
                         const char *imei14, uint8_t sv, int64_t now_ms)
{
    struct journal_msg m;
    memset(&m, 0, offsetof(struct journal_msg, evidence));
    m.evidence[0] = '\0';
    m.type = (uint8_t)type;
    m.sim_id = s->id;
    m.tenant_id = s->tenant_id;
    m.ts_ms = now_ms;
    m.sv = sv;
    snprintf(m.imei, sizeof m.imei, "%s", imei14);
    snprintf(m.subject, sizeof m.subject, "%s", s->iccid);
    (void)journal_push(e->journal, &m);
}

/* APN credential (PAP or CHAP) when the policy sets one. */
static void check_credential(struct ctx *c)
{
    const struct policy *p = c->pol;
    const struct access_request *rq = c->rq;
    if (!p->cred_password)
        return;
    if (p->cred_user) {
        size_t ul = strlen(p->cred_user);
        if (!rq->user_name || rq->user_name_len != ul ||
            !radius_ct_equal(rq->user_name, p->cred_user, ul)) {
            finding(c, FK_CREDENTIAL_FAILURE, ev_text, "user name");
            return;
        }
    }
    size_t pl = strlen(p->cred_password);
    int ok = 0;
    if (rq->has_pap) {
        size_t got = strlen(rq->password);
        /* Compare the full policy length in constant time; the length
         * check itself only reveals the length, which PAP padding hides. */
        ok = got == pl && radius_ct_equal(rq->password, p->cred_password, pl);
    } else if (rq->has_chap) {
        ok = radius_chap_check(rq->chap, rq->chap_challenge, rq->chap_challenge_len,
                               p->cred_password, pl);
    }
    if (!ok)
        finding(c, FK_CREDENTIAL_FAILURE, ev_text,
                rq->has_pap ? "PAP password" : rq->has_chap ? "CHAP response" : "no password");
}

static void check_imei(struct ctx *c)
{
    const struct policy *p = c->pol;
    const struct gpp_info *g = &c->rq->gpp;
    const struct sim_view *s = c->sim;

    if (!(g->has & GPP_HAS_IMEISV)) {
        /* Without an IMEI nothing can be verified: refuse only when a
         * binding exists to verify against or the lock is enforcing. */
        if (p->imei_mode == MODE_ENFORCE || (p->imei_mode == MODE_LEARN && s->bound))
            finding(c, FK_IMEI_MISSING, NULL, NULL);
        return;
    }
    /* Compare TAC + serial (14 digits) only; the SV digits are firmware. */
    uint64_t seen;
    char imei14[15];
    memcpy(imei14, g->imeisv, 14);
    imei14[14] = '\0';
    (void)ident_digits_u64(imei14, 14, &seen);

    /* Who owned this device before this request (learning may bind it). */
    char owner[16];
    int owned_by_other = simtab_imei_owner(c->e->sims, seen, owner) == 0 &&
                         strcmp(owner, c->imsi) != 0;

    int mismatch = 0;
    if (s->bound && s->imei != seen) {
        struct imei_pair pr = { s->imei, seen, NULL };
        finding(c, FK_IMEI_MISMATCH, ev_imei, &pr);
        mismatch = 1;
    } else if (!s->bound && p->imei_mode == MODE_LEARN) {
        uint64_t cur;
        int r = simtab_learn_imei(c->e->sims, c->imsi, strlen(c->imsi), seen, &cur);
        if (r == 1) {
            queue_simple(c->e, JM_BIND_IMEI, s, imei14, 0, c->rq->now_ms);
        } else if (r == -EEXIST) {
            /* Another request bound a different IMEI a moment ago. */
            struct imei_pair pr = { cur, seen, NULL };
            finding(c, FK_IMEI_MISMATCH, ev_imei, &pr);
            mismatch = 1;
        }
    } else if (!s->bound && p->imei_mode == MODE_ENFORCE) {
        /* Enforcing with nothing to enforce against: refuse rather than
         * admit any device; bind one by import or use `learn`. */
        finding(c, FK_IMEI_MISMATCH, ev_text, "no IMEI bound to this SIM");
        mismatch = 1;
    }

    /* The device model (TAC), checked after the binding so that a SIM in a
     * foreign device is reported as the SIM swap it is. */
    if (p->ntacs) {
        uint32_t tac = (uint32_t)(seen / 1000000);
        if (!policy_has_u32(p->tacs, p->ntacs, tac))
            finding(c, FK_TAC_NOT_ALLOWED, ev_tac, &tac);
    }

    /* A device bound to another SIM shows up with this one. */
    if (owned_by_other) {
        struct sim_view other;
        if (simtab_get(c->e->sims, owner, strlen(owner), &other) == 0 &&
            other.tenant_id == s->tenant_id) {
            struct imei_pair pr = { seen, seen, other.iccid };
            finding(c, FK_DEVICE_SIM_CHANGED, ev_imei, &pr);
        }
    }

    /* Software version: the digits after the 14 (IMEISV: 2 digits).  Only
     * for the SIM's own device: a foreign device's version says nothing
     * about the bound one's firmware. */
    if (g->imeisv_len == 16 && !mismatch) {
        int sv = (g->imeisv[14] - '0') * 10 + (g->imeisv[15] - '0');
        if (sv != s->last_sv) {
            int prev = simtab_set_sv(c->e->sims, c->imsi, strlen(c->imsi), (uint8_t)sv);
            if (prev >= 0 && prev != SIM_SV_UNKNOWN && prev != sv) {
                int pair[2] = { prev, sv };
                finding(c, FK_SOFTWARE_VERSION_CHANGED, ev_sv, pair);
            }
            if (prev != sv)
                queue_simple(c->e, JM_SV, s, imei14, (uint8_t)sv, c->rq->now_ms);
        }
    }
}

/* Where the SIM is: ULI first (it names the serving cell), else SGSN PLMN. */
static const struct gpp_plmn *visited_plmn(const struct gpp_info *g)
{
    if (g->has & GPP_HAS_ULI)
        return &g->uli.plmn;
    if (g->has & GPP_HAS_SGSN_MCC_MNC)
        return &g->sgsn_plmn;
    return NULL;
}

static void check_location(struct ctx *c)
{
    const struct gpp_info *g = &c->rq->gpp;
    int uli = (g->has & GPP_HAS_ULI) != 0;
    const char *why = policy_location_violation(c->pol, visited_plmn(g), uli,
                                                uli ? gpp_uli_area(&g->uli) : 0,
                                                uli ? gpp_uli_cell(&g->uli) : 0);
    if (why)
        finding(c, FK_LOCATION_NOT_ALLOWED, ev_text, why);
}

static void check_rat(struct ctx *c)
{
    const struct gpp_info *g = &c->rq->gpp;
    const char *why = policy_rat_violation(c->pol, (g->has & GPP_HAS_RAT) ? g->rat : -1);
    if (why)
        finding(c, FK_RAT_NOT_ALLOWED, ev_text, why);
}

/*
 * Roaming: the visited network differs from the SIM's home network.  Home
 * is 3GPP-IMSI-MCC-MNC when the GGSN sends it, else the policy's
 * home_plmns matched against the IMSI's leading digits.
 */
static void check_roaming(struct ctx *c)
{
    const struct policy *p = c->pol;
    const struct gpp_info *g = &c->rq->gpp;
    const struct gpp_plmn *v = visited_plmn(g);
    struct gpp_plmn home;
    int have_home = 0;

    if (p->roaming_mode == MODE_OFF || !v)
        return;
    if (g->has & GPP_HAS_IMSI_MCC_MNC) {
        home = g->imsi_plmn;
        have_home = 1;
    } else {
        for (uint32_t i = 0; i < p->nhome; i++) {
            char d[8];
            gpp_plmn_format(&p->home[i], d);
            if (strncmp(c->imsi, d, strlen(d)) == 0) {
                home = p->home[i];
                have_home = 1;
                break;
            }
        }
    }
    if (!have_home)
        return;
    if (!gpp_plmn_equal(&home, v) && !policy_has_plmn(p->home, p->nhome, v))
        finding(c, FK_ROAMING, ev_home, &home);
}

/* simtab_window_fn: the attach-storm window of a SIM's group. */
static uint32_t storm_window(void *ctx, uint32_t group_id)
{
    const struct policy *p = engine_policy_of(ctx, group_id);
    return p->storm_max ? p->storm_window : 0;
}

void access_evaluate(struct engine *e, const struct access_nas *nas,
                     const struct access_request *rq, struct access_decision *d)
{
    struct ctx c = { .e = e, .nas = nas, .rq = rq, .d = d };
    char imsi[16];
    struct sim_view sim;

    memset(d, 0, sizeof *d);
    d->accept = 1;
    d->reason = -1;

    /* The IMSI: 3GPP-IMSI, else a User-Name made of 6..15 digits. */
    if (rq->gpp.has & GPP_HAS_IMSI) {
        memcpy(imsi, rq->gpp.imsi, rq->gpp.imsi_len + 1u);
    } else if (rq->user_name && ident_check_imsi(rq->user_name, rq->user_name_len) == 0) {
        memcpy(imsi, rq->user_name, rq->user_name_len);
        imsi[rq->user_name_len] = '\0';
    } else {
        imsi[0] = '\0';
    }
    c.imsi = imsi;

    uint32_t now_s = (uint32_t)(rq->now_ms / 1000);
    int n = imsi[0] ? simtab_attach(e->sims, imsi, strlen(imsi), now_s, storm_window, e, &sim) : -1;
    if (n < 0) {
        /* "Block unknown devices". */
        if (!imsi[0])
            snprintf(imsi, sizeof imsi, "%s", "(none)");
        finding(&c, FK_SIM_UNKNOWN, NULL, NULL);
        goto out;
    }
    c.sim = &sim;
    c.pol = engine_policy_of(e, sim.group_id);

    if (c.pol->storm_max && n > 0) {
        /* Report once per window, when the limit is first exceeded. */
        if (n == (int)c.pol->storm_max + 1) {
            uint32_t ev[3] = { (uint32_t)n, c.pol->storm_window, c.pol->storm_max };
            finding(&c, FK_ATTACH_STORM, ev_storm, ev);
        } else if (n > (int)c.pol->storm_max && (policy_actions(c.pol, FK_ATTACH_STORM) & ACT_REJECT)) {
            /* Keep rejecting for the rest of the window without new findings. */
            d->accept = 0;
            d->reason = FK_ATTACH_STORM;
        }
    }

    if (sim.state != SIM_ACTIVE) {
        int st = sim.state;
        finding(&c, FK_SIM_INACTIVE, ev_state, &st);
        goto out;
    }
    check_credential(&c);
    if (c.pol->imei_mode != MODE_OFF)
        check_imei(&c);
    check_location(&c);
    check_rat(&c);
    check_roaming(&c);

    if (d->accept) {
        d->framed_ip = sim.ip;
        d->interim_interval = c.pol->interim_interval;
        d->session_timeout = c.pol->session_timeout;
        memcpy(d->class_, c.pol->class_, sizeof d->class_);
    }
out:
    if (d->accept)
        atomic_fetch_add(&e->accepts, 1);
    else
        atomic_fetch_add(&e->rejects, 1);
}

void engine_nas_finding(struct engine *e, int kind, const struct access_nas *nas,
                        const char *reason, uint64_t count, int64_t now_ms)
{
    struct journal_msg m;
    struct jsonw w;
    char ip[16];
    uint32_t a = nas->src_ip;

    memset(&m, 0, offsetof(struct journal_msg, evidence));
    m.type = JM_FINDING;
    m.kind = (uint8_t)kind;
    m.severity = (uint8_t)finding_kind_severity(kind);
    m.tenant_id = nas->tenant_id;
    m.ts_ms = now_ms;
    m.alert = m.severity >= e->default_policy->min_severity;
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    snprintf(m.subject, sizeof m.subject, "%s", nas->name ? nas->name : ip);
    jsonw_init(&w, m.evidence, sizeof m.evidence);
    jsonw_open(&w);
    jsonw_str(&w, "source", ip);
    if (nas->name)
        jsonw_str(&w, "client", nas->name);
    jsonw_str(&w, "reason", reason);
    jsonw_int(&w, "packets", (int64_t)count);
    jsonw_close(&w);
    jsonw_finish(&w);
    atomic_fetch_add(&e->findings[kind], 1);
    (void)journal_push(e->journal, &m);
}
