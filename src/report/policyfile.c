/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * policyfile.c - loading --policy FILE (JSON) into policy rules.
 *
 * A file holds {"rules": [...]}; each rule object has an optional "name", an
 * optional "scope" ({"server_port": N | [N...], "server": "PREFIX",
 * "client": "PREFIX"}) and one or more checks: "forbid" (list of --fail-on
 * items), "max" ({"type": N}: more than N findings violate), "allow" (only
 * these types may occur), "final_state" ({"client"|"server": [STATE...]}),
 * "handshake_complete": true.  Each check becomes one rule.  Anything
 * unknown is an error naming the file and the rule's position.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstate/anomaly.h"
#include "tcpstate/policy.h"

typedef struct loader {
    tcpst_policy *p;
    const char *path;
    size_t index; /* 1-based rule position */
    char name[48];
    tcpst_scope scope;
    tcpst_error *err;
} loader;

static int bad(loader *l, const char *what, const char *detail)
{
    return tcpst_error_set(l->err, TCPST_EUSAGE, "%s: rule %zu: %s%s%s", l->path, l->index, what,
                           detail ? ": " : "", detail ? detail : "");
}

static tcpst_rule *new_rule(loader *l, const char *check)
{
    char source[sizeof((tcpst_rule *)0)->source];
    snprintf(source, sizeof source, "%s rule %zu", l->path, l->index);
    tcpst_rule *r = tcpst_policy_new_rule(l->p, source);
    if (!r) {
        return NULL;
    }
    r->scope = l->scope;
    /* "name: check", cut to fit (it only labels verdicts).  Two steps: the name always
     * fits, and -O3's format-truncation analysis then has nothing to warn about. */
    size_t n = (size_t)snprintf(r->text, sizeof r->text, "%s: ", l->name);
    snprintf(r->text + n, sizeof r->text - n, "%s", check);
    return r;
}

static int parse_prefix(loader *l, json_t *v, tcpst_addr *a, uint8_t *len)
{
    const char *s = json_string_value(v);
    char buf[64];
    if (!s || strlen(s) >= sizeof buf) {
        return bad(l, "scope prefix must be a string like \"198.18.0.0/15\"", NULL);
    }
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    long plen = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        plen = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1) {
            return bad(l, "bad prefix length", s);
        }
    }
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, buf, a->bytes) == 1) {
        a->family = 4;
    } else if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
        a->family = 6;
    } else {
        return bad(l, "bad address in scope", s);
    }
    long max = a->family == 4 ? 32 : 128;
    if (plen < 0) {
        plen = max;
    }
    if (plen > max) {
        return bad(l, "bad prefix length", s);
    }
    *len = (uint8_t)plen;
    return 0;
}

static int parse_scope(loader *l, json_t *scope)
{
    memset(&l->scope, 0, sizeof l->scope);
    l->scope.splen = l->scope.cplen = 255;
    if (!scope) {
        return 0;
    }
    if (!json_is_object(scope)) {
        return bad(l, "\"scope\" must be an object", NULL);
    }
    const char *key;
    json_t *v;
    json_object_foreach(scope, key, v)
    {
        if (strcmp(key, "server_port") == 0) {
            json_t *one = json_is_array(v) ? NULL : v;
            size_t n = one ? 1 : json_array_size(v);
            if (n == 0 || n > TCPST_SCOPE_PORTS) {
                return bad(l, "\"server_port\" takes a port or a list of 1 to 8 ports", NULL);
            }
            for (size_t i = 0; i < n; i++) {
                json_t *x = one ? one : json_array_get(v, i);
                json_int_t port = json_integer_value(x);
                if (!json_is_integer(x) || port < 0 || port > 65535) {
                    return bad(l, "\"server_port\" must be 0..65535", NULL);
                }
                l->scope.ports[l->scope.nports++] = (uint16_t)port;
            }
        } else if (strcmp(key, "server") == 0) {
            if (parse_prefix(l, v, &l->scope.sprefix, &l->scope.splen)) {
                return TCPST_EUSAGE;
            }
        } else if (strcmp(key, "client") == 0) {
            if (parse_prefix(l, v, &l->scope.cprefix, &l->scope.cplen)) {
                return TCPST_EUSAGE;
            }
        } else {
            return bad(l, "unknown key in \"scope\"", key);
        }
    }
    return 0;
}

