/* The echo bootstrap in C: answers every invocation with its event, byte for byte,
 * without copying it. Build: see the Makefile. */
#include <lambda_libc.h>

static void echo(const lambda_invocation *invocation, void *user_data) {
    (void)user_data;
    lambda_respond(invocation->event.ptr, invocation->event.len);
}

int main(void) {
    return lambda_run(echo, 0);
}
