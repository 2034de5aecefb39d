/* A Lambda function behind a function URL: `GET /hello?name=Ada` answers
 * {"message":"hello, Ada"}. No heap: the event is read where it lies, and the answer is
 * written into the runtime's response buffer with lambda_write.
 *
 * The JSON reading below finds a member of an object and skips any value; it does not
 * validate a whole document and does not decode escapes (a name with one is refused).
 * A function that reads more of its event would use a JSON parser such as jsmn. */
#include <lambda_libc.h>
#include <stdbool.h>
#include <string.h>

/* A piece of the event: `len` bytes at `ptr`. */
typedef struct {
    const char *ptr;
    size_t len;
} span;

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The index of the first byte at or after `i` that is not white space. */
static size_t skip_space(span s, size_t i) {
    while (i < s.len && is_space(s.ptr[i])) i++;
    return i;
}

/* The index just past the string that starts (with its quote) at `i`, or s.len if it
 * does not end. */
static size_t skip_string(span s, size_t i) {
    for (i++; i < s.len; i++) {
        if (s.ptr[i] == '\\') i++;
        else if (s.ptr[i] == '"') return i + 1;
    }
    return s.len;
}

/* The index just past the value that starts at `i`: a string, an object or array (its
 * brackets balanced, strings skipped whole), or a number or literal (up to the next
 * delimiter). */
static size_t skip_value(span s, size_t i) {
    if (i >= s.len) return s.len;
    if (s.ptr[i] == '"') return skip_string(s, i);
    if (s.ptr[i] == '{' || s.ptr[i] == '[') {
        size_t depth = 0;
        while (i < s.len) {
            char c = s.ptr[i];
            if (c == '"') { i = skip_string(s, i); continue; }
            if (c == '{' || c == '[') depth++;
            if (c == '}' || c == ']') {
                depth--;
                if (depth == 0) return i + 1;
            }
            i++;
        }
        return s.len;
    }
    while (i < s.len && s.ptr[i] != ',' && s.ptr[i] != '}' && s.ptr[i] != ']' && !is_space(s.ptr[i])) i++;
    return i;
}

/* The value of member `key` of the object `object` (a string's value without its
 * quotes), or false if the object has no such member or is not an object. */
static bool member(span object, const char *key, span *value) {
    size_t key_len = strlen(key);
    size_t i = skip_space(object, 0);
    if (i >= object.len || object.ptr[i] != '{') return false;
    i = skip_space(object, i + 1);
    while (i < object.len && object.ptr[i] == '"') {
        size_t name_end = skip_string(object, i);
        bool match = name_end - i == key_len + 2 && memcmp(object.ptr + i + 1, key, key_len) == 0;
        i = skip_space(object, name_end);
        if (i >= object.len || object.ptr[i] != ':') return false;
        i = skip_space(object, i + 1);
        size_t end = skip_value(object, i);
        if (match) {
            bool quoted = end - i >= 2 && object.ptr[i] == '"';
            value->ptr = object.ptr + i + quoted;
            value->len = end - i - 2 * quoted;
            return true;
        }
        i = skip_space(object, end);
        if (i < object.len && object.ptr[i] == ',') i = skip_space(object, i + 1);
    }
    return false;
}

static bool equals(span s, const char *text) { return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0; }

/* The value of `key` in a query string (`a=1&name=Ada`), as sent (not percent-decoded). */
static bool query_value(span query, const char *key, span *value) {
    size_t key_len = strlen(key);
    size_t start = 0;
    while (start <= query.len) {
        const char *amp = memchr(query.ptr + start, '&', query.len - start);
        size_t end = amp ? (size_t)(amp - query.ptr) : query.len;
        if (end - start > key_len && memcmp(query.ptr + start, key, key_len) == 0 && query.ptr[start + key_len] == '=') {
            value->ptr = query.ptr + start + key_len + 1;
            value->len = end - start - key_len - 1;
            return true;
        }
        start = end + 1;
    }
    return false;
}

static bool letters_and_digits(span s) {
    if (s.len == 0) return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    }
    return true;
}

/* Writes a function URL response: `status`, a JSON content type, and a body
 * {"message":"<text><name>"}. Neither needs JSON escaping: `text` is fixed, `name` checked
 * to be letters and digits. The runtime answers with what was written when the handler
 * returns (a write past its buffer makes the invocation fail with an error). */
static void respond(const char *status, const char *text, span name) {
    static const char head[] = "{\"statusCode\":";
    static const char headers[] = ",\"headers\":{\"content-type\":\"application/json\"},\"body\":\"{\\\"message\\\":\\\"";
    static const char tail[] = "\\\"}\"}";
    lambda_write(head, sizeof head - 1);
    lambda_write(status, strlen(status));
    lambda_write(headers, sizeof headers - 1);
    lambda_write(text, strlen(text));
    lambda_write(name.ptr, name.len);
    lambda_write(tail, sizeof tail - 1);
}

static void handler(const lambda_invocation *invocation, void *user_data) {
    (void)user_data;
    span event = {(const char *)invocation->event.ptr, invocation->event.len};
    span none = {"", 0};
    span path, context, http, method;
    if (!member(event, "rawPath", &path) || !member(event, "requestContext", &context)
        || !member(context, "http", &http) || !member(http, "method", &method)) {
        respond("400", "the event is not a function URL request", none);
        return;
    }
    if (!equals(path, "/hello")) {
        respond("404", "no such path", none);
    } else if (!equals(method, "GET")) {
        respond("405", "/hello answers GET only", none);
    } else {
        span query, name = {"world", 5};
        if (member(event, "rawQueryString", &query)) query_value(query, "name", &name);
        if (letters_and_digits(name)) respond("200", "hello, ", name);
        else respond("400", "name: letters and digits only", none);
    }
}

int main(void) {
    return lambda_run(handler, 0);
}
