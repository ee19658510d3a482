/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * check_merge.c - the merge of several sources (capture/merge.c) over scripted sources
 * written here against the internal source interface (capture/source.h): timestamp
 * order with ties to the lower index, filtered records and damage passed on in stream
 * order, damage found at start noted at once, a child read again only once its record
 * was handed out, and closing every child.  check_capture covers the merge of real
 * files through the public API.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "capture/source.h"
#include "ckrun.h"

/* A child with a script: `n` record times, then END or (fail) ERROR. */
struct fake {
    tcpst__source base;
    const tcpst_time *ts;
    size_t n, pos;
    bool fail;
    bool filter_odd; /* records at odd positions come as FILTERED */
    bool regular;    /* read_ahead_ok's answer */
    unsigned input;
    int reads;
    int *closed;
};

static void fake_next(tcpst__source *s, tcpst__rec *rec)
{
    struct fake *f = (struct fake *)s;
    f->reads++;
    *rec = (tcpst__rec){.kind = TCPST__REC_END, .input = f->input};
    if (f->pos < f->n) {
        rec->kind = f->filter_odd && f->pos % 2 ? TCPST__REC_FILTERED : TCPST__REC_PACKET;
        rec->ts = f->ts[f->pos++];
        rec->wirelen = (uint32_t)f->pos;
    } else if (f->fail) {
        f->fail = false; /* END after the ERROR */
        rec->kind = TCPST__REC_ERROR;
        rec->error = "broken";
    }
}

static void fake_close(tcpst__source *s)
{
    struct fake *f = (struct fake *)s;
    (*f->closed)++;
}

static int fake_read_ahead_ok(const tcpst__source *s, tcpst_error *err)
{
    const struct fake *f = (const struct fake *)s;
    return f->regular ? 0 : tcpst_error_set(err, TCPST_EUSAGE, "input %u: a pipe", f->input);
}

static const tcpst__source_ops fake_ops = {
    .next = fake_next, .close = fake_close, .read_ahead_ok = fake_read_ahead_ok};
static const tcpst__source_ops bare_ops = {.next = fake_next, .close = fake_close};

#define MAXF 4

struct rig {
    struct fake f[MAXF];
    tcpst__source **child;
    tcpst__source *m;
    tcpst__input in[MAXF];
    int closed;
    size_t n;
};

static void rig_open(struct rig *r, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    r->child = calloc(n, sizeof(*r->child));
    ck_assert_ptr_nonnull(r->child);
    r->m = tcpst__merge_new(r->child, n);
    ck_assert_ptr_nonnull(r->m);
    for (size_t i = 0; i < n; i++) {
        r->f[i].base.ops = &fake_ops;
        r->f[i].input = (unsigned)i;
        r->f[i].regular = true;
        r->f[i].closed = &r->closed;
    }
}

static void rig_script(struct rig *r, size_t i, const tcpst_time *ts, size_t n, bool fail)
{
    r->f[i].ts = ts;
    r->f[i].n = n;
    r->f[i].fail = fail;
}

static void rig_start(struct rig *r)
{
    for (size_t i = 0; i < r->n; i++) {
        r->child[i] = &r->f[i].base;
    }
    tcpst__merge_start(r->m, r->in);
}

static tcpst__rec next(struct rig *r)
{
    tcpst__rec rec;
    r->m->ops->next(r->m, &rec);
    return rec;
}

static void rig_close(struct rig *r)
{
    r->m->ops->close(r->m);
    ck_assert_int_eq(r->closed, (int)r->n);
}

START_TEST(test_order_and_ties)
{
    static const tcpst_time a[] = {10, 20, 20, 40};
    static const tcpst_time b[] = {5, 20, 30};
    static const tcpst_time c[] = {20};
    struct rig r;
    rig_open(&r, 3);
    rig_script(&r, 0, a, 4, false);
    rig_script(&r, 1, b, 3, false);
    rig_script(&r, 2, c, 1, false);
    rig_start(&r);
    /* (time, input): the ties at 20 go to the lower index, a's two in its own order. */
    static const struct {
        tcpst_time ts;
        unsigned input;
        uint32_t nth;
    } want[] = {{5, 1, 1},  {10, 0, 1}, {20, 0, 2}, {20, 0, 3},
                {20, 1, 2}, {20, 2, 1}, {30, 1, 3}, {40, 0, 4}};
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        tcpst__rec rec = next(&r);
        ck_assert_int_eq(rec.kind, TCPST__REC_PACKET);
        ck_assert_int_eq(rec.ts, want[k].ts);
        ck_assert_uint_eq(rec.input, want[k].input);
        ck_assert_uint_eq(rec.wirelen, want[k].nth);
    }
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(next(&r).kind, TCPST__REC_END); /* and stays there */
    }
    rig_close(&r);
}
END_TEST

/* libpcap keeps a record's bytes only until the next read on its handle: the child whose
 * record was handed out is read again only when the next record is asked for. */
