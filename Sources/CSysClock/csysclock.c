#include "csysclock.h"

#include <errno.h>
#include <string.h>
#include <sys/timex.h>

const int32_t CSYSCLOCK_STA_UNSYNC = STA_UNSYNC;
const int32_t CSYSCLOCK_STA_NANO = STA_NANO;
const int32_t CSYSCLOCK_STA_INS = STA_INS;
const int32_t CSYSCLOCK_STA_DEL = STA_DEL;
const int32_t CSYSCLOCK_TIME_OK = TIME_OK;
const int32_t CSYSCLOCK_TIME_INS = TIME_INS;
const int32_t CSYSCLOCK_TIME_DEL = TIME_DEL;
const int32_t CSYSCLOCK_TIME_OOP = TIME_OOP;
const int32_t CSYSCLOCK_TIME_WAIT = TIME_WAIT;
const int32_t CSYSCLOCK_TIME_ERROR = TIME_ERROR;

csysclock_state csysclock_read(void) {
    struct timex tx;
    memset(&tx, 0, sizeof(tx));
    tx.modes = 0; /* read only */
    csysclock_state result;
    memset(&result, 0, sizeof(result));
    int state = adjtimex(&tx);
    if (state < 0) {
        result.clock_state = -1;
        result.error_number = errno;
        return result;
    }
    result.clock_state = state;
    result.status = tx.status;
    result.offset_ns = (tx.status & STA_NANO) ? (int64_t)tx.offset : (int64_t)tx.offset * 1000;
    result.max_error_us = tx.maxerror;
    result.est_error_us = tx.esterror;
    return result;
}
