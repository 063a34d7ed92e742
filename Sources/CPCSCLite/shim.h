// PC/SC Lite's client API (libpcsclite-dev). pkg-config's libpcsclite supplies -I/usr/include/PCSC,
// which winscard.h needs for its sibling headers pcsclite.h and wintypes.h.
#include <winscard.h>
