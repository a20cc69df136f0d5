/*
 * Phase protocol, benchmark side (the "phase client").
 *
 * A benchmark marks the states it reaches ("baseline", "burst", "free", "idle", "flush", ...) and
 * reports its results ("ops_per_sec", "live_bytes", ...).  The messages go, one text line each, to
 * the file descriptor named by the environment variable HAK_PHASE_FD; a collector (hak record)
 * reads them and samples the process at each mark.  When the collector also passes
 * HAK_PHASE_ACK_FD, a mark waits until the collector acknowledges it, so the snapshot is taken
 * exactly at the mark.
 *
 * With no collector (HAK_PHASE_FD unset) every call returns after one load and a compare: it
 * allocates nothing, writes nothing and changes nothing.  The client itself never calls malloc, so
 * it does not disturb the allocator being measured even when a collector is present.
 *
 * The wire format is specified in docs/phase-protocol.md.  All calls are thread-safe.
 */
#ifndef HAK_PHASE_H
#define HAK_PHASE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HAK_PHASE_PROTOCOL_VERSION 1
#define HAK_PHASE_FD_ENV "HAK_PHASE_FD"                  /* fd the client writes messages to  */
#define HAK_PHASE_ACK_FD_ENV "HAK_PHASE_ACK_FD"          /* fd the client reads acks from     */
#define HAK_PHASE_TIMEOUT_ENV "HAK_PHASE_ACK_TIMEOUT_MS" /* longest wait for one ack         */
#define HAK_PHASE_DEFAULT_ACK_TIMEOUT_MS 10000
#define HAK_PHASE_NAME_MAX 63 /* longest phase or result name */
/* The name `hak mark` says hello with: a collector does not take it for the run's benchmark. */
#define HAK_PHASE_MARK_TOOL "hak-mark"

/* Announces the benchmark to the collector ("hello" message).  Optional: the first mark or result
 * initialises the client too, with bench "-".  Returns 1 when a collector is listening, else 0. */
int hak_phase_init(const char *bench_name);

/* 1 when a collector is listening (HAK_PHASE_FD names a usable descriptor), else 0. */
int hak_phase_active(void);

/* Marks the state the process has just reached.  Waits for the collector's acknowledgement when it
 * passed an ack descriptor.  Names are [A-Za-z0-9_.-]{1,63}; other names are dropped. */
void hak_phase_mark(const char *name);

/* Same, with the bytes the benchmark holds at this moment attached (live_bytes=N). */
void hak_phase_mark_live(const char *name, uint64_t live_bytes);

/* Reports one result.  Results never wait for an acknowledgement. */
void hak_phase_result_u64(const char *key, uint64_t value);
void hak_phase_result_f64(const char *key, double value);

#ifdef __cplusplus
}
#endif

#endif
