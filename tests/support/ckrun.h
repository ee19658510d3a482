/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ckrun.h - the one main() every Check binary shares: run the suite with the
 * verbosity from CK_VERBOSITY and turn failures into the exit status.
 */
#ifndef TCPSTATE_TESTS_CKRUN_H
#define TCPSTATE_TESTS_CKRUN_H

#include <check.h>
#include <stdlib.h>

static inline int ckrun(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
