/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * testrec.h - records and engines the way the unit tests build them: an engine whose
 * records go to one function, and a findings pool for records made without an engine.
 */
#ifndef TCPSTATE_TESTS_TESTREC_H
#define TCPSTATE_TESTS_TESTREC_H

#include "tcpstate/engine.h"

/* tcpst_engine_init() with `fn` (may be NULL) as its one receiver of records. */
int test_engine_init(tcpst_engine *e, const tcpst_engine_config *cfg, tcpst_emit_fn fn, void *ctx);

/* A process-wide pool of findings blocks, for records a test builds itself (reserved once,
 * blocks reused as records release them). */
tcpst_finding_pool *test_pool(void);

/* tcpst_conn_init() with the record's findings taken from test_pool(). */
void test_conn_init(tcpst_conn *c, uint64_t id, const tcpst_segment *seg);

#endif
