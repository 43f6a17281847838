/*  =========================================================================
    ctl_completion - the bash completion of auditctl, from its tables

    Completes the commands (and the second word of a two-word one such as
    retention get), each command's own options and the global ones, and
    the values of enumerated options (--order, --format, --role, --type,
    --category) and of file and directory options. Plain bash: it needs
    neither the bash-completion package's helpers nor anything else.
    ========================================================================= */

#ifndef CTL_COMPLETION_H_INCLUDED
#define CTL_COMPLETION_H_INCLUDED

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Write the completion script (what bash-completion loads from
//  share/bash-completion/completions/auditctl). 0, or -1 on a write error.
int
    ctl_completion_print (FILE *out);

#ifdef __cplusplus
}
#endif

#endif
