/*  =========================================================================
    audit_tcp - what the kernel counts of a TCP connection

    Apart from the modules that use it because glibc's <netinet/tcp.h>
    (which czmq.h includes) has an older struct tcp_info without the byte
    counts, and <linux/tcp.h>, which has them, cannot share a unit with it.
    ========================================================================= */

#ifndef AUDIT_TCP_H_INCLUDED
#define AUDIT_TCP_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The bytes fd's connection has received in all (TCP_INFO,
//  tcpi_bytes_received, Linux 4.1 and later); 0 when fd is not TCP.
uint64_t
    audit_tcp_bytes_received (int fd);

#ifdef __cplusplus
}
#endif

#endif
