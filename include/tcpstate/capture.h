/*
 * capture.h - reading packets from capture files (pcap, pcapng) via libpcap.
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
 * valid until the next tcpst_capture_next() call.
 */
#ifndef TCPSTATE_CAPTURE_H
#define TCPSTATE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstate/error.h"
#include "tcpstate/types.h"

typedef struct tcpst_capture tcpst_capture;

typedef struct tcpst_pkt {
    const uint8_t *data; /* borrowed, caplen bytes */
    uint32_t caplen;
    uint32_t wirelen;
    tcpst_time ts;
    int linktype;   /* LINKTYPE_* of the file the packet came from */
    uint64_t frame; /* 1-based, over the merged stream */
    unsigned input; /* index into the inputs */
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
    bool truncated;               /* reading stopped early on a damaged record */
    char error[TCPST_ERRMSG_MAX]; /* why it stopped early, without the file name; "" if it
                                     did not */
} tcpst_input_info;

/*
 * Open all `nfiles` inputs ("-" = standard input, at most once), check that
 * their link types are supported, and compile `filter` (NULL or "" = none)
 * for each.  Errors name the file: "FILE: unsupported link type FOO (123)"
 * ("standard input" for "-").  Codes: TCPST_EUSAGE (no files, "-" twice),
 * TCPST_EOPEN (fopen failed), TCPST_EFORMAT (libpcap cannot read the header),
 * TCPST_ELINKTYPE, TCPST_EFILTER ("invalid filter 'F': why"), TCPST_ENOMEM.
 * On error *out is NULL and nothing stays open.  `files` must outlive *out.
 */
__attribute__((warn_unused_result)) int tcpst_capture_open(tcpst_capture **out,
                                                           const char *const *files, size_t nfiles,
                                                           const char *filter, tcpst_error *err);

/*
 * Next packet that passes the filter, in merged timestamp order.
 * Returns 1 with *pkt set, 0 at the end of all inputs.  A damaged record ends
 * that input (its info gets truncated=true and an error text) and reading
 * continues with the others; it is not an error return.
 */
int tcpst_capture_next(tcpst_capture *cap, tcpst_pkt *pkt);

size_t tcpst_capture_ninputs(const tcpst_capture *cap);
const tcpst_input_info *tcpst_capture_input(const tcpst_capture *cap, size_t i);

/* Total records read and total rejected by the filter, over all inputs. */
uint64_t tcpst_capture_packets(const tcpst_capture *cap);
uint64_t tcpst_capture_filtered(const tcpst_capture *cap);

void tcpst_capture_close(tcpst_capture *cap);

#endif
