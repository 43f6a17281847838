/*  =========================================================================
    ctl_manpage - the man pages, in troff (man macros), from the tables

    auditctl(1) from ctl_commands.def and ctl_options.def: every command
    with its purpose, options, required options and notes; the global
    options; the environment variables the help texts name. A worker's
    page (audit-ingest(1) ...) from its --help, which lists the settings
    it reads, and audit_settings.def, which says for each its flag,
    environment variable, default and range.
    ========================================================================= */

#ifndef CTL_MANPAGE_H_INCLUDED
#define CTL_MANPAGE_H_INCLUDED

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Write auditctl(1). 0, or -1 on a write error.
int
    ctl_manpage_auditctl (FILE *out, const char *version);

//  Write the page of the worker whose --help printed help ("Usage:
//  PROGRAM [OPTIONS]", its purpose, then its options). 0, or -1 when help
//  is not that or on a write error.
int
    ctl_manpage_worker (FILE *out, const char *help, const char *version);

//  Write text with troff's special characters escaped: backslash, '-'
//  (a minus, as in options), and '.' or '\'' at the start of a line.
void
    ctl_manpage_escape (FILE *out, const char *text, int len);

#ifdef __cplusplus
}
#endif

#endif
