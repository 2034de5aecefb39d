/* The streaming echo bootstrap in C: streams every event back in chunks of at most 4 KiB,
 * with the event's content type (application/octet-stream when it has none). For a
 * function whose invoke mode is RESPONSE_STREAM. Build: see the Makefile (SRC=stream.c). */
#include <lambda_libc.h>
#include <string.h>

#define CHUNK 4096

static void echo(const lambda_invocation *invocation, void *user_data) {
    char content_type[256] = "";
    lambda_bytes type = invocation->context.content_type;
    size_t at;
    (void)user_data;
    if (type.len < sizeof content_type) {
        memcpy(content_type, type.ptr, type.len);
        content_type[type.len] = 0;
    }
    /* On LAMBDA_E_IO (logged) the stream is open but broken: the writes fail at once and
     * lambda_stream_finish closes it. */
    lambda_stream_begin(content_type);
    for (at = 0; at < invocation->event.len; at += CHUNK) {
        size_t left = invocation->event.len - at;
        if (lambda_stream_write(invocation->event.ptr + at, left < CHUNK ? left : CHUNK) != LAMBDA_OK) {
            break;
        }
    }
    lambda_stream_finish();
}

int main(void) {
    return lambda_run(echo, 0);
}
