/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_segrows.c - the segment rows of the single-connection views (report/segrows.h):
 * which segments stay rows, how runs collapse and what they keep, marks, the row bound,
 * and the table of records.
 */
#include <check.h>
#include <string.h>

#include "ckrun.h"
#include "report/segrows.h"

static tcpst_conn conn(uint64_t id)
{
    tcpst_conn c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.ep[0].state = c.ep[1].state = TCPST_ESTABLISHED;
    c.ep[0].has = c.ep[1].has = TCPST_EP_ISN;
    c.ep[0].isn = 1000;
    c.ep[1].isn = 5000;
    return c;
}

/* A segment from `from`: ACK plus flags, len bytes at relative seq. */
static void feed(tcpst__segrows *t, tcpst_conn *c, unsigned from, uint16_t flags, uint32_t rel,
                 uint32_t len, uint64_t frame)
{
    tcpst_segment s;
    memset(&s, 0, sizeof s);
    s.flags = (uint16_t)(flags | TCPST_ACK);
    s.seq = c->ep[from].isn + rel;
    s.ack = c->ep[from ^ 1].isn + 1;
    s.payload_len = len;
    s.window = 100;
    tcpst__segrows_add(t, c, from, &s, (tcpst_time)frame * 1000000, frame);
}

START_TEST(runs_collapse_ordinary_data)
{
    tcpst__segrows t = {0};
    tcpst_conn c = conn(7);
    feed(&t, &c, 0, TCPST_PSH, 1, 100, 1);
    feed(&t, &c, 1, 0, 1, 0, 2);
    ck_assert_uint_eq(tcpst__segrows_get(&t, 7)->n, 2); /* two ordinary rows stay rows */
    feed(&t, &c, 0, TCPST_PSH, 101, 100, 3);
    feed(&t, &c, 0, TCPST_PSH, 201, 50, 4);
    const tcpst__segconn *l = tcpst__segrows_get(&t, 7);
    ck_assert_uint_eq(l->n, 1);
    const tcpst__segrow *r = &l->rows[0];
    ck_assert_int_eq(r->kind, TCPST__ROW_RUN);
    ck_assert_uint_eq(r->count, 4);
    ck_assert_uint_eq(r->bytes, 250);
    ck_assert_uint_eq(r->frame, 1);
    ck_assert_uint_eq(r->last_frame, 4);
    ck_assert_uint_eq(r->dirs, 3);
    ck_assert_uint_eq(r->run_seq[0] - l->base[0], 1);
    ck_assert_uint_eq(r->run_end[0] - l->base[0], 251); /* last seq + len */
    ck_assert_uint_eq(r->run_ack[1] - l->base[0], 1);
    /* A FIN is not ordinary: it ends the run. */
    feed(&t, &c, 0, TCPST_FIN, 251, 0, 5);
    ck_assert_uint_eq(tcpst__segrows_get(&t, 7)->n, 2);
    ck_assert_int_eq(tcpst__segrows_get(&t, 7)->rows[1].kind, TCPST__ROW_SEGMENT);
    ck_assert_uint_eq(tcpst__segrows_get(&t, 7)->segments, 5);
    tcpst__segrows_free(&t);
}
END_TEST

START_TEST(raw_first_keeps_rows)
{
    tcpst__segrows t = {.raw_first = 10};
    tcpst_conn c = conn(1);
    for (uint64_t f = 1; f <= 20; f++) {
        feed(&t, &c, 0, 0, (uint32_t)f * 10, 10, f);
    }
    const tcpst__segconn *l = tcpst__segrows_get(&t, 1);
    ck_assert_uint_eq(l->n, 11); /* 10 rows, then one run of the other 10 */
    ck_assert_int_eq(l->rows[9].kind, TCPST__ROW_SEGMENT);
    ck_assert_uint_eq(l->rows[9].frame, 10);
    ck_assert_int_eq(l->rows[10].kind, TCPST__ROW_RUN);
    ck_assert_uint_eq(l->rows[10].count, 10);
    tcpst__segrows_free(&t);
}
END_TEST

