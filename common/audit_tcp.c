/*  =========================================================================
    audit_tcp - what the kernel counts of a TCP connection
    ========================================================================= */

#include "audit_tcp.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

uint64_t
audit_tcp_bytes_received (int fd)
{
    struct tcp_info info;
    socklen_t size = sizeof info;
    memset (&info, 0, sizeof info);
    //  An older kernel fills less of it: then there is no count
    if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0
    ||  size < offsetof (struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
        return 0;
    return info.tcpi_bytes_received;
}
