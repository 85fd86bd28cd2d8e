#include <jansson.h>
int main(void){return 0;}
