/* placeholder until the planner lands */
#include "config.h"
int cmd_show_placeholder_(void);
int cmd_show_placeholder_(void) { return 0; }
