/* placeholder until the store lands */
#include "config.h"
int store_placeholder_(void);
int store_placeholder_(void) { return 0; }