static int parse_forbid(loader *l, json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) == 0) {
        return bad(l, "\"forbid\" must be a non-empty list", NULL);
    }
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        const char *s = json_string_value(x);
        if (!s) {
            return bad(l, "\"forbid\" items are strings", NULL);
        }
        /* Reuse the --fail-on grammar through a scratch policy. */
        tcpst_policy tmp;
        tcpst_policy_init(&tmp);
        tcpst_error e;
        if (tcpst_policy_add_fail_on(&tmp, s, &e) != 0 || tmp.n != 1) {
            tcpst_policy_fini(&tmp);
            return bad(l, "bad \"forbid\" item", s);
        }
        tcpst_rule *r = new_rule(l, "");
        if (!r) {
            tcpst_policy_fini(&tmp);
            return tcpst_error_set(l->err, TCPST_ENOMEM, "out of memory");
        }
        r->kind = tmp.rules[0].kind;
        r->type = tmp.rules[0].type;
        r->severity = tmp.rules[0].severity;
        r->min_count = tmp.rules[0].min_count;
        snprintf(r->text, sizeof r->text, "%s: forbid %s", l->name, s);
        tcpst_policy_fini(&tmp);
    }
    return 0;
}

static int parse_max(loader *l, json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) == 0) {
        return bad(l, "\"max\" must be an object like {\"retransmission\": 2}", NULL);
    }
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x)
    {
        json_int_t n = json_integer_value(x);
        if (!json_is_integer(x) || n < 0) {
            return bad(l, "\"max\" values are counts >= 0", key);
        }
        int type = tcpst_anomaly_parse(key);
        if (type < 0) {
            return bad(l, "unknown anomaly type in \"max\"", key);
        }
        char check[64];
        snprintf(check, sizeof check, "at most %lld %s", (long long)n, key);
        tcpst_rule *r = new_rule(l, check);
        if (!r) {
            return tcpst_error_set(l->err, TCPST_ENOMEM, "out of memory");
        }
        r->kind = TCPST_RULE_TYPE;
        r->type = type;
        r->min_count = (uint64_t)n + 1;
    }
    return 0;
}

static int parse_allow(loader *l, json_t *v)
{
    if (!json_is_array(v)) {
        return bad(l, "\"allow\" must be a list of anomaly types", NULL);
    }
    uint64_t mask = 0;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        const char *s = json_string_value(x);
        int type = s ? tcpst_anomaly_parse(s) : -1;
        if (type < 0) {
            return bad(l, "unknown anomaly type in \"allow\"", s ? s : "(not a string)");
        }
        mask |= UINT64_C(1) << type;
    }
    tcpst_rule *r = new_rule(l, "only allowed anomaly types");
    if (!r) {
        return tcpst_error_set(l->err, TCPST_ENOMEM, "out of memory");
    }
    r->kind = TCPST_RULE_ALLOW;
    r->allow_mask = mask;
    return 0;
}

