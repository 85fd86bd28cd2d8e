/* placeholder until the planner lands */
#include "config.h"
int planner_placeholder_(void);
int planner_placeholder_(void) { return 0; }
