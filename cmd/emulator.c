/* placeholder until the emulator lands */
#include "config.h"
#include "cmd/cmd.h"
static int exec_emulator(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err) { return err_set(err, NW_EFAIL, "not built yet"); }
static const struct cmd_option opts_emulator[] = { { NULL, 0, NULL, 0, NULL } };
const struct cmd_entry cmd_emulator_entry = { "emulator", "", "placeholder", NULL, opts_emulator, 0, 0, exec_emulator };
