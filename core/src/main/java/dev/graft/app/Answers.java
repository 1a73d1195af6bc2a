package dev.graft.app;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.Json;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The server's answers: every one is JSON with its status ({@code {"error": ...}} for errors, never a Java class
 * name); a 503 says when to retry; every 500 is logged with its stack trace under a request id that the answer also
 * carries ({@code request_id} and the {@code X-Request-Id} header), so an operator can find what a user saw.
 */
final class Answers {
    /** The context attribute holding a request's id. */
    static final String REQUEST_ID = "graft.request_id";

    private final Consumer<String> log;
    private final String idPrefix = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    private final AtomicLong requests = new AtomicLong();

    /** @param log where internal errors go, each with its request id and stack trace */
    Answers(Consumer<String> log) {
        this.log = log;
    }

    /** A new request id (this server's random prefix and a counter), set on the request and its answer's headers. */
    String newId(Context ctx) {
        String id = idPrefix + "-" + Long.toHexString(requests.incrementAndGet());
        ctx.attribute(REQUEST_ID, id);
        ctx.header("X-Request-Id", id);
        return id;
    }

    /** The 500 answer to an exception no route handled: logged, with the request's id (a new one if it had none). */
    void internalError(Context ctx, Exception e) {
        String id = ctx.attribute(REQUEST_ID);
        if (id == null) {
            id = newId(ctx);
        }
        logInternal(id, ctx, e);
        json(ctx, 500, internalJson(id));
    }

    static ObjectNode internalJson(String id) {
        return Json.object().put("error", "internal error (request " + id + ", in the server's log); the server goes on serving")
                .put("request_id", id);
    }

    void logInternal(String id, Context ctx, Throwable e) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        log.accept("graft serve: internal error in request " + id + " (" + ctx.method() + " " + ctx.path() + "): " + trace.toString().stripTrailing());
    }

    static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(Json.compact(body));
    }

    /** Writes an answer now, while the request is still being read (its body is dropped after it). */
    static void send(Context ctx, int status, Object body) throws IOException {
        byte[] bytes = Json.compact(body).getBytes(StandardCharsets.UTF_8);
        HttpServletResponse res = ctx.res();
        res.setStatus(status);
        res.setContentType("application/json");
        res.setContentLength(bytes.length);
        res.getOutputStream().write(bytes);
        res.flushBuffer();
    }

    static void error(Context ctx, int status, String message) {
        json(ctx, status, Json.object().put("error", message));
    }

    /** The connection closes after the answer: the rest of the body is not read, so it cannot carry another request. */
    static void close(Context ctx) {
        ctx.header("Connection", "close");
    }

    /** An exception's message for a client: no class names, no status prefix. */
    static String describe(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return "unreadable";
        }
        m = m.replaceAll("\\b(java|javax|jakarta|org\\.eclipse|io\\.javalin)\\.[\\w.$]+:?\\s*", "").replaceFirst("^\\d{3}: ", "");
        return m.equals("invalid byte 0") ? "a NUL byte in a part's headers, e.g. in its file name" : m;
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
