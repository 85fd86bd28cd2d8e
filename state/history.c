/* placeholder until the history lands */
#include "config.h"
int history_placeholder_(void);
int history_placeholder_(void) { return 0; }
