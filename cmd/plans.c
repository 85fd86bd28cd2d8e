/* placeholder until the planner lands */
#include "config.h"
int cmd_plans_placeholder_(void);
int cmd_plans_placeholder_(void) { return 0; }
