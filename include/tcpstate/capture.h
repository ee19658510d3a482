/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture.h - reading packets from capture files (pcap, pcapng) via libpcap.
 *
 * Live capture on an interface (tcpst_capture_open_live) gives the same
 * stream with one input; -w (tcpst_capture_dump_open) saves what is read.
 *
 * Several files are read as one capture: packets are merged in timestamp order
 * (ties go to the earlier file on the command line), and frame numbers count
 * every packet read across the merged stream, 1-based, so a single file gets
 * exactly the numbers Wireshark shows and a capture rotated into several files
 * gets the same numbers as the unsplit file.  A BPF filter is applied per
 * packet with pcap_offline_filter() so that filtered packets still consume a
 * frame number.  Timestamps are read at nanosecond precision.
 *
 * This is the only module that includes pcap.h.  Packet bytes are borrowed:
 * valid until the next tcpst_capture_next() call.  Capture does not know the
 * decoder: which link types are worth reading is the caller's to say, through
 * a tcpst_linktype_fn.
 */
#ifndef TCPSTATE_CAPTURE_H
#define TCPSTATE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpstate/error.h"
#include "tcpstate/types.h"

typedef struct tcpst_capture tcpst_capture;

typedef struct tcpst_pkt {
    const uint8_t *data; /* borrowed, caplen bytes */
    uint32_t caplen;     /* below the captured length when a prep step kept less */
    uint32_t wirelen;
    tcpst_time ts;
    int linktype;     /* LINKTYPE_* of the file the packet came from */
    uint64_t frame;   /* 1-based, over the merged stream */
    unsigned input;   /* index into the inputs */
    const void *prep; /* what the read-ahead prep step wrote for it; NULL without one */
} tcpst_pkt;

typedef struct tcpst_input_info {
    const char *name;          /* as given ("-" for stdin); borrowed from the caller */
    int linktype;              /* LINKTYPE_* number */
    const char *linktype_name; /* e.g. "EN10MB"; static, or owned by cap until close */
    const char *format;        /* "pcap" or "pcapng"; static string */
    bool nanosecond;           /* file stores sub-microsecond timestamps (pcapng: first
                                  interface's if_tsresol); false if unknown (a pipe) */
    int snaplen;
    uint64_t packets;             /* records read from this file */
    uint64_t bytes;               /* sum of original (wire) lengths */
    uint64_t filtered;            /* of those, rejected by the BPF filter */
    tcpst_time first_ts, last_ts; /* earliest and latest record time; 0 when no packets */
    bool stream;                  /* not a regular file: a pipe, a FIFO, a terminal */
    bool truncated;               /* reading stopped early on a damaged record */
    char error[TCPST_ERRMSG_MAX]; /* why it stopped early, with the byte offset of the damage
                                     but without the file name; "" if it did not */
    /* pcapng only: what the file says of itself. */
    uint32_t interfaces; /* Interface Description Blocks */
    bool has_end;        /* an Interface Statistics Block gave an end time ... */
    tcpst_time end_ts;   /* ... the latest isb_endtime (when the capture stopped) */
    tcpst_time start_ts; /* the earliest isb_starttime; 0 if none */
    bool has_ifrecv, has_ifdrop, has_osdrop; /* which counters the ISBs carried */
    uint64_t if_received; /* isb_ifrecv: packets the interfaces received, summed */
    uint64_t if_dropped;  /* isb_ifdrop: dropped by the interfaces (buffer full) */
    uint64_t os_dropped;  /* isb_osdrop: dropped by the OS (the capture fell behind) */
} tcpst_input_info;

/* Live capture counters from libpcap (pcap_stats); valid = false offline. */
typedef struct tcpst_capture_counters {
    bool valid;
    uint64_t received, dropped, if_dropped;
} tcpst_capture_counters;

/* Live capture settings (tcpdump's -i, -s, -B, -p). */
typedef struct tcpst_live_config {
    const char *iface; /* name, or "any" */
    int snaplen;       /* default TCPST_LIVE_SNAPLEN */
    int buffer_size;   /* kernel buffer bytes; 0 = libpcap default */
    bool promisc;      /* default true */
    int poll_ms;       /* tcpst_capture_next() returns 2 after this long without a packet
                          (default 100); <= 0: only a packet or an interrupt returns */
} tcpst_live_config;

#define TCPST_LIVE_SNAPLEN 262144
/* A live capture hands packets over in blocks, each at the latest this many ms after its
 * first packet (TPACKET_V3's retire timeout): what came just before a stop is read by
 * waiting that long once more (main.c). */
#define TCPST_LIVE_BLOCK_MS 20

/*
 * Does the caller read packets of this LINKTYPE_* number?  Nonzero if so.
 * The openers refuse an input whose link type it rejects (TCPST_ELINKTYPE,
 * "NAME: unsupported link type FOO (123)"); tcpst_decode_linktype_supported
 * (decode.h) is the one tcpstate passes.  NULL accepts every link type.
 */
