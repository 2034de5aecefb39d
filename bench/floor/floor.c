/* The floor of `cargo xtask bench`: the least an honest echo runtime does, written for
 * speed, not for size or robustness.
 *
 * One keep-alive connection (TCP_NODELAY), opened once. Per invocation, with a small event:
 * write GET /next, read the event (head and body in one read), writev the /response head
 * and the event, read the 202: 4 syscalls. Events are framed by Content-Length or chunked
 * (decoded in place, any split across reads); up to 6,291,556 bytes in a buffer in .bss,
 * so untouched pages cost nothing. Anything unexpected (a status other than 200/2xx, a
 * missing request id, a closed connection, a malformed frame) ends the process with
 * status 1: the harness then reports the candidate as broken. No stdio and no locale: the
 * few numbers are formatted and parsed by hand, so that libc touches as little as it can.
 *
 * Build: zig cc -target x86_64-linux-gnu.2.34 -O2 -s -o floor floor.c (cargo xtask bench). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_EVENT 6291556
#define MAX_HEAD 65536
#define SLACK 65536

static char event[MAX_HEAD + MAX_EVENT + SLACK]; /* the /next response: head, then body */
static char reply[4096];                        /* the /response reply */
static char get_next[512];
static int get_next_len;
static char host[256];

static void die(const char *what) {
    struct iovec iov[3] = {{"floor: ", 7}, {(char *)what, strlen(what)}, {"\n", 1}};
    writev(2, iov, 3);
    exit(1);
}

/* Appends `n` bytes at `p`; returns the end. */
static char *put(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}

static char *put_decimal(char *p, size_t v) {
    char digits[20];
    int n = 0;
    do digits[n++] = (char)('0' + v % 10), v /= 10; while (v);
    while (n) *p++ = digits[--n];
    return p;
}

/* Parses decimal (base 10) or hex (base 16) digits at s[0..len); stops at the first other
 * byte; `*ok` is 0 if there was no digit. */
static size_t parse_number(const char *s, size_t len, int base, int *ok) {
    size_t v = 0, i = 0;
    for (; i < len; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0 || v > (size_t)MAX_EVENT * 16) break;
        v = v * (size_t)base + (size_t)d;
    }
    *ok = i > 0;
    return v;
}

static size_t fill(int fd, char *buf, size_t have, size_t cap) {
    if (have >= cap) die("response too large");
    ssize_t n = read(fd, buf + have, cap - have);
    if (n <= 0) die("connection closed");
    return have + (size_t)n;
}

/* The end of the header block (after CRLFCRLF) within buf[0..len), or 0. */
static size_t head_end(const char *buf, size_t len) {
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') return i + 1;
    return 0;
}

/* Whether s[0..n) equals the lower-case `lower`, ASCII case-insensitively. */
static int same(const char *s, const char *lower, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]) != lower[i]) return 0;
    return 1;
}

