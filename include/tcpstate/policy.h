/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policy.h - CI verdicts: rules checked against every finished connection.
 *
 * A rule matches findings, by anomaly type ("close_wait_stuck") or by
 * severity ("severity>=warning"), and is violated when at least `min_count`
 * findings match over the whole capture ("retransmission>=3"; default 1).
 * Violating connections are remembered (capped) with the frames that prove
 * it, so the verdict can name them.  Rules come from --fail-on and --policy files
 * (policyfile.c); no I/O here.  The policy is a receiver of the engine: every finished
 * record is checked as it is written out.
 */
#ifndef TCPSTATE_POLICY_H
#define TCPSTATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/conn.h"
#include "tcpstate/engine.h"
#include "tcpstate/error.h"

#define TCPST_VERDICT_CONNS  20 /* offending connections listed per rule */
#define TCPST_VERDICT_FRAMES 4  /* evidence frames listed per connection */

typedef struct tcpst_offender {
    tcpst_conn_ref ref;
    uint8_t nframes;
    uint32_t matches;
    uint64_t frames[TCPST_VERDICT_FRAMES];
    /* Its first matching finding, for the verdict's sentence: "server 127.0.0.1:8080 (pid
     * 1234 python3) stuck in CLOSE_WAIT for 3.2 s".  has_finding false: a state or
     * handshake rule, told by its frames. */
    bool has_finding;
    uint8_t type, who; /* tcpst_anomaly_type, tcpst_who */
    int64_t fact[3];   /* its first three facts */
    uint8_t state;     /* the state of the endpoint it is about (who < 2), at the end */
    uint32_t pid;      /* that endpoint's owning process (live captures); 0: unknown */
} tcpst_offender;

typedef enum tcpst_rule_kind {
    TCPST_RULE_TYPE = 0,    /* findings of one anomaly type */
    TCPST_RULE_SEVERITY,    /* findings of at least a severity */
    TCPST_RULE_ALLOW,       /* findings of any type outside allow_mask */
    TCPST_RULE_FINAL_STATE, /* a side ends outside states_mask */
    TCPST_RULE_HANDSHAKE    /* a connection that started never completed its handshake */
} tcpst_rule_kind;

#define TCPST_SCOPE_PORTS 8

/* Which connections a rule looks at; an empty scope means all. */
typedef struct tcpst_scope {
    uint8_t nports;
    uint16_t ports[TCPST_SCOPE_PORTS]; /* server ports */
    uint8_t splen, cplen;              /* prefix lengths; 255 = no prefix */
    tcpst_addr sprefix, cprefix;       /* server / client address prefixes */
} tcpst_scope;

typedef struct tcpst_rule {
    tcpst_rule_kind kind;
    int type;             /* tcpst_anomaly_type, for TCPST_RULE_TYPE */
    int severity;         /* minimum tcpst_severity, for TCPST_RULE_SEVERITY */
    uint64_t allow_mask;  /* TCPST_RULE_ALLOW: bit per allowed anomaly type */
    uint8_t side;         /* TCPST_RULE_FINAL_STATE: 0 client, 1 server */
    uint16_t states_mask; /* TCPST_RULE_FINAL_STATE: bit per allowed tcpst_state */
    tcpst_scope scope;
    char source[48]; /* "--fail-on" or "FILE rule N" */
    uint64_t min_count;
    char text[80];    /* the rule as written, for messages */
    uint64_t matches; /* matching findings so far */
    uint64_t conns;   /* connections with a matching finding */
    uint32_t noff;
    tcpst_offender off[TCPST_VERDICT_CONNS];
} tcpst_rule;

typedef struct tcpst_policy {
    tcpst_rule *rules;
    size_t n, cap;
} tcpst_policy;

void tcpst_policy_init(tcpst_policy *p);
void tcpst_policy_fini(tcpst_policy *p);

/*
 * Add the comma-separated rules of one --fail-on value.  Items: an anomaly
 * id, "severity>=info|warning|error", either followed by ">=N" / "=N" for a
 * minimum count.  Unknown ids and severities are errors, never ignored.
 */
__attribute__((warn_unused_result)) int tcpst_policy_add_fail_on(tcpst_policy *p, const char *list,
                                                                 tcpst_error *err);

/* A new rule appended to p with defaults (all connections, count 1); NULL on ENOMEM. */
tcpst_rule *tcpst_policy_new_rule(tcpst_policy *p, const char *source);

/*
 * Load a policy file (JSON, see docs/ci.md).  Every problem is an error that
 * names the file and the rule's position; unknown keys, anomaly types and
 * states are rejected, never ignored.
 */
__attribute__((warn_unused_result)) int tcpst_policy_load(tcpst_policy *p, const char *path,
                                                          tcpst_error *err);

/* Check one finished connection against every rule; returns a bit per rule it
 * matched (rules beyond the 64th are checked but not in the mask). */
uint64_t tcpst_policy_check(tcpst_policy *p, const tcpst_conn *c);

/* The same bits as tcpst_policy_check() would return, counting nothing. */
uint64_t tcpst_policy_match(const tcpst_policy *p, const tcpst_conn *c);

/* The policy as an engine receiver: every record is checked (tcpst_policy_check). */
tcpst_receiver tcpst_policy_receiver(tcpst_policy *p);

/* Is any rule violated? */
bool tcpst_policy_failed(const tcpst_policy *p);
bool tcpst_rule_violated(const tcpst_rule *r);

/* Does a finding of anomaly type `type` match rule r (finding-based kinds only)? */
bool tcpst_rule_matches(const tcpst_rule *r, int type);

/* Does the rule count findings (type, severity, allow) rather than connections? */
bool tcpst_rule_on_findings(const tcpst_rule *r);

#endif
