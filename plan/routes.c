/* placeholder until the module lands */
#include "config.h"
int routes_placeholder_(void);
int routes_placeholder_(void) { return 0; }
