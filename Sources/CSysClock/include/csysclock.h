#ifndef CSYSCLOCK_H
#define CSYSCLOCK_H

#include <stdint.h>

/// The kernel's clock-discipline state, read without changing it (adjtimex with modes = 0).
typedef struct {
    int32_t clock_state;    /* TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT, TIME_ERROR, or -1 on failure */
    int32_t status;         /* STA_* flags */
    int64_t offset_ns;      /* current offset, nanoseconds */
    int64_t max_error_us;   /* maximum error bound, microseconds */
    int64_t est_error_us;   /* estimated error, microseconds */
    int32_t error_number;   /* errno when clock_state is -1 */
} csysclock_state;

/// Reads the state. Never modifies the clock.
csysclock_state csysclock_read(void);

/* Status flags and clock states, re-exported as plain constants for Swift. */
extern const int32_t CSYSCLOCK_STA_UNSYNC;
extern const int32_t CSYSCLOCK_STA_NANO;
extern const int32_t CSYSCLOCK_STA_INS;
extern const int32_t CSYSCLOCK_STA_DEL;
extern const int32_t CSYSCLOCK_TIME_OK;
extern const int32_t CSYSCLOCK_TIME_INS;
extern const int32_t CSYSCLOCK_TIME_DEL;
extern const int32_t CSYSCLOCK_TIME_OOP;
extern const int32_t CSYSCLOCK_TIME_WAIT;
extern const int32_t CSYSCLOCK_TIME_ERROR;

#endif
