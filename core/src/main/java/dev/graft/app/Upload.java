package dev.graft.app;

import dev.graft.util.Json;
import io.javalin.http.Context;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One POST /predict from its headers to its answer. The body is received asynchronously (servlet non-blocking reads:
 * no thread is held while waiting for bytes, so a client sending a byte now and then costs a connection, not a
 * thread), within a total deadline whatever its pace ({@code requestMillis}: 408) and within the server's
 * {@link UploadMemory} (chunks reserved before they are read into: 503). The whole body then goes to
 * {@link Predictions}. Whoever comes first (the deadline, a read error, the prediction) answers, once.
 */
final class Upload implements ReadListener {
    static final String EMPTY = "empty request: send the image as the body, or as a multipart field named \"image\"";

    /** What the headers said: the request, its id, its Content-Length (-1: none), what it asks for. */
    record Request(Context ctx, String id, String contentLength, long declared, int topK, boolean explain) {
    }

    /** What bounds an upload, shared by all of a server's uploads. */
    record Bounds(Server.Limits limits, UploadMemory memory, ExplainBudget explainBudget, ScheduledExecutorService timer,
                  Predictions predictions) {
    }

    private final Request r;
    private final Bounds b;
    private boolean explainPermit;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final AtomicBoolean answered = new AtomicBoolean();
    private final AtomicBoolean receiving = new AtomicBoolean(true);
    private final List<byte[]> chunks = new ArrayList<>();
    private byte[] chunk;
    private int pos;
    private long received;
    private long reserved;
    private ServletInputStream in;
    private ScheduledFuture<?> deadline;
    /** Answered while the body was still coming: the rest is read into {@link #drop} and dropped. */
    private volatile boolean draining;
    private byte[] drop;

    /** How an answer leaves the connection. */
    enum After {
        /** open for the client's next request (the body was read whole) */
        KEEP,
        /** closed with the answer: what is left of the body is not read (too large, or too late) */
        CLOSE,
        /**
         * closed once the rest of the body has been read and dropped (within the request's deadline and byte limit,
         * holding none of the upload memory). Closing with unread bytes makes the kernel reset the connection, and the
         * reset can destroy the answer before the client reads it: with the machine loaded, 1 in 10 busy answers given
         * from the headers were lost that way ("HTTP/1.1 header parser received no bytes" in Java's client).
         */
        DRAIN
    }

    Upload(Request request, Bounds bounds) {
        this.r = request;
        this.b = bounds;
    }

    /** The request holds a heat-map slot, returned with the answer. */
    void holdExplainPermit() {
        explainPermit = true;
    }

    Request request() {
        return r;
    }

    /**
     * Refuses the request from its headers (busy, heat maps off, a bad query): answers now, then reads the body to its
     * end and drops it ({@link After#DRAIN}). The future completes when the connection may close.
     */
    CompletableFuture<Void> refuse(int status, Object body) {
        answer(status, body, After.DRAIN);
        return done.isDone() ? done : start();
    }