START_TEST(marks_and_what_they_keep)
{
    /* The ladder's table: only findings and state changes keep a row. */
    tcpst__segrows lad = {0};
    /* The page's: retransmissions and zero windows too. */
    tcpst__segrows page = {.keep_marks = TCPST__MARK_RETRANS | TCPST__MARK_ZEROWIN};
    tcpst_conn c = conn(3);
    for (uint64_t f = 1; f <= 6; f++) {
        if (f == 4) {
            c.ep[0].retrans_segments++; /* the engine counted frame 4 as sent again */
        }
        feed(&lad, &c, 0, 0, 1, 10, f);
        feed(&page, &c, 0, 0, 1, 10, f);
    }
    const tcpst__segconn *a = tcpst__segrows_get(&lad, 3), *b = tcpst__segrows_get(&page, 3);
    ck_assert_uint_eq(a->n, 1);
    ck_assert_uint_eq(a->rows[0].marks, TCPST__MARK_RETRANS); /* the run says it held one */
    ck_assert_uint_eq(b->n, 4); /* run(1-3), 4, 5, 6: frame 4 stays a row */
    bool found = false;
    for (size_t i = 0; i < b->n; i++) {
        if (b->rows[i].kind == TCPST__ROW_SEGMENT && b->rows[i].frame == 4) {
            found = true;
            ck_assert_uint_eq(b->rows[i].marks, TCPST__MARK_RETRANS);
        }
    }
    ck_assert(found);
    /* A state change keeps its row in both. */
    c.ep[1].state = TCPST_CLOSE_WAIT;
    c.ep[1].tl_count = 1;
    c.ep[1].tl[0].frame = 7;
    c.ep[1].tl[0].inferred = 1;
    feed(&lad, &c, 0, 0, 1, 10, 7);
    a = tcpst__segrows_get(&lad, 3);
    ck_assert_uint_eq(a->rows[a->n - 1].frame, 7);
    ck_assert_uint_eq(a->rows[a->n - 1].changed, 2);
    ck_assert_uint_eq(a->rows[a->n - 1].inferred, 2);
    ck_assert_uint_eq(a->rows[a->n - 1].state[1], TCPST_CLOSE_WAIT);
    tcpst__segrows_free(&lad);
    tcpst__segrows_free(&page);
}
END_TEST

START_TEST(max_rows_bounds_a_connection)
{
    tcpst__segrows t = {.max_rows = 10, .keep_marks = TCPST__MARK_ZEROWIN};
    tcpst_conn c = conn(9);
    for (uint64_t f = 1; f <= 1000; f++) {
        feed(&t, &c, (unsigned)(f & 1), TCPST_SYN, 1, 0, f); /* none ordinary */
    }
    const tcpst__segconn *l = tcpst__segrows_get(&t, 9);
    ck_assert_uint_eq(l->n, 10);
    ck_assert_int_eq(l->rows[9].kind, TCPST__ROW_REST);
    ck_assert_uint_eq(l->rows[9].frame, 10);
    ck_assert_uint_eq(l->rows[9].count, 991);
    ck_assert_uint_eq(l->rows[9].last_frame, 1000);
    ck_assert_uint_eq(l->segments, 1000);
    tcpst__segrows_free(&t);
}
END_TEST

START_TEST(table_of_records)
{
    tcpst__segrows t = {0};
    for (uint64_t id = 1; id <= 500; id++) {
        tcpst_conn c = conn(id);
        feed(&t, &c, 0, TCPST_SYN, 0, 0, id);
    }
    for (uint64_t id = 1; id <= 500; id += 2) {
        tcpst__segrows_drop(&t, id);
    }
    for (uint64_t id = 1; id <= 500; id++) {
        const tcpst__segconn *l = tcpst__segrows_get(&t, id);
        if (id % 2) {
            ck_assert_ptr_null(l);
        } else {
            ck_assert_ptr_nonnull(l);
            ck_assert_uint_eq(l->rows[0].frame, id);
        }
    }
    ck_assert_uint_eq(t.used, 250);
    tcpst__segrows_drop(&t, 100000); /* absent: nothing happens */
    ck_assert_uint_eq(t.used, 250);
    tcpst__segrows_free(&t);
    ck_assert_ptr_null(tcpst__segrows_get(&t, 2));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("segrows");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, runs_collapse_ordinary_data);
    tcase_add_test(tc, raw_first_keeps_rows);
    tcase_add_test(tc, marks_and_what_they_keep);
    tcase_add_test(tc, max_rows_bounds_a_connection);
    tcase_add_test(tc, table_of_records);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(suite());
}
