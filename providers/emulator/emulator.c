/* placeholder until the emulator lands */
#include "config.h"
int emulator_placeholder_(void);
int emulator_placeholder_(void) { return 0; }