static int parse_final(loader *l, json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) == 0) {
        return bad(l, "\"final_state\" must be an object like {\"client\": [\"CLOSED\"]}", NULL);
    }
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x)
    {
        int side = strcmp(key, "client") == 0 ? 0 : strcmp(key, "server") == 0 ? 1 : -1;
        if (side < 0) {
            return bad(l, "\"final_state\" keys are \"client\" and \"server\"", key);
        }
        if (!json_is_array(x) || json_array_size(x) == 0) {
            return bad(l, "\"final_state\" lists states", key);
        }
        uint16_t mask = 0;
        char check[80];
        int used = snprintf(check, sizeof check, "%s ends in", key);
        size_t i;
        json_t *st;
        json_array_foreach(x, i, st)
        {
            const char *s = json_string_value(st);
            int state = s ? tcpst_state_parse(s) : -1;
            if (state < 0) {
                return bad(l, "unknown state (use RFC 9293 names like TIME_WAIT)",
                           s ? s : "(not a string)");
            }
            mask = (uint16_t)(mask | (1u << state));
            if (used > 0 && (size_t)used < sizeof check) {
                used +=
                    snprintf(check + used, sizeof check - (size_t)used, "%s%s", i ? "|" : " ", s);
            }
        }
        tcpst_rule *r = new_rule(l, check);
        if (!r) {
            return tcpst_error_set(l->err, TCPST_ENOMEM, "out of memory");
        }
        r->kind = TCPST_RULE_FINAL_STATE;
        r->side = (uint8_t)side;
        r->states_mask = mask;
    }
    return 0;
}

static int parse_rule(loader *l, json_t *rule)
{
    if (!json_is_object(rule)) {
        return bad(l, "each rule must be an object", NULL);
    }
    json_t *name = json_object_get(rule, "name");
    if (name && !json_is_string(name)) {
        return bad(l, "\"name\" must be a string", NULL);
    }
    if (name) {
        snprintf(l->name, sizeof l->name, "%s", json_string_value(name));
    } else {
        snprintf(l->name, sizeof l->name, "rule %zu", l->index);
    }
    if (parse_scope(l, json_object_get(rule, "scope"))) {
        return TCPST_EUSAGE;
    }
    int checks = 0;
    const char *key;
    json_t *v;
    json_object_foreach(rule, key, v)
    {
        int rc = 0;
        if (strcmp(key, "name") == 0 || strcmp(key, "scope") == 0) {
            continue;
        } else if (strcmp(key, "forbid") == 0) {
            rc = parse_forbid(l, v);
        } else if (strcmp(key, "max") == 0) {
            rc = parse_max(l, v);
        } else if (strcmp(key, "allow") == 0) {
            rc = parse_allow(l, v);
        } else if (strcmp(key, "final_state") == 0) {
            rc = parse_final(l, v);
        } else if (strcmp(key, "handshake_complete") == 0) {
            if (!json_is_true(v)) {
                return bad(l, "\"handshake_complete\" can only be true", NULL);
            }
            tcpst_rule *r = new_rule(l, "every started connection completes its handshake");
            if (!r) {
                return tcpst_error_set(l->err, TCPST_ENOMEM, "out of memory");
            }
            r->kind = TCPST_RULE_HANDSHAKE;
        } else {
            return bad(l, "unknown key", key);
        }
        if (rc) {
            return rc;
        }
        checks++;
    }
    if (checks == 0) {
        return bad(l, "no check (forbid, max, allow, final_state, handshake_complete)", NULL);
    }
    return 0;
}

int tcpst_policy_load(tcpst_policy *p, const char *path, tcpst_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        return tcpst_error_set(err, TCPST_EUSAGE, "%s: line %d: %s", path, je.line, je.text);
    }
    loader l = {.p = p, .path = path, .err = err};
    int rc = 0;
    json_t *rules = json_object_get(root, "rules");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "rules") != 0 && strcmp(key, "description") != 0) {
            rc = tcpst_error_set(err, TCPST_EUSAGE, "%s: unknown top-level key '%s'", path, key);
            break;
        }
    }
    if (!rc && (!json_is_array(rules) || json_array_size(rules) == 0)) {
        rc = tcpst_error_set(err, TCPST_EUSAGE, "%s: expected {\"rules\": [ ... ]}", path);
    }
    for (size_t i = 0; !rc && i < json_array_size(rules); i++) {
        l.index = i + 1;
        rc = parse_rule(&l, json_array_get(rules, i));
    }
    json_decref(root);
    return rc;
}
