/* The console side of `define` (core/cmd_define.c): each console (serial,
 * network session) keeps a struct define_input and hands it every line
 * typed while it is active. */
#ifndef CORE_CMD_DEFINE_H
#define CORE_CMD_DEFINE_H

#include "core/define_input.h"

/* A typed line for an active define: stores it, or at the end defines the
 * VM and prints the result (command output of the calling console). */
void define_console_line(struct define_input *in, const char *line);
/* Ctrl-C or a refused (too long) line: the definition is dropped, said. */
void define_console_abort(struct define_input *in, const char *why);

#endif
