/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * testrec.c - see testrec.h.
 */
#include "testrec.h"

#include <stdlib.h>

#define TEST_POOL_BLOCKS 4096

int test_engine_init(tcpst_engine *e, const tcpst_engine_config *cfg, tcpst_emit_fn fn, void *ctx)
{
    int rc = tcpst_engine_init(e, cfg, NULL);
    tcpst_receiver r = {.record = fn, .anomaly = NULL, .ctx = ctx};
    if (rc == 0 && fn) {
        rc = tcpst_engine_add_receiver(e, &r);
    }
    return rc;
}

tcpst_finding_pool *test_pool(void)
{
    static tcpst_finding_pool pool;
    if (!pool.area && tcpst_finding_pool_init(&pool, TEST_POOL_BLOCKS) != 0) {
        abort();
    }
    return &pool;
}

void test_conn_init(tcpst_conn *c, uint64_t id, const tcpst_segment *seg)
{
    tcpst_conn_init(c, id, seg);
    c->findings.pool = test_pool();
}