    /** Starts receiving; the future completes when the answer is set. */
    CompletableFuture<Void> start() {
        try {
            deadline = b.timer().schedule(this::deadlinePassed, b.limits().requestMillis(), TimeUnit.MILLISECONDS);
            in = r.ctx().req().getInputStream();
            in.setReadListener(this);
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
        return done;
    }

    @Override
    public synchronized void onDataAvailable() throws IOException {
        while (in.isReady()) {
            if (draining) {
                int n = in.read(drop);
                if (n < 0) {
                    return; // onAllDataRead follows
                }
                received += n;
                if (received > b.limits().maxBytes()) {
                    drained(); // over the limit: closed with the rest unread
                    return;
                }
                continue;
            }
            if (answered.get()) {
                return;
            }
            if (chunk == null || pos == chunk.length) {
                // chunks grow from 4 KB to 1 MB: a client that sends a few bytes holds a few KB
                int size = (int) Math.min(1 << 20, Math.max(4096, received));
                if (r.declared() >= 0) {
                    size = (int) Math.max(1, Math.min(size, r.declared() + 1 - received));
                }
                if (!b.memory().reserve(size)) {
                    r.ctx().header("Retry-After", "1");
                    answer(503, Json.object().put("error", b.memory().busyMessage()), After.DRAIN);
                    continue; // the rest is dropped
                }
                reserved += size;
                if (chunk != null) {
                    chunks.add(chunk);
                }
                chunk = new byte[size];
                pos = 0;
            }
            int n = in.read(chunk, pos, chunk.length - pos);
            if (n < 0) {
                return; // onAllDataRead follows
            }
            pos += n;
            received += n;
            if (received > b.limits().maxBytes()) {
                answer(413, Json.object().put("error", "upload is over the limit of " + b.limits().maxBytes() + " bytes"), After.CLOSE);
                return;
            }
        }
    }

    @Override
    public synchronized void onAllDataRead() {
        if (draining) {
            drained();
            return;
        }
        if (!receiving.compareAndSet(true, false)) {
            return;
        }
        deadline.cancel(false);
        if (received == 0) {
            answer(400, Json.object().put("error", EMPTY), After.KEEP);
            return;
        }
        byte[] body = new byte[(int) received];
        int at = 0;
        for (byte[] c : chunks) {
            System.arraycopy(c, 0, body, at, c.length);
            at += c.length;
        }
        System.arraycopy(chunk, 0, body, at, pos);
        chunks.clear();
        chunk = null;
        b.memory().release(reserved - received); // the joined body replaces the chunks
        reserved = received;
        b.predictions().submit(this, body);
    }

    @Override
    public void onError(Throwable t) {
        if (draining) {
            drained();
            return;
        }
        if (!receiving.compareAndSet(true, false)) {
            return;
        }
        fail(t);
    }

    private void deadlinePassed() {
        if (draining) {
            drained(); // the answer went out; the rest of the body came too slowly to wait for
            return;
        }
        if (!receiving.compareAndSet(true, false)) {
            return;
        }
        answer(408, Json.object().put("error", "the upload did not arrive whole within " + Answers.seconds(b.limits().requestMillis()) + " ("
                + received + " of " + (r.declared() >= 0 ? r.declared() + " bytes" : "its bytes") + " came); send the whole file at once"), After.CLOSE);
    }

    /** Reading failed: a stall is 408, anything else 400. */
    private void fail(Throwable e) {
        receiving.set(false);
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT).contains("timeout")) {
                answer(408, Json.object().put("error", "the upload stopped before its end" + (r.contentLength() != null ? " (Content-Length "
                        + r.contentLength() + " bytes)" : "") + " and nothing more came for " + Answers.seconds(b.limits().readMillis())
                        + "; send the whole file"), After.CLOSE);
                return;
            }
        }
        answer(400, Json.object().put("error", "could not read the upload: the request ended early or is not well-formed"), After.CLOSE);
    }

    /** 503 with Retry-After, once the body was read whole (no slot for it); the connection closes. */
    void busy(int retryAfter, String message) {
        r.ctx().header("Retry-After", Integer.toString(retryAfter));
        answer(503, Json.object().put("error", message), After.CLOSE);
    }

    /** Gives the upload's bytes back to the budget (once decoded, or answered). */
    synchronized void releaseBytes() {
        b.memory().release(reserved);
        reserved = 0;
    }

    /** The answer, once: whoever comes first answers; the bytes and the heat-map slot are returned. */
    void answer(int status, Object body, After after) {
        if (!answered.compareAndSet(false, true)) {
            return;
        }
        receiving.set(false);
        if (deadline != null) {
            deadline.cancel(false);
        }
        synchronized (this) { // a read callback may be between two reads
            chunks.clear();
            chunk = null;
            releaseBytes();
        }
        if (explainPermit) {
            explainPermit = false;
            b.explainBudget().release();
        }
        if (after != After.KEEP) {
            Answers.close(r.ctx()); // the rest of the body is not read as a request: the connection cannot carry another
        }
        if (after != After.DRAIN) {
            Answers.json(r.ctx(), status, body);
            done.complete(null);
            return;
        }
        synchronized (this) {
            drop = new byte[8192];
            draining = true;
        }
        try {
            Answers.send(r.ctx(), status, body);
        } catch (IOException | RuntimeException e) {
            drained(); // the client is gone: nothing to wait for
        }
    }

    /** The dropped body's end (or its deadline, limit, or a read error): the connection may close. */
    private void drained() {
        if (deadline != null) {
            deadline.cancel(false);
        }
        done.complete(null);
    }
}
