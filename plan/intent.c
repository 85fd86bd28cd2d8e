/* placeholder until the planner lands */
#include "config.h"
int intent_placeholder_(void);
int intent_placeholder_(void) { return 0; }