typedef int (*tcpst_linktype_fn)(int linktype);

void tcpst_live_config_default(tcpst_live_config *cfg);

/* --capture-end WHEN: where the end of the capture comes from (docs/capture-end.md has the table).
 */
typedef enum tcpst_end_given {
    TCPST_ENDG_NONE = 0,   /* not given: the capture's own end (pcapng, live, stream) */
    TCPST_ENDG_AT,         /* a time: `at` */
    TCPST_ENDG_AFTER_LAST, /* +DURATION: `at` after the last packet */
    TCPST_ENDG_MTIME,      /* the input files' modification time (the latest) */
    TCPST_ENDG_LAST_PACKET /* the last packet */
} tcpst_end_given;

/* When the capture ended, and what says so. */
typedef struct tcpst_capture_end {
    bool known; /* false: no packet, and nothing else says */
    tcpst_time end;
    const char *source; /* "option", "pcapng-isb", "live", "stream", "last-packet" (static) */
} tcpst_capture_end;

/*
 * Decide when the capture ended, once reading stopped (docs/capture-end.md): `given`/`at`
 * from --capture-end (`text` as the user wrote it, for messages), else a pcapng file's
 * latest isb_endtime, else `wall` for a live capture or a live stream (`live_stream`),
 * else the last packet.  An end before the last packet is TCPST_EUSAGE naming both times;
 * mtime of standard input is TCPST_EUSAGE too.
 */
__attribute__((warn_unused_result)) int
tcpst_capture_end_of(const tcpst_capture *cap, tcpst_end_given given, tcpst_time at,
                     const char *text, bool live_stream, tcpst_time wall, tcpst_capture_end *out,
                     tcpst_error *err);

/*
 * Open an interface for live capture in immediate mode, the filter compiled
 * and set in the kernel.  One input, named after the interface, format
 * "live".  Errors are one line naming the interface and telling the fix,
 * e.g. "eth0: permission denied: capturing needs root or the CAP_NET_RAW and
 * CAP_NET_ADMIN capabilities", "eth9: no such interface (tcpstate -D lists
 * them)", "eth1: interface is down".  Codes: TCPST_EUSAGE (no interface),
 * TCPST_EPERM, TCPST_EOPEN, TCPST_ELINKTYPE (`linktype_ok` rejects the
 * interface's), TCPST_EFILTER, TCPST_ENOMEM.
 * cfg->iface must outlive *out (it is the input's name).  Timestamps are
 * nanosecond where the platform offers it (info->nanosecond says).
 */
__attribute__((warn_unused_result)) int
tcpst_capture_open_live(tcpst_capture **out, const tcpst_live_config *cfg, const char *filter,
                        tcpst_linktype_fn linktype_ok, tcpst_error *err);

/* Print the interfaces that can be captured on and whose link type linktype_ok takes (NULL:
 * any), one per line, like tcpdump -D with each link type after it (iflist.c). */
__attribute__((warn_unused_result)) int
tcpst_capture_list_interfaces(FILE *out, tcpst_linktype_fn linktype_ok, tcpst_error *err);

/* What libpcap calls a link type ("Ethernet" for EN10MB), or its name when it has none. */
const char *tcpst_capture_linktype_description(int linktype, const char *name);

/* The libpcap and zlib this binary runs with, as they name themselves (--version). */
const char *tcpst_capture_pcap_version(void);
const char *tcpst_capture_zlib_version(void);

/* A warning from opening the interface that did not stop the capture
 * ("eth0: promiscuous mode not supported"), or NULL. */
const char *tcpst_capture_warning(const tcpst_capture *cap);

/* Is this a live capture? */
bool tcpst_capture_is_live(const tcpst_capture *cap);

/* libpcap's counters for a live capture (valid = false offline). */
void tcpst_capture_get_counters(tcpst_capture *cap, tcpst_capture_counters *out);

/*
 * Make a blocked tcpst_capture_next() on a live capture return 2 soon (or at
 * once, if called between two calls); async-signal-safe and callable from
 * another thread.  A signal caught while next() waits also makes it return 2.
 * Offline reading does not block, and this has no effect on it: the caller
 * checks its own flag between packets.
 */
void tcpst_capture_interrupt(tcpst_capture *cap);

/*
 * -w: also write every packet tcpst_capture_next() returns to a pcap file
 * ("-" = standard output), with the inputs' link type (they must all have the
 * same one), the largest snaplen among them, and nanosecond timestamps (magic
 * 0xa1b23c4d); a name ending in ".pcapng" gets pcapng, one interface per link type and
 * statistics blocks at tcpst_capture_dump_finish().  An offline run over it sees the same packets
 * with the same frame numbers, except after an offline filter: filtered packets are not saved, so
 * later frames are renumbered.  Errors: "FILE: cannot write: why" (TCPST_EWRITE), TCPST_ELINKTYPE
 * (mixed link types), TCPST_EUSAGE (already open), TCPST_ENOMEM.  tcpst_capture_close() closes the
 * file.
 */
