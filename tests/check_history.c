#include "config.h"
#include "tests/testutil.h"
int main(void) { return 77; }
