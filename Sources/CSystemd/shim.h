// libsystemd (libsystemd-dev): the service-manager notification protocol, socket activation and the native
// journal protocol. Only sd-daemon.h and sd-journal.h are used; SystemdIntegration wraps them.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