__attribute__((warn_unused_result)) int tcpst_capture_dump_open(tcpst_capture *cap,
                                                                const char *path, tcpst_error *err);
/* Flush the -w file (call on stats intervals and before exit).  0, or -1
 * with errno set if writing failed at any point since it was opened. */
int tcpst_capture_dump_flush(tcpst_capture *cap);

/* The end of the capture: a pcapng -w file gets its Interface Statistics Blocks (the end
 * time, live also libpcap's counters), then the file is flushed as by
 * tcpst_capture_dump_flush(), whose result this returns.  Once; later calls only flush. */
int tcpst_capture_dump_finish(tcpst_capture *cap, tcpst_time end);

/* -w of chosen packets (--connection): from now on tcpst_capture_next() writes nothing
 * itself, and tcpst_capture_dump_current() writes the packet it handed out last, once. */
void tcpst_capture_dump_choose(tcpst_capture *cap);
void tcpst_capture_dump_current(tcpst_capture *cap);

/* Packets -w left out: a pcap file holds one link type (a pcapng file holds them all). */
uint64_t tcpst_capture_dump_skipped(const tcpst_capture *cap);

/*
 * Open all `nfiles` inputs ("-" = standard input, at most once), check their
 * link types with `linktype_ok` (NULL: any), and compile `filter` (NULL or
 * "" = none) for each.  Errors name the file: "FILE: unsupported link type
 * FOO (123)" ("standard input" for "-").  Codes: TCPST_EUSAGE (no files, "-" twice),
 * TCPST_EOPEN (fopen failed), TCPST_EFORMAT (libpcap cannot read the header),
 * TCPST_ELINKTYPE, TCPST_EFILTER ("invalid filter 'F': why"), TCPST_ENOMEM.
 * On error *out is NULL and nothing stays open.  `files` must outlive *out.
 */
__attribute__((warn_unused_result)) int
tcpst_capture_open(tcpst_capture **out, const char *const *files, size_t nfiles, const char *filter,
                   tcpst_linktype_fn linktype_ok, tcpst_error *err);

/*
 * Next packet that passes the filter, in merged timestamp order.
 * Returns 1 with *pkt set, 0 at the end of all inputs, and for a live capture
 * 2 when no packet came within poll_ms (or after tcpst_capture_interrupt()),
 * and 0 when the interface went away (its info gets truncated=true and
 * error; later calls return 0 too).  Offline, a damaged record ends
 * that input (its info gets truncated=true and an error text) and reading
 * continues with the others; it is not an error return.
 */
int tcpst_capture_next(tcpst_capture *cap, tcpst_pkt *pkt);

size_t tcpst_capture_ninputs(const tcpst_capture *cap);
/* An input's name as messages show it: "standard input" for "-". */
const char *tcpst_capture_shown_name(const char *name);
const tcpst_input_info *tcpst_capture_input(const tcpst_capture *cap, size_t i);

/* Total records read and total rejected by the filter, over all inputs. */
uint64_t tcpst_capture_packets(const tcpst_capture *cap);
uint64_t tcpst_capture_filtered(const tcpst_capture *cap);

void tcpst_capture_close(tcpst_capture *cap);

/*
 * Work the read-ahead thread does on each packet the filter passes, so that the caller's
 * thread has less to do: `fn` writes `size` bytes at `out` (8-byte aligned), handed out as
 * tcpst_pkt.prep, and returns how many leading bytes of the frame the caller still needs
 * (at most caplen; fewer bytes copied is less memory traffic).  It runs on the reader
 * thread, so it may only read what the caller's thread does not change.
 */
typedef struct tcpst_capture_prep {
    uint32_t (*fn)(void *ctx, int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                   void *out);
    void *ctx;
    size_t size; /* at most 4 KiB */
} tcpst_capture_prep;

/*
 * Read ahead in a thread (offline, regular files only, before any -w): libpcap, the merge,
 * the filter and `prep` (NULL: none) run there while the caller analyses.
 * tcpst_capture_next() then hands out the same packets, frame numbers, counters and
 * errors, in the same order, as without it.  Fails (EUSAGE) for live captures, pipes and
 * stdin, and when a dump is open; the capture then keeps reading inline, and the caller
 * must do the prep work itself (tcpst_pkt.prep is NULL).  Stopped by tcpst_capture_close().
 */
int tcpst_capture_start_reader(tcpst_capture *cap, const tcpst_capture_prep *prep,
                               tcpst_error *err);

/*
 * Read the inputs on a thread of their own and let tcpst_capture_next() return 2 (idle)
 * when no record came within poll_ms: for a live stream on a pipe or FIFO, whose silence
 * must not stop the clock (docs/capture-end.md).  Call before installing signal handlers
 * that call tcpst_capture_interrupt(), and not with the read-ahead thread.  EUSAGE
 * (live, or already started), ENOMEM.
 */
int tcpst_capture_start_stream(tcpst_capture *cap, int poll_ms, tcpst_error *err);

#endif
