// zlib (zlib1g-dev): inflates PIV certificate objects that the card stores gzip-compressed.
#include <zlib.h>
