#include <unistd.h>

/* Waits for a signal and does nothing else: the smallest useful long-running container. */
int main(void) { return pause(); }
