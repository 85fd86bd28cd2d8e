/* placeholder until the provider lands */
#include "config.h"
int azure_placeholder_(void);
int azure_placeholder_(void) { return 0; }
