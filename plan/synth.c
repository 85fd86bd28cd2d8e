/* placeholder until the module lands */
#include "config.h"
int synth_placeholder_(void);
int synth_placeholder_(void) { return 0; }
