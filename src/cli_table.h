/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli_table.h - the row format of cli.c's option table, shared with its unit test.
 *
 * One const row per option says everything about it: the long name and short letter, how
 * its value is read, where the value goes (an offset into tcpst_options, nested configs
 * included) and its default, from limits.h.  getopt_long's arrays, the defaults and the
 * parse all come from the rows.  Not a public contract: include/tcpstate/cli.h is that.
 */
#ifndef TCPSTATE_CLI_TABLE_H
#define TCPSTATE_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/cli.h"

/* Appends printf-style at *len, truncating at the end of buf (cli.c; the help text in
 * cli_usage.c is built with it too). */
__attribute__((format(printf, 4, 5))) void tcpst__cli_append(char *buf, size_t size, size_t *len,
                                                             const char *fmt, ...);

/* How an option's value is read. */
typedef enum tcpst__cli_kind {
    TCPST__CLI_FLAG,    /* no value: stores the opposite of `def` */
    TCPST__CLI_UINT,    /* decimal in lo..hi, stored times `scale` (or given to `set`) */
    TCPST__CLI_SECONDS, /* seconds, fractions allowed, 0..TCPST_MAX_SECONDS; stored in ns */
    TCPST__CLI_STRING,  /* borrowed from argv */
    TCPST__CLI_NAME,    /* one of `names`; stores its value */
    TCPST__CLI_PORTS,   /* a tunnel's UDP port: the first use empties the default list */
    TCPST__CLI_CUSTOM   /* `parse` reads and stores it */
} tcpst__cli_kind;

/* The C type of the field at `at`, found by _Generic so a row cannot misname it. */
typedef enum tcpst__cli_type {
    TCPST__CLI_T_NONE, /* CUSTOM rows: no field of their own */
    TCPST__CLI_T_BOOL,
    TCPST__CLI_T_INT,
    TCPST__CLI_T_UINT, /* unsigned, uint32_t and the report enums */
    TCPST__CLI_T_U64,
    TCPST__CLI_T_TIME,
    TCPST__CLI_T_STRING,
    TCPST__CLI_T_PORTS /* uint16_t[TCPST_DECODE_PORTS_MAX] */
} tcpst__cli_type;

typedef struct tcpst__cli_name {
    const char *name; /* NULL ends a table */
    int value;
} tcpst__cli_name;

typedef struct tcpst__cli_row tcpst__cli_row;

struct tcpst__cli_row {
    const char *name;             /* without "--"; messages always name the long form */
    char letter;                  /* short option, or 0 */
    tcpst__cli_kind kind;         /* how the value is read */
    size_t at;                    /* offsetof(tcpst_options, field) */
    tcpst__cli_type type;         /* the field's type */
    uint64_t lo, hi;              /* UINT, PORTS: accepted values */
    uint64_t scale;               /* UINT: field = value * scale (KiB -> bytes) */
    uint64_t unit;                /* UINT sizes: bytes per value, so that 8M, 1G, 512K are
                                     taken too; 0: a plain count */
    int64_t def;                  /* FLAG, UINT, SECONDS, NAME: the default, in the field's unit
                                     (ns for SECONDS; option units for UINT) */
    const tcpst__cli_name *names; /* NAME: the accepted names */
    bool quoted;                  /* NAME: the error message quotes them */
    /* UINT: takes the checked value instead of the field (also for the default, with arg and
     * err NULL). */
    int (*set)(const tcpst__cli_row *r, tcpst_options *o, uint64_t v, const char *arg,
               tcpst_error *err);
    /* CUSTOM: reads arg and stores it. */
    int (*parse)(const tcpst__cli_row *r, tcpst_options *o, const char *arg, tcpst_error *err);
};

/* The table; *n is set to its length. */
const tcpst__cli_row *tcpst__cli_rows(size_t *n);

/* An option getopt_long did not know, as an error: the nearest long name when one is near
 * ("did you mean ...?"), or that a flag takes no value (cli_usage.c). */
int tcpst__cli_unknown(const char *typed, tcpst_error *err);

#endif
