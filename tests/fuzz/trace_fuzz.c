/*
 * libFuzzer harness for the trace reader and planner (trace/reader.c, trace/plan.c): any bytes
 * must give a trace, a note or one error line, never a crash, a hang or a leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct trace t;
    char err[512];
    if (trace_read_buffer(data, size, "fuzz", &t, err, sizeof err) == 0) {
        trace_plan(&t);
        trace_free(&t);
    }
    return 0;
}
