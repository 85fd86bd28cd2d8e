/* placeholder until the provider lands; not in the command table yet */
#include "config.h"
int cmd_discover_placeholder_(void);
int cmd_discover_placeholder_(void) { return 0; }
