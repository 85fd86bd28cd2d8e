/*
 * The emulator's check of certificate client assertions (auth_assert.c),
 * called by the token endpoint (auth.c) for clients with keyCredentials.
 */
#ifndef NETWAVE_EMULATOR_AUTH_ASSERT_H
#define NETWAVE_EMULATOR_AUTH_ASSERT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"

/* Entra ID's answer when an assertion is refused. */
struct auth_assert_fail {
	int status;         /* 400 or 401 */
	const char *error;  /* "invalid_client", "invalid_request" */
	int code;           /* the AADSTS number */
	char msg[1024];     /* the text after "AADSTSnnn: " */
};

/* Checks a clients-file entry's keyCredentials when the file is loaded (index for messages). */
int auth_assert_check_keys(const json_t *client, size_t index, struct nw_err *err);

/*
 * True when assertion is a JWT signed by one of client's keyCredentials,
 * for client_id, addressed to audience (the token endpoint's URL) and
 * valid at now; otherwise false with f filled.
 */
bool auth_assert_verify(const json_t *client, const char *assertion, const char *client_id,
    const char *audience, double now, struct auth_assert_fail *f);

#endif
