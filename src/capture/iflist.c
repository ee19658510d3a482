/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * iflist.c - tcpstate -D: the interfaces tcpstate can capture on and decode, one per line,
 * in tcpdump -D's format with each one's link type after it.
 *
 * The link type is known only once an interface is opened, so each is opened for a moment
 * (not in promiscuous mode) and closed again; one whose link type the decoder does not take
 * (D-Bus, Bluetooth, NFQUEUE) is left out.  Where opening needs privileges tcpstate lacks,
 * every interface is listed, its link type unknown.
 */
#include "tcpstate/capture.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>
#include <zlib.h>

#include "source.h"

/* The interface's link type, opened for a moment: 1, 0 when it cannot be opened, -1 when
 * that needs privileges. */
static int probe(const char *name, tcpst__input *in)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_create(name, eb);
    if (p == NULL) {
        return 0;
    }
    pcap_set_snaplen(p, 128);
    pcap_set_buffer_size(p, 1 << 16);
    int rc = pcap_activate(p);
    if (rc >= 0) {
        tcpst__input_set_linktype(in, pcap_datalink(p));
    }
    pcap_close(p);
    return rc >= 0 ? 1 : rc == PCAP_ERROR_PERM_DENIED ? -1 : 0;
}

/* tcpdump -D's format: "N.name (description) [flags, connection status]", and after it
 * "link-type NAME (description)" when known. */
static void print_interface(FILE *out, int n, const pcap_if_t *d, const tcpst__input *in)
{
    fprintf(out, "%d.%s", n, d->name);
    if (d->description != NULL) {
        fprintf(out, " (%s)", d->description);
    }
    if (d->flags == 0) {
        fputs(" [none]", out);
        if (in != NULL) {
            fprintf(out, " link-type %s (%s)", in->info.linktype_name,
                    tcpst_capture_linktype_description(in->info.linktype, in->info.linktype_name));
        }
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
    fputs("]", out);
    if (in != NULL) {
        fprintf(out, " link-type %s (%s)", in->info.linktype_name,
                tcpst_capture_linktype_description(in->info.linktype, in->info.linktype_name));
    }
    fputc('\n', out);
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

int tcpst_capture_list_interfaces(FILE *out, tcpst_linktype_fn linktype_ok, tcpst_error *err)
{
    pcap_if_t *devs = NULL;
    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    if (pcap_findalldevs(&devs, errbuf) != 0) {
        return tcpst_error_set(err, TCPST_EOPEN, "cannot list interfaces: %s",
                               errbuf[0] != '\0' ? errbuf : "unknown error");
    }
    int n = 0;
    bool privileged = true;
    for (const pcap_if_t *d = devs; d != NULL; d = d->next) {
        tcpst__input in;
        memset(&in, 0, sizeof in);
        int known = privileged ? probe(d->name, &in) : -1;
        privileged = known != -1;
        if (known == 0 || (known == 1 && linktype_ok && !linktype_ok(in.info.linktype))) {
            continue; /* cannot be opened, or nothing tcpstate decodes */
        }
        print_interface(out, ++n, d, known == 1 ? &in : NULL);
    }
    if (!privileged) {
        fprintf(out, "(link types unknown: opening an interface needs root or CAP_NET_RAW)\n");
    }
    pcap_freealldevs(devs);
    if (fflush(out) != 0 || ferror(out)) {
        return tcpst_error_set(err, TCPST_EWRITE, "cannot write the interface list: %s",
                               strerror(errno));
    }
    return 0;
}
