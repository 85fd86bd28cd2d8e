/* placeholder until the history lands; not in the command table yet */
#include "config.h"
int cmd_history_placeholder_(void);
int cmd_history_placeholder_(void) { return 0; }
