/* placeholder until the planner lands */
#include "config.h"
int report_placeholder_(void);
int report_placeholder_(void) { return 0; }
