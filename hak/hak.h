/*
 * Declarations shared by the verbs of the hak tool (hak/hak.c dispatches to them).
 */
#ifndef HAK_TOOL_H
#define HAK_TOOL_H

/* One prototype per verb in verbs.def. */
#define HAK_VERB(name, function, summary) int function(int argc, char **argv);
#include "verbs.def"
#undef HAK_VERB

/* What a verb says of an option getopt_long did not accept (the last argument it read), in one
 * form for every verb; returns 2, the exit status of a usage error. */
int hak_bad_option(const char *verb, char *const *argv);

/* The build this binary comes from ("<git sha>"), set by the Makefile. */
extern const char hak_build_id[];

#endif
