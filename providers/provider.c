/* placeholder until the provider lands */
#include "config.h"
int provider_placeholder_(void);
int provider_placeholder_(void) { return 0; }