/* The value of header `name` (lower case; matched case-insensitively) in the header block, and its length. */
static const char *header(const char *head, size_t len, const char *name, size_t *vlen) {
    size_t n = strlen(name);
    const char *p = memchr(head, '\n', len), *end = head + len;
    while (p && p + 1 < end) {
        const char *line = p + 1;
        p = memchr(line, '\n', (size_t)(end - line));
        if (!p) break;
        if ((size_t)(p - line) > n && line[n] == ':' && same(line, name, n)) {
            const char *v = line + n + 1, *e = p;
            while (v < e && (*v == ' ' || *v == '\t')) v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
            *vlen = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

static int status(const char *head) {
    if (memcmp(head, "HTTP/1.1 ", 9) != 0) die("not HTTP/1.1");
    int ok;
    return (int)parse_number(head + 9, 3, 10, &ok);
}

/* Decodes a chunked body in place: raw bytes at body[pos..end), decoded bytes at body[..out].
 * Returns 1 when the last chunk and the trailers are complete. */
struct chunked {
    size_t out, pos, left; /* left: data bytes still to copy in the current chunk */
    int state;             /* 0 size line, 1 data, 2 CRLF after data, 3 trailer lines */
};

static int dechunk(struct chunked *c, char *body, size_t end) {
    for (;;) {
        if (c->state == 1) {
            size_t n = end - c->pos < c->left ? end - c->pos : c->left;
            memmove(body + c->out, body + c->pos, n);
            c->out += n, c->pos += n, c->left -= n;
            if (c->left) return 0;
            c->state = 2;
        }
        char *nl = memchr(body + c->pos, '\n', end - c->pos);
        if (!nl) return 0;
        char *line = body + c->pos;
        size_t len = (size_t)(nl - line);
        c->pos += len + 1;
        if (c->state == 0) {
            int ok;
            size_t size = parse_number(line, len, 16, &ok);
            if (!ok) die("bad chunk size");
            if (size > MAX_EVENT) die("chunk too large");
            c->left = size;
            c->state = size ? 1 : 3;
        } else if (c->state == 2) {
            if (len != 1 || line[0] != '\r') die("bad chunk end");
            c->state = 0;
        } else if (len == 1 && line[0] == '\r') {
            return 1; /* the empty line after the trailers */
        }
    }
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) die("AWS_LAMBDA_RUNTIME_API is not set");
    size_t api_len = strlen(api);
    const char *colon = strrchr(api, ':');
    if (!colon || (size_t)(colon - api) >= sizeof host || api_len > 200) die("AWS_LAMBDA_RUNTIME_API is not ip:port");
    memcpy(host, api, (size_t)(colon - api));
    int ok;
    size_t port = parse_number(colon + 1, strlen(colon + 1), 10, &ok);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (!ok || inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("not an IPv4 literal");
    static const char get[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: ";
    char *p = put(get_next, get, sizeof get - 1);
    p = put(p, api, api_len);
    p = put(p, "\r\n\r\n", 4);
    get_next_len = (int)(p - get_next);

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("cannot connect");

    for (;;) {
        if (write(fd, get_next, (size_t)get_next_len) != get_next_len) die("cannot send /next");

        size_t have = 0, hlen;
        do have = fill(fd, event, have, MAX_HEAD); while (!(hlen = head_end(event, have)));
        if (status(event) != 200) die("/next: status is not 200");
        size_t idlen, vlen;
        const char *id = header(event, hlen, "lambda-runtime-aws-request-id", &idlen);
        if (!id || idlen == 0 || idlen > 200) die("/next: no request id");
        char *body = event + hlen;
        size_t body_len;
        const char *te = header(event, hlen, "transfer-encoding", &vlen);
        if (te && vlen == 7 && same(te, "chunked", 7)) {
            struct chunked c = {0};
            size_t end = have - hlen;
            while (!dechunk(&c, body, end)) {
                /* Keep the undecoded bytes right after the decoded ones. */
                memmove(body + c.out, body + c.pos, end - c.pos);
                end = c.out + (end - c.pos), c.pos = c.out;
                end = fill(fd, body, end, MAX_EVENT + SLACK);
            }
            if (c.pos != end) die("/next: bytes after the body");
            body_len = c.out;
        } else {
            const char *cl = header(event, hlen, "content-length", &vlen);
            if (!cl) die("/next: no Content-Length");
            body_len = parse_number(cl, vlen, 10, &ok);
            if (!ok || body_len > MAX_EVENT) die("/next: bad Content-Length");
            size_t end = have - hlen;
            while (end < body_len) end = fill(fd, body, end, body_len);
            if (end != body_len) die("/next: bytes after the body");
        }

        char head[512];
        static const char post[] = "POST /2018-06-01/runtime/invocation/";
        p = put(head, post, sizeof post - 1);
        p = put(p, id, idlen);
        p = put(p, "/response HTTP/1.1\r\nHost: ", 26);
        p = put(p, api, api_len);
        p = put(p, "\r\nContent-Length: ", 18);
        p = put_decimal(p, body_len);
        p = put(p, "\r\n\r\n", 4);
        size_t n = (size_t)(p - head);
        struct iovec iov[2] = {{head, n}, {body, body_len}};
        size_t left = n + body_len;
        while (left) {
            ssize_t sent = writev(fd, iov, 2);
            if (sent <= 0) die("cannot send /response");
            left -= (size_t)sent;
            for (int i = 0; i < 2 && sent; i++) {
                size_t k = (size_t)sent < iov[i].iov_len ? (size_t)sent : iov[i].iov_len;
                iov[i].iov_base = (char *)iov[i].iov_base + k, iov[i].iov_len -= k, sent -= (ssize_t)k;
            }
        }

        have = 0;
        do have = fill(fd, reply, have, sizeof reply); while (!(hlen = head_end(reply, have)));
        const char *cl = header(reply, hlen, "content-length", &vlen);
        size_t want = hlen + (cl ? parse_number(cl, vlen, 10, &ok) : 0);
        while (have < want) have = fill(fd, reply, have, sizeof reply);
        if (status(reply) / 100 != 2) die("/response: status is not 2xx");
    }
}
