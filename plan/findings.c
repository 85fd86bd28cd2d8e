/* placeholder until the module lands */
#include "config.h"
int findings_placeholder_(void);
int findings_placeholder_(void) { return 0; }