START_TEST(test_child_read_after_handed_out)
{
    static const tcpst_time a[] = {1, 3};
    static const tcpst_time b[] = {2, 4};
    struct rig r;
    rig_open(&r, 2);
    rig_script(&r, 0, a, 2, false);
    rig_script(&r, 1, b, 2, false);
    rig_start(&r);
    ck_assert_int_eq(r.f[0].reads, 1);
    ck_assert_int_eq(r.f[1].reads, 1);
    ck_assert_uint_eq(next(&r).input, 0);
    ck_assert_int_eq(r.f[0].reads, 1); /* its record is out: not read yet */
    ck_assert_uint_eq(next(&r).input, 1);
    ck_assert_int_eq(r.f[0].reads, 2);
    ck_assert_int_eq(r.f[1].reads, 1);
    rig_close(&r);
}
END_TEST

START_TEST(test_filtered_passed_in_order)
{
    static const tcpst_time a[] = {1, 2, 3, 4};
    struct rig r;
    rig_open(&r, 1);
    rig_script(&r, 0, a, 4, false);
    r.f[0].filter_odd = true;
    rig_start(&r);
    static const tcpst__rec_kind want[] = {TCPST__REC_PACKET, TCPST__REC_FILTERED,
                                           TCPST__REC_PACKET, TCPST__REC_FILTERED, TCPST__REC_END};
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        tcpst__rec rec = next(&r);
        ck_assert_int_eq(rec.kind, want[k]);
        if (rec.kind != TCPST__REC_END) {
            ck_assert_int_eq(rec.ts, (tcpst_time)k + 1);
        }
    }
    rig_close(&r);
}
END_TEST

/* A child's damage comes where its records end, between the others' records. */
START_TEST(test_error_in_stream_order)
{
    static const tcpst_time a[] = {1, 2};
    static const tcpst_time b[] = {1, 5};
    struct rig r;
    rig_open(&r, 2);
    rig_script(&r, 0, a, 2, true);
    rig_script(&r, 1, b, 2, false);
    rig_start(&r);
    ck_assert(!r.in[0].info.truncated);
    ck_assert_uint_eq(next(&r).input, 0); /* 1 */
    ck_assert_uint_eq(next(&r).input, 1); /* 1 */
    ck_assert_uint_eq(next(&r).input, 0); /* 2 */
    tcpst__rec rec = next(&r);
    ck_assert_int_eq(rec.kind, TCPST__REC_ERROR);
    ck_assert_uint_eq(rec.input, 0);
    ck_assert_str_eq(rec.error, "broken");
    rec = next(&r);
    ck_assert_int_eq(rec.kind, TCPST__REC_PACKET);
    ck_assert_int_eq(rec.ts, 5);
    ck_assert_int_eq(next(&r).kind, TCPST__REC_END);
    ck_assert(!r.in[0].info.truncated); /* the merge only passes it on */
    rig_close(&r);
}
END_TEST

/* Damage in a first record shows at start, in the input's info, and not again later. */
START_TEST(test_error_at_start)
{
    static const tcpst_time b[] = {7};
    struct rig r;
    rig_open(&r, 2);
    rig_script(&r, 0, NULL, 0, true);
    rig_script(&r, 1, b, 1, false);
    rig_start(&r);
    ck_assert(r.in[0].info.truncated);
    ck_assert_str_eq(r.in[0].info.error, "broken");
    ck_assert(!r.in[1].info.truncated);
    tcpst__rec rec = next(&r);
    ck_assert_int_eq(rec.kind, TCPST__REC_PACKET);
    ck_assert_uint_eq(rec.input, 1);
    ck_assert_int_eq(next(&r).kind, TCPST__REC_END);
    rig_close(&r);
}
END_TEST

START_TEST(test_read_ahead_ok)
{
    struct rig r;
    rig_open(&r, 3);
    rig_start(&r);
    tcpst_error err = {0, ""};
    ck_assert_int_eq(r.m->ops->read_ahead_ok(r.m, &err), 0);
    r.f[1].regular = false;
    ck_assert_int_eq(r.m->ops->read_ahead_ok(r.m, &err), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, "input 1: a pipe");
    r.f[0].base.ops = &bare_ops; /* a child that cannot be read ahead, first */
    ck_assert_int_eq(r.m->ops->read_ahead_ok(r.m, &err), TCPST_EUSAGE);
    ck_assert_str_eq(err.msg, TCPST__READ_AHEAD_FILES_ONLY);
    rig_close(&r);
}
END_TEST

/* Closed half-way through opening: the slots not filled yet stay NULL. */
START_TEST(test_close_partly_filled)
{
    struct rig r;
    rig_open(&r, 3);
    r.child[0] = &r.f[0].base;
    r.m->ops->close(r.m);
    ck_assert_int_eq(r.closed, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = tcase_create("merge");
    tcase_add_test(tc, test_order_and_ties);
    tcase_add_test(tc, test_child_read_after_handed_out);
    tcase_add_test(tc, test_filtered_passed_in_order);
    tcase_add_test(tc, test_error_in_stream_order);
    tcase_add_test(tc, test_error_at_start);
    tcase_add_test(tc, test_read_ahead_ok);
    tcase_add_test(tc, test_close_partly_filled);
    suite_add_tcase(s, tc);
    return ckrun(s);
}
