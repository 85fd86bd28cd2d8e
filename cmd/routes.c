/* placeholder until the command lands */
#include "config.h"
#include "cmd/cmd.h"
static int exec_routes(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err) { return err_set(err, NW_EFAIL, "not built yet"); }
static const struct cmd_option opts_routes[] = { { "format", 0, "FORMAT", 0, "text or json" }, { NULL, 0, NULL, 0, NULL } };
const struct cmd_entry cmd_routes_entry = { "routes", "", "placeholder", NULL, opts_routes, 0, 9, exec_routes };
