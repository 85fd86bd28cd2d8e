/* placeholder until the module lands */
#include "config.h"
int cidr_placeholder_(void);
int cidr_placeholder_(void) { return 0; }
