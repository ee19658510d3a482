/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iflist.c - tcpstate -D: the interfaces libpcap can capture on, one per line,
 * in tcpdump -D's format, so that scripts written for one read the other.
 *
 * Not done here: opening an interface (live.c).  Nothing is kept open; the
 * list libpcap allocates is freed before returning.
 */
#include "tcpstate/capture.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>
#include <zlib.h>

/* tcpdump -D's format: "N.name (description) [flags, connection status]". */
static void print_interface(FILE *out, int n, const pcap_if_t *d)
{
    fprintf(out, "%d.%s", n, d->name);
    if (d->description != NULL) {
        fprintf(out, " (%s)", d->description);
    }
    if (d->flags == 0) {
        fputc('\n', out);
        return;
    }
    static const struct {
        bpf_u_int32 bit;
        const char *name;
    } names[] = {{PCAP_IF_UP, "Up"},
                 {PCAP_IF_RUNNING, "Running"},
                 {PCAP_IF_LOOPBACK, "Loopback"},
                 {PCAP_IF_WIRELESS, "Wireless"}};
    const char *sep = "";
    fputs(" [", out);
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (d->flags & names[k].bit) {
            fprintf(out, "%s%s", sep, names[k].name);
            sep = ", ";
        }
    }
    if (sep[0] == '\0') {
        fputs("none", out);
    }
    bool wireless = (d->flags & PCAP_IF_WIRELESS) != 0;
    switch (d->flags & PCAP_IF_CONNECTION_STATUS) {
        case PCAP_IF_CONNECTION_STATUS_UNKNOWN:
            fputs(wireless ? ", Association status unknown" : ", Connection status unknown", out);
            break;
        case PCAP_IF_CONNECTION_STATUS_CONNECTED:
            fputs(wireless ? ", Associated" : ", Connected", out);
            break;
        case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
            fputs(wireless ? ", Not associated" : ", Disconnected", out);
            break;
        default: /* not applicable */
            break;
    }
    fputs("]\n", out);
}

const char *tcpst_capture_linktype_description(int linktype, const char *name)
{
    int dlt = pcap_datalink_name_to_val(name);
    const char *d = pcap_datalink_val_to_description(dlt >= 0 ? dlt : linktype);
    return d ? d : name;
}

const char *tcpst_capture_pcap_version(void)
{
    return pcap_lib_version();
}

const char *tcpst_capture_zlib_version(void)
{
    return zlibVersion();
}

int tcpst_capture_list_interfaces(FILE *out, tcpst_error *err)
{
    pcap_if_t *devs = NULL;
    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    if (pcap_findalldevs(&devs, errbuf) != 0) {
        return tcpst_error_set(err, TCPST_EOPEN, "cannot list interfaces: %s",
                               errbuf[0] != '\0' ? errbuf : "unknown error");
    }
    int n = 0;
    for (const pcap_if_t *d = devs; d != NULL; d = d->next) {
        print_interface(out, ++n, d);
    }
    pcap_freealldevs(devs);
    if (fflush(out) != 0 || ferror(out)) {
        return tcpst_error_set(err, TCPST_EWRITE, "cannot write the interface list: %s",
                               strerror(errno));
    }
    return 0;
}
