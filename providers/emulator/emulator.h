/* placeholder until the emulator lands */
#ifndef NETWAVE_PROVIDERS_EMULATOR_H
#define NETWAVE_PROVIDERS_EMULATOR_H
#endif
