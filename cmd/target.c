/* placeholder until the planner lands */
#include "config.h"
int cmd_target_placeholder_(void);
int cmd_target_placeholder_(void) { return 0; }
